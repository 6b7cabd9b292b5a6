"""`costlog report --by plan`: plan fees paid against the API-equivalent value of the
sessions on plans, pay-as-you-go cost beside it, and the rate-limit usage the logs report.

The figures are the ones COST_LOG.md's "Subscription plans" section shows
(`analysis.plans`), over the repositories asked for.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import tzinfo
from decimal import Decimal
from typing import Any

from costlog.analysis import plans as plan_analysis
from costlog.commands.texttable import text_table
from costlog.config import Config
from costlog.models import Entry
from costlog.pricing.plans import SubscriptionPlan
from costlog.render.context import jsonable

Part = tuple[Config, Sequence[Entry], tzinfo]


def _view(parts: Sequence[Part]) -> tuple[list[Entry], plan_analysis.PlanView]:
    entries: list[Entry] = []
    view = plan_analysis.PlanView()
    for config, part, tz in parts:
        one = plan_analysis.view(part, config, tz)
        view.by_id.update(one.by_id)
        view.warnings.extend(one.warnings)
        entries.extend(part)
    entries.sort(key=lambda e: (e.started, e.id))
    return entries, view


def as_json(parts: Sequence[Part]) -> dict[str, Any]:
    """{by: plan, months, limits, warnings}: the same numbers as COST_LOG.md."""
    entries, view = _view(parts)
    tz = parts[0][2] if parts else None
    months = plan_analysis.monthly(entries, view, tz) if tz and view.any_plan else []
    limits = plan_analysis.limit_rows(entries, view, tz) if tz else {"months": [], "sessions": []}
    data = {
        "by": "plan",
        "label": plan_analysis.LABEL,
        "fees": plan_analysis.fee_rows(view),
        "months": months,
        "limits": limits,
        "warnings": view.warnings,
    }
    out: dict[str, Any] = jsonable(data)
    return out


def _usd(value: str | None) -> str:
    return "-" if value is None else f"${Decimal(value):,.2f}"


def to_table(data: dict[str, Any]) -> str:
    """Two tables (plans, rate limits) and the warnings, or a line saying there is none."""
    parts: list[str] = []
    if data["months"]:
        head = [
            "month",
            "on a plan",
            "plans",
            "fees paid",
            "API-equivalent",
            "multiple",
            "pay-as-you-go",
            "pay-as-you-go cost",
        ]
        body = [
            [
                m["month"],
                str(m["plan_sessions"]),
                ", ".join(
                    p["name"] + (f" x {p['seats']}" if p["seats"] > 1 else "") for p in m["plans"]
                ),
                _usd(m["fees"]) + (f" + {m['unknown_fees']} unknown" if m["unknown_fees"] else ""),
                _usd(m["api_equivalent"]),
                f"{m['multiple']}x" if m["multiple"] else "-",
                str(m["payg_sessions"]),
                _usd(m["payg_cost"]) if m["payg_sessions"] else "-",
            ]
            for m in data["months"]
        ]
        parts.append(text_table(head, body))
        parts.append(
            "API-equivalent: the sessions' tokens at API list prices, not money paid; "
            "multiple = API-equivalent / fees."
        )
    limits = data["limits"]
    if limits["months"]:
        head = ["month", "sessions reporting", "peak 5-hour", "peak weekly", "limit reached"]
        body = [
            [
                m["month"],
                str(m["sessions"]),
                f"{m['primary_pct']}%" if m["primary_pct"] is not None else "-",
                f"{m['secondary_pct']}%" if m["secondary_pct"] is not None else "-",
                str(m["reached"]),
            ]
            for m in limits["months"]
        ]
        parts.append(text_table(head, body))
    if not parts:
        parts.append(
            "no session on a subscription plan and no rate limits in the logs "
            "(set `plans:` in .costlog/config.yaml; see docs/plans.md)"
        )
    parts.extend(f"warning: {w}" for w in data["warnings"])
    return "\n".join(parts)


def dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2)


def on_plan(parts: Sequence[Part]) -> dict[str, SubscriptionPlan]:
    """Each entry on a plan (its id) and that plan: what `report` marks API-equivalent and
    the export's `plan` column names. Empty, and cheap, when no repository configures plans
    or logs one."""
    _entries, view = _view(parts)
    return {i: r.plan for i, r in view.by_id.items() if r.plan is not None}


def label_note(planned: Mapping[str, SubscriptionPlan]) -> str | None:
    """The line `report` adds when some of the cost it shows is API-equivalent (`planned`:
    what `on_plan` gives)."""
    count = len(planned)
    if not count:
        return None
    return (
        f"{count} session{'s' if count != 1 else ''} ran on a subscription plan: "
        f"{'their' if count != 1 else 'its'} cost is API-equivalent (list prices for the "
        "same tokens), not money paid; "
        "`costlog report --by plan` sets it against the fees"
    )
