"""Where the money went: a session's cost shared among its work items, and cost per
configured repo directory. Both tables add up to the ledger's total (the sessions with no
work item are reported apart by `unlinked`). A session's tokens are shared the same way,
in whole tokens that add up to the session's own (`split_usage`).
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
from costlog.models import TOKEN_FIELDS, Entry, Usage


@cache
def _key_pattern(key: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w-]){re.escape(key)}(?![\w]|-\d)", re.IGNORECASE)


#: ASCII word characters: what `\w` means when the text is ASCII
_ASCII_WORD = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


def _names(key: str, subject: str) -> bool:
    """Whether a commit subject names a work item key, as `_key_pattern` decides.

    For ASCII text (nearly every key and subject) the same test is done with plain string
    search: compiling one pattern per distinct key cost more than all the matching of a
    large ledger. Other text goes to the pattern, whose Unicode case rules differ."""
    if not (key.isascii() and subject.isascii()):
        return _key_pattern(key).search(subject) is not None
    text, word, end = subject.lower(), key.lower(), len(subject)
    at = text.find(word)
    while at >= 0:
        after = at + len(word)
        if (at == 0 or (text[at - 1] not in _ASCII_WORD and text[at - 1] != "-")) and (
            after == end
            or (
                text[after] not in _ASCII_WORD
                and not (text[after] == "-" and after + 1 < end and text[after + 1].isdigit())
            )
        ):
            return True
        at = text.find(word, at + 1)
    return False


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
        named = [k for k in items if _names(k, commit.subject)] or items
        lines = Decimal(commit.added + commit.removed)
        for key in named:
            weights[key] += lines / len(named)
    total = sum(weights.values(), ZERO)
    if not total:
        weights, total = dict.fromkeys(items, Decimal(1)), Decimal(len(items))
    whole = cost(entry)
    return {key: whole * weight / total for key, weight in weights.items()}


def split_count(total: int, weights: Sequence[Decimal]) -> list[int]:
    """`total` in whole parts in proportion to `weights`, adding up to `total` exactly
    (largest remainder): each part is first rounded down, then the units still missing go
    one each to the parts that lost the most, ties to the earlier one. No weight at all:
    equal parts."""
    if not weights:
        return []
    weight_sum = sum(weights, ZERO)
    if weight_sum <= 0:
        weights, weight_sum = [Decimal(1)] * len(weights), Decimal(len(weights))
    exact = [Decimal(total) * w / weight_sum for w in weights]
    parts = [int(x) for x in exact]  # total and weights are >= 0: int() rounds down
    order = sorted(range(len(exact)), key=lambda i: (parts[i] - exact[i], i))
    for i in order[: total - sum(parts)]:
        parts[i] += 1
    return parts


def split_usage(usage: Usage, weights: Sequence[Decimal]) -> list[Usage]:
    """A session's tokens shared among its groups as its cost is: each kind of token in
    whole tokens that add up to the session's own, so a table by work item or task type
    sums to the ledger's total instead of counting a session once per group."""
    columns = {name: split_count(getattr(usage, name), weights) for name in TOKEN_FIELDS}
    return [Usage(**{name: columns[name][i] for name in TOKEN_FIELDS}) for i in range(len(weights))]


def unlinked(entries: Iterable[Entry]) -> dict[str, Any]:
    """Sessions with no work item: the rest of the total the work-item table leaves out."""
    none = [e for e in entries if not e.work_items]
    return {"sessions": len(none), "cost": sum((cost(e) for e in none), ZERO)}


def work_items(entries: Iterable[Entry]) -> list[dict[str, Any]]:
    cost_by: dict[str, Decimal] = defaultdict(lambda: ZERO)
    sessions: Counter[str] = Counter()
    last: dict[str, datetime] = {}
    for entry in entries:
        keys, started = entry.work_items, entry.started
        if not keys:
            continue
        # one item (most sessions) takes the whole cost: no split to work out
        split = {keys[0]: cost(entry)} if len(keys) == 1 else work_item_split(entry)
        for key, share in split.items():
            cost_by[key] += share
            sessions[key] += 1
            before = last.get(key)
            if before is None or started > before:  # the first of equal times stays
                last[key] = started
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
