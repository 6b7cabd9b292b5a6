"""Facts about one ledger entry that every table needs: its cost, main model, size, day.

Money stays Decimal here; the render context turns it into decimal strings at the end.
An unpriced session (a model with no known price) counts $0 in `cost` and is flagged by
`priced`, so sums stay honest about what they leave out.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from itertools import chain, repeat
from operator import attrgetter, is_, sub, truediv
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


class Facts:
    """The per-entry values every table of a render needs, each worked out once for the
    whole ledger, as columns (lists indexed like `entries`).

    A render of 100,000 sessions asks for an entry's cost, main model or day a dozen
    times over (months, medians, anomalies, guide, routing, alerts...): computed per
    table, those calls were most of its time. The columns hold exactly what `cost`,
    `primary`, `prompt_tokens`, `requests`, `hours`, `tasks` and `local_day` return, so
    a table built from them is the table built from the entries. Each column is one
    C-level `map` where it can be (attribute reads), Python only for arithmetic.
    """

    __slots__ = (
        "_by_type_model",
        "_cost_order",
        "_priced_order",
        "agent",
        "all_priced",
        "completed",
        "cost",
        "day",
        "entries",
        "hours",
        "model",
        "model_cost",
        "month",
        "one_model",
        "priced",
        "prompts",
        "requests",
        "source",
        "started",
        "subagents",
        "task_types",
        "tasks",
        "tokens",
        "tz",
        "work_items",
    )

    def __init__(self, entries: Sequence[Entry], tz: tzinfo | None = None) -> None:
        self.entries = entries
        self.tz = tz
        self.agent: list[str] = list(map(_AGENT, entries))
        #: the entry's own total: None when a model is unpriced (`priced` is False)
        self.priced: list[Decimal | None] = list(map(_COST_USD, entries))
        #: whether every entry is priced (the usual): then `priced` is `cost`
        self.all_priced = not any(map(is_, self.priced, repeat(None)))  # `None in` asks ==
        #: `cost`: the known cost, unpriced models counting 0
        self.cost: list[Decimal] = (
            self.priced  # type: ignore[assignment]  # no None in it
            if self.all_priced
            else [
                c if c is not None else cost(e) for e, c in zip(entries, self.priced, strict=True)
            ]
        )
        models = list(map(_MODELS, entries))
        #: whether every entry has exactly one model (the usual): then `model_cost` is
        #: that model's own cost (None: unpriced), and a table by model needs no loop over
        #: each entry's models
        self.one_model = list(map(len, models)).count(1) == len(models)
        self.model_cost: list[Decimal | None] = []
        if self.one_model:
            #: `primary`: the costliest model, None for an entry without models
            # one key and one value per entry: chained, they are the entries' own
            self.model: list[str | None] = list(chain.from_iterable(models))
            # each entry's one model usage, looked up by its name (no view per entry)
            uses = list(map(dict.__getitem__, models, self.model))
            usages = list(map(_USAGE, uses))
            #: `prompt_tokens`, `requests`, and all tokens (`entry.tokens.total`)
            self.prompts: list[int] = [
                u.input + u.cache_read + u.cache_write_5m + u.cache_write_1h for u in usages
            ]
            self.requests: list[int] = list(map(_REQUESTS, uses))
            self.model_cost = list(map(_COST_USD, uses))
            self.tokens: list[int] = [
                p + u.output for p, u in zip(self.prompts, usages, strict=True)
            ]
        else:
            self.model = [primary(e) for e in entries]
            self.prompts = [prompt_tokens(e) for e in entries]
            self.requests = [requests(e) for e in entries]
            self.tokens = [e.tokens.total for e in entries]
        #: the start times (the entries' own `started`)
        self.started: list[datetime] = list(map(_STARTED, entries))
        started = self.started
        #: `hours`: None when the session's end is not known
        self.hours: list[float | None] = _hours(started, list(map(_ENDED, entries)))
        self.subagents: list[int] = list(map(_SUBAGENTS, entries))
        done = list(map(_TASKS_COMPLETED, entries))
        #: the entries' own task types, work items and source, for the tables by them
        self.task_types: list[dict[str, int]] = list(map(_TASK_TYPES, entries))
        self.work_items: list[list[str]] = list(map(_WORK_ITEMS, entries))
        self.source: list[str] = list(map(_SOURCE, entries))
        #: tasks completed as the monthly sums count them (0 when not said)
        self.completed: list[int] = (
            done if not any(map(is_, done, repeat(None))) else [n or 0 for n in done]
        )
        #: `tasks`: tasks completed, else the task types' counts
        self.tasks: list[int] = (
            done  # every entry says its count (None and 0 would ask the types)
            if all(done)
            else [n or sum(types.values()) for n, types in zip(done, self.task_types, strict=True)]
        )
        #: `local_day` and its month (`YYYY-MM`) in `tz`; empty when no zone is given
        self.day: list[date] = [] if tz is None else _days(started, tz)
        month_on: dict[date, str] = {}  # a ledger spans few days: name each month once
        for day in dict.fromkeys(self.day):
            month_on[day] = f"{day.year:04d}-{day.month:02d}"
        self.month: list[str] = list(map(month_on.__getitem__, self.day))
        self._cost_order: list[int] | None = None
        self._priced_order: list[int] | None = None
        self._by_type_model: dict[tuple[str, str], list[int]] | None = None

    def by_type_and_model(self) -> dict[tuple[str, str], list[int]]:
        """The priced sessions with a model (their indices, in ledger order) of each task
        type and model: built once for the routing advice and the estimation guide."""
        if self._by_type_model is None:
            groups: dict[tuple[str, str], list[int]] = {}
            rows = zip(self.model, self.priced, self.task_types, strict=True)
            for i, (model, amount, types) in enumerate(rows):
                if model and amount is not None:
                    for task_type in types:
                        group = groups.get((task_type, model))
                        if group is None:
                            group = groups[(task_type, model)] = []
                        group.append(i)
            self._by_type_model = groups
        return self._by_type_model

    @property
    def cost_order(self) -> list[int]:
        """The indices of all entries by known cost, cheapest first, equal costs in ledger
        order: sorted once, for every median and every "costliest first" list."""
        if self._cost_order is None:
            known = self.cost
            self._cost_order = sorted(range(len(known)), key=known.__getitem__)
        return self._cost_order

    @property
    def priced_order(self) -> list[int]:
        """`cost_order` of the priced entries alone (a priced entry's known cost is its
        own total): every median over a group of them is read off in this order instead
        of sorting the group again."""
        if self._priced_order is None:
            priced_ = self.priced
            order = self.cost_order
            self._priced_order = (
                order if self.all_priced else [i for i in order if priced_[i] is not None]
            )
        return self._priced_order


_COST_USD = attrgetter("cost_usd")
_MODELS = attrgetter("models")
_USAGE = attrgetter("usage")
_REQUESTS = attrgetter("requests")
_STARTED = attrgetter("started")
_ENDED = attrgetter("ended")
_TASKS_COMPLETED = attrgetter("tasks_completed")
_TASK_TYPES = attrgetter("task_types")
_SUBAGENTS = attrgetter("subagents")
_AGENT = attrgetter("agent")
_WORK_ITEMS = attrgetter("work_items")
_SOURCE = attrgetter("source")
_TZINFO = attrgetter("tzinfo")


def _hours(started: list[datetime], ended: list[datetime | None]) -> list[float | None]:
    """`hours` of each session: the subtraction and its seconds in C when every end is known
    and none comes before its start (the usual), else entry by entry."""
    if not any(map(is_, ended, repeat(None))):
        spans = map(timedelta.total_seconds, map(sub, ended, started))
        hours = list(map(truediv, spans, repeat(3600)))
        if not hours or min(hours) > 0:  # max(0.0, h) is h itself
            return hours
    return [
        None if end is None else max(0.0, (end - start).total_seconds() / 3600)
        for start, end in zip(started, ended, strict=True)
    ]


def _days(started: list[datetime], tz: tzinfo) -> list[date]:
    """`local_day` of each start time. A fixed-offset zone (what the ledger's times carry)
    is asked once whether its times are already in `tz`, not once per entry."""
    utc = tz is UTC_ZONE
    zones = set(map(_TZINFO, started))
    if len(zones) == 1:  # one zone for every start time (the usual): ask it once
        (only,) = zones
        if only is tz or (utc and type(only) is timezone and started[0].utcoffset() == ZERO_DELTA):
            return list(map(datetime.date, started))
    direct: dict[tzinfo | None, bool] = {}
    days: list[date] = []
    add = days.append
    for start in started:
        zone_ = start.tzinfo
        same = direct.get(zone_)
        if same is None:
            same = zone_ is tz or (utc and start.utcoffset() == ZERO_DELTA)
            if type(zone_) is timezone:  # the same offset at every time: ask once
                direct[zone_] = same
        add(start.date() if same else start.astimezone(tz).date())
    return days
