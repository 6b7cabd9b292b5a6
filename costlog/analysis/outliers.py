"""Anomalies: priced sessions that cost far more than the ledger's median session, each
with the likely causes (where the session is far from the medians)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from costlog.analysis.facts import cost, dollars, hours, priced, primary, requests
from costlog.analysis.typical import Typical
from costlog.config import Config
from costlog.models import Entry


def anomalies(
    entries: Sequence[Entry],
    config: Config,
    typical: Typical | None = None,
    explain: int | None = None,
) -> list[dict[str, Any]]:
    """Priced sessions costing more than `anomaly_factor` x the median, costliest first.

    Causes are judged for the first `explain` rows (all when None): COST_LOG.md shows a few.
    """
    typical = typical or Typical.of(entries)
    if sum(1 for e in entries if priced(e)) < 3 or typical.cost <= 0:
        return []
    limit = typical.cost * config.anomaly_factor
    out: list[dict[str, Any]] = [
        {"entry": e, "cost": cost(e), "ratio": cost(e) / typical.cost}
        for e in entries
        if priced(e) and cost(e) > limit
    ]
    out.sort(key=lambda row: (-row["cost"], row["entry"].id))
    for row in out[:explain]:
        row["causes"] = causes(row["entry"], typical, config.anomaly_factor)
    return out


def causes(entry: Entry, typical: Typical, factor: Decimal) -> list[str]:
    """Likely reasons a session is expensive: where it is far from the ledger's median."""
    f = float(factor)
    found = [_model_cause(entry, typical, factor)]
    tokens = entry.tokens
    if tokens.prompt_tokens > f * typical.prompt_tokens > 0:
        share = tokens.cache_read / tokens.prompt_tokens
        found.append(
            f"large context: {tokens.prompt_tokens:,} prompt tokens, "
            f"{tokens.prompt_tokens / typical.prompt_tokens:.1f}x the median "
            f"({share:.0%} cache reads)"
        )
    if entry.subagents >= 3 and entry.subagents > f * typical.subagents:
        found.append(f"many subagents: {entry.subagents} (median {typical.subagents:g})")
    if requests(entry) > f * typical.requests > 0:
        found.append(f"many requests: {requests(entry)} (median {typical.requests:g})")
    duration = hours(entry)
    if duration is not None and duration >= 1 and duration > f * typical.hours:
        found.append(f"long session: {duration:.1f} h (median {typical.hours:.1f} h)")
    return [c for c in found if c] or ["no single cause stands out"]


def _model_cause(entry: Entry, typical: Typical, factor: Decimal) -> str:
    model = primary(entry) or "-"
    usual = typical.model_cost.get(model)
    if usual is None or usual <= typical.cost * factor:
        return ""
    return (
        f"expensive model: {model} (its median session {dollars(usual)}, "
        f"all sessions {dollars(typical.cost)})"
    )
