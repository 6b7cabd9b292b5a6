"""`costlog pricing import litellm FILE`: update the repo's price overrides from LiteLLM.

Reads LiteLLM's `model_prices_and_context_window.json` (prices in USD per token) and
compares each first-party chat model (providers `anthropic`, `openai`, `gemini` by
default) with the price costlog uses today. Where a value differs, a **dated entry is
appended** to that model in `.costlog/prices.yaml` (from the effective date, default
today); earlier entries are never rewritten, so sessions keep being priced as of their own
date. A model costlog does not know is added with one entry. A model of the bundled table
is first copied whole into the override (the override replaces a bundled model), then
extended.

Mapping: `input_cost_per_token` -> input, `output_cost_per_token` -> output,
`cache_read_input_token_cost` -> cache_read, `cache_creation_input_token_cost` ->
cache_write_5m, `cache_creation_input_token_cost_above_1hr` -> cache_write_1h (the 1-hour
TTL write, despite the name), `*_above_200k_tokens` / `*_above_272k_tokens` -> a
long-context tier. Fields LiteLLM lacks keep costlog's current value.

Suspicious values are reported. An Anthropic 1-hour cache write other than 2x input, a
cache read other than 0.1x input, and any value jumping more than 3x are **not applied**
unless `include_suspicious`. A long-context tier LiteLLM dropped is reported and costlog's
tier is kept; a `-latest` alias disagreeing with its dated id is reported and the dated
id's price is used.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from costlog.errors import CostlogError
from costlog.pricing.names import normalize
from costlog.pricing.rates import MILLION, RATE_FIELDS
from costlog.pricing.table import PriceTable

DEFAULT_PROVIDERS = ("anthropic", "openai", "gemini")
_PROVIDER_NAME = {"gemini": "google"}
_MODES = {"chat", "responses", "completion", None}
_SKIP = re.compile(r"ft:|audio|realtime|tts|transcribe|image|embedding|search|moderation")
_DATE = re.compile(r"-(?:\d{8}|\d{4}-\d{2}-\d{2})\Z")
_FIELDS = {
    "input": "input_cost_per_token",
    "output": "output_cost_per_token",
    "cache_read": "cache_read_input_token_cost",
    "cache_write_5m": "cache_creation_input_token_cost",
    "cache_write_1h": "cache_creation_input_token_cost_above_1hr",
}
_TIER_SUFFIXES = {200_000: "_above_200k_tokens", 272_000: "_above_272k_tokens"}
JUMP = Decimal(3)


@dataclass
class Offer:
    """One LiteLLM entry in $/MTok."""

    key: str
    provider: str
    rates: dict[str, Decimal]
    tiers: dict[int, dict[str, Decimal]]


@dataclass
class Change:
    model: str
    provider: str
    new_model: bool
    before: dict[str, Decimal]
    after: dict[str, Decimal]
    tiers: list[dict[str, Any]]
    source_keys: list[str]
    flags: list[str] = field(default_factory=list)
    info: list[str] = field(default_factory=list)

    @property
    def suspicious(self) -> bool:
        return bool(self.flags)


@dataclass
class Plan:
    effective: date
    changes: list[Change]
    notes: list[str]  # flags on models whose prices did not change
    seen: int

    def applied(self, include_suspicious: bool) -> list[Change]:
        return [c for c in self.changes if include_suspicious or not c.suspicious]


# ---------------------------------------------------------------- reading LiteLLM


def read(path: Path, providers: tuple[str, ...] = DEFAULT_PROVIDERS) -> list[Offer]:
    where = str(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    except (OSError, UnicodeDecodeError) as exc:
        raise CostlogError(f"cannot read: {exc}", path=where) from None
    except json.JSONDecodeError as exc:
        raise CostlogError(f"not valid JSON ({exc.msg})", path=where, line=exc.lineno) from None
    if not isinstance(data, Mapping):
        raise CostlogError("expected LiteLLM's object of model: prices", path=where)
    offers = []
    for key, raw in data.items():
        if key == "sample_spec" or not isinstance(raw, Mapping):
            continue
        if raw.get("litellm_provider") not in providers or raw.get("mode") not in _MODES:
            continue
        if _SKIP.search(key) or normalize(key)[1] or "input_cost_per_token" not in raw:
            continue
        offers.append(_offer(key, raw, where))
    return offers


def _per_million(raw: Mapping[str, Any], name: str, where: str) -> Decimal | None:
    value = raw.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | Decimal) or value < 0:
        raise CostlogError(f"`{name}` is not a price per token: {value!r}", path=where)
    return (Decimal(value) * MILLION).normalize()


def _offer(key: str, raw: Mapping[str, Any], where: str) -> Offer:
    label = f"{where}: {key}"
    rates = {
        f: v for f, name in _FIELDS.items() if (v := _per_million(raw, name, label)) is not None
    }
    if "output" not in rates:
        raise CostlogError("has `input_cost_per_token` but no `output_cost_per_token`", path=label)
    tiers: dict[int, dict[str, Decimal]] = {}
    for above, suffix in _TIER_SUFFIXES.items():
        tier = {
            f: v
            for f, name in _FIELDS.items()
            if (v := _per_million(raw, name + suffix, label)) is not None
        }
        if "input" in tier and "output" in tier:
            tiers[above] = tier
    return Offer(key, str(raw["litellm_provider"]), rates, tiers)


# ---------------------------------------------------------------- comparing


def _group(offers: list[Offer], table: PriceTable) -> dict[str, list[Offer]]:
    groups: dict[str, list[Offer]] = defaultdict(list)
    for offer in offers:
        name = normalize(offer.key)[0]
        target = table.canonical(name) or _DATE.sub("", name).removesuffix("-latest")
        groups[target].append(offer)
    return groups


def _pick(target: str, group: list[Offer]) -> Offer:
    """The entry for the model itself: its exact name, else a dated id, never `-latest`."""

    def rank(offer: Offer) -> tuple[int, str]:
        name = normalize(offer.key)[0]
        return (0 if name == target else 2 if name.endswith("-latest") else 1, offer.key)

    return min(group, key=rank)


def _current(
    table: PriceTable, model: str, day: date
) -> tuple[dict[str, Decimal], dict[int, dict[str, Decimal]]]:
    rates = table.rates(model, day)
    if rates is None:
        return {}, {}
    base = {f: getattr(rates, f) for f in RATE_FIELDS}
    tiers = {t.above: {f: getattr(t, f) for f in RATE_FIELDS} for t in rates.tiers}
    return base, tiers


def plan(offers: list[Offer], table: PriceTable, effective: date) -> Plan:
    result = Plan(effective, [], [], len(offers))
    for target, group in sorted(_group(offers, table).items()):
        chosen = _pick(target, group)
        before, old_tiers = _current(table, target, effective)
        flags, info = _flags(chosen, group, before, old_tiers)
        after = {**before, **chosen.rates}
        tiers = {
            above: {**old_tiers.get(above, {}), **tier} for above, tier in chosen.tiers.items()
        } or old_tiers
        if before and after == before and tiers == old_tiers:
            result.notes.extend(f"{target}: {flag}" for flag in flags + info)
            continue
        change = Change(
            target,
            _PROVIDER_NAME.get(chosen.provider, chosen.provider),
            not before,
            before,
            after,
            [{"above": a, **t} for a, t in sorted(tiers.items())],
            sorted(o.key for o in group),
            flags,
            info,
        )
        result.changes.append(change)
    return result


def _flags(
    chosen: Offer,
    group: list[Offer],
    before: dict[str, Decimal],
    old_tiers: dict[int, dict[str, Decimal]],
) -> tuple[list[str], list[str]]:
    """(suspicious values that block the update, warnings costlog already works around)."""
    flags: list[str] = []
    info: list[str] = []
    rates = chosen.rates
    if chosen.provider == "anthropic":
        inp = rates["input"]
        if "cache_write_1h" in rates and rates["cache_write_1h"] != inp * 2:
            flags.append(
                f"1h cache write {_num(rates['cache_write_1h'])} is not 2x input ({_num(inp * 2)})"
            )
        if "cache_read" in rates and rates["cache_read"] != inp / 10:
            flags.append(
                f"cache read {_num(rates['cache_read'])} is not 0.1x input ({_num(inp / 10)})"
            )
    for name, value in rates.items():
        old = before.get(name)
        if old and value and (value / old > JUMP or old / value > JUMP):
            flags.append(f"{name} jumps more than 3x: {_num(old)} -> {_num(value)}")
    if old_tiers and not chosen.tiers:
        info.append(f"LiteLLM has no long-context tier; costlog's >{min(old_tiers):,} tier is kept")
    for other in group:
        if other is not chosen and other.rates != chosen.rates:
            info.append(
                f"`{other.key}` disagrees with `{chosen.key}` "
                f"({_rates_text(other.rates)} vs {_rates_text(chosen.rates)}); "
                f"`{chosen.key}` is used"
            )
    return flags, info


def _num(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _rates_text(rates: Mapping[str, Decimal]) -> str:
    return ", ".join(f"{k} {_num(v)}" for k, v in rates.items())


# ---------------------------------------------------------------- the override file


def _yaml_number(value: Any) -> Any:
    amount = Decimal(str(value)).normalize()
    return int(amount) if amount == amount.to_integral_value() else float(amount)


def _flow(items: Mapping[str, Any]) -> Any:
    from ruamel.yaml.comments import CommentedMap

    out = CommentedMap()
    for key, value in items.items():
        if key == "tiers":
            from ruamel.yaml.comments import CommentedSeq

            seq = CommentedSeq([_flow(t) for t in value])
            seq.fa.set_flow_style()
            out[key] = seq
        elif key in RATE_FIELDS or key == "above":
            out[key] = _yaml_number(value)
        else:
            out[key] = value
    out.fa.set_flow_style()
    return out


def _bundled_raw(name: str) -> dict[str, Any] | None:
    from costlog import resources

    data = json.loads(resources.data("prices.json").read_text(encoding="utf-8"))
    raw = data.get("models", {}).get(name)
    return raw if isinstance(raw, dict) else None


def _new_entry(change: Change, effective: date, source: str) -> dict[str, Any]:
    entry: dict[str, Any] = {"from": effective.isoformat()}
    entry.update({k: v for k, v in change.after.items()})
    if change.tiers:
        entry["tiers"] = change.tiers
    entry["note"] = f"imported from LiteLLM ({source})"
    return entry


def apply(plan_: Plan, override: Path, source: str, include_suspicious: bool) -> int:
    """Append the plan's entries to the override YAML (comments kept); returns models written."""
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    from costlog.ledger.atomic import atomic_write

    yaml = YAML()
    yaml.width = 4096  # one price entry per line
    text = override.read_text(encoding="utf-8") if override.exists() else ""
    data = yaml.load(text) if text.strip() else None
    if data is None:
        data = CommentedMap([("version", "repo"), ("models", CommentedMap())])
    models = data.setdefault("models", CommentedMap())
    written = 0
    for change in plan_.applied(include_suspicious):
        model = models.get(change.model)
        if model is None:
            model = CommentedMap(_bundled_raw(change.model) or {"provider": change.provider})
            model["prices"] = CommentedSeq([_flow(p) for p in model.get("prices", [])])
            models[change.model] = model
        model["prices"].append(_flow(_new_entry(change, plan_.effective, source)))
        written += 1
    buffer: list[str] = []
    yaml.dump(data, _Writer(buffer))
    new_text = "".join(buffer)
    from costlog import yamlfile

    PriceTable.from_dict(yamlfile.load_text(new_text, path=str(override)), str(override))
    if written:
        atomic_write(override, new_text)
    return written


class _Writer:
    def __init__(self, parts: list[str]) -> None:
        self.parts = parts

    def write(self, data: str | bytes) -> None:
        self.parts.append(data.decode() if isinstance(data, bytes) else data)


def run(
    path: Path,
    table: PriceTable,
    override: Path,
    *,
    effective: date,
    providers: tuple[str, ...] = DEFAULT_PROVIDERS,
    dry_run: bool = False,
    include_suspicious: bool = False,
) -> tuple[Plan, int]:
    result = plan(read(path, providers), table, effective)
    written = 0 if dry_run else apply(result, override, path.name, include_suspicious)
    return result, written


def to_text(
    result: Plan, written: int, override: str, *, dry_run: bool, include_suspicious: bool
) -> str:
    lines = []
    for change in result.changes:
        skip = change.suspicious and not include_suspicious
        verb = "new model" if change.new_model else "changed"
        diff = ", ".join(
            f"{k} {_num(change.before[k])} -> {_num(v)}" if k in change.before else f"{k} {_num(v)}"
            for k, v in change.after.items()
            if change.before.get(k) != v
        )
        tiers = (
            "; tiers "
            + ", ".join(
                f">{t['above']:,}: {_num(t['input'])}/{_num(t['output'])}" for t in change.tiers
            )
            if change.tiers and (change.new_model or not diff)
            else ""
        )
        lines.append(
            f"{'skipped' if skip else verb} {change.model}: {diff or 'tiers'}{tiers} "
            f"(from {result.effective}; LiteLLM {', '.join(change.source_keys)})"
        )
        lines.extend(f"  suspicious: {flag}" for flag in change.flags)
        lines.extend(f"  note: {text}" for text in change.info)
    lines.extend(f"note {n}" for n in result.notes)
    applied = len(result.applied(include_suspicious))
    skipped = len(result.changes) - applied
    tail = " (dry run: nothing written)" if dry_run else f"; wrote {written} to {override}"
    lines.append(
        f"{result.seen} LiteLLM entries read, {applied} model(s) to update"
        + (f", {skipped} suspicious skipped (--include-suspicious applies them)" if skipped else "")
        + tail
    )
    return "\n".join(lines)
