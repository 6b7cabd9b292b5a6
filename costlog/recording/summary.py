"""The one line `costlog record`, backfill and the hooks print per recorded session."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo

from costlog.analysis.shortids import id_zone, stable
from costlog.models import Entry
from costlog.money import format_usd

#: a start this far ahead of the clock is a wrong clock or time zone, not skew between
#: machines
FUTURE_SLACK = timedelta(minutes=5)


def summary_line(entry: Entry, short: str | None = None) -> str:
    """One line: `recorded 2026-11-20 claude-code a1b2c3d4: claude-sonnet-4-6, 3 commits
    (WRK-237), $0.83 (actual)`; `short` is the session's short id in the ledger (what
    COST_LOG.md shows and `report --session` finds), else its stable short id.

    The date is the start in the zone the id's own start time is written in (UTC for a
    manual record's `...Z` id, the machine's for aider's), so that `1201-2130-64c` never
    sits next to 2026-12-02; ids without a time get the machine's zone, as terminal
    output does."""
    short = short or stable(entry.id)
    bits = [", ".join(sorted(entry.models)) or "no model"]
    if entry.commits:
        bits.append(f"{len(entry.commits)} commit{'s' if len(entry.commits) != 1 else ''}")
    if entry.tasks_completed:
        bits.append(f"{entry.tasks_completed} task{'s' if entry.tasks_completed != 1 else ''}")
    if entry.work_items:
        bits[-1] += f" ({', '.join(entry.work_items)})"
    money = format_usd(entry.cost_usd)  # the one money rule (docs/money.md)
    limits = entry.rate_limits
    if limits is not None and limits.plan_type:  # the log names a plan: list prices, not paid
        money += f" API-equivalent ({limits.plan_type} plan)"
    day = entry.started.astimezone(id_zone(entry.id)).date().isoformat()
    return f"recorded {day} {entry.agent} {short}: {', '.join(bits)}, {money} ({entry.source})"


def future_start(entry: Entry, now: datetime | None = None) -> str | None:
    """The one-line warning for a session that starts after now (a log written under a wrong
    clock or zone), or None. Recorded all the same: the log says so."""
    now = now or datetime.now(UTC)
    if entry.started <= now + FUTURE_SLACK:
        return None
    zone: tzinfo | None = id_zone(entry.id)
    when = entry.started.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z").strip()
    return (
        f"{entry.id}: its start time {when} is in the future; "
        "check the clock and time zone of the machine that wrote the log"
    )
