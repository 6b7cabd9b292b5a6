"""The data the template receives: the analysis tables, cut to what COST_LOG.md shows.

The context is plain data (strings, numbers, lists, dicts), money as decimal strings, so
`costlog render --context` can print it as JSON and a template can do nothing with it but
format it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from costlog import analysis
from costlog.config import Config
from costlog.ledger.format import MICRO
from costlog.models import Entry
from costlog.pricing.table import PriceTable
from costlog.timeutil import zone

#: anomalies listed in COST_LOG.md (all of them: `costlog anomalies`)
ANOMALY_ROWS = 20


def build_context(
    entries: Sequence[Entry],
    config: Config,
    *,
    price_table: str | None = None,
    today: date | None = None,
    table: PriceTable | None = None,
) -> dict[str, Any]:
    """The exact data the template receives (`costlog render --context` prints it).

    Only the rows the template shows: the session log is cut at `session_log_limit`,
    the anomalies at ANOMALY_ROWS; every sum is over the whole ledger.
    """
    tz = zone(config.timezone)
    shown = (
        list(reversed(entries[-config.session_log_limit :])) if config.session_log_limit > 0 else []
    )
    months = analysis.months(entries, tz)
    typical = analysis.Typical.of(entries)
    anomalies = analysis.anomalies(entries, config, typical, explain=ANOMALY_ROWS)
    spend = analysis.spend_tables(entries)
    context = {
        "timezone": config.timezone,
        "price_table": price_table,
        "totals": _totals(entries, months, typical, tz),
        "sessions": [session_row(e, tz) for e in shown],
        "sessions_omitted": len(entries) - len(shown),
        "months": months,
        "providers": spend["provider"],
        "families": spend["family"],
        "models": spend["model"],
        "trend": analysis.trend(entries, tz),
        "family_trend": analysis.family_trend(entries),
        "work_items": analysis.work_items(entries),
        "unlinked": analysis.unlinked(entries),
        "directories": analysis.directories(entries, config.cost_directories),
        # who spent what: only when the config asks (`people_table`), never by default
        "people": analysis.people(entries) if config.people_table else [],
        "anomalies": [
            {
                "session": session_row(a["entry"], tz),
                "cost": a["cost"],
                "ratio": a["ratio"],
                "causes": a["causes"],
            }
            for a in anomalies[:ANOMALY_ROWS]
        ],
        "anomalies_total": len(anomalies),
        "anomaly_factor": config.anomaly_factor,
        "alerts": analysis.alerts(entries, config, tz, today),
        "routing": analysis.routing(entries, config, table, typical),
        "risky_task_types": config.risky_task_types,
        "guide": analysis.guide(entries, config),
        "guide_min_sessions": config.guide_min_sessions,
        "methodology": analysis.methodology(entries),
    }
    data: dict[str, Any] = jsonable(context)
    return data


def _totals(
    entries: Sequence[Entry], months: list[dict[str, Any]], typical: analysis.Typical, tz: Any
) -> dict[str, Any]:
    """The summary line: sums of the monthly rows (so they always agree), median, span."""

    def day(entry: Entry) -> str:
        return analysis.local_day(entry, tz).isoformat()

    return {
        "sessions": sum(m["sessions"] for m in months),
        "tasks": sum(m["tasks"] for m in months),
        "cost": sum((m["cost"] for m in months), analysis.ZERO),
        "unpriced_sessions": sum(m["unpriced"] for m in months),
        "median": typical.cost,
        "first": day(entries[0]) if entries else None,
        "last": day(entries[-1]) if entries else None,
    }


def session_row(entry: Entry, tz: Any) -> dict[str, Any]:
    return {
        "id": entry.id,
        "short_id": analysis.short_id(entry.id),
        "date": entry.started.astimezone(tz).date().isoformat(),
        "agent": entry.agent,
        "models": sorted(entry.models, key=lambda m: (-(entry.models[m].cost_usd or 0), m)),
        "tasks": entry.tasks_completed,
        "task_types": analysis.task_types_text(entry.task_types),
        "tokens": entry.tokens.total,
        "cost": entry.cost_usd,
        "known_cost": analysis.cost(entry),
        "unpriced": entry.unpriced_models,
        "source": entry.source,
        "work_items": entry.work_items,
        "commits": len(entry.commits),
        "notes": entry.notes or "",
    }


def jsonable(value: Any) -> Any:
    """Plain data only (str, int, float, bool, None, lists, str-keyed dicts): nothing a
    template receives has methods worth calling, even inside the sandbox."""
    if isinstance(value, Decimal):
        return format(value.quantize(MICRO), "f")
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, Entry):
        return value.id
    if value is None or type(value) in (str, int, float, bool):
        return value
    if isinstance(value, date):  # datetime too
        return value.isoformat()
    if isinstance(value, int):  # an IntEnum, say: keep the number, drop the class
        return int(value)
    return str(value)
