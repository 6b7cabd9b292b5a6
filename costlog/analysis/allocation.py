"""Where the money went: a session's cost shared among its work items, and cost per
configured repo directory. Both tables add up to the ledger's total (the sessions with no
work item are reported apart by `unlinked`). A session's tokens are shared the same way,
in whole tokens that add up to the session's own (`split_usage`).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from decimal import Decimal
from functools import cache
from itertools import compress
from operator import not_
from typing import Any

from costlog.analysis.facts import ZERO, Facts, cost
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
    return _names_lower(key.lower(), subject.lower())


def _names_lower(word: str, text: str) -> bool:
    """`_names` of an ASCII key and subject, both lower-cased already (`_split` lowers a
    session's keys once, not once per commit)."""
    end = len(text)
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
    return _split(entry, cost(entry))


def _split(entry: Entry, whole: Decimal) -> dict[str, Decimal]:
    """`work_item_split` of a session whose cost is `whole`."""
    items = list(dict.fromkeys(entry.work_items))
    if len(items) < 2:
        return {item: whole for item in items}
    if not entry.commits:  # no lines at all: equal shares, as below when the total is 0
        one, count = Decimal(1), Decimal(len(items))
        return {key: whole * one / count for key in items}
    weights = dict.fromkeys(items, ZERO)
    words = [k.lower() for k in items] if "".join(items).isascii() else None
    for commit in entry.commits:
        subject = commit.subject
        if words is not None and subject.isascii():  # `_names`, each key lowered once
            text = subject.lower()
            named = [
                k for k, w in zip(items, words, strict=True) if w in text and _names_lower(w, text)
            ] or items
        else:
            named = [k for k in items if _names(k, subject)] or items
        lines = Decimal(commit.added + commit.removed)
        if len(named) > 1:  # a division by 1 would give `lines` itself, to the digit
            lines /= len(named)
        for key in named:
            weights[key] += lines
    total = sum(weights.values(), ZERO)
    if not total:
        weights, total = dict.fromkeys(items, Decimal(1)), Decimal(len(items))
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


def unlinked(entries: Sequence[Entry], facts: Facts | None = None) -> dict[str, Any]:
    """Sessions with no work item: the rest of the total the work-item table leaves out."""
    facts = facts or Facts(entries)
    none = list(compress(facts.cost, map(not_, facts.work_items)))  # in ledger order
    return {"sessions": len(none), "cost": sum(none, ZERO)}


def work_items(entries: Sequence[Entry], facts: Facts | None = None) -> list[dict[str, Any]]:
    """Cost, sessions and last day per work item, costliest first.

    Each item's shares are gathered first (most sessions name one item and give it their
    whole cost), in ledger order, then summed in one go: the same additions in the same
    order as adding session by session, so the amount is the same to the last digit."""
    facts = facts or Facts(entries)
    known, started = facts.cost, facts.started
    amounts: dict[str, list[Decimal]] = {}  # each item's shares, in ledger order
    members: dict[str, list[int]] = {}  # and the sessions they came from
    for i, keys in enumerate(facts.work_items):
        if len(keys) == 1:  # one item (most sessions) takes the whole cost: no split
            key = keys[0]
            got = amounts.get(key)
            if got is None:
                got = amounts[key] = []
                members[key] = []
            got.append(known[i])
            members[key].append(i)
            continue
        if not keys:
            continue
        for key, share in _split(entries[i], known[i]).items():
            got = amounts.get(key)
            if got is None:
                got = amounts[key] = []
                members[key] = []
            got.append(share)
            members[key].append(i)
    rows = {
        key: (
            sum(shares, ZERO),
            len(shares),
            max(map(started.__getitem__, members[key])),  # the first of equal times stays
        )
        for key, shares in amounts.items()
    }
    return [
        {
            "work_item": key,
            "sessions": rows[key][1],
            "cost": rows[key][0],
            "last": rows[key][2].date().isoformat(),
        }
        for key in sorted(rows, key=lambda k: (-rows[k][0], k))
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
