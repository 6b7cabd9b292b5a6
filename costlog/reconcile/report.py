"""`costlog reconcile`'s output: the comparison as text (by day, model and month, the gaps and
what may explain them) or as JSON.
"""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from costlog.reconcile.compare import Cell, Result
from costlog.reconcile.rows import COST, PROVIDER_ESTIMATE, USAGE

_BASIS_TEXT = {
    COST: "cost report",
    USAGE: "usage x price table",
    PROVIDER_ESTIMATE: "Claude Code analytics estimate",
}


def _cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _usd(value: Decimal) -> str:
    return f"${_cents(value):,.2f}"


def _signed_usd(value: Decimal) -> str:
    """A difference as money: `+$4.45`, `-$0.20`, `$0.00`, like every other amount."""
    text = _usd(abs(value))
    cents = _cents(value)
    return f"+{text}" if cents > 0 else f"-{text}" if cents < 0 else text


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
        f"({_pct(total)}, {_signed_usd(total.delta)})"
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


def _sessions(count: int) -> str:
    return f"{count} ledger session" + ("" if count == 1 else "s")


def _verb(count: int, one: str, many: str) -> str:
    return one if count == 1 else many


def _note_lines(result: Result) -> list[str]:
    lines = []
    for provider, cell in sorted(result.unbilled.items()):
        lines.append(
            f"{provider}: {_sessions(len(cell.sessions))}, "
            f"{_usd(cell.estimated)} at API prices, {_verb(len(cell.sessions), 'has', 'have')} "
            "no bill rows in these "
            "files. Subscription usage (Claude Max, ChatGPT-login Codex) has no "
            "bill to reconcile; compare it with the plan price instead."
        )
    if result.outside:
        lines.append(
            f"{_sessions(result.outside)} {_verb(result.outside, 'falls', 'fall')} outside the "
            "exports' dates "
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
