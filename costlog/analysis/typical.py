"""What "typical" means for a ledger: medians over its priced sessions.

Anomalies, their causes and routing advice compare a session with these medians instead
of fixed dollar amounts, so they adapt to the team's own numbers. Unpriced sessions never
feed a median.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from costlog.analysis.facts import ZERO, Facts
from costlog.models import Entry


def median(values: Sequence[Any]) -> Any:
    return statistics.median(values) if values else None


@dataclass(frozen=True)
class Typical:
    """Medians over the priced sessions of a ledger: what "usual" means for it."""

    cost: Decimal
    prompt_tokens: float
    requests: float
    hours: float
    subagents: float
    model_cost: dict[str, Decimal]
    model_hours: dict[str, float]

    @classmethod
    def of(cls, entries: Sequence[Entry]) -> Typical:
        return cls.of_facts(Facts(entries))

    @classmethod
    def of_facts(
        cls, facts: Facts, rows: Sequence[int] | None = None, *, models: bool = True
    ) -> Typical:
        """The medians over the priced entries of `facts` (those at `rows`, in cost order
        as `Facts.priced_order` gives them; all when None). Without `models`, the medians
        per model are left empty: a peer group's (`outliers.Peers`) are never asked."""
        order = facts.priced_order if rows is None else rows
        every = rows is None and facts.all_priced  # then a column is the group's values
        priced, model_of, hours_of = facts.priced, facts.model, facts.hours
        costs = list(map(priced.__getitem__, order))  # cheapest first: sorted already
        spans = hours_of if every else list(map(hours_of.__getitem__, order))
        durations = [h for h in spans if h is not None]
        model_costs: dict[str, list[Decimal]] = {}
        model_hours: dict[str, list[float]] = {}
        if models:
            # models in the order they first appear in the ledger, as when they were
            # grouped in ledger order (the dicts keep that order)
            seen = dict.fromkeys(model_of if every else [model_of[i] for i in sorted(order)])
            for name in dict.fromkeys([m or "-" for m in seen]):
                model_costs[name], model_hours[name] = [], []
            names = [m or "-" for m in map(model_of.__getitem__, order)]
            hours_in_order = spans if not every else list(map(hours_of.__getitem__, order))
            for amount, name, h in zip(costs, names, hours_in_order, strict=True):
                model_costs[name].append(amount)  # type: ignore[arg-type]  # each sorted
                if h is not None:
                    model_hours[name].append(h)
        prompts, counts, subagents = facts.prompts, facts.requests, facts.subagents
        if not every:
            prompts, counts, subagents = (
                list(map(column.__getitem__, order)) for column in (prompts, counts, subagents)
            )
        return cls(
            cost=_median_sorted(costs) or ZERO,
            prompt_tokens=median(prompts) or 0,
            requests=median(counts) or 0,
            hours=median(durations) or 0,
            subagents=median(subagents) or 0,
            model_cost={m: _median_sorted(v) for m, v in model_costs.items()},
            model_hours={m: median(v) or 0.0 for m, v in model_hours.items()},
        )


def _median_sorted(values: Sequence[Any]) -> Any:
    """`median` of values already in ascending order (the same middle value, no sort)."""
    n = len(values)
    if not n:
        return None
    if n % 2:
        return values[n // 2]
    return (values[n // 2 - 1] + values[n // 2]) / 2
