"""`scan --by block` and `report --by block`: 5-hour windows (`costlog.blocks`) from the
agents' logs, one point per request, or from the ledger, one point per session.

The ledger keeps no per-request times, so `report --by block` places each recorded
session, whole, at its start time: a window there holds the sessions that started in it,
and a session that ran past its window's end is still counted in full in that window. Its
rows count the sessions and the requests they recorded (the ledger's per-model counts);
they show no burn rate or projection, which between session start times would mean
nothing. For request-exact windows use `scan --by block`, which reads the logs.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, tzinfo
from decimal import Decimal
from typing import Any

from costlog.blocks import Block, Point, active, blocks
from costlog.commands.texttable import text_table
from costlog.config import Config
from costlog.models import Entry, Session

SCAN_BASIS = "one point per request, from the agents' logs"
LEDGER_BASIS = (
    "each recorded session placed whole at its start, with the requests it recorded; no "
    "burn rate or projection, as the ledger keeps no request times (`costlog scan --by "
    "block` reads the logs per request)"
)
#: the cost is list prices throughout; where requests ran on a subscription plan it is their
#: API-equivalent value, not money paid, which each row's `on_plan_requests` counts and the
#: table says under it
COST_KEY = "cost_usd"
COST_HEAD = "cost (USD)"


def scan_points(sessions: Iterable[Session], table: Any, options: Any) -> list[Point]:
    """Every request in range, priced on its own as `scan` prices it (its model's rates on
    its date, its own long-context tier and speed); a logged cost wins."""
    since, until = options.since, options.until
    out: list[Point] = []
    for session in sessions:
        limits = session.rate_limits  # the log names the plan (Codex `plan_type`)
        planned = limits is not None and bool(limits.plan_type)
        for request in session.requests:
            when = request.timestamp or session.started
            if when is None or (since and when < since) or (until and when >= until):
                continue
            model = table.canonical(request.model) or request.model
            cost = request.logged_cost_usd
            if cost is None:
                plan = table.plan(
                    model,
                    request.usage.prompt_tokens,
                    when.date(),
                    request.speed or table.speed_of(request.model),
                )
                cost = None if plan is None else plan.cost(request.usage)
            u = request.usage
            out.append(
                Point(
                    when,
                    u.input,
                    u.output,
                    u.cache_read,
                    u.cache_write_5m + u.cache_write_1h,
                    cost,
                    model,
                    planned,
                )
            )
    return out


def ledger_points(entries: Sequence[Entry], on_plan: frozenset[str] = frozenset()) -> list[Point]:
    """`on_plan`: ids of the entries that ran on a subscription plan (`analysis.plans`)."""
    out = []
    for entry in entries:
        u = entry.tokens
        model = entry.primary_model or ""
        out.append(
            Point(
                entry.started,
                u.input,
                u.output,
                u.cache_read,
                u.cache_write_5m + u.cache_write_1h,
                entry.cost_usd,
                model,
                entry.id in on_plan,
                sum(m.requests for m in entry.models.values()),
            )
        )
    return out


def on_plan_ids(parts: Sequence[tuple[Config, Sequence[Entry]]]) -> frozenset[str]:
    """The entries that ran on a subscription plan, by the log's word or the config's
    `plans:` rules (`analysis.plans`)."""
    from costlog.analysis import plans

    ids: set[str] = set()
    for config, entries in parts:
        view = plans.view(entries, config)
        ids |= {key for key, found in view.by_id.items() if found.plan is not None}
    return frozenset(ids)


def windows(points: Iterable[Point], only_active: bool, now: datetime | None = None) -> list[Block]:
    found = blocks(points, now)
    return active(found) if only_active else found


# ---------------------------------------------------------------- output


def _money(value: Decimal) -> str:
    return format(value.quantize(Decimal("0.000001")), "f")


def _per_session(basis: str) -> bool:
    """The ledger's windows (one point per session): no burn rate, a sessions count."""
    return basis == LEDGER_BASIS


def as_json(found: Sequence[Block], now: datetime, basis: str, tz: tzinfo = UTC) -> dict[str, Any]:
    """Times in `tz` (the windows themselves open on whole UTC hours, as in ccusage)."""
    per_session = _per_session(basis)
    rows = []
    for b in found:
        burn = None if per_session else b.burn()
        proj = None if per_session else b.projection(now)
        row: dict[str, Any] = {
            "start": b.start.astimezone(tz).isoformat(),
            "end": b.end.astimezone(tz).isoformat(),
            "first": b.first.astimezone(tz).isoformat(),
            "last": b.last.astimezone(tz).isoformat(),
            "active": b.active,
        }
        if per_session:
            row["sessions"] = b.points
        row.update(
            {
                "requests": b.requests,
                **_tokens(b),
                COST_KEY: _money(b.cost),
                "unpriced_requests": b.unpriced,
                "on_plan_requests": b.on_plan,
                "models": b.models,
                "burn_rate": None
                if burn is None
                else {
                    "tokens_per_minute": format(burn.tokens_per_minute.quantize(Decimal(1)), "f"),
                    "usd_per_hour": _money(burn.cost_per_hour),
                },
                "projection": None
                if proj is None
                else {
                    "total_tokens": proj.tokens,
                    COST_KEY: _money(proj.cost),
                    "minutes_left": proj.minutes_left,
                },
            }
        )
        rows.append(row)
    totals: dict[str, Any] = {"blocks": len(found)}
    if per_session:
        totals["sessions"] = sum(b.points for b in found)
    totals["requests"] = sum(b.requests for b in found)
    for key in ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens"):
        totals[key] = sum(_tokens(b)[key] for b in found)
    totals["total_tokens"] = sum(b.tokens for b in found)
    totals[COST_KEY] = _money(sum((b.cost for b in found), Decimal(0)))
    totals["unpriced_requests"] = sum(b.unpriced for b in found)
    totals["on_plan_requests"] = sum(b.on_plan for b in found)
    return {"by": "block", "basis": basis, "totals": totals, "rows": rows}


def _tokens(b: Block) -> dict[str, int]:
    return {
        "input_tokens": b.input,
        "output_tokens": b.output,
        "cache_read_tokens": b.cache_read,
        "cache_write_tokens": b.cache_write,
        "total_tokens": b.tokens,
    }


def to_json(found: Sequence[Block], now: datetime, basis: str, tz: tzinfo = UTC) -> str:
    return json.dumps(as_json(found, now, basis, tz), indent=2)


#: the CSV columns: the JSON rows' keys, flat (burn rate and projection spread out)
_CSV_TAIL = [
    "requests",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "total_tokens",
    COST_KEY,
    "unpriced_requests",
    "on_plan_requests",
    "models",
]


def to_csv(found: Sequence[Block], now: datetime, basis: str, tz: tzinfo = UTC) -> str:
    """One row per window plus TOTAL, the JSON form's figures (`--csv`)."""
    data = as_json(found, now, basis, tz)
    per_session = _per_session(basis)
    count = ["sessions"] if per_session else []
    rates = [] if per_session else ["tokens_per_minute", "usd_per_hour", "projected_cost_usd"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["start", "end", "active", *count, *_CSV_TAIL, *rates])
    for row in data["rows"]:
        cells = [row["start"], row["end"], "true" if row["active"] else "false"]
        cells += [row[k] for k in count]
        cells += [" ".join(row[k]) if k == "models" else row[k] for k in _CSV_TAIL]
        if not per_session:
            burn, proj = row["burn_rate"], row["projection"]
            cells += [
                burn["tokens_per_minute"] if burn else "",
                burn["usd_per_hour"] if burn else "",
                proj[COST_KEY] if proj else "",
            ]
        writer.writerow(cells)
    totals = data["totals"]
    cells = ["TOTAL", "", ""] + [totals[k] for k in count]
    cells += ["" if k == "models" else totals[k] for k in _CSV_TAIL] + ["" for _ in rates]
    writer.writerow(cells)
    return out.getvalue()


def _zone_name(tz: tzinfo) -> str:
    return str(getattr(tz, "key", None) or tz.tzname(None) or tz)


def to_table(found: Sequence[Block], now: datetime, basis: str, tz: tzinfo = UTC) -> str:
    """One line per window, the active one marked and followed by its projection; the
    basis (per request or per session) under the table. Times in `tz`."""
    per_session = _per_session(basis)
    head = [f"block start ({_zone_name(tz)})", "time left / span"]
    head += ["sessions", "requests", "tokens"] if per_session else ["requests", "tokens"]
    head += [COST_HEAD] if per_session else ["burn ($/h)", COST_HEAD]
    body: list[list[str]] = []
    for b in found:
        cost = f"{b.cost:,.2f}" + (f" +{b.unpriced} unpriced" if b.unpriced else "")
        if b.active:
            left = max(0, int((b.end - now).total_seconds() // 60))
            status = f"ACTIVE, {left // 60}h {left % 60:02d}m left"
        else:
            ran = int((b.last - b.start).total_seconds() // 60)
            status = f"{ran // 60}h {ran % 60:02d}m"
        row = [b.start.astimezone(tz).strftime("%Y-%m-%d %H:%M"), status]
        if per_session:
            row += [f"{b.points:,}", f"{b.requests:,}", f"{b.tokens:,}", cost]
        else:
            burn = b.burn()
            rate = "-" if burn is None else f"{burn.cost_per_hour:,.2f}"
            row += [f"{b.requests:,}", f"{b.tokens:,}", rate, cost]
        body.append(row)
        proj = None if per_session else b.projection(now)
        if proj is not None:
            body.append(["", "projected at end", "", f"{proj.tokens:,}", "", f"{proj.cost:,.2f}"])
    total = sum((b.cost for b in found), Decimal(0))
    unpriced = sum(b.unpriced for b in found)
    requests = sum(b.requests for b in found)
    last = [
        "TOTAL",
        f"{len(found)} block{'' if len(found) == 1 else 's'}",
        *([f"{sum(b.points for b in found):,}"] if per_session else []),
        f"{requests:,}",
        f"{sum(b.tokens for b in found):,}",
        *([] if per_session else [""]),
        f"{total:,.2f}" + (f" +{unpriced} unpriced" if unpriced else ""),
    ]
    body.append(last)
    planned = sum(b.on_plan for b in found)
    note = f"\n({basis})"
    if planned:
        note += (
            f"\n{planned} of {requests} requests ran on a subscription plan: "
            "their cost is API-equivalent (list prices for the same tokens), not money paid"
        )
    return text_table(head, body) + note
