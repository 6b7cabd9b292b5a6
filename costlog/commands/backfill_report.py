"""`costlog backfill`'s summary: what it recorded, what it cost by model and by source, and
how much of that is estimated; as text or JSON."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from costlog.commands.backfill import Result
from costlog.ledger.format import money
from costlog.models import Entry


@dataclass
class Totals:
    sessions: int = 0
    cost: Decimal = Decimal(0)
    unpriced: int = 0
    by_model: dict[str, Decimal] = field(default_factory=dict)
    by_source: dict[str, Decimal] = field(default_factory=dict)

    @property
    def estimated(self) -> Decimal:
        return self.by_source.get("estimated", Decimal(0))


def totals(entries: Sequence[Entry]) -> Totals:
    out = Totals(sessions=len(entries))
    for entry in entries:
        for name, mu in entry.models.items():
            if mu.cost_usd is None:
                out.unpriced += 1
                continue
            out.cost += mu.cost_usd
            out.by_model[name] = out.by_model.get(name, Decimal(0)) + mu.cost_usd
            out.by_source[mu.source] = out.by_source.get(mu.source, Decimal(0)) + mu.cost_usd
    return out


def to_text(result: Result) -> str:
    from costlog.recording.summary import summary_line

    verb = "would record" if result.dry_run else "recorded"
    lines = (
        [summary_line(e).replace("recorded", verb, 1) for e in result.recorded]
        if result.dry_run
        else []
    )
    t = totals(result.recorded)
    new = len(result.recorded) - result.updated
    head = f"{verb} {new} new session{'s' if new != 1 else ''}"
    if result.updated:
        head += f" and {result.updated} grown since last recorded"
    head += f"; {result.unchanged} already in the ledger"
    if result.skipped_agents:
        head += f" (unchanged logs, not re-read: {', '.join(result.skipped_agents)})"
    lines.append(head)
    if t.sessions:
        lines.append(
            f"total ${t.cost:,.2f}"
            + (
                f" + {t.unpriced} unpriced model use{'s' if t.unpriced != 1 else ''}"
                if t.unpriced
                else ""
            )
        )
        lines += _breakdown("by model", t.by_model)
        lines += _breakdown("by source", t.by_source)
        share = t.estimated / t.cost * 100 if t.cost else Decimal(0)
        mixed = t.by_source.get("mixed", Decimal(0))
        lines.append(
            f"estimated: ${t.estimated:,.2f} ({share:.0f}%)"
            + (
                f"; ${mixed:,.2f} more in sessions mixing logged and estimated numbers"
                if mixed
                else ""
            )
        )
    if not result.dry_run and result.recorded:
        lines.append("review and commit .costlog/ and COST_LOG.md")
    return "\n".join(lines)


def to_json(result: Result) -> str:
    t = totals(result.recorded)

    def amounts(values: Mapping[str, Decimal]) -> dict[str, str]:
        return {k: money(v) for k, v in sorted(values.items())}

    return json.dumps(
        {
            "dry_run": result.dry_run,
            "recorded": [e.id for e in result.recorded],
            "updated": result.updated,
            "unchanged": result.unchanged,
            "skipped_agents": result.skipped_agents,
            "cost_usd": money(t.cost),
            "unpriced_models": t.unpriced,
            "by_model": amounts(t.by_model),
            "by_source": amounts(t.by_source),
            "estimated_usd": money(t.estimated),
            "warnings": len(result.warnings),
        },
        indent=2,
    )


def _breakdown(title: str, amounts: Mapping[str, Decimal]) -> list[str]:
    rows = sorted(amounts.items(), key=lambda kv: (-kv[1], kv[0]))
    width = max((len(k) for k, _ in rows), default=0)
    return [f"{title}:"] + [f"  {name.ljust(width)}  ${amount:,.2f}" for name, amount in rows]
