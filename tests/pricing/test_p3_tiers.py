"""A request pays the highest long-context tier its prompt exceeds, however a table lists
its tiers: `Rates.for_prompt` picks it without sorting on every request (a scan asks once
per request), and must pick exactly what a sort by threshold picked."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from costlog.models import Usage
from costlog.pricing.rates import Rates, Tier
from costlog.pricing.table import PriceTable


def _table(tiers: list[dict[str, object]]) -> PriceTable:
    entry = {"effective": "2025-01-01", "input": 1, "output": 2, "tiers": tiers}
    model = {"provider": "anthropic", "prices": [entry]}
    return PriceTable.from_dict({"version": "test", "models": {"tiered-model": model}})


def _by_sort(rates: Rates, prompt: int) -> Rates | Tier:
    """What the table chose before: tiers sorted by threshold, the last one exceeded."""
    chosen: Rates | Tier = rates
    for tier in sorted(rates.tiers, key=lambda t: t.above):
        if prompt > tier.above:
            chosen = tier
    return chosen


def test_unsorted_tiers_charge_the_highest_threshold_exceeded() -> None:
    table = _table(
        [
            {"above": 500_000, "input": 5, "output": 9},
            {"above": 200_000, "input": 3, "output": 6},
            {"above": 1_000_000, "input": 8, "output": 12},
        ]
    )
    day = date(2025, 6, 1)
    for prompt, per_million_in in [
        (100_000, 1),
        (200_000, 1),  # "above" is strict
        (200_001, 3),
        (600_000, 5),
        (2_000_000, 8),
    ]:
        priced = table.request_cost("tiered-model", Usage(input=prompt), day)
        assert priced == Decimal(prompt) * per_million_in / 1_000_000, prompt


def test_the_choice_matches_a_sort_for_equal_and_negative_thresholds() -> None:
    # a repo's own table may repeat a threshold or set one below zero: the later of equal
    # thresholds wins (a stable sort), and a negative one applies to every request
    table = _table(
        [
            {"above": 100, "input": 4, "output": 4},
            {"above": -5, "input": 7, "output": 7},
            {"above": 100, "input": 6, "output": 6},
            {"above": 0, "input": 9, "output": 9},
        ]
    )
    rates = table.rates("tiered-model", date(2025, 6, 1))
    assert rates is not None
    for prompt in [-10, -5, -4, 0, 1, 99, 100, 101, 10**9]:
        assert rates.for_prompt(prompt) is _by_sort(rates, prompt), prompt
    assert rates.for_prompt(101).input == 6  # the later of the two at 100
    assert rates.for_prompt(0).input == 7  # only the negative threshold is exceeded


def test_a_model_without_tiers_always_pays_its_base_rates() -> None:
    table = _table([])
    rates = table.rates("tiered-model", date(2025, 6, 1))
    assert rates is not None
    assert rates.for_prompt(10**9) is rates
    assert table.request_cost("tiered-model", Usage(input=10**6), date(2025, 6, 1)) == 1


def test_a_flat_plan_is_given_only_where_no_size_changes_the_charge() -> None:
    """`flat_plan` (a scan asks it once per model, day and speed) gives a plan only on a
    day the model's rates have no tier, and then it is the plan of every size; on a day
    with tiers (here from a later price entry on) each request is asked for its size."""
    flat = {"from": "2025-01-01", "input": 1, "output": 2}
    tiered = {"from": "2025-06-01", "input": 1, "output": 2}
    tiered["tiers"] = [{"above": -1, "input": 3, "output": 4}]  # below zero: every request
    model = {"provider": "openai", "prices": [flat, tiered], "multipliers": {"fast": 2}}
    table = PriceTable.from_dict({"version": "test", "models": {"dated-model": model}})
    for speed in (None, "fast", "priority"):
        given, plan = table.flat_plan("dated-model", date(2025, 3, 1), speed)
        assert given and plan is not None
        for prompt in (0, 1, 10**9):
            other = table.plan("dated-model", prompt, date(2025, 3, 1), speed)
            assert other is not None
            assert (plan.rates, plan.factor, plan.rules) == (other.rates, other.factor, other.rules)
        assert table.flat_plan("dated-model", date(2025, 7, 1), speed) == (False, None)
    assert table.flat_plan("no-such-model", date(2025, 3, 1)) == (True, None)
    assert table.plan("no-such-model", 5, date(2025, 3, 1)) is None
