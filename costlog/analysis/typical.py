"""What "typical" means for a ledger: medians over its priced sessions.

Anomalies, their causes and routing advice compare a session with these medians instead
of fixed dollar amounts, so they adapt to the team's own numbers. Unpriced sessions never
feed a median.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from costlog.analysis.facts import ZERO, primary, prompt_tokens, requests
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
        costs: list[Decimal] = []
        prompts: list[int] = []
        counts: list[int] = []
        durations: list[float] = []
        subagents: list[int] = []
        model_costs: dict[str, list[Decimal]] = defaultdict(list)
        model_hours: dict[str, list[float]] = defaultdict(list)
        for entry in entries:
            amount = entry.cost_usd  # priced: its cost is the entry's own total
            if amount is None:
                continue
            # the same facts as `primary`, `prompt_tokens` and `requests`, read once: this
            # loop runs over the whole ledger (and again per agent for the anomalies)
            if len(entry.models) == 1:
                ((name, mu),) = entry.models.items()
                model, usage = name or "-", mu.usage
                prompts.append(
                    usage.input + usage.cache_read + usage.cache_write_5m + usage.cache_write_1h
                )
                counts.append(mu.requests)
            else:
                model = primary(entry) or "-"
                prompts.append(prompt_tokens(entry))
                counts.append(requests(entry))
            ended = entry.ended  # `hours`, inline
            duration = (
                None if ended is None else max(0.0, (ended - entry.started).total_seconds() / 3600)
            )
            costs.append(amount)
            subagents.append(entry.subagents)
            model_costs[model].append(amount)
            if duration is not None:
                durations.append(duration)
                model_hours[model].append(duration)
        return cls(
            cost=median(costs) or ZERO,
            prompt_tokens=median(prompts) or 0,
            requests=median(counts) or 0,
            hours=median(durations) or 0,
            subagents=median(subagents) or 0,
            model_cost={m: median(v) for m, v in model_costs.items()},
            model_hours={m: median(model_hours.get(m, [])) or 0.0 for m in model_costs},
        )
