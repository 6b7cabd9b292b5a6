"""Routing advice: task types that are cheap and short on a large model could run on the
next smaller one (with the monthly saving), and risky task types on a small model are
flagged. Every row carries its evidence: sessions, medians, the share of cheap sessions.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from itertools import repeat
from operator import lt
from typing import TYPE_CHECKING, Any

from costlog.analysis.facts import SESSIONS_LISTED, ZERO, Facts
from costlog.analysis.families import LARGER, is_small, provider_of, smaller_model
from costlog.analysis.typical import Typical, median
from costlog.config import Config
from costlog.models import Entry, ModelUsage
from costlog.pricing.rates import token_cost

if TYPE_CHECKING:
    from costlog.pricing.table import PriceTable


def routing(
    entries: Sequence[Entry],
    config: Config,
    table: PriceTable | None = None,
    typical: Typical | None = None,
    facts: Facts | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """Task types cheap and short on a large model -> a smaller one; risky types on a small
    model -> flagged. Evidence in every row. `facts`: the render's one pass over `entries`."""
    if table is None:
        from costlog.pricing.table import PriceTable

        table = PriceTable.load()
    facts = facts or Facts(entries)
    typical = typical or Typical.of_facts(facts)
    groups = _by_type_and_model(entries, facts)
    span = _months_spanned(entries)
    down = [
        row
        for (task_type, model), group in sorted(groups.items())
        if (row := _downgrade(task_type, model, group, config, table, typical, span, facts))
    ]
    down.sort(key=lambda r: (-r["monthly_savings"], r["task_type"], r["model"]))
    risky = [
        _risky(task_type, model, group, facts)
        for (task_type, model), group in sorted(groups.items())
        if _is_risky(task_type, config) and is_small(model)
    ]
    return {"downgrade": down, "risky": risky}


def _by_type_and_model(entries: Sequence[Entry], facts: Facts) -> dict[tuple[str, str], list[int]]:
    """The priced sessions (their indices, in ledger order) of each task type and model."""
    return facts.by_type_and_model()


def _is_risky(task_type: str, config: Config) -> bool:
    return task_type.lower() in {t.lower() for t in config.risky_task_types}


def _months_spanned(entries: Sequence[Entry]) -> Decimal:
    if not entries:
        return Decimal(1)
    days = (entries[-1].started - entries[0].started).total_seconds() / 86400
    return max(Decimal(1), Decimal(str(round(days / 30, 2))))


def _downgrade(
    task_type: str,
    model: str,
    group: list[int],
    config: Config,
    table: PriceTable,
    typical: Typical,
    span: Decimal,
    facts: Facts,
) -> dict[str, Any] | None:
    """Fires when a task type on a model is consistently cheap and short *for that model*:
    enough sessions, median cost and median duration below the model's own medians, and at
    least 3 in 4 of its sessions cheaper than the model's median session."""
    small = smaller_model(model)
    if small is None or table.rates(small) is None or _is_risky(task_type, config):
        return None
    if len(group) < config.guide_min_sessions:
        return None
    usual_cost, usual_hours = typical.model_cost[model], typical.model_hours[model]
    cost_of, hours_of = facts.cost, facts.hours
    costs = list(map(cost_of.__getitem__, group))
    durations = [h for h in map(hours_of.__getitem__, group) if h is not None]
    cheap = sum(map(lt, costs, repeat(usual_cost)))  # True counts 1
    middle = median(costs)  # once: each median sorts its group
    if not (middle < usual_cost and cheap * 4 >= len(group) * 3):
        return None
    middle_hours = median(durations)
    if durations and not middle_hours < usual_hours:
        return None
    entries = facts.entries
    saved = sum((_saving(entries[i], model, small, table) for i in group), ZERO)
    return {
        "task_type": task_type,
        "model": model,
        "recommended": small,
        "n": len(group),
        "median": middle,
        "model_median": usual_cost,
        "median_hours": middle_hours,
        "cheap_share": Decimal(cheap) / len(group),
        "monthly_savings": saved / span,
    }


def _saving(entry: Entry, model: str, small: str, table: PriceTable) -> Decimal:
    """This session's spend on `model` minus the same tokens at `small`'s base prices."""
    mu: ModelUsage = entry.models[model]
    rates = table.rates(small, entry.started.date())
    if rates is None or mu.cost_usd is None:
        return ZERO
    return max(ZERO, mu.cost_usd - token_cost(mu.usage, rates))


def _risky(task_type: str, model: str, group: list[int], facts: Facts) -> dict[str, Any]:
    cost_of, entries = facts.cost, facts.entries
    return {
        "task_type": task_type,
        "model": model,
        "n": len(group),
        "median": median([cost_of[i] for i in group]),
        "recommended": LARGER[provider_of(model)],
        "sessions": [entries[i].id for i in group[-SESSIONS_LISTED:]],
    }
