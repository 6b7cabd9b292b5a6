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
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from costlog import resources
from costlog.errors import CostlogError
from costlog.models import Usage
from costlog.pricing.names import DATE_SUFFIX, normalize
from costlog.pricing.rates import RATE_FIELDS, ModelPrices, Plan, Rates, Tier
from costlog.pricing.schema import Unpriced, read_model, read_unpriced


class PriceTable:
    def __init__(
        self,
        version: str,
        models: Mapping[str, ModelPrices],
        unpriced: Mapping[str, Unpriced] | None = None,
    ) -> None:
        self.version = version
        self._models = dict(models)
        #: models known to have no published price: name -> when that was checked and why
        self.unpriced: dict[str, Unpriced] = dict(unpriced or {})
        self._index: dict[str, str] = {}
        self._canonical: dict[str, str | None] = {}
        self._plans: dict[tuple[int, str | None], Plan] = {}
        #: (name, day, speed) -> (model, rates that day, speed): a scan asks once per request
        self._fronts: dict[
            tuple[str, date | None, str | None], tuple[ModelPrices, Rates, str | None] | None
        ] = {}
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
        models = {str(n): read_model(str(n), m, f"{where}: {n}") for n, m in models_raw.items()}
        unpriced = read_unpriced(data.get("unpriced"), f"{where}: unpriced")
        return cls(str(data.get("version") or "unversioned"), models, unpriced)

    def merged(self, other: PriceTable, version: str) -> PriceTable:
        models = dict(self._models)
        for name, model in other._models.items():
            for old_name in [n for n, m in models.items() if n == name or name in m.aliases]:
                models.pop(old_name)
            models[name] = model
        unpriced = {**self.unpriced, **other.unpriced}
        return PriceTable(version, models, {n: u for n, u in unpriced.items() if n not in models})

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
            found = self._index.get(DATE_SUFFIX.sub("", text))
        self._canonical[name] = found
        return found

    def suggest(self, name: str) -> str | None:
        """For a name the table does not know, the table's name it most likely misspells
        (`claude-sonet-4-6`: claude-sonnet-4-6), matched over names and aliases; None when
        nothing is close or the name is known."""
        import difflib

        if not name or self.canonical(name) is not None:
            return None
        text = DATE_SUFFIX.sub("", normalize(name)[0])
        close = difflib.get_close_matches(text, list(self._index), n=1, cutoff=0.85)
        return self._index[close[0]] if close else None

    def speed_of(self, name: str) -> str | None:
        return normalize(name)[1]

    def models(self) -> list[str]:
        return sorted(self._models, key=lambda n: (self._models[n].provider, n))

    def known_unpriced(self, name: str | None) -> Unpriced | None:
        """Why `name` has no price, when the table lists it as published without one."""
        if not name or self.canonical(name) is not None:
            return None
        text = normalize(name)[0]
        return self.unpriced.get(text) or self.unpriced.get(DATE_SUFFIX.sub("", text))

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
        key = (name, day, speed)
        try:  # asked once per request in a scan or a record: the memo without a call
            front = self._fronts[key]
        except KeyError:
            front = self._front(key)
        if front is None:
            return None
        model, rates, speed = front
        chosen = rates.for_prompt(prompt_tokens)
        memo = (id(chosen), speed)  # `chosen` lives as long as the table
        found = self._plans.get(memo)
        if found is None:
            found = self._plans[memo] = self._new_plan(model, chosen, speed)
        return found

    def flat_plan(
        self, name: str, day: date | None = None, speed: str | None = None
    ) -> tuple[bool, Plan | None]:
        """(True, `plan`) when every request of the model on `day` is charged alike, of
        any size: no long-context tier then (or no price: None); else (False, None), and
        `plan` is asked for each request's size. A scan asks once per model and day."""
        key = (name, day, speed)
        front = self._fronts[key] if key in self._fronts else self._front(key)
        if front is None:
            return True, None
        if front[1].tiers:
            return False, None
        return True, self.plan(name, 0, day, speed)

    def _front(
        self, key: tuple[str, date | None, str | None]
    ) -> tuple[ModelPrices, Rates, str | None] | None:
        """For (name, day, speed): the model, its rates on that day and the speed a request
        is charged at (the one given, else the one its name says), kept in `_fronts`; None
        for a model without a price."""
        name, day, speed = key
        model = self.model(name)
        front = None if model is None else (model, model.at(day), speed or normalize(name)[1])
        self._fronts[key] = front
        return front

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
