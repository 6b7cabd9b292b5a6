"""The five budget alerts: a session spike, the monthly total, the rolling week, too few
small-model sessions and too many Opus ones, against the thresholds of the config.

Two kinds, two levels when they fire: the first three are about money spent (`warning`);
the last two are routing checks (`review`), a prompt to look at which model does what,
not a sign of overspending: a quiet month of five cheap Sonnet sessions has "too few
Haiku sessions" yet spent nothing worth stopping a build for. `budget --fail-on warning`
fails on spend alone, `--fail-on review` on either.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from datetime import date, timedelta, tzinfo
from decimal import Decimal
from typing import Any

from costlog.analysis.facts import (
    SESSIONS_LISTED,
    ZERO,
    Facts,
    cost,
    dollars,
    local_day,
    month_of,
)
from costlog.analysis.families import is_opus, is_small
from costlog.config import Config
from costlog.models import Entry


def alerts(
    entries: Sequence[Entry],
    config: Config,
    tz: tzinfo,
    today: date | None = None,
    facts: Facts | None = None,
) -> list[dict[str, Any]]:
    """The five alerts, always in this order. Months and weeks end at the latest session
    (or `today`), so a render is the same whenever it runs, and names no date while the
    ledger is empty. `facts`: the render's one pass over `entries` (their costs)."""
    end = today or (local_day(entries[-1], tz) if entries else None)
    if end is None:
        return [
            _spike(entries, config),
            _monthly([], config, "-"),
            _rolling([], config, tz, None),
            _small_use([], config, "-"),
            _opus_use([], config, "-"),
        ]
    month = f"{end.year:04d}-{end.month:02d}"
    first = min(end.replace(day=1), end - timedelta(days=6))
    if config.budget.watch != "paid":  # every session's cost is money spent
        # `_since` and `month_of` as below, from the local days worked out once
        facts = facts if facts is not None and facts.tz is tz else Facts(entries, tz)
        days, months = facts.day, facts.month
        start = len(entries)
        while start and days[start - 1] >= first:
            start -= 1
        recent = list(entries[start:])
        in_month = [e for e, m in zip(recent, months[start:], strict=True) if m == month]
        return [
            _spike_of(facts, config),
            _monthly(in_month, config, month),
            _rolling(recent, config, tz, end, days[start:]),
            _small_use(in_month, config, month),
            _opus_use(in_month, config, month),
        ]
    recent = _since(entries, tz, first)
    in_month = [e for e in recent if month_of(e, tz) == month]
    # money paid: plan fees, and no plan session's cost
    from costlog.analysis import plans as plan_analysis

    spent, fees = plan_analysis.paid_view(entries, config, tz, month)
    paid = {e.id for e in spent}
    recent_paid = [e for e in recent if e.id in paid]
    return [
        _spike(spent, config),
        _monthly([e for e in in_month if e.id in paid], config, month, fees),
        _rolling(recent_paid, config, tz, end),
        _small_use(in_month, config, month),
        _opus_use(in_month, config, month),
    ]


def _since(entries: Sequence[Entry], tz: tzinfo, first: date) -> list[Entry]:
    """The entries from local day `first` on (entries are sorted by start time)."""
    start = len(entries)
    while start and local_day(entries[start - 1], tz) >= first:
        start -= 1
    return list(entries[start:])


def _spike_of(facts: Facts, config: Config) -> dict[str, Any]:
    """`_spike` over all of `facts.entries`, read off their cost order: the sessions over
    the limit are its tail, the highest cost its end (the first in the ledger of equal
    highest ones, as `max` gives), the sessions listed the costliest few of the tail."""
    limit = config.budget.session_spike_usd
    entries, known, order = facts.entries, facts.cost, facts.cost_order
    if not order:
        return _spike(entries, config)
    at = known.__getitem__
    start = bisect_right(order, limit, key=at)  # the first one over the limit
    highest = known[order[bisect_left(order, known[order[-1]], key=at)]]
    shown: list[Entry] = []
    if start < len(order):
        # every session at least as costly as the SESSIONS_LISTED-th costliest one over
        # the limit, in ledger order: the costliest few are among them, ties in order
        edge = known[order[max(start, len(order) - SESSIONS_LISTED)]]
        near = sorted(order[max(start, bisect_left(order, edge, key=at)) :])
        shown = sorted((entries[i] for i in near), key=_costliest)[:SESSIONS_LISTED]
    return _alert(
        "Session cost spike",
        highest,
        f"any session over {dollars(limit)}",
        start < len(order),
        [],
        "Review: was a large model used appropriately?",
        shown=(shown, len(order) - start),
    )


def _spike(entries: Sequence[Entry], config: Config) -> dict[str, Any]:
    limit = config.budget.session_spike_usd
    over = [e for e in entries if cost(e) > limit]
    return _alert(
        "Session cost spike",
        max((cost(e) for e in entries), default=ZERO),
        f"any session over {dollars(limit)}",
        bool(over),
        over,
        "Review: was a large model used appropriately?",
    )


def _monthly(
    in_month: list[Entry], config: Config, month: str, fees: Decimal | None = None
) -> dict[str, Any]:
    limit = config.budget.monthly_usd
    spent = sum((cost(e) for e in in_month), fees or ZERO)
    name = (
        f"Monthly total ({month})"
        if fees is None
        else f"Monthly paid, plan fees included ({month})"
    )
    if limit is None:
        return _off(name, spent, "budget.monthly_usd", "Set a monthly budget")
    return _alert(
        name,
        spent,
        f"over {dollars(limit)}",
        spent > limit,
        in_month,
        "Review model routing decisions",
    )


def _rolling(
    entries: Sequence[Entry],
    config: Config,
    tz: tzinfo,
    end: date | None,
    days: Sequence[date] | None = None,
) -> dict[str, Any]:
    """`days`: the entries' local days, when worked out already."""
    limit = config.budget.rolling_7d_usd
    name, window = "Rolling 7-day spend", []
    if end is not None:
        first = end - timedelta(days=6)
        if days is None:
            days = [local_day(e, tz) for e in entries]
        window = [e for e, day in zip(entries, days, strict=True) if first <= day <= end]
        name += f" ({first.isoformat()} to {end.isoformat()})"
    spent = sum((cost(e) for e in window), ZERO)
    if limit is None:
        return _off(name, spent, "budget.rolling_7d_usd", "Set a weekly threshold")
    return _alert(
        name,
        spent,
        f"over {dollars(limit)}",
        spent > limit,
        window,
        "Look at the week's largest sessions",
    )


def _small_use(in_month: list[Entry], config: Config, month: str) -> dict[str, Any]:
    small = [e for e in in_month if any(is_small(m) for m in e.models)]
    need = config.budget.haiku_min_sessions
    return _alert(
        f"Small-model (Haiku) under-use ({month})",
        Decimal(len(small)),
        f"fewer than {need} small-model session{'s' if need != 1 else ''}",
        bool(in_month) and len(small) < need,
        [],
        "Are we using a large model for everything?",
        unit="count",
        level="review",
    )


def _opus_use(in_month: list[Entry], config: Config, month: str) -> dict[str, Any]:
    opus = [e for e in in_month if any(is_opus(m) for m in e.models)]
    share = Decimal(len(opus)) / len(in_month) if in_month else ZERO
    over = share > config.budget.opus_share_max
    return _alert(
        f"Opus over-use ({month})",
        share,
        f"over {config.budget.opus_share_max:.0%} of sessions",
        over,
        opus if over else [],
        "Are architecture decisions this frequent?",
        unit="share",
        level="review",
    )


def _alert(
    name: str,
    value: Decimal,
    threshold: str,
    fired: bool,
    sessions: Sequence[Entry],
    action: str,
    unit: str = "usd",
    level: str = "warning",
    shown: tuple[Sequence[Entry], int] | None = None,
) -> dict[str, Any]:
    """One alert's row; `state` is `level` when it fired, else `ok`. `shown`: the sessions
    to list and how many there are in all, when the caller found them already."""
    if shown is not None:
        listed, count = shown
    else:
        listed = heapq.nsmallest(SESSIONS_LISTED, sessions, key=_costliest) if fired else []
        count = len(sessions)
    return {
        "alert": name,
        "value": value,
        "unit": unit,
        "threshold": threshold,
        "state": level if fired else "ok",
        "action": action,
        "sessions": [e.id for e in listed],
        "more": max(0, count - SESSIONS_LISTED) if fired else 0,
    }


def _costliest(entry: Entry) -> tuple[Decimal, str]:
    """Costliest first, then by id: the order alerts list their sessions in."""
    return (-cost(entry), entry.id)


def _off(name: str, value: Decimal, setting: str, action: str) -> dict[str, Any]:
    row = _alert(name, value, f"not set: {setting}", False, [], action)  # no nested ( )
    row["state"] = "off"
    return row
