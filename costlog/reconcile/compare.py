"""`costlog reconcile FILE...`: the ledger's estimates against the provider's bill, offline.

Join (FORMATS.md §11.3): every ledger model line goes on the UTC day its session started
and its canonical model name (PriceTable.canonical); every export row on its bucket's UTC
day and canonical model. Per (day, provider) the billed figure is taken from the best
source the files hold, never two at once (that would double count):

1. a cost report (what the bill says: Anthropic cost report, OpenAI costs, cost CSV);
2. else a usage report, its token counts priced with costlog's table (base rates, or the
   long-context rates for Anthropic's `200k-1M` context-window rows);
3. else the Claude Code analytics feed's own estimated cost.

Only days inside the exports' date range of a provider are compared; ledger sessions of a
provider with no export at all are reported apart: subscription usage (Claude Max,
ChatGPT-login Codex) has no bill. A gap above the threshold (percent of the estimate) is
flagged. Per model, billed / estimated over the compared days is the correction factor
that `--write-factors` stores as `correction_factors` in `.costlog/config.yaml`.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from costlog.errors import CostlogError
from costlog.models import Entry, Usage
from costlog.pricing.table import MILLION, RATE_FIELDS, PriceTable
from costlog.reconcile import bills as billing

ZERO = Decimal(0)
FACTOR_PLACES = Decimal("0.001")
NOT_BY_MODEL = "(not by model)"
_DISPLAY = re.compile(r"[\s.]+")
_BASIS_ORDER = (billing.COST, billing.USAGE, billing.PROVIDER_ESTIMATE)
_BASIS_TEXT = {
    billing.COST: "cost report",
    billing.USAGE: "usage x price table",
    billing.PROVIDER_ESTIMATE: "Claude Code analytics estimate",
}


@dataclass
class Cell:
    """Estimated and billed money (and tokens) of one group: a day, model, month or total."""

    estimated: Decimal = ZERO
    billed: Decimal = ZERO
    has_bill: bool = False
    sessions: set[str] = field(default_factory=set)
    unpriced_sessions: set[str] = field(default_factory=set)
    ledger_tokens: Usage = field(default_factory=Usage)
    billed_tokens: Usage | None = None
    basis: set[str] = field(default_factory=set)

    def add(self, other: Cell) -> None:
        self.estimated += other.estimated
        self.billed += other.billed
        self.has_bill = self.has_bill or other.has_bill
        self.sessions |= other.sessions
        self.unpriced_sessions |= other.unpriced_sessions
        self.ledger_tokens.add(other.ledger_tokens)
        if other.billed_tokens is not None:
            if self.billed_tokens is None:
                self.billed_tokens = Usage()
            self.billed_tokens.add(other.billed_tokens)
        self.basis |= other.basis

    @property
    def delta(self) -> Decimal:
        return self.billed - self.estimated

    @property
    def delta_pct(self) -> Decimal | None:
        if not self.estimated:
            return None
        return (self.delta / self.estimated * 100).quantize(Decimal("0.1"), ROUND_HALF_UP)

    def over(self, threshold: Decimal) -> bool:
        pct = self.delta_pct
        if pct is None:
            return bool(self.billed)
        return abs(pct) > threshold


@dataclass
class Result:
    files: list[tuple[str, str, int, int]]  # path, shape, rows, duplicates
    threshold: Decimal
    cells: dict[tuple[date, str], Cell]  # (day, model)
    providers: dict[str, tuple[date, date]]  # bill coverage per provider
    unbilled: dict[str, Cell]  # provider -> ledger with no export of that provider
    outside: int  # ledger sessions outside the exports' dates
    unpriced_usage: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def by(self, key: str) -> dict[str, Cell]:
        out: dict[str, Cell] = defaultdict(Cell)
        for (day, model), cell in sorted(self.cells.items()):
            name = {"day": day.isoformat(), "month": day.strftime("%Y-%m"), "model": model}[key]
            out[name].add(cell)
        return dict(sorted(out.items()))

    def total(self) -> Cell:
        total = Cell()
        for cell in self.cells.values():
            total.add(cell)
        return total

    def gaps(self) -> list[tuple[date, str, Cell]]:
        return [
            (day, model, cell)
            for (day, model), cell in sorted(self.cells.items())
            if cell.over(self.threshold)
        ]

    def factors(self) -> dict[str, Decimal]:
        """billed / estimated per model, over the days both have (rounded to 0.001)."""
        sums: dict[str, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
        for (_, model), cell in self.cells.items():
            if model == NOT_BY_MODEL or model.startswith("(") or not cell.has_bill:
                continue
            if cell.estimated > 0 and cell.sessions:
                sums[model][0] += cell.billed
                sums[model][1] += cell.estimated
        return {m: (b / e).quantize(FACTOR_PLACES) for m, (b, e) in sorted(sums.items()) if e}


# ---------------------------------------------------------------- joining


def _model_key(table: PriceTable, model: str | None, row: billing.BillRow | None = None) -> str:
    if model is None:
        if row is not None and row.cost_type and row.cost_type != "tokens":
            return f"({row.cost_type})"
        return NOT_BY_MODEL
    found = table.canonical(model)
    if found is None:  # console exports may use display names: "Claude Sonnet 4.6"
        found = table.canonical(_DISPLAY.sub("-", model.strip().lower()))
    return found or model.lower()


def _provider(table: PriceTable, model: str, fallback: str = "other") -> str:
    provider = table.provider(model)
    return {"google": "gemini"}.get(provider or "", provider or fallback)


def usage_cost(
    table: PriceTable, model: str, usage: Usage, day: date, long_context: bool = False
) -> Decimal | None:
    """Billed tokens x costlog's rates on `day` (the tier's rates for long-context rows)."""
    rates = table.rates(model, day)
    if rates is None:
        return None
    chosen: Any = rates.tiers[0] if long_context and rates.tiers else rates
    total = sum((getattr(usage, name) * getattr(chosen, name) for name in RATE_FIELDS), ZERO)
    return total / MILLION


def bill_cells(
    rows: Iterable[billing.BillRow], table: PriceTable
) -> tuple[dict[tuple[date, str], Cell], list[str]]:
    """Billed money per (day, model), each (day, provider) from its best basis only."""
    grouped: dict[tuple[date, str], list[billing.BillRow]] = defaultdict(list)
    for row in rows:
        provider = _provider(table, row.model, row.provider) if row.model else row.provider
        grouped[(row.day, provider)].append(row)
    cells: dict[tuple[date, str], Cell] = {}
    unpriced: list[str] = []
    for (day, _), group in sorted(grouped.items()):
        basis = next(b for b in _BASIS_ORDER if any(r.kind == b for r in group))
        token_kind = (
            billing.USAGE
            if any(r.kind == billing.USAGE for r in group)
            else billing.PROVIDER_ESTIMATE
        )
        for row in (r for r in group if r.kind == token_kind and r.usage is not None):
            cell = cells.setdefault((day, _model_key(table, row.model, row)), Cell())
            if cell.billed_tokens is None:
                cell.billed_tokens = Usage()
            cell.billed_tokens.add(row.usage)  # type: ignore[arg-type]
        for row in (r for r in group if r.kind == basis):
            key = _model_key(table, row.model, row)
            cell = cells.setdefault((day, key), Cell())
            cell.has_bill = True
            cell.basis.add(basis)
            usd = row.usd
            if basis == billing.USAGE and row.usage is not None:
                usd = usage_cost(table, key, row.usage, day, row.long_context)
                if usd is None:
                    unpriced.append(f"{day} {row.model}")
            cell.billed += usd or ZERO
    return cells, unpriced


def ledger_cells(entries: Iterable[Entry], table: PriceTable) -> dict[tuple[date, str], Cell]:
    cells: dict[tuple[date, str], Cell] = {}
    for entry in entries:
        day = entry.started.date()  # ledger times are UTC
        for name, mu in entry.models.items():
            cell = cells.setdefault((day, _model_key(table, name)), Cell())
            cell.sessions.add(entry.id)
            cell.ledger_tokens.add(mu.usage)
            if mu.cost_usd is None:
                cell.unpriced_sessions.add(entry.id)
            else:
                cell.estimated += mu.cost_usd
    return cells


def reconcile(
    entries: Sequence[Entry],
    exports: Sequence[billing.Export],
    table: PriceTable,
    threshold: Decimal,
) -> Result:
    rows = [row for export in exports for row in export.rows]
    billed, unpriced = bill_cells(rows, table)
    coverage: dict[str, tuple[date, date]] = {}
    for row in rows:
        provider = _provider(table, row.model, row.provider) if row.model else row.provider
        low, high = coverage.get(provider, (row.day, row.day))
        coverage[provider] = (min(low, row.day), max(high, row.day))
    result = Result(
        files=[
            (e.path, billing.SHAPES.get(e.shape, e.shape), len(e.rows), e.duplicates)
            for e in exports
        ],
        threshold=threshold,
        cells=billed,
        providers=coverage,
        unbilled={},
        outside=0,
        unpriced_usage=unpriced,
    )
    outside: set[str] = set()
    for (day, model), cell in ledger_cells(entries, table).items():
        provider = _provider(table, model)
        span = coverage.get(provider)
        if span is None:
            result.unbilled.setdefault(provider, Cell()).add(cell)
        elif not span[0] <= day <= span[1]:
            outside |= cell.sessions
        else:
            billed.setdefault((day, model), Cell()).add(cell)
    result.outside = len(outside)
    for export in exports:
        result.warnings.extend(export.warnings)
        if export.duplicates:
            result.warnings.append(
                f"{export.path}: {export.duplicates} row(s) repeated in "
                "overlapping pages were counted once"
            )
    return result


def run(
    root_entries: Sequence[Entry], paths: Sequence[Path], table: PriceTable, threshold: Decimal
) -> Result:
    """Read every file first (any bad file stops everything), then reconcile."""
    if not paths:
        raise CostlogError("give at least one export file")
    exports = [billing.read(path) for path in paths]
    return reconcile(root_entries, exports, table, threshold)


# ---------------------------------------------------------------- output


def _cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _usd(value: Decimal) -> str:
    return f"${_cents(value):,.2f}"


def _pct(cell: Cell) -> str:
    pct = cell.delta_pct
    if pct is None:
        return "n/a" if cell.billed else "-"
    return f"{pct:+.1f}%"


def _line(name: str, cell: Cell, threshold: Decimal) -> str:
    flag = "  <-- gap" if cell.over(threshold) else ""
    billed = _usd(cell.billed) if cell.has_bill else "no bill"
    return (
        f"  {name:<28} est {_usd(cell.estimated):>10}  billed {billed:>10}  {_pct(cell):>8}{flag}"
    )


def to_text(result: Result) -> str:
    out = [f"read {path}: {shape}, {n} rows" for path, shape, n, _ in result.files]
    for provider, (low, high) in sorted(result.providers.items()):
        out.append(f"{provider}: exports cover {low} to {high} (UTC)")
    for title, key in (("by day", "day"), ("by model", "model"), ("by month", "month")):
        out.append(f"\nestimated vs billed, {title}:")
        out.extend(_line(name, cell, result.threshold) for name, cell in result.by(key).items())
    total = result.total()
    out.append(
        f"\ntotal: est {_usd(total.estimated)}, billed {_usd(total.billed)} "
        f"({_pct(total)}, {_cents(total.delta):+,.2f} USD)"
    )
    out.extend(_token_lines(result))
    out.extend(_gap_lines(result))
    out.extend(_note_lines(result))
    factors = result.factors()
    if factors:
        out.append(
            "correction factors (billed / estimated): "
            + ", ".join(f"{m} {f}" for m, f in factors.items())
        )
    return "\n".join(out)


def _token_lines(result: Result) -> list[str]:
    lines = []
    for model, cell in result.by("model").items():
        billed = cell.billed_tokens
        if billed is None or not cell.sessions or not cell.ledger_tokens.total:
            continue
        parts = []
        for name in ("input", "output", "cache_read", "cache_write_5m", "cache_write_1h"):
            mine, theirs = getattr(cell.ledger_tokens, name), getattr(billed, name)
            if mine or theirs:
                ratio = f"{Decimal(theirs) / Decimal(mine):.2f}x" if mine else "n/a"
                parts.append(f"{name.replace('_', ' ')} {ratio}")
        lines.append(f"tokens billed / ledger, {model}: {', '.join(parts)}")
    return lines


def _gap_lines(result: Result) -> list[str]:
    gaps = result.gaps()
    if not gaps:
        return [f"no day/model gap above {result.threshold}%"]
    lines = [f"{len(gaps)} day/model gap(s) above {result.threshold}%:"]
    for day, model, cell in gaps:
        if not cell.has_bill:
            why = "no bill line (subscription, another key's bill, or a discount)"
        elif not cell.sessions:
            why = "billed, no ledger session (another machine or tool on the same key?)"
        else:
            why = (
                f"est {_usd(cell.estimated)} vs billed {_usd(cell.billed)} "
                f"({', '.join(_BASIS_TEXT[b] for b in sorted(cell.basis))})"
            )
        lines.append(f"  {day} {model}: {why}")
    return lines


def _note_lines(result: Result) -> list[str]:
    lines = []
    for provider, cell in sorted(result.unbilled.items()):
        lines.append(
            f"{provider}: {len(cell.sessions)} ledger session(s), "
            f"{_usd(cell.estimated)} at API prices, have no bill rows in these "
            "files. Subscription usage (Claude Max, ChatGPT-login Codex) has no "
            "bill to reconcile; compare it with the plan price instead."
        )
    if result.outside:
        lines.append(
            f"{result.outside} ledger session(s) fall outside the exports' dates "
            "and were not compared"
        )
    if result.unpriced_usage:
        lines.append(
            f"usage of models costlog has no price for was counted $0: "
            f"{', '.join(sorted(set(result.unpriced_usage))[:5])}"
        )
    lines.extend(f"warning: {w}" for w in result.warnings)
    return lines


def _cell_json(cell: Cell, threshold: Decimal) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "estimated_usd": str(cell.estimated),
        "billed_usd": str(cell.billed) if cell.has_bill else None,
        "delta_usd": str(cell.delta),
        "delta_pct": None if cell.delta_pct is None else str(cell.delta_pct),
        "gap": cell.over(threshold),
        "sessions": len(cell.sessions),
        "unpriced_sessions": len(cell.unpriced_sessions),
        "basis": sorted(cell.basis),
        "ledger_tokens": cell.ledger_tokens.as_dict(),
    }
    if cell.billed_tokens is not None:
        doc["billed_tokens"] = cell.billed_tokens.as_dict()
    return doc


def to_json(result: Result) -> str:
    t = result.threshold
    doc = {
        "files": [
            {"path": p, "shape": s, "rows": n, "duplicates": d} for p, s, n, d in result.files
        ],
        "threshold_pct": str(t),
        "coverage": {
            p: [lo.isoformat(), hi.isoformat()] for p, (lo, hi) in result.providers.items()
        },
        "days": {k: _cell_json(c, t) for k, c in result.by("day").items()},
        "models": {k: _cell_json(c, t) for k, c in result.by("model").items()},
        "months": {k: _cell_json(c, t) for k, c in result.by("month").items()},
        "detail": [
            {"day": d.isoformat(), "model": m, **_cell_json(c, t)}
            for (d, m), c in sorted(result.cells.items())
        ],
        "total": _cell_json(result.total(), t),
        "unbilled": {p: _cell_json(c, t) for p, c in result.unbilled.items()},
        "outside_sessions": result.outside,
        "correction_factors": {m: str(f) for m, f in result.factors().items()},
        "warnings": result.warnings,
    }
    return json.dumps(doc, indent=2)


# ---------------------------------------------------------------- factors in the config


def parse_threshold(text: str) -> Decimal:
    """`10%`, `10` or `0.1`? -> percent. A bare number is percent (10 = 10 %)."""
    try:
        value = Decimal(text.strip().rstrip("%").strip())
    except ArithmeticError:
        raise CostlogError(f"threshold {text!r} is not a percentage like 10%") from None
    if not value.is_finite() or value < 0:
        raise CostlogError(f"threshold {text!r} is not a percentage like 10%")
    return value


def write_factors(root: Path, factors: Mapping[str, Any], key: str = "correction_factors") -> Path:
    """Merge `factors` into `.costlog/config.yaml`, keeping its comments and other keys."""
    from ruamel.yaml import YAML

    from costlog.config import CONFIG_PATH
    from costlog.ledger.store import atomic_write

    path = root / CONFIG_PATH
    yaml = YAML()  # round-trip: comments and order survive
    yaml.preserve_quotes = True
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    data = yaml.load(text) if text.strip() else None
    if data is None:
        from ruamel.yaml.comments import CommentedMap

        data = CommentedMap()
    if not hasattr(data, "get"):
        raise CostlogError("expected a mapping of settings", path=CONFIG_PATH)
    current = data.get(key) or {}
    merged = dict(current)
    merged.update({name: _plain(value) for name, value in factors.items()})
    data[key] = dict(sorted(merged.items()))
    buffer = _Buffer()
    yaml.dump(data, buffer)
    atomic_write(path, buffer.text)
    return path


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): str(v) for k, v in value.items()}
    return str(value)


class _Buffer:
    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, data: str | bytes) -> None:
        self.parts.append(data.decode() if isinstance(data, bytes) else data)

    @property
    def text(self) -> str:
        return "".join(self.parts)
