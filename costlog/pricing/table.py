"""Prices: the bundled, dated table (plus a repo override) and per-request cost.

The table is authored in `costlog/data/prices.yaml` (dated, sourced, commented) and shipped
compiled to `prices.json`, which loads in about a millisecond, so the hook path never pays
for a YAML parser. A repo file `.costlog/prices.yaml` of the same shape wins over it.

Rules, in one place:
- A request is priced at the entry in force on its date; before a model's first entry,
  at that first entry.
- Long context: when one request's prompt (input + cache read + cache writes) is above a
  tier's threshold, *every* token of that request is charged at the tier's rates
  (Anthropic's and Google's published rule; ccusage instead splits each token type at
  200k, which under-prices such requests). So cost is computed per request, then summed.
- `speed: fast` / a priority service tier multiply the request by the model's multiplier.
- A model the table does not know has no price: its cost is `None`, never a silent $0.
- Money is Decimal, exact; the ledger rounds to the micro-dollar when it stores it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any

from costlog import resources
from costlog.errors import CostlogError
from costlog.models import ModelUsage, Request, Usage

MILLION = Decimal(1_000_000)
RATE_FIELDS = ("input", "output", "cache_read", "cache_write_5m", "cache_write_1h")
_DATE_SUFFIX = re.compile(r"-(?:\d{8}|\d{4}-\d{2}-\d{2})\Z")
_BEDROCK_REGION = re.compile(r"\A(?:us|eu|apac|global|jp|au|ca|us-gov)\.")
_BEDROCK_VERSION = re.compile(r"-v\d+(?::\d+)?\Z")


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
        chosen: Rates | Tier = self
        for tier in sorted(self.tiers, key=lambda t: t.above):
            if prompt_tokens > tier.above:
                chosen = tier
        return chosen


@dataclass(frozen=True, slots=True, eq=False)
class Plan:
    """The rates one request is charged at (base or a tier) and its speed multiplier."""

    rates: Rates | Tier
    factor: Decimal
    rules: tuple[str, ...]

    def cost(self, usage: Usage) -> Decimal:
        r = self.rates
        cost = (
            usage.input * r.input
            + usage.output * r.output
            + usage.cache_read * r.cache_read
            + usage.cache_write_5m * r.cache_write_5m
            + usage.cache_write_1h * r.cache_write_1h
        ) / MILLION
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


# ---------------------------------------------------------------- reading the table


def _dec(value: Any, where: str) -> Decimal:
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        amount = Decimal("NaN")
    if not amount.is_finite() or amount < 0:
        raise CostlogError(f"price table: {where}: not a price: {value!r}")
    return amount


def _rates(raw: Mapping[str, Any], provider: str, where: str) -> Rates:
    if "input" not in raw or "output" not in raw:
        raise CostlogError(f"price table: {where}: needs at least `input` and `output`")
    base = {k: _dec(raw[k], f"{where}.{k}") for k in RATE_FIELDS if raw.get(k) is not None}
    filled = _fill(base, provider)
    tiers = tuple(_tier(t, filled, f"{where}.tiers") for t in raw.get("tiers") or ())
    try:
        effective = date.fromisoformat(str(raw.get("from") or "2000-01-01"))
    except ValueError:
        raise CostlogError(
            f"price table: {where}: `from` is not a date: {raw.get('from')!r}"
        ) from None
    return Rates(
        effective=effective,
        tiers=tiers,
        note=str(raw["note"]) if raw.get("note") else None,
        **filled,
    )


def _fill(given: Mapping[str, Decimal], provider: str) -> dict[str, Decimal]:
    """Missing cache prices follow the provider's published ratios to the input price.

    Anthropic: read 0.1x, 5-minute write 1.25x, 1-hour write 2x. Others bill a cached
    token at the input price unless a cache-read price is given, and have no writes.
    """
    inp = given["input"]
    out = dict(given)
    if provider == "anthropic":
        out.setdefault("cache_read", inp * Decimal("0.1"))
        out.setdefault("cache_write_5m", inp * Decimal("1.25"))
        out.setdefault("cache_write_1h", inp * 2)
    else:
        out.setdefault("cache_read", inp)
        out.setdefault("cache_write_5m", inp)
        out.setdefault("cache_write_1h", out["cache_write_5m"])
    return out


def _tier(raw: Mapping[str, Any], base: Mapping[str, Decimal], where: str) -> Tier:
    try:
        above = int(raw["above"])
    except (KeyError, TypeError, ValueError):
        raise CostlogError(f"price table: {where}: each tier needs `above: TOKENS`") from None
    values = {k: _dec(raw[k], f"{where}.{k}") for k in RATE_FIELDS if raw.get(k) is not None}
    if "input" not in values or "output" not in values:
        raise CostlogError(f"price table: {where}: a tier needs `input` and `output`")
    scale = values["input"] / base["input"] if base["input"] else Decimal(1)
    for key in ("cache_read", "cache_write_5m", "cache_write_1h"):
        values.setdefault(key, base[key] * scale)
    return Tier(above=above, **values)


def _model(name: str, raw: Mapping[str, Any], where: str) -> ModelPrices:
    if not isinstance(raw, Mapping):
        raise CostlogError(f"price table: {where}: expected a mapping")
    provider = str(raw.get("provider") or "other")
    entries = raw.get("prices")
    if not isinstance(entries, list) or not entries:
        raise CostlogError(f"price table: {where}: needs a `prices` list")
    prices = sorted(
        (_rates(e, provider, f"{where}.prices[{i}]") for i, e in enumerate(entries)),
        key=lambda r: r.effective,
    )
    multipliers = {
        str(k): _dec(v, f"{where}.multipliers.{k}")
        for k, v in (raw.get("multipliers") or {}).items()
    }
    return ModelPrices(
        name=name,
        provider=provider,
        prices=tuple(prices),
        aliases=tuple(str(a).lower() for a in raw.get("aliases") or ()),
        multipliers=multipliers,
        source=str(raw.get("source") or ""),
        retired=str(raw["retired"]) if raw.get("retired") else None,
    )


@cache
def normalize(name: str) -> tuple[str, str | None]:
    """A model id as logs write it -> (lookup name, speed implied by the name).

    Handles `anthropic/`, `bedrock/`, `vertex_ai/`, `openai/`, `gemini/`, `models/` and
    other `provider/` prefixes, Bedrock ids (`us.anthropic.claude-...-v1:0`), Vertex's
    `@date`, a `[1m]` context suffix and a `-fast` suffix.
    """
    text = name.strip().lower()
    text = re.sub(r"\[[0-9a-z]+\]\Z", "", text)
    text = text.rsplit("/", 1)[-1]
    text = _BEDROCK_REGION.sub("", text)
    text = text.removeprefix("anthropic.")
    text = _BEDROCK_VERSION.sub("", text)
    text = text.replace("@", "-")
    speed = None
    if text.endswith("-fast"):
        text, speed = text[: -len("-fast")], "fast"
    return text, speed


class PriceTable:
    def __init__(self, version: str, models: Mapping[str, ModelPrices]) -> None:
        self.version = version
        self._models = dict(models)
        self._index: dict[str, str] = {}
        self._canonical: dict[str, str | None] = {}
        self._plans: dict[tuple[int, str | None], Plan] = {}
        for model in self._models.values():
            self._index[normalize(model.name)[0]] = model.name
            for alias in model.aliases:
                self._index.setdefault(normalize(alias)[0], model.name)

    # ------------------------------------------------------------ loading

    @classmethod
    def load(cls, override: Path | None = None) -> PriceTable:
        """The bundled table, with `override` (a repo's .costlog/prices.yaml) on top."""
        bundled = _bundled()
        if override is None:
            return bundled
        mtime = override.stat().st_mtime_ns if override.exists() else 0
        return _with_override(str(override), mtime)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "price table") -> PriceTable:
        models_raw = data.get("models")
        if not isinstance(models_raw, Mapping):
            raise CostlogError(f"{where}: expected `models:` mapping")
        models = {str(n): _model(str(n), m, f"{where}: {n}") for n, m in models_raw.items()}
        return cls(str(data.get("version") or "unversioned"), models)

    def merged(self, other: PriceTable, version: str) -> PriceTable:
        models = dict(self._models)
        for name, model in other._models.items():
            for old_name in [n for n, m in models.items() if n == name or name in m.aliases]:
                models.pop(old_name)
            models[name] = model
        return PriceTable(version, models)

    # ------------------------------------------------------------ lookups

    def canonical(self, name: str | None) -> str | None:
        """The table's name for a logged model id, or None when unknown (never a guess)."""
        if not name:
            return None
        try:
            return self._canonical[name]
        except KeyError:
            pass
        text, _ = normalize(name)
        found = self._index.get(text)
        if found is None:
            found = self._index.get(_DATE_SUFFIX.sub("", text))
        self._canonical[name] = found
        return found

    def speed_of(self, name: str) -> str | None:
        return normalize(name)[1]

    def models(self) -> list[str]:
        return sorted(self._models, key=lambda n: (self._models[n].provider, n))

    def model(self, name: str) -> ModelPrices | None:
        canonical = self.canonical(name)
        return self._models.get(canonical) if canonical else None

    def provider(self, name: str) -> str | None:
        model = self.model(name)
        return model.provider if model else None

    def rates(self, name: str, day: date | None = None) -> Rates | None:
        model = self.model(name)
        return model.at(day) if model else None

    def request_cost(
        self, name: str, usage: Usage, day: date | None = None, speed: str | None = None
    ) -> Decimal | None:
        priced = self.price(name, usage, day, speed)
        return None if priced is None else priced[0]

    def price(
        self, name: str, usage: Usage, day: date | None = None, speed: str | None = None
    ) -> tuple[Decimal, list[str]] | None:
        """(cost, rules applied) of one request, or None for an unknown model."""
        plan = self.plan(name, usage.prompt_tokens, day, speed)
        if plan is None:
            return None
        return plan.cost(usage), list(plan.rules)

    def plan(
        self, name: str, prompt_tokens: int, day: date | None = None, speed: str | None = None
    ) -> Plan | None:
        """How one request of this size is charged: its rates and multiplier.

        Requests with equal plans can be summed first and priced once: the arithmetic is
        linear and exact, so `costlog scan` prices a large history quickly.
        """
        model = self.model(name)
        if model is None:
            return None
        chosen = model.at(day).for_prompt(prompt_tokens)
        speed = speed or normalize(name)[1]
        memo = (id(chosen), speed)  # `chosen` lives as long as the table
        found = self._plans.get(memo)
        if found is None:
            found = self._plans[memo] = self._new_plan(model, chosen, speed)
        return found

    def _new_plan(self, model: ModelPrices, chosen: Rates | Tier, speed: str | None) -> Plan:
        rules: tuple[str, ...] = ()
        if isinstance(chosen, Tier):
            rules += (f"long-context rate (prompt > {chosen.above:,} tokens)",)
        factor = Decimal(1)
        if speed and speed != "standard":
            known = model.multipliers.get(speed)
            if known is None:
                rules += (
                    f"{speed} mode: no multiplier known for {model.name}; standard price used",
                )
            else:
                factor = known
                rules += (f"{speed} mode x{known}",)
        return Plan(chosen, factor, rules)

    def describe(self, name: str) -> dict[str, Any]:
        model = self.model(name)
        if model is None:
            raise CostlogError(f"no price for model {name!r}")
        return {
            "model": model.name,
            "provider": model.provider,
            "aliases": list(model.aliases),
            "multipliers": {k: str(v) for k, v in model.multipliers.items()},
            "retired": model.retired,
            "source": model.source,
            "table": self.version,
            "unit": "USD per million tokens",
            "prices": [
                {
                    "from": r.effective.isoformat(),
                    **{k: _num(getattr(r, k)) for k in RATE_FIELDS},
                    "tiers": [
                        {"above": t.above, **{k: _num(getattr(t, k)) for k in RATE_FIELDS}}
                        for t in r.tiers
                    ],
                    **({"note": r.note} if r.note else {}),
                }
                for r in model.prices
            ],
        }


def _num(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text


@cache
def _bundled() -> PriceTable:
    path = resources.data("prices.json")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CostlogError(
            f"the bundled price table is unreadable: {exc}", path=path, hint="reinstall costlog"
        ) from None
    return PriceTable.from_dict(data, "bundled price table")


@cache
def _with_override(path: str, mtime: int) -> PriceTable:
    from costlog import yamlfile

    text = Path(path).read_text(encoding="utf-8") if mtime else ""
    data = yamlfile.load_text(text, path=path) if text.strip() else {}
    if not data:
        return _bundled()
    if not isinstance(data, Mapping):
        raise CostlogError("expected a mapping with `models:`", path=path)
    table = PriceTable.from_dict(data, path)
    version = f"{_bundled().version}+{data.get('version') or 'repo'}"
    return _bundled().merged(table, version)


# ---------------------------------------------------------------- a session's requests


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
