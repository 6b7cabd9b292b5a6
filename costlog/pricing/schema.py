"""Reading a price table document (the bundled JSON, a repo's prices.yaml) into `ModelPrices`.

Every bad value is a CostlogError naming where it is (`price table: MODEL.prices[0].input`).
Cache prices a document leaves out are filled from the input price by the provider's
published ratios (see `fill_cache_rates`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from costlog.errors import CostlogError
from costlog.pricing.rates import RATE_FIELDS, ModelPrices, Rates, Tier


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


def read_model(name: str, raw: Mapping[str, Any], where: str) -> ModelPrices:
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


@dataclass(frozen=True, slots=True)
class Unpriced:
    """A model an agent can select whose provider publishes no price for it (yet)."""

    name: str
    provider: str
    checked: date
    reason: str


def read_unpriced(raw: object, where: str) -> dict[str, Unpriced]:
    """The table's `unpriced:` list: each name needs the date it was checked and a reason."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise CostlogError(f"price table: {where}: expected a mapping")
    found: dict[str, Unpriced] = {}
    for name, entry in raw.items():
        if not isinstance(entry, Mapping) or not entry.get("reason"):
            raise CostlogError(f"price table: {where}.{name}: needs `checked` and `reason`")
        try:
            checked = date.fromisoformat(str(entry.get("checked")))
        except ValueError:
            raise CostlogError(
                f"price table: {where}.{name}: `checked` is not a date: {entry.get('checked')!r}"
            ) from None
        key = str(name).lower()
        found[key] = Unpriced(
            key, str(entry.get("provider") or "other"), checked, str(entry["reason"])
        )
    return found
