"""The summary tables of COST_LOG.md: months, spend by provider/family/model, the trend of
the last sessions, and how each source's costs were obtained (the methodology table).

Sums count an unpriced session as $0 and say how many such sessions each row holds.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import tzinfo
from decimal import Decimal
from itertools import compress, islice, repeat
from operator import attrgetter, eq, is_, le
from typing import Any

from costlog.analysis.facts import ZERO, Facts, cost, local_day, priced, primary, short_id
from costlog.analysis.families import family_of, provider_of
from costlog.models import Entry


@dataclass
class Money:
    """Sums of cost and tasks over a group of sessions."""

    sessions: int = 0
    tasks: int = 0
    cost: Decimal = ZERO
    unpriced: int = 0

    def add(self, entry: Entry) -> None:
        self.sessions += 1
        self.tasks += entry.tasks_completed or 0
        self.cost += cost(entry)
        self.unpriced += 0 if priced(entry) else 1


def months(
    entries: Sequence[Entry], tz: tzinfo, facts: Facts | None = None
) -> list[dict[str, Any]]:
    """One row per calendar month, newest first; primary model = most sessions.

    `facts`: the render's one pass over `entries`, with local days in `tz`."""
    facts = facts if facts is not None and facts.tz is tz else Facts(entries, tz)
    month = facts.month
    if all(map(le, month, islice(month, 1, None))):  # in order (entries by start): runs
        return [
            _month_slice(m, bisect_left(month, m), bisect_right(month, m), facts)
            for m in sorted(dict.fromkeys(month), reverse=True)
        ]
    groups: dict[str, list[int]] = defaultdict(list)
    for i, name in enumerate(month):
        groups[name].append(i)
    return [_month_row(name, groups[name], facts) for name in sorted(groups, reverse=True)]


def _month_slice(month: str, start: int, end: int, facts: Facts) -> dict[str, Any]:
    """`_month_row` of a month whose sessions are `start:end`: its sums over slices of the
    columns, in ledger order (the same additions as session by session), and the sums
    by model only for the models with the most sessions (they break a tie)."""
    known = facts.cost[start:end]
    total = sum(known, ZERO)
    tasks = sum(facts.completed[start:end])
    unpriced = 0 if facts.all_priced else sum(map(is_, facts.priced[start:end], repeat(None)))
    names = facts.model[start:end]
    if not all(names):
        names = [m or "-" for m in names]
    model_count: Counter[str] = Counter(names)  # type: ignore[arg-type]  # no None now
    most = max(model_count.values())
    tied = [m for m, n in model_count.items() if n == most]
    top = tied[0]
    if len(tied) > 1:
        model_cost = {m: sum(compress(known, map(eq, names, repeat(m))), ZERO) for m in tied}
        top = max(tied, key=lambda m: (model_count[m], model_cost[m], m))
    sessions = end - start
    return {
        "month": month,
        "sessions": sessions,
        "tasks": tasks,
        "cost": total,
        "per_session": total / sessions,
        "per_task": total / tasks if tasks else None,
        "primary_model": top,
        "primary_sessions": model_count[top],
        "unpriced": unpriced,
    }


def _month_row(month: str, group: list[int], facts: Facts) -> dict[str, Any]:
    total = Money()
    model_count: Counter[str] = Counter()
    model_cost: dict[str, Decimal] = defaultdict(lambda: ZERO)
    cost_of, priced_of, model_of, done_of = facts.cost, facts.priced, facts.model, facts.completed
    for i in group:
        amount = cost_of[i]
        total.sessions += 1
        total.tasks += done_of[i]
        total.cost += amount
        total.unpriced += 0 if priced_of[i] is not None else 1
        model = model_of[i] or "-"
        model_count[model] += 1
        model_cost[model] += amount
    top = max(model_count, key=lambda m: (model_count[m], model_cost[m], m))
    return {
        "month": month,
        "sessions": total.sessions,
        "tasks": total.tasks,
        "cost": total.cost,
        "per_session": total.cost / total.sessions,
        "per_task": total.cost / total.tasks if total.tasks else None,
        "primary_model": top,
        "primary_sessions": model_count[top],
        "unpriced": total.unpriced,
    }


def _same(model: str) -> str:
    return model


_LABELS: dict[str, Callable[[str], str]] = {
    "model": _same,
    "family": family_of,
    "provider": provider_of,
}


def spend_by(entries: Iterable[Entry], key: str) -> list[dict[str, Any]]:
    """Spend per model, model family or provider, from per-model costs inside sessions."""
    return spend_tables(entries, (key,))[key]


def spend_tables(
    entries: Iterable[Entry],
    keys: Sequence[str] = ("provider", "family", "model"),
    facts: Facts | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """Several spend tables in one pass: a session counts once in each row it touches.
    `facts`: the render's one pass over `entries`."""
    if isinstance(entries, Sequence) and len(set(keys)) == len(keys):
        facts = facts or Facts(entries)
        if facts.one_model:
            return _one_model_tables(facts, keys)
    labels = [(key, _LABELS[key]) for key in keys]
    sums: dict[tuple[str, str], list[Any]] = {}  # [cost, sessions, tokens, unpriced]
    # a ledger names few models: label each once, not once per session
    slots_of: dict[str, list[tuple[str, str]]] = {}
    #: the rows a one-model session adds to (most sessions), when each slot is a different
    #: table's: that session counts once in each, with no bookkeeping of what it touched
    rows_of: dict[str, list[list[Any]]] = {}
    distinct = len(set(keys)) == len(keys)
    for entry in entries:
        models = entry.models
        if distinct and len(models) == 1:
            ((model, mu),) = models.items()
            rows = rows_of.get(model)
            if rows is None:
                slots = slots_of.get(model)
                if slots is None:
                    slots = slots_of[model] = [(key, label(model)) for key, label in labels]
                rows = rows_of[model] = [sums.setdefault(slot, [ZERO, 0, 0, 0]) for slot in slots]
            amount, tokens = mu.cost_usd, mu.usage.total
            for sum_row in rows:
                sum_row[0] += amount or ZERO
                sum_row[1] += 1
                sum_row[2] += tokens
                if amount is None:
                    sum_row[3] += 1
            continue
        seen: set[tuple[str, str]] = set()
        unpriced: set[tuple[str, str]] = set()
        for model, mu in entry.models.items():
            slots = slots_of.get(model)
            if slots is None:
                slots = slots_of[model] = [(key, label(model)) for key, label in labels]
            amount, tokens = mu.cost_usd, mu.usage.total  # once per model, not per table
            for slot in slots:
                row = sums.get(slot)
                if row is None:
                    row = sums[slot] = [ZERO, 0, 0, 0]
                row[0] += amount or ZERO
                row[2] += tokens
                if slot not in seen:
                    seen.add(slot)
                    row[1] += 1
                if amount is None and slot not in unpriced:
                    unpriced.add(slot)
                    row[3] += 1
    return {
        key: _spend_rows(key, {name: v for (k, name), v in sums.items() if k == key})
        for key in keys
    }


def _one_model_tables(facts: Facts, keys: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """`spend_tables` when each session has one model: its sessions grouped by model once,
    each row's cost summed in ledger order (as adding session by session would)."""
    groups: dict[str, list[int]] = {}
    for i, model in enumerate(facts.model):
        group = groups.get(model)  # type: ignore[arg-type]  # one model: a name
        if group is None:
            group = groups[model] = []  # type: ignore[index]
        group.append(i)
    out: dict[str, list[dict[str, Any]]] = {}
    of_model: dict[str, list[Any]] = {}  # a model's sums, for every table it is a row of alone
    for key in keys:
        label = _LABELS[key]
        members: dict[str, list[str]] = {}  # a row's models, in first-seen order
        for model in groups:
            members.setdefault(label(model), []).append(model)
        sums: dict[str, list[Any]] = {}
        for name, models in members.items():
            if len(models) == 1:
                (model,) = models
                got = of_model.get(model)
                if got is None:
                    got = of_model[model] = _sums(groups[model], facts)
                sums[name] = got
            else:
                sums[name] = _sums(sorted(i for m in models for i in groups[m]), facts)
        out[key] = _spend_rows(key, sums)
    return out


def _sums(rows: list[int], facts: Facts) -> list[Any]:
    """[cost, sessions, tokens, unpriced] of one-model sessions `rows` (in ledger order)."""
    amounts = list(map(facts.model_cost.__getitem__, rows))
    return [
        sum([amount or ZERO for amount in amounts], ZERO),
        len(rows),
        sum(map(facts.tokens.__getitem__, rows)),
        sum(map(is_, amounts, repeat(None))),
    ]


def _spend_rows(key: str, sums: dict[str, list[Any]]) -> list[dict[str, Any]]:
    total = sum((v[0] for v in sums.values()), ZERO)
    return [
        {
            key: name,
            "sessions": v[1],
            "tokens": v[2],
            "cost": v[0],
            "share": v[0] / total if total else ZERO,
            "unpriced": v[3],
        }
        for name, v in sorted(sums.items(), key=lambda item: (-item[1][0], item[0]))
    ]


def trend(entries: Sequence[Entry], tz: tzinfo, n: int = 30) -> list[dict[str, Any]]:
    """The last n sessions, oldest first (the Mermaid chart and its table)."""
    return [
        {
            "id": e.id,
            "short_id": short_id(e.id),
            "date": local_day(e, tz).isoformat(),
            "agent": e.agent,
            "model": primary(e) or "-",
            "cost": e.cost_usd,
            "known_cost": cost(e),
        }
        for e in entries[-n:]
    ]


def family_trend(entries: Sequence[Entry], n: int = 30) -> list[dict[str, Any]]:
    """Spend per model family: the last n sessions next to the n before them."""
    last, before = entries[-n:], entries[-2 * n : -n] if len(entries) > n else []
    now = {r["family"]: r for r in spend_by(last, "family")}
    then = {r["family"]: r for r in spend_by(before, "family")}
    names = sorted(set(now) | set(then), key=lambda f: (-(now[f]["cost"] if f in now else ZERO), f))
    empty = {"sessions": 0, "cost": ZERO, "unpriced": 0}
    return [{"family": f, "last": now.get(f, empty), "before": then.get(f, empty)} for f in names]


def methodology(entries: Sequence[Entry], facts: Facts | None = None) -> list[dict[str, Any]]:
    """Cost per source (actual, parsed, estimated, ...) and how its numbers were obtained,
    so a reader sees how much of the total rests on estimates.

    Each method is named once with the number of sessions that used it (`method_kinds`),
    however many sessions wrote it with their own counts."""
    facts = facts or Facts(entries)
    known, sources = facts.cost, facts.source
    count: Counter[str] = Counter(sources)
    cost_by: dict[str, Decimal] = {  # each source's sum in ledger order, as one by one
        s: sum(known if len(count) == 1 else compress(known, map(eq, sources, repeat(s))), ZERO)
        for s in count
    }
    methods: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for entry in compress(entries, map(_METHODS, entries)):  # the few that name methods
        methods[entry.source].extend(entry.methods.items())
    total = sum(cost_by.values(), ZERO)
    order = ["actual", "parsed", "estimated", "mixed", "manual"]
    order += sorted(s for s in count if s not in order)
    rows = []
    for s in order:
        if not count[s]:
            continue
        kinds = method_kinds(methods[s])
        rows.append(
            {
                "source": s,
                "sessions": count[s],
                "cost": cost_by[s],
                "share": cost_by[s] / total if total else ZERO,
                # text for a template of an earlier costlog (`m.methods | join("; ")`)
                "methods": [_kind_text(k) for k in kinds[:METHOD_KINDS]],
                "method_kinds": kinds[:METHOD_KINDS],
                "methods_more": max(len(kinds) - METHOD_KINDS, 0),
            }
        )
    return rows


_METHODS = attrgetter("methods")

#: method kinds the methodology table names per source (the rest are counted)
METHOD_KINDS = 5
#: a number as method texts write it: 5, 1,234, 0.0123, $0.0123, +1,234
_NUMBER = re.compile(r"[+-]?\$?\d[\d,]*(?:\.\d+)?")


def method_kinds(methods: Iterable[tuple[str, str]]) -> list[dict[str, Any]]:
    """One row per kind of method, commonest first: the sessions' `methods` texts that
    differ only in their numbers are one kind. A number that is the same in every session
    stays (a threshold, a tokenizer's name); one that differs reads as its range
    (`5-6 of 6 responses ...`), so the text stays true of each session."""
    groups: dict[tuple[str, str], list[list[str]]] = defaultdict(list)
    for key, text in methods:
        text = _COMMITS.sub(" commit(s)", text)  # `1 commit`, `3 commits`: one kind
        groups[(key, _NUMBER.sub("#", text))].append(_NUMBER.findall(text))
    kinds: list[dict[str, Any]] = []
    for (key, shape), numbers in groups.items():
        parts = shape.split("#")
        text = parts[0]
        for slot, part in enumerate(parts[1:]):
            values = [n[slot] for n in numbers]
            text += values[0] if len(set(values)) == 1 else _range(values)
            text += part
        kinds.append({"key": key, "text": _plural_commits(text), "sessions": len(numbers)})
    kinds.sort(key=lambda k: (-k["sessions"], k["key"], k["text"]))
    return kinds


#: `commit(s)` as older costlog wrote it, `commit` and `commits` as it writes them now
_COMMITS = re.compile(r"(?<=\d) commit(?:\(s\)|s)?(?![\w(])")
_COUNTED_COMMITS = re.compile(r"(\d[\d,]*(?:\u2013\d[\d,]*)?) commit\(s\)")


def _plural_commits(text: str) -> str:
    """`1 commit`, `2 commits`, `1\u20133 commits`: a count of commits read as words."""
    return _COUNTED_COMMITS.sub(
        lambda m: f"{m[1]} commit" if m[1] == "1" else f"{m[1]} commits", text
    )


def _kind_text(kind: dict[str, Any]) -> str:
    n = kind["sessions"]
    return f"{kind['key']}, {n} session{'' if n == 1 else 's'}: {kind['text']}"


def _range(values: list[str]) -> str:
    def amount(value: str) -> Decimal:
        return Decimal(value.replace("$", "").replace(",", ""))

    low, high = min(values, key=amount), max(values, key=amount)
    return f"{low}\u2013{high}"
