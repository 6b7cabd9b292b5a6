"""`costlog reconcile FILE...`: the ledger's estimates against the provider's bill, offline.

Join: every ledger model line goes on the UTC day its session started
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

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from costlog.errors import CostlogError
from costlog.models import Entry, Usage
from costlog.pricing.rates import MILLION, RATE_FIELDS
from costlog.pricing.table import PriceTable
from costlog.reconcile.bills import SHAPES, read
from costlog.reconcile.rows import COST, PROVIDER_ESTIMATE, USAGE, BillRow, Export

ZERO = Decimal(0)
FACTOR_PLACES = Decimal("0.001")
NOT_BY_MODEL = "(not by model)"
_DISPLAY = re.compile(r"[\s.]+")
_BASIS_ORDER = (COST, USAGE, PROVIDER_ESTIMATE)


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


def _model_key(table: PriceTable, model: str | None, row: BillRow | None = None) -> str:
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
    rows: Iterable[BillRow], table: PriceTable
) -> tuple[dict[tuple[date, str], Cell], list[str]]:
    """Billed money per (day, model), each (day, provider) from its best basis only."""
    grouped: dict[tuple[date, str], list[BillRow]] = defaultdict(list)
    for row in rows:
        provider = _provider(table, row.model, row.provider) if row.model else row.provider
        grouped[(row.day, provider)].append(row)
    cells: dict[tuple[date, str], Cell] = {}
    unpriced: list[str] = []
    for (day, _), group in sorted(grouped.items()):
        basis = next(b for b in _BASIS_ORDER if any(r.kind == b for r in group))
        token_kind = USAGE if any(r.kind == USAGE for r in group) else PROVIDER_ESTIMATE
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
            if basis == USAGE and row.usage is not None:
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
    exports: Sequence[Export],
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
        files=[(e.path, SHAPES.get(e.shape, e.shape), len(e.rows), e.duplicates) for e in exports],
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
    exports = [read(path) for path in paths]
    return reconcile(root_entries, exports, table, threshold)


def parse_threshold(text: str) -> Decimal:
    """`10%`, `10` or `0.1`? -> percent. A bare number is percent (10 = 10 %)."""
    try:
        value = Decimal(text.strip().rstrip("%").strip())
    except ArithmeticError:
        raise CostlogError(f"threshold {text!r} is not a percentage like 10%") from None
    if not value.is_finite() or value < 0:
        raise CostlogError(f"threshold {text!r} is not a percentage like 10%")
    return value
