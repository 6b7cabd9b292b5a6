"""Where the money went: a session's cost shared among its work items, and cost per
configured repo directory. Both tables add up to the ledger's total (the sessions with no
work item are reported apart by `unlinked`).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any

from costlog.analysis.facts import ZERO, cost
from costlog.models import Entry


@cache
def _key_pattern(key: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w-]){re.escape(key)}(?![\w]|-\d)", re.IGNORECASE)


def work_item_split(entry: Entry) -> dict[str, Decimal]:
    """How a session's cost is shared among its work items.

    Each commit's changed lines (added + removed) go to the session's work items that its
    subject names; a commit that names none counts for every item equally. Each item gets
    the session's cost in proportion to its lines. No commits, or no lines: equal shares.
    """
    items = list(dict.fromkeys(entry.work_items))
    if len(items) < 2:
        return {item: cost(entry) for item in items}
    weights = dict.fromkeys(items, ZERO)
    for commit in entry.commits:
        named = [k for k in items if _key_pattern(k).search(commit.subject)] or items
        lines = Decimal(commit.added + commit.removed)
        for key in named:
            weights[key] += lines / len(named)
    total = sum(weights.values(), ZERO)
    if not total:
        weights, total = dict.fromkeys(items, Decimal(1)), Decimal(len(items))
    whole = cost(entry)
    return {key: whole * weight / total for key, weight in weights.items()}


def unlinked(entries: Iterable[Entry]) -> dict[str, Any]:
    """Sessions with no work item: the rest of the total the work-item table leaves out."""
    none = [e for e in entries if not e.work_items]
    return {"sessions": len(none), "cost": sum((cost(e) for e in none), ZERO)}


def work_items(entries: Iterable[Entry]) -> list[dict[str, Any]]:
    cost_by: dict[str, Decimal] = defaultdict(lambda: ZERO)
    sessions: Counter[str] = Counter()
    last: dict[str, datetime] = {}
    for entry in entries:
        for key, share in work_item_split(entry).items():
            cost_by[key] += share
            sessions[key] += 1
            last[key] = max(last.get(key, entry.started), entry.started)
    return [
        {
            "work_item": key,
            "sessions": sessions[key],
            "cost": cost_by[key],
            "last": last[key].date().isoformat(),
        }
        for key in sorted(cost_by, key=lambda k: (-cost_by[k], k))
    ]


def directories(entries: Iterable[Entry], configured: Sequence[str]) -> list[dict[str, Any]]:
    """Cost per configured repo directory, by where each session ran (its cwd).

    A session counts for the deepest configured directory that holds its cwd; sessions
    that ran elsewhere (e.g. at the repo root) form the "other" row, so the table adds up
    to the total. Empty when no directories are configured.
    """
    if not configured:
        return []
    dirs = sorted({d.strip("/") for d in configured if d.strip("/")}, key=len, reverse=True)
    cost_by: dict[str, Decimal] = defaultdict(lambda: ZERO)
    sessions: Counter[str] = Counter()
    for entry in entries:
        where = (entry.cwd or ".").strip("/")
        key = next((d for d in dirs if where == d or where.startswith(d + "/")), "(other)")
        cost_by[key] += cost(entry)
        sessions[key] += 1
    return [
        {"directory": key, "sessions": sessions[key], "cost": cost_by[key]}
        for key in sorted(cost_by, key=lambda k: (k == "(other)", -cost_by[k], k))
    ]
