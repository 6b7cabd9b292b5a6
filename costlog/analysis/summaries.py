"""The summary tables of COST_LOG.md: months, spend by provider/family/model, the trend of
the last sessions, and how each source's costs were obtained (the methodology table).

Sums count an unpriced session as $0 and say how many such sessions each row holds.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import tzinfo
from decimal import Decimal
from typing import Any

from costlog.analysis.facts import ZERO, cost, local_day, month_of, priced, primary, short_id
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


def months(entries: Sequence[Entry], tz: tzinfo) -> list[dict[str, Any]]:
    """One row per calendar month, newest first; primary model = most sessions."""
    groups: dict[str, list[Entry]] = defaultdict(list)
    for entry in entries:
        groups[month_of(entry, tz)].append(entry)
    return [_month_row(month, groups[month]) for month in sorted(groups, reverse=True)]


def _month_row(month: str, group: list[Entry]) -> dict[str, Any]:
    total = Money()
    model_count: Counter[str] = Counter()
    model_cost: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for entry in group:
        total.add(entry)
        model = primary(entry) or "-"
        model_count[model] += 1
        model_cost[model] += cost(entry)
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
    entries: Iterable[Entry], keys: Sequence[str] = ("provider", "family", "model")
) -> dict[str, list[dict[str, Any]]]:
    """Several spend tables in one pass: a session counts once in each row it touches."""
    labels = [(key, _LABELS[key]) for key in keys]
    sums: dict[tuple[str, str], list[Any]] = {}  # [cost, sessions, tokens, unpriced]
    for entry in entries:
        seen: set[tuple[str, str]] = set()
        unpriced: set[tuple[str, str]] = set()
        for model, mu in entry.models.items():
            for key, label in labels:
                slot = (key, label(model))
                row = sums.get(slot)
                if row is None:
                    row = sums[slot] = [ZERO, 0, 0, 0]
                row[0] += mu.cost_usd or ZERO
                row[2] += mu.usage.total
                if slot not in seen:
                    seen.add(slot)
                    row[1] += 1
                if mu.cost_usd is None and slot not in unpriced:
                    unpriced.add(slot)
                    row[3] += 1
    return {
        key: _spend_rows(key, {name: v for (k, name), v in sums.items() if k == key})
        for key in keys
    }


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


def methodology(entries: Sequence[Entry]) -> list[dict[str, Any]]:
    """Cost per source (actual, parsed, estimated, ...) with its three commonest methods, so
    a reader sees how much of the total rests on estimates."""
    cost_by: dict[str, Decimal] = defaultdict(lambda: ZERO)
    count: Counter[str] = Counter()
    methods: dict[str, Counter[str]] = defaultdict(Counter)
    for entry in entries:
        cost_by[entry.source] += cost(entry)
        count[entry.source] += 1
        if entry.methods:
            methods[entry.source].update(f"{k}: {v}" for k, v in entry.methods.items())
    total = sum(cost_by.values(), ZERO)
    order = ["actual", "parsed", "estimated", "mixed", "manual"]
    order += sorted(s for s in count if s not in order)
    return [
        {
            "source": s,
            "sessions": count[s],
            "cost": cost_by[s],
            "share": cost_by[s] / total if total else ZERO,
            "methods": [m for m, _ in methods[s].most_common(3)],
        }
        for s in order
        if count[s]
    ]
