"""The data the template receives: the analysis tables, cut to what COST_LOG.md shows.

The context is plain data (strings, numbers, lists, dicts), money as decimal strings, so
`costlog render --context` can print it as JSON and a template can do nothing with it but
format it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from costlog import analysis
from costlog.analysis import plans as plan_analysis
from costlog.analysis.facts import Facts
from costlog.analysis.shortids import ShortIds
from costlog.config import Config
from costlog.ledger.format import MICRO
from costlog.models import Entry
from costlog.money import CENT, cents_adding_up
from costlog.pricing.table import PriceTable
from costlog.timeutil import zone

if TYPE_CHECKING:
    from costlog import forked

#: anomalies listed in COST_LOG.md (all of them: `costlog anomalies`)
ANOMALY_ROWS = 20
#: from how many entries the routing advice and the estimation guide are worked out in a
#: forked child while this process builds the other tables (`_Aside`). Measured at
#: 100,000 sessions: they take ~0.3 s of a render's 1.3 s of analysis, and the child costs
#: the parent well under that (its first writes to the pages the two share are copies).
#: The price is memory for those 0.3 s: the child's reads of the entries copy ~100 MB of
#: the parent's 250 MB (reference counts are writes); below ~50,000 it saves too little to
#: be worth a process
ASIDE_MIN = 50_000
_ID = attrgetter("id")


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
    # one pass over the entries for what every table needs of each (its cost, model, day)
    facts = Facts(entries, tz)
    months = analysis.months(entries, tz, facts)
    typical = analysis.Typical.of_facts(facts)
    aside = _Aside(entries, config, table, typical, facts)
    try:  # a table that fails before the two `aside` works out stops its child
        aside.start()
        anomalies, anomalies_total = analysis.top_anomalies(
            entries, config, typical, ANOMALY_ROWS, facts
        )
        spend = analysis.spend_tables(entries, facts=facts)
        short = ShortIds(map(_ID, entries)).of  # distinct in the ledger, for every table
        trend = analysis.trend(entries, tz)
        for point in trend:
            point["short_id"] = short(point["id"])
        alerts = analysis.alerts(entries, config, tz, today, facts)
        for alert in alerts:
            alert["short_sessions"] = [short(i) for i in alert["sessions"]]
        plans = plan_analysis.context(entries, config, tz)
        on_plan = set(plans["on_plan"])
        rows = [session_row(e, tz, short) for e in shown]
        for entry, row in zip(shown, rows, strict=True):
            row["on_plan"] = row["id"] in on_plan  # its cost is API-equivalent: the row says so
            limits = plan_analysis.limits_text(entry.rate_limits)  # what its own log reported
            if limits:
                row["notes"] = f"{row['notes']}; {limits}" if row["notes"] else limits
        plans["watch"] = config.budget.watch
        plans["api_note"] = plan_analysis.api_note(len(on_plan))
        context = {
            "timezone": config.timezone,
            "price_table": price_table,
            "prices": _prices(price_table, config),
            "totals": _totals(entries, months, typical, tz),
            "sessions": rows,
            "sessions_omitted": len(entries) - len(shown),
            # the one year of every row shown, so the table can write `12-01` (narrower)
            "sessions_year": _one_year(rows),
            "months": months,
            "providers": spend["provider"],
            "families": spend["family"],
            "models": spend["model"],
            "trend": trend,
            "family_trend": analysis.family_trend(entries),
            "work_items": analysis.work_items(entries, facts),
            "unlinked": analysis.unlinked(entries, facts),
            "directories": analysis.directories(entries, config.cost_directories),
            # who spent what: only when the config asks (`people_table`), never by default
            "people": analysis.people(entries) if config.people_table else [],
            "anomalies": [
                {
                    "session": session_row(a["entry"], tz, short),
                    "cost": a["cost"],
                    "ratio": a["ratio"],
                    "causes": a["causes"],
                }
                for a in anomalies
            ],
            "anomalies_total": anomalies_total,
            "anomaly_factor": config.anomaly_factor,
            "alerts": alerts,
            "routing": aside.routing(),
            "risky_task_types": config.risky_task_types,
            "guide": aside.guide(),
            "guide_min_sessions": config.guide_min_sessions,
            "methodology": analysis.methodology(entries, facts),
            # subscription plans and rate limits (issue 13): empty unless configured or logged
            "plans": plans,
        }
    finally:
        aside.close()
    _cents_adding_up(context)
    data: dict[str, Any] = jsonable(context)
    return data


#: what `_Aside` works out: the routing advice and the estimation guide
_Tables = tuple[dict[str, list[dict[str, Any]]], list[dict[str, Any]]]


class _Aside:
    """The routing advice and the estimation guide of a large ledger (ASIDE_MIN entries or
    more, on two cores), worked out by a forked child (costlog.forked) while this process
    builds the tables before them: the two share the grouping by task type and model
    (`Facts.by_type_and_model`), the slowest step left. Each is taken where the context
    has it. When there is no child, or it fails to answer, each is worked out here at that
    place, as without one: the same tables, and the same error raised if one fails."""

    def __init__(
        self,
        entries: Sequence[Entry],
        config: Config,
        table: PriceTable | None,
        typical: analysis.Typical,
        facts: Facts,
    ) -> None:
        self.entries, self.config, self.table = entries, config, table
        self.typical, self.facts = typical, facts
        self._child: forked.Child[_Tables] | None = None
        self._found: _Tables | None = None

    def start(self) -> None:
        """Start the child, for a large ledger on two cores (`close` stops it)."""
        if len(self.entries) >= ASIDE_MIN:
            from costlog import forked  # not on the hooks' path (their ledgers are small)

            self._child = forked.start(self._both)

    def _both(self) -> _Tables:
        return self._routing(), self._guide()

    def _routing(self) -> dict[str, list[dict[str, Any]]]:
        return analysis.routing(self.entries, self.config, self.table, self.typical, self.facts)

    def _guide(self) -> list[dict[str, Any]]:
        return analysis.guide(self.entries, self.config, self.facts)

    def routing(self) -> dict[str, list[dict[str, Any]]]:
        """The routing advice: the child's (waiting for it), else worked out here."""
        if self._child is not None:
            self._found = self._child.result()
            self.close()
        return self._found[0] if self._found is not None else self._routing()

    def guide(self) -> list[dict[str, Any]]:
        """The estimation guide, after `routing`: the child's, else worked out here."""
        return self._found[1] if self._found is not None else self._guide()

    def close(self) -> None:
        """Stop the child (a context that failed before `routing` does not wait for it)."""
        if self._child is not None:
            self._child.stop()
            self._child = None


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


def _one_year(rows: Sequence[dict[str, Any]]) -> str | None:
    years = {str(row["date"])[:4] for row in rows}
    return years.pop() if len(years) == 1 else None


def _prices(version: str | None, config: Config) -> dict[str, str | None]:
    """The price table's version in words: the bundled table's date, and the version of
    the repo's price file when one is merged over it (`2026-11-22+2026-12-01`)."""
    bundled, plus, repo = (version or "").partition("+")
    return {"bundled": bundled or None, "repo": repo if plus else None, "file": config.prices_file}


def _cents_adding_up(context: dict[str, Any]) -> None:
    """The cents each row of the monthly and the work-item tables shows (`cost_shown`),
    rounded so that the rows add up to the total as the summary line shows it, ties by
    the row's key (its month, its work item), so the cents do not depend on the order the
    template lists them in. A lone row, or a total under a cent, reads as the total does
    (no `cost_shown`). A month's averages are its shown total's, so that a month of one
    session shows one amount twice. Spend shares are whole percentages adding up to 100
    (`share_shown`)."""
    total = context["totals"]["cost"]
    months = context["months"]
    _shown(months, total, [m["month"] for m in months])
    for m in months:
        shown = m.get("cost_shown")
        every = shown if shown else m["cost"]  # `<$0.01`: the exact average, not $0
        m["per_session_shown"] = every / m["sessions"] if m["sessions"] else m["per_session"]
        m["per_task_shown"] = every / m["tasks"] if m["tasks"] else m["per_task"]
    rows = [*context["work_items"], context["unlinked"]]
    _shown(rows, total, [str(r.get("work_item", "")) for r in rows])
    for name in ("providers", "families", "models", "people", "methodology"):
        table = context[name]
        label = {"providers": "provider", "families": "family", "models": "model"}.get(name)
        keys = [str(r.get(label or "author", r.get("source", ""))) for r in table]
        shares = cents_adding_up([r["share"] for r in table], keys=keys)
        for row, share in zip(table, shares, strict=True):
            row["share_shown"] = share


def _shown(rows: list[dict[str, Any]], total: Decimal, keys: list[str]) -> None:
    if len(rows) < 2 or abs(total) < CENT:
        return
    for row, shown in zip(
        rows, cents_adding_up([r["cost"] for r in rows], total, keys), strict=True
    ):
        row["cost_shown"] = shown


def session_row(
    entry: Entry, tz: Any, short: Callable[[str], str] = analysis.short_id
) -> dict[str, Any]:
    return {
        "id": entry.id,
        "short_id": short(entry.id),
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
