"""Checking a Claude Code session against `~/.claude.json`'s totals for it.

Claude Code's own per-model totals for a project's *last* session (`lastModelUsage`) count
every call the process made, with final output counts. When the transcript has responses
without a final output count (and OTel did not fix them), the state file's output total for
that model is spread over those responses in proportion to the content estimate (still
marked estimated). Then the per-model totals are compared with the session's, and any
difference is reported in `methods.state_residual`, not added.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import TYPE_CHECKING

from costlog.models import Request, Session, Usage
from costlog.sources.claude.state import LastSession, ModelTotals

if TYPE_CHECKING:
    from costlog.pricing.table import PriceTable

#: a model-name normaliser (the price table's canonical name, else the name)
_Key = Callable[[str], str]


def apply_state(
    session: Session,
    state: LastSession,
    table: PriceTable | None,
    *,
    fix_output: bool,
    lines: list[str],
) -> None:
    key = _keyer(table) if state.models else _everything
    theirs = _their_totals(state, key)
    if fix_output:
        fixed = {m: _fill_output(session, m, t.usage.output, key) for m, t in theirs.items()}
        done = {m: n for m, n in fixed.items() if n}
        if done:
            session.methods["output"] = _fill_note(done, session)
    parts = _residual_parts(session, theirs, key, table)
    if parts:
        text = (
            "~/.claude.json (Claude Code's own totals for this session) minus this "
            "record: " + "; ".join(parts) + " (auxiliary calls, advisor, lost sub-agent "
            "finals; reported, not added)"
        )
        session.methods["state_residual"] = text
        lines.append(text)


#: the name of the one group compared when the state file has no per-model totals
ALL_MODELS = "all models"


def _everything(_name: str) -> str:
    return ALL_MODELS


def _their_totals(state: LastSession, key: _Key) -> dict[str, ModelTotals]:
    """The state's totals per (normalised) model; the session totals (`lastTotal*`,
    `lastCost`) as one group when an older Claude Code wrote no `lastModelUsage`."""
    if not state.models:
        return {ALL_MODELS: ModelTotals(usage=replace(state.usage), cost_usd=state.cost_usd)}
    out: dict[str, ModelTotals] = {}
    for name, totals in state.models.items():
        seen = out.get(key(name))
        if seen is None:
            out[key(name)] = totals
            continue
        usage = replace(seen.usage)
        usage.add(totals.usage)
        cost = (
            None
            if seen.cost_usd is None or totals.cost_usd is None
            else seen.cost_usd + totals.cost_usd
        )
        out[key(name)] = ModelTotals(usage=usage, cost_usd=cost, split=seen.split and totals.split)
    return out


def _keyer(table: PriceTable | None) -> _Key:
    def key(name: str) -> str:
        return (table.canonical(name) if table is not None else None) or name

    return key


def _fill_output(session: Session, model: str, total: int, key: _Key) -> int:
    """Spread the state's output total for `model` over its placeholder responses; returns
    how many responses changed (0 when there are none or the total is too small)."""
    mine = [r for r in session.requests if key(r.model) == model]
    placeholders = [r for r in mine if r.estimated_output > 0]
    if not placeholders:
        return 0
    final = sum(r.usage.output for r in mine if r.estimated_output == 0)
    logged = [r.usage.output - r.estimated_output for r in placeholders]
    spare = total - final - sum(logged)
    if spare < 0:
        return 0
    weights = [max(r.usage.output, 1) for r in placeholders]
    whole = sum(weights)
    given = 0
    for i, request in enumerate(placeholders):
        share = spare - given if i == len(placeholders) - 1 else spare * weights[i] // whole
        given += share
        request.usage.output = logged[i] + share
        request.estimated_output = share
    return len(placeholders)


def _fill_note(done: Mapping[str, int], session: Session) -> str:
    count = sum(done.values())
    return (
        f"{count} of {len(session.requests)} responses logged only a placeholder output "
        f"count; the output totals of {', '.join(sorted(done))} are Claude Code's own "
        "(~/.claude.json lastModelUsage, which also counts auxiliary calls), spread over "
        "those responses in proportion to the content estimate; the part above the "
        "logged counts stays marked estimated"
    )


def _residual_parts(
    session: Session, theirs: Mapping[str, ModelTotals], key: _Key, table: PriceTable | None
) -> list[str]:
    ours_usage: dict[str, Usage] = {}
    for request in session.requests:
        ours_usage.setdefault(key(request.model), Usage()).add(request.usage)
    ours_cost = _costs(session.requests, key, table)
    parts = []
    for model in sorted(set(ours_usage) | set(theirs)):
        totals = theirs.get(model)
        their_usage = totals.usage if totals is not None else Usage()
        their_cost = totals.cost_usd if totals is not None else Decimal(0)
        our_cost = ours_cost.get(model) if model in ours_usage else Decimal(0)
        split = totals is None or totals.split
        part = _diff(their_usage, ours_usage.get(model, Usage()), their_cost, our_cost, split)
        if part:
            parts.append(f"{model}: {part}")
    return parts


def _costs(
    requests: Sequence[Request], key: _Key, table: PriceTable | None
) -> dict[str, Decimal | None]:
    if table is None:
        return {}
    from costlog.pricing.requests import price_requests

    models, _total, _rules = price_requests(requests, table)
    out: dict[str, Decimal | None] = {}
    for name, mu in models.items():
        group = key(name)
        before = out.get(group, Decimal(0))
        out[group] = None if before is None or mu.cost_usd is None else before + mu.cost_usd
    return out


def _diff(
    theirs: Usage,
    ours: Usage,
    their_cost: Decimal | None,
    our_cost: Decimal | None,
    split: bool = False,
) -> str:
    """The difference by kind; cache writes by 5m and 1h when Claude Code split its own
    (a 1-hour write costs 1.6x a 5-minute one, so the total alone cannot be priced)."""
    kinds: tuple[tuple[str, int], ...] = (
        ("input", theirs.input - ours.input),
        ("output", theirs.output - ours.output),
        ("cache read", theirs.cache_read - ours.cache_read),
    )
    if split:
        kinds += (
            ("cache write 5m", theirs.cache_write_5m - ours.cache_write_5m),
            ("cache write 1h", theirs.cache_write_1h - ours.cache_write_1h),
        )
    else:
        kinds += (
            (
                "cache write",
                theirs.cache_write_5m
                + theirs.cache_write_1h
                - ours.cache_write_5m
                - ours.cache_write_1h,
            ),
        )
    bits = [f"{name} {delta:+,}" for name, delta in kinds if delta]
    if their_cost is not None and our_cost is not None:
        money = their_cost - our_cost
        if abs(money) >= Decimal("0.00005"):
            bits.append(f"{'+' if money > 0 else '-'}${abs(money):.4f}")
    return ", ".join(bits)
