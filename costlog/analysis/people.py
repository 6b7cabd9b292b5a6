"""Spend by who recorded it and where: the optional per-person table of COST_LOG.md and
the `author` / `machine` groups of `costlog report`.

An entry without the field (recorded before costlog stored it, imported from a hand-kept
log, or with `people: none`) counts under UNKNOWN, so every table adds up to the total.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from costlog.analysis.facts import ZERO
from costlog.analysis.summaries import Money
from costlog.models import Entry

#: the group of entries that do not say who or where
UNKNOWN = "(unknown)"


def author_of(entry: Entry) -> str:
    return entry.author or UNKNOWN


def machine_of(entry: Entry) -> str:
    return entry.machine or UNKNOWN


def people(entries: Iterable[Entry]) -> list[dict[str, Any]]:
    """One row per author, costliest first (UNKNOWN last): sessions, tasks, cost, share."""
    groups: dict[str, Money] = defaultdict(Money)
    for entry in entries:
        groups[author_of(entry)].add(entry)
    total = sum((m.cost for m in groups.values()), ZERO)
    order = sorted(groups, key=lambda k: (k == UNKNOWN, -groups[k].cost, k))
    return [
        {
            "author": key,
            "sessions": groups[key].sessions,
            "tasks": groups[key].tasks,
            "cost": groups[key].cost,
            "unpriced": groups[key].unpriced,
            "share": groups[key].cost / total if total else ZERO,
        }
        for key in order
    ]
