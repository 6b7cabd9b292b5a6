"""The one line `costlog record`, backfill and the hooks print per recorded session."""

from __future__ import annotations

from decimal import Decimal

from costlog.models import Entry


def summary_line(entry: Entry) -> str:
    """One line: `recorded 2026-11-20 claude-code a1b2c3d4: claude-sonnet-4-6, 3 commits
    (WRK-237), $0.83 (actual)`."""
    short = entry.id.split("/", 1)[-1][:8]
    bits = [", ".join(sorted(entry.models)) or "no model"]
    if entry.commits:
        bits.append(f"{len(entry.commits)} commit{'s' if len(entry.commits) != 1 else ''}")
    if entry.tasks_completed:
        bits.append(f"{entry.tasks_completed} task{'s' if entry.tasks_completed != 1 else ''}")
    if entry.work_items:
        bits[-1] += f" ({', '.join(entry.work_items)})"
    if entry.cost_usd is None:
        money = "unpriced"
    else:
        money = (
            f"${entry.cost_usd:.2f}"
            if entry.cost_usd >= Decimal("0.01")
            else f"${entry.cost_usd:.4f}"
        )
    day = entry.started.date().isoformat()
    return f"recorded {day} {entry.agent} {short}: {', '.join(bits)}, {money} ({entry.source})"
