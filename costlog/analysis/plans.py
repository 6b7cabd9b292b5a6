"""Sessions on subscription plans: fees paid against the API-equivalent value, and the
rate-limit usage the logs report.

A session on a plan keeps its cost at list prices, as recorded; that figure is
"API-equivalent" (what the tokens would cost on an API key), not money paid. Per month:
- fees: each (person, plan) with at least one session on that plan in the month pays the
  plan's monthly fee once (a month with no recorded session on a plan counts no fee, since
  the ledger cannot know the plan was kept);
- API-equivalent value: the cost of the sessions on plans; value multiple = value / fees;
- pay-as-you-go: the cost of the other sessions (API keys), shown when there are some.
Rate limits come only from what a log reported (Codex `rate_limits`): peaks per window,
and how many times a limit was reached. Nothing is guessed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import tzinfo
from decimal import Decimal
from typing import Any

from costlog.analysis.facts import ZERO, cost, local_day, month_of
from costlog.config import Config
from costlog.models import Entry, LimitWindow, RateLimits
from costlog.pricing import plans as plan_table

LABEL = "API-equivalent"


@dataclass
class PlanView:
    """Which plan each entry ran on, and the warnings the resolution raised."""

    by_id: dict[str, plan_table.Resolved] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def plan_of(self, entry: Entry) -> plan_table.SubscriptionPlan | None:
        found = self.by_id.get(entry.id)
        return found.plan if found else None

    @property
    def any_plan(self) -> bool:
        return any(r.plan is not None for r in self.by_id.values())


def view(entries: Iterable[Entry], config: Config, tz: tzinfo | None = None) -> PlanView:
    """Each entry's plan: its log's word where it has one, else the config's rules (their
    `from`/`until` days are days in `tz`, the config's zone when not given)."""
    out = PlanView()
    if config.plans:
        plan_table.check_rules(config, _agent_names())
    zone = tz if tz is not None else _zone(config)
    for entry in entries:
        limits = entry.rate_limits
        stated = limits is not None and limits.plan_stated
        if not config.plans and not stated:
            continue
        found = plan_table.resolve(
            config,
            entry.agent,
            entry.author,
            local_day(entry, zone),
            limits.plan_type if limits is not None else None,
            stated,
        )
        out.by_id[entry.id] = found
        if found.warning:
            out.warnings.append(f"{entry.id}: {found.warning}")
    return out


def _agent_names() -> list[str]:
    """The agents a `plans:` rule may name: every adapter costlog has, and hand-kept records."""
    from costlog import sources

    return [*sources.names(), sources.MANUAL]


def _zone(config: Config) -> tzinfo:
    from costlog.timeutil import zone

    return zone(config.timezone)


def _pct(window: LimitWindow | None) -> Decimal | None:
    return window.peak_pct if window is not None else None


def pct_text(value: Decimal | None) -> str | None:
    """A peak share as the log wrote it, without trailing zeros (`12.5`, `3`)."""
    if value is None:
        return None
    return f"{value.normalize():f}"


def _window_name(window: LimitWindow, fallback: str) -> str:
    minutes = window.window_minutes
    if minutes == 300:
        return "5h"
    if minutes == 10080:
        return "weekly"
    if minutes and minutes % 60 == 0:
        return f"{minutes // 60}h"
    return f"{minutes}min" if minutes else fallback


def limits_text(limits: RateLimits | None) -> str | None:
    """One session's rate-limit figures as a short note (`5h peak 62%, weekly 18%`), the
    way COST_LOG.md's session Notes and `report --by session` show them; None when its log
    reported none."""
    if limits is None:
        return None
    parts = [
        f"{_window_name(window, fallback)} {pct_text(window.peak_pct)}%"
        for window, fallback in ((limits.primary, "primary"), (limits.secondary, "secondary"))
        if window is not None
    ]
    if parts:  # the figures are peaks: said once, as in `5h peak 62%, weekly 18%`
        name, _, value = parts[0].partition(" ")
        parts[0] = f"{name} peak {value}"
    if limits.reached:
        parts.append(f"limit reached {limits.reached}x")
    return ", ".join(parts) or None


def _max(values: Iterable[Decimal | None]) -> Decimal | None:
    present = [v for v in values if v is not None]
    return max(present) if present else None


def multiple_text(value: Decimal, fees: Decimal) -> str | None:
    """API-equivalent value / fees: one decimal from 1 up, two significant digits below
    (a light month on a plan reads `0.042`, not `0.0`); None without a fee."""
    if not fees:
        return None
    ratio = value / fees
    if ratio >= 1 or ratio == 0:
        return f"{ratio.quantize(Decimal('0.1')):f}"
    return f"{ratio:.2g}"


def monthly(entries: Sequence[Entry], plans: PlanView, tz: tzinfo) -> list[dict[str, Any]]:
    """One row per month with a session on a plan (other months are the ordinary monthly
    summary): plan sessions, fees, API-equivalent value, multiple, pay-as-you-go beside."""
    rows: dict[str, dict[str, Any]] = {}
    paid: dict[str, dict[tuple[str | None, str], Decimal | None]] = {}
    names: dict[str, str] = {}
    for entry in entries:
        month = month_of(entry, tz)
        row = rows.setdefault(
            month,
            {
                "month": month,
                "plan_sessions": 0,
                "api_equivalent": ZERO,
                "payg_sessions": 0,
                "payg_cost": ZERO,
            },
        )
        plan = plans.plan_of(entry)
        if plan is None:
            row["payg_sessions"] += 1
            row["payg_cost"] += cost(entry)
            continue
        row["plan_sessions"] += 1
        row["api_equivalent"] += cost(entry)
        paid.setdefault(month, {}).setdefault((entry.author, plan.key), plan.fee_usd)
        names.setdefault(plan.key, plan.name)
    out = []
    for month in sorted(rows, reverse=True):  # newest first, as the monthly summary
        row = rows[month]
        if not row["plan_sessions"]:
            continue  # a month with no plan session is the ordinary monthly summary
        fees = paid.get(month, {})
        total = sum((fee for fee in fees.values() if fee is not None), ZERO)
        unknown = sum(1 for fee in fees.values() if fee is None)
        seats: dict[str, int] = {}
        for _author, key in fees:
            seats[key] = seats.get(key, 0) + 1
        row["plans"] = [
            {"plan": key, "name": names[key], "seats": n} for key, n in sorted(seats.items())
        ]
        row["fees"] = total
        #: plans whose fee no source gives: the fees paid are then a lower bound
        row["unknown_fees"] = unknown
        row["multiple"] = None if unknown else multiple_text(row["api_equivalent"], total)
        out.append(row)
    return out


def paid_view(
    entries: Sequence[Entry], config: Config, tz: tzinfo, month: str
) -> tuple[list[Entry], Decimal]:
    """For budgets that watch money paid: the pay-as-you-go entries (a plan session costs
    nothing beyond its plan), and the plan fees of `month`."""
    plans = view(entries, config, tz)
    fees = next((m["fees"] for m in monthly(entries, plans, tz) if m["month"] == month), ZERO)
    return [e for e in entries if plans.plan_of(e) is None], fees


def limit_rows(entries: Sequence[Entry], plans: PlanView, tz: tzinfo) -> dict[str, Any]:
    """Rate-limit usage per month and per session, only where a log reported it."""
    months: dict[str, dict[str, Any]] = {}
    sessions = []
    for entry in entries:
        limits = entry.rate_limits
        if limits is None or (limits.primary is None and limits.secondary is None):
            continue
        plan = plans.plan_of(entry)
        primary, secondary = limits.primary, limits.secondary
        sessions.append(
            {
                "id": entry.id,
                "date": local_day(entry, tz).isoformat(),
                "agent": entry.agent,
                "plan": plan.name if plan else ("API key" if limits.plan_stated else "-"),
                "primary_pct": pct_text(_pct(primary)),
                "primary_minutes": primary.window_minutes if primary else None,
                "secondary_pct": pct_text(_pct(secondary)),
                "secondary_minutes": secondary.window_minutes if secondary else None,
                "resets_at": primary.resets_at if primary else None,
                "reached": limits.reached,
            }
        )
        row = months.setdefault(
            month_of(entry, tz),
            {
                "month": month_of(entry, tz),
                "sessions": 0,
                "primary": [],
                "secondary": [],
                "reached": 0,
            },
        )
        row["sessions"] += 1
        row["primary"].append(_pct(primary))
        row["secondary"].append(_pct(secondary))
        row["reached"] += limits.reached
    month_rows = [
        {
            "month": m["month"],
            "sessions": m["sessions"],
            "primary_pct": pct_text(_max(m["primary"])),
            "secondary_pct": pct_text(_max(m["secondary"])),
            "reached": m["reached"],
        }
        for _k, m in sorted(months.items(), reverse=True)  # newest first
    ]
    return {"months": month_rows, "sessions": sessions}


def fee_rows(plans: PlanView, unknown: bool = False) -> list[dict[str, Any]]:
    """Each fee the plans in use were counted at, with where it comes from: the table's row
    (its source, evidence and date read), the config's `fee_usd` (its line), or none at all
    for a plan only a log names (`fee` None: no source gives it, so none is counted; listed
    only with `unknown`, for COST_LOG.md's Fees line)."""
    seen: dict[tuple[str, Decimal | None, str], dict[str, Any]] = {}
    for found in plans.by_id.values():
        plan = found.plan
        if plan is None:
            continue
        key = (plan.key, plan.fee_usd, plan.fee_source)
        if key in seen or (plan.fee_usd is None and not unknown):
            continue
        row: dict[str, Any] = {
            "plan": plan.key,
            "name": plan.name,
            "fee": plan.fee_usd,
            "source": plan.fee_source or None,
            "evidence": None,
            "checked": None,
            "config_line": None,
        }
        info = plan_table.table().get(plan.key)
        if plan.fee_source == "config":
            row["evidence"] = "config"
            row["config_line"] = plan.rule_line
        elif info is not None and plan.fee_usd is not None:
            used = (plan.fee_source, plan.fee_usd)
            fee = next((f for f in info.fees if (f.source, f.monthly_usd) == used), info.fees[-1])
            row["evidence"] = fee.evidence
            row["checked"] = fee.checked.isoformat()
        seen[key] = row
    return sorted(seen.values(), key=lambda r: (r["name"], r["fee"] is None, r["fee"] or 0))


def api_note(on_plan: int) -> str | None:
    """The line under a table whose money includes sessions on a plan (spend, work items,
    budget alerts watching API-equivalent cost), so no one reads it as money paid."""
    if not on_plan:
        return None
    return (
        f"Sessions on a subscription plan ({on_plan} in the ledger) count here at their "
        "API-equivalent cost (list prices for the same tokens), not money paid."
    )


def context(entries: Sequence[Entry], config: Config, tz: tzinfo) -> dict[str, Any]:
    """What COST_LOG.md's plan section shows (empty `show` when there is nothing)."""
    plans = view(entries, config, tz)
    months = monthly(entries, plans, tz) if plans.any_plan else []
    limits = limit_rows(entries, plans, tz)
    fees = fee_rows(plans, unknown=True)
    overridden = sorted(
        {r.plan.key for r in plans.by_id.values() if r.plan and r.plan.fee_source == "config"}
    )
    return {
        "show": bool(months or limits["sessions"]),
        "label": LABEL,
        "sessions_on_plan": sum(1 for r in plans.by_id.values() if r.plan is not None),
        "on_plan": sorted(i for i, r in plans.by_id.items() if r.plan is not None),
        "months": months,
        "limits": limits,
        "fees": fees,
        "overridden": overridden,
        "warnings": plans.warnings,
    }
