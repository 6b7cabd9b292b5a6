"""`costlog anomalies`: sessions costing more than the configured factor x the median, with
their likely causes (the same rows COST_LOG.md shows)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from costlog.config import Config
    from costlog.models import Entry


def find(entries: Sequence[Entry], config: Config) -> list[dict[str, Any]]:
    from costlog import analysis

    return list(analysis.anomalies(entries, config))


def to_json(rows: Sequence[dict[str, Any]]) -> str:
    return json.dumps(
        [
            {
                "id": r["entry"].id,
                "cost_usd": format(r["cost"], "f"),
                "ratio": format(r["ratio"], ".2f"),
                "causes": r["causes"],
            }
            for r in rows
        ],
        indent=2,
    )


def to_text(rows: Sequence[dict[str, Any]], config: Config) -> str:
    from costlog.money import format_usd

    if not rows:
        return f"no session costs more than {config.anomaly_factor}x the median"
    return "\n".join(
        f"{r['entry'].id}  {format_usd(r['cost'])}  {r['ratio']:.1f}x median  "
        f"{'; '.join(r['causes'])}"
        for r in rows
    )
