"""The price table's model: a model's dated rates, long-context tiers and how one request is
charged (`Plan`).

Rates are USD per million tokens, Decimal and exact. A model keeps every dated entry it
ever had, oldest first: a request is priced at the entry in force on its date (before the
first entry, at that first one), so a new price never changes an old session.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from costlog.models import Usage

MILLION = Decimal(1_000_000)
RATE_FIELDS = ("input", "output", "cache_read", "cache_write_5m", "cache_write_1h")


def token_cost(usage: Usage, rates: Rates | Tier) -> Decimal:
    """What `usage` costs at `rates` (USD per million tokens), exact: no rounding here."""
    return (
        usage.input * rates.input
        + usage.output * rates.output
        + usage.cache_read * rates.cache_read
        + usage.cache_write_5m * rates.cache_write_5m
        + usage.cache_write_1h * rates.cache_write_1h
    ) / MILLION


@dataclass(frozen=True, slots=True)
class Tier:
    above: int
    input: Decimal
    output: Decimal
    cache_read: Decimal
    cache_write_5m: Decimal
    cache_write_1h: Decimal


@dataclass(frozen=True, slots=True)
class Rates:
    """USD per million tokens, in force from `effective`."""

    effective: date
    input: Decimal
    output: Decimal
    cache_read: Decimal
    cache_write_5m: Decimal
    cache_write_1h: Decimal
    tiers: tuple[Tier, ...] = ()
    note: str | None = None

    def for_prompt(self, prompt_tokens: int) -> Rates | Tier:
        """The rates one request pays: the highest tier its prompt exceeds, else base."""
        # asked once per request in a scan: no sort and no closure per call. The tier with
        # the highest threshold the prompt exceeds; of equal thresholds the later one, as a
        # stable sort by threshold would leave it
        chosen: Rates | Tier = self
        above: int | None = None  # a repo's table may set any threshold, negative too
        for tier in self.tiers:
            if prompt_tokens > tier.above and (above is None or tier.above >= above):
                chosen, above = tier, tier.above
        return chosen


@dataclass(frozen=True, slots=True, eq=False)
class Plan:
    """The rates one request is charged at (base or a tier) and its speed multiplier."""

    rates: Rates | Tier
    factor: Decimal
    rules: tuple[str, ...]

    def cost(self, usage: Usage) -> Decimal:
        cost = token_cost(usage, self.rates)
        return cost * self.factor if self.factor != 1 else cost


@dataclass(frozen=True, slots=True)
class ModelPrices:
    name: str
    provider: str
    prices: tuple[Rates, ...]
    aliases: tuple[str, ...] = ()
    multipliers: Mapping[str, Decimal] = field(default_factory=dict)
    source: str = ""
    retired: str | None = None

    def at(self, day: date | None) -> Rates:
        if day is None:
            return self.prices[-1]
        current = self.prices[0]
        for rates in self.prices:
            if rates.effective <= day:
                current = rates
        return current

    def between(self, first: date, last: date) -> tuple[Rates, ...]:
        """Every entry in force on some day from `first` to `last` (oldest first)."""
        start = self.at(first)
        return (start, *(r for r in self.prices if first < r.effective <= last and r is not start))

    def as_of(self, table_day: date) -> ModelPrices | None:
        """This model as a table dated `table_day` knew it: its entries dated up to that day
        (None when all are later). Tables only ever add dated entries, so this is what an
        older costlog priced with, which `costlog check` needs to re-derive old costs."""
        known = tuple(r for r in self.prices if r.effective <= table_day)
        if len(known) == len(self.prices):
            return self
        return replace(self, prices=known) if known else None
