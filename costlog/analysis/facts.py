"""Facts about one ledger entry that every table needs: its cost, main model, size, day.

Money stays Decimal here; the render context turns it into decimal strings at the end.
An unpriced session (a model with no known price) counts $0 in `cost` and is flagged by
`priced`, so sums stay honest about what they leave out.
"""

from __future__ import annotations

from datetime import date, timedelta, tzinfo
from decimal import Decimal
from zoneinfo import ZoneInfo

from costlog.models import Entry
from costlog.money import format_usd

ZERO = Decimal(0)
MILLION = Decimal(1_000_000)
#: sessions listed per alert or routing row (the JSON says how many more)
SESSIONS_LISTED = 5

UTC_ZONE = ZoneInfo("UTC")
ZERO_DELTA = timedelta(0)


def cost(entry: Entry) -> Decimal:
    """An entry's known cost (unpriced models count 0 here and are flagged separately)."""
    if entry.cost_usd is not None:
        return entry.cost_usd
    return sum((mu.cost_usd or ZERO for mu in entry.models.values()), ZERO)


def primary(entry: Entry) -> str | None:
    """The entry's costliest model (Entry.primary_model, fast for one-model sessions)."""
    if len(entry.models) == 1:
        return next(iter(entry.models))
    return entry.primary_model


def priced(entry: Entry) -> bool:
    """Whether every model of the session had a price (only then it may feed a median)."""
    return entry.cost_usd is not None


def requests(entry: Entry) -> int:
    if len(entry.models) == 1:
        return next(iter(entry.models.values())).requests
    return sum(mu.requests for mu in entry.models.values())


def prompt_tokens(entry: Entry) -> int:
    if len(entry.models) == 1:
        return next(iter(entry.models.values())).usage.prompt_tokens
    return sum(mu.usage.prompt_tokens for mu in entry.models.values())


def hours(entry: Entry) -> float | None:
    if entry.ended is None:
        return None
    return max(0.0, (entry.ended - entry.started).total_seconds() / 3600)


def tasks(entry: Entry) -> int:
    return entry.tasks_completed or sum(entry.task_types.values())


def local_day(entry: Entry, tz: tzinfo) -> date:
    """The session's start day in the configured zone (no conversion when already there:
    this runs for every entry of every render)."""
    started = entry.started
    if started.tzinfo is tz or (tz is UTC_ZONE and started.utcoffset() == ZERO_DELTA):
        return started.date()
    return started.astimezone(tz).date()


def month_of(entry: Entry, tz: tzinfo) -> str:
    day = local_day(entry, tz)
    return f"{day.year:04d}-{day.month:02d}"


def short_id(entry_id: str) -> str:
    """The id as tables show it, from the id alone (`costlog.analysis.shortids.stable`);
    tables that know the whole ledger use its `ShortIds`, which differ only for ids that
    would otherwise read alike."""
    from costlog.analysis.shortids import stable

    return stable(entry_id)


def task_types_text(types: dict[str, int]) -> str:
    return ", ".join(f"{n} {t}" for t, n in types.items())


def dollars(value: Decimal) -> str:
    """An amount as alert thresholds and anomaly causes write it: `$1,234.50`, and under
    a cent `$0.0037` (the one money rule, `costlog.money`)."""
    return format_usd(value)
