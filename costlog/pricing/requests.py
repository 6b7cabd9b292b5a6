"""A session's requests priced one by one and summed per model.

Each request is priced on its own date and by its own prompt size (the long-context rule is
per request), or taken at the cost the agent logged for it. A model the table does not know
makes the session's total unknown (None), never a silent $0.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from costlog.models import ModelUsage, Request
from costlog.pricing.table import PriceTable


def price_requests(
    requests: Iterable[Request], table: PriceTable
) -> tuple[dict[str, ModelUsage], Decimal | None, list[str]]:
    """Per-model totals of a session, each request priced on its own date and size.

    Returns (models, total, rules): total is None when any model is unpriced; rules are
    notes such as "long-context rate (prompt > 200,000 tokens): 3 requests".
    """
    models: dict[str, ModelUsage] = {}
    sources: dict[str, set[str]] = {}
    counted: dict[str, int] = {}
    for request in requests:
        name = table.canonical(request.model) or request.model
        mu = models.setdefault(name, ModelUsage(cost_usd=Decimal(0)))
        mu.requests += 1
        mu.usage.add(request.usage)
        kinds = sources.setdefault(name, set())
        kinds.add(request.source)
        if request.estimated_output:
            kinds.add("estimated")
        when = request.timestamp.date() if request.timestamp else None
        if request.logged_cost_usd is not None:
            cost: Decimal | None = request.logged_cost_usd
            _count(counted, "cost as logged by the agent")
        else:
            speed = request.speed or table.speed_of(request.model)
            priced = table.price(name, request.usage, when, speed)
            cost = None if priced is None else priced[0]
            for rule in priced[1] if priced else []:
                _count(counted, rule)
        if cost is None or mu.cost_usd is None:
            mu.cost_usd = None
        else:
            mu.cost_usd += cost
    for name, mu in models.items():
        kinds = sources[name]
        mu.source = kinds.pop() if len(kinds) == 1 else "mixed"
    total: Decimal | None = Decimal(0)
    for mu in models.values():
        total = None if total is None or mu.cost_usd is None else total + mu.cost_usd
    rules = [f"{rule}: {n} request{'s' if n != 1 else ''}" for rule, n in counted.items()]
    return models, total, rules


def _count(counter: dict[str, int], key: str) -> None:
    counter[key] = counter.get(key, 0) + 1
