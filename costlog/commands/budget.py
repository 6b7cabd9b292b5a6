"""`costlog budget`: the budget alerts table, as COST_LOG.md shows it (thresholds in the
config's `budget` section). With `--fail-on warning`, exit 4 when a spend alert fires;
with `--fail-on review`, also when a routing check does (`analysis.budget`)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from costlog.errors import OverBudget

if TYPE_CHECKING:
    from costlog.config import Config
    from costlog.models import Entry


def alerts(entries: Sequence[Entry], config: Config) -> list[dict[str, Any]]:
    """Every configured alert with its value, threshold and state (`ok`, `off`, `warning`
    for spend, `review` for routing checks)."""
    from costlog import analysis
    from costlog.timeutil import zone

    return list(analysis.alerts(entries, config, zone(config.timezone)))


def to_json(rows: Sequence[dict[str, Any]]) -> str:
    from costlog.render import jsonable

    return json.dumps(jsonable(list(rows)), indent=2)


def to_text(rows: Sequence[dict[str, Any]]) -> str:
    return "\n".join(
        f"{row['state']:<8} {row['alert']}: {_value(row)} (threshold {row['threshold']})"
        for row in rows
    )


def _value(row: dict[str, Any]) -> str:
    if row["unit"] == "usd":
        return f"${row['value']:,.2f}"
    if row["unit"] == "share":
        return f"{row['value']:.0%}"
    return str(int(row["value"]))


#: `--fail-on` level -> the states that fail it
FAILING = {"never": (), "warning": ("warning",), "review": ("warning", "review")}


def fail_on(rows: Sequence[dict[str, Any]], level: str) -> None:
    """OverBudget (exit 4) when an alert is in a state `level` fails on (FAILING)."""
    fired = [f"{r['alert']} ({r['state']})" for r in rows if r["state"] in FAILING[level]]
    if fired:
        alerts = "alert" if len(fired) == 1 else "alerts"
        raise OverBudget(f"{len(fired)} budget {alerts}: {'; '.join(fired)}")
