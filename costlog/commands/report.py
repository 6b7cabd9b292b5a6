"""`costlog report`: the ledger grouped by time, agent, model, work item, task type,
author or machine.

The numbers are the ones COST_LOG.md shows for the same ledger: the same Decimal sums,
the same split rules: a session's cost is split among its work items by the lines its
commits changed for each (`analysis.work_item_split`; its tasks evenly), and among its task
types in proportion to their task counts, its tasks, tokens and requests as its cost (whole
numbers adding up to the session's); by model or provider, each model's own tokens and
cost, and the session's tasks go to its primary (costliest) model. A session counts once in every
group it belongs to.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any

from costlog import analysis
from costlog.commands.texttable import PLAIN, View, text_table
from costlog.config import Config
from costlog.errors import EXIT_USAGE, CostlogError
from costlog.gitrepo import Repo
from costlog.ledger.format import MICRO
from costlog.models import Entry, Usage

GROUPS = (
    "day",
    "week",
    "month",
    "agent",
    "provider",
    "model",
    "work-item",
    "task-type",
    "session",
    "author",
    "machine",
)
ZERO = Decimal(0)


@dataclass
class Row:
    sessions: set[str] = field(default_factory=set)
    tasks: Decimal = ZERO
    usage: Usage = field(default_factory=Usage)
    requests: int = 0
    cost: Decimal = ZERO
    unpriced: int = 0

    def merge(self, other: Row) -> None:
        """Add another repository's row for the same group (their sessions are distinct)."""
        self.sessions |= other.sessions
        self.tasks += other.tasks
        self.usage.add(other.usage)
        self.requests += other.requests
        self.cost += other.cost
        self.unpriced += other.unpriced

    def as_dict(self) -> dict[str, Any]:
        u = self.usage
        return {
            "sessions": len(self.sessions),
            "tasks": _num(self.tasks),
            "input_tokens": u.input,
            "output_tokens": u.output,
            "cache_read_tokens": u.cache_read,
            "cache_write_tokens": u.cache_write_5m + u.cache_write_1h,
            "requests": self.requests,
            # micro-dollars, as the ledger writes a cost: a split share has more digits
            "cost_usd": format(self.cost.quantize(MICRO), "f"),
            "unpriced_sessions": self.unpriced,
        }


def _num(value: Decimal) -> int | str:
    return int(value) if value == value.to_integral_value() else format(value, "f")


def _shares(entry: Entry, by: str, tz: tzinfo) -> Iterator[tuple[str, Decimal, Decimal]]:
    """(group key, share of the session's cost, share of its tasks and tokens)."""
    one = Decimal(1)
    if by in ("day", "week", "month"):
        day = analysis.local_day(entry, tz)
        if by == "week":
            yield (day - timedelta(days=day.weekday())).isoformat(), one, one
        else:
            yield (day.isoformat() if by == "day" else day.strftime("%Y-%m")), one, one
    elif by == "agent":
        yield entry.agent, one, one
    elif by == "session":
        yield entry.id, one, one
    elif by == "author":  # entries that do not say: "(unknown)"
        yield analysis.author_of(entry), one, one
    elif by == "machine":
        yield analysis.machine_of(entry), one, one
    elif by == "work-item":
        yield from _work_item_shares(entry)
    elif by == "task-type":
        types = entry.task_types or {"(none)": 1}
        total = sum(types.values()) or 1
        for name, count in types.items():
            yield name, Decimal(count) / total, Decimal(count) / total
    else:
        raise AssertionError(by)


def _work_item_shares(entry: Entry) -> Iterator[tuple[str, Decimal, Decimal]]:
    """Cost by COST_LOG.md's rule (lines changed per item); tasks evenly."""
    split = analysis.work_item_split(entry)
    if not split:
        yield "(none)", Decimal(1), Decimal(1)
        return
    whole = analysis.cost(entry)
    for item, amount in split.items():
        even = Decimal(1) / len(split)
        yield item, (amount / whole if whole else even), even


def group(entries: Sequence[Entry], by: str, tz: tzinfo) -> dict[str, Row]:
    if by not in GROUPS:
        raise CostlogError(f"cannot group by {by!r}", hint="use " + ", ".join(GROUPS))
    rows: dict[str, Row] = defaultdict(Row)
    for entry in entries:
        if by in ("model", "provider"):
            main = analysis.primary(entry)
            for model, mu in entry.models.items():
                key = model if by == "model" else analysis.provider_of(model)
                row = rows[key]
                row.sessions.add(entry.id)
                if model == main:  # a session's tasks count for its primary model
                    row.tasks += entry.tasks_completed or 0
                row.usage.add(mu.usage)
                row.requests += mu.requests
                row.cost += mu.cost_usd or ZERO
                row.unpriced += 1 if mu.cost_usd is None else 0
            continue
        shares = list(_shares(entry, by, tz))
        weights = [cost_share for _, cost_share, _ in shares]
        # tokens and requests shared as the cost is, in whole numbers adding up to the
        # session's (a session in two task types is not counted twice); sessions count whole
        tokens = analysis.split_usage(entry.tokens, weights)
        requests = analysis.split_count(sum(mu.requests for mu in entry.models.values()), weights)
        # whole tasks too: 3 tasks of "2 code, 1 docs" are 2 and 1, not 1.99999...
        tasks = analysis.split_count(entry.tasks_completed or 0, [s for _, _, s in shares])
        for (key, cost_share, _), usage, calls, done in zip(
            shares, tokens, requests, tasks, strict=True
        ):
            row = rows[key]
            row.sessions.add(entry.id)
            row.tasks += done
            row.usage.add(usage)
            row.requests += calls
            row.cost += analysis.cost(entry) * cost_share
            row.unpriced += 1 if entry.cost_usd is None else 0
    return dict(rows)


def load(
    repo: Repo, config: Config, since: datetime | None = None, until: datetime | None = None
) -> list[Entry]:
    """The ledger's entries started in [since, until)."""
    from costlog.ledger.store import Ledger

    return select(Ledger(repo, config.ledger_dir).load_all(), since, until)


def select(entries: Sequence[Entry], since: datetime | None, until: datetime | None) -> list[Entry]:
    return [
        e
        for e in entries
        if (since is None or e.started >= since) and (until is None or e.started < until)
    ]


def one_session(entries: Sequence[Entry], query: str, every: Sequence[str] = ()) -> list[Entry]:
    """The one session `query` names (`--session`): its id, the short id tables show, or
    any longer prefix of it. Short ids are those of the whole ledger (`every`, default the
    entries' own ids), so what COST_LOG.md shows is what finds it here; ambiguous or
    unknown is a usage error that lists what would do."""
    from costlog.analysis.shortids import ShortIds

    shorts = ShortIds(every or [e.id for e in entries])
    hits = set(shorts.find(query))
    found = [e for e in entries if e.id in hits]  # one id may be in two repos (`--repo`)
    if len({e.id for e in found}) == 1:
        return found
    if not found:
        raise CostlogError(
            f"no session {query!r} in the ledger",
            hint="the short ids are in COST_LOG.md and `costlog report --by session`",
            exit_code=EXIT_USAGE,
        )
    names = sorted({f"{shorts.of(e.id)} ({e.id})" for e in found})
    more = f" and {len(names) - 10} more" if len(names) > 10 else ""
    raise CostlogError(
        f"session {query!r} is ambiguous: {', '.join(names[:10])}{more}",
        hint="give more of the id",
        exit_code=EXIT_USAGE,
    )


def totals(entries: Sequence[Entry]) -> dict[str, Any]:
    return _whole(entries).as_dict()


def _whole(entries: Sequence[Entry]) -> Row:
    row = Row()
    for entry in entries:
        row.sessions.add(entry.id)
        row.tasks += entry.tasks_completed or 0
        row.usage.add(entry.tokens)
        row.requests += sum(mu.requests for mu in entry.models.values())
        row.cost += analysis.cost(entry)
        row.unpriced += 1 if entry.cost_usd is None else 0
    return row


def as_json(entries: Sequence[Entry], by: str, tz: tzinfo) -> dict[str, Any]:
    rows = group(entries, by, tz)
    return {
        "by": by,
        "totals": totals(entries),
        "rows": [{by: key, **rows[key].as_dict()} for key in _order(rows, by)],
    }


def as_json_parts(
    parts: Sequence[tuple[str, Sequence[Entry], tzinfo]],
    by: str,
    *,
    breakdown: bool = False,
    order: str | None = None,
    plans: Mapping[str, str] | None = None,
    ledger_ids: Sequence[str] = (),
) -> dict[str, Any]:
    """`as_json` over several repositories' sessions, given as (label, entries, zone): days
    and months in each repository's own zone, so each repository's rows are exactly what
    its own `report` shows; `by="repo"` is one row per repository, listed or not.

    Added fields only, so scripts reading the JSON keep working: with `breakdown` each row
    has `breakdown`, its models by the same rules; `--by session` rows also carry the
    `short_id` tables show, the `agent`, its `models` and `last_activity`, the `plan` it ran
    on (`plans`: entry id to plan name) with `api_equivalent` true then (its cost is list
    prices, not money paid), and its log's `rate_limits` figures as a note, or null."""
    if by != "repo" and by not in GROUPS:
        raise CostlogError(f"cannot group by {by!r}", hint="use " + ", ".join((*GROUPS, "repo")))
    rows: dict[str, Row] = {}
    details: dict[str, dict[str, Row]] = defaultdict(dict)
    for label, entries, tz in parts:
        found = {label: _whole(entries)} if by == "repo" else group(entries, by, tz)
        _merge_into(rows, found)
        if breakdown and by != "model":
            if by == "repo":
                _merge_into(details[label], group(entries, "model", tz))
            else:
                for key, models in _per_model(entries, by, tz).items():
                    _merge_into(details[key], models)
    every = [e for _, entries, _ in parts for e in entries]
    out = []
    sessions = _session_facts(every, ledger_ids) if by == "session" else {}
    keys = _order(rows, by, order)
    if sessions:  # sessions in the order they were last active, as ccusage lists them
        keys.sort(key=lambda k: (sessions[k]["last_activity"], k), reverse=order == "desc")
    for key in keys:
        row = {by: key, **rows[key].as_dict(), **sessions.get(key, {})}
        if by == "session":
            plan = (plans or {}).get(key)
            row["plan"], row["api_equivalent"] = plan, plan is not None
        if breakdown and by != "model":
            models = details.get(key, {})
            row["breakdown"] = [
                {"model": m, **models[m].as_dict()} for m in _order(models, "model", order)
            ]
        out.append(row)
    return {"by": by, "totals": totals(every), "rows": out}


def _merge_into(rows: dict[str, Row], found: dict[str, Row]) -> None:
    for key, row in found.items():
        if key in rows:
            rows[key].merge(row)
        else:
            rows[key] = row


def _per_model(entries: Sequence[Entry], by: str, tz: tzinfo) -> dict[str, dict[str, Row]]:
    """Each group's rows per model (`--breakdown`), by the very rules of `group`: each
    session cut into one part per model (that model's tokens and cost; its tasks with
    the primary model), grouped as the whole sessions are."""
    from dataclasses import replace

    parts: dict[str, list[Entry]] = defaultdict(list)
    for entry in entries:
        main = analysis.primary(entry)
        for model, mu in entry.models.items():
            tasks = entry.tasks_completed if model == main else None
            parts[model].append(
                replace(entry, models={model: mu}, cost_usd=mu.cost_usd, tasks_completed=tasks)
            )
    out: dict[str, dict[str, Row]] = defaultdict(dict)
    for model, cut in parts.items():
        for key, row in group(cut, by, tz).items():
            out[key][model] = row
    return out


def _session_facts(
    entries: Sequence[Entry], ledger_ids: Sequence[str] = ()
) -> dict[str, dict[str, Any]]:
    """What a session row shows besides its numbers: the short id COST_LOG.md shows (and
    `--session` finds), the agent, its models (costliest first), its last activity."""
    from costlog.analysis.plans import limits_text
    from costlog.analysis.shortids import ShortIds

    # short ids among the whole ledgers' (`ledger_ids`), not only the sessions of a window
    # or of `--session`: two sessions that read alike show as COST_LOG.md shows them
    short = ShortIds([*ledger_ids, *(e.id for e in entries)]).of
    return {
        e.id: {
            "short_id": short(e.id),
            "agent": e.agent,
            "models": sorted(e.models, key=lambda m: (-(e.models[m].cost_usd or ZERO), m)),
            "last_activity": (e.ended or e.started).isoformat(),
            "rate_limits": limits_text(e.rate_limits),
        }
        for e in entries
    }


def _order(rows: dict[str, Row], by: str, order: str | None = None) -> list[str]:
    """Time and sessions oldest first, other groups costliest first; `order` (`--order`)
    asc or desc turns either round: asc is oldest or cheapest first."""
    if by in ("day", "week", "month", "session"):
        keys = sorted(rows)
        return keys[::-1] if order == "desc" else keys
    keys = sorted(rows, key=lambda k: (-rows[k].cost, k))
    return keys[::-1] if order == "asc" else keys


COLUMNS = (
    "sessions",
    "tasks",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "requests",
    "cost_usd",
    "unpriced_sessions",
)


def to_csv(data: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([data["by"], *COLUMNS])
    for row in data["rows"]:
        writer.writerow([row[data["by"]], *(row[c] for c in COLUMNS)])
    writer.writerow(["TOTAL", *(data["totals"][c] for c in COLUMNS)])
    return out.getvalue()


def to_table(data: dict[str, Any], view: View = PLAIN, tz: tzinfo | None = None) -> str:
    """The boxed table: the group, for a session its short id, agent, models and last
    activity, then sessions, tasks, tokens and cost; `view.compact` keeps the group,
    sessions (a session's models), input, output and cost. Group costs are cents that add
    up to the TOTAL row (largest remainder, ties by key), below a cent shown as such, never
    $0.00; a session's cost is its own, as every other view shows it."""
    from costlog.money import format_rows_usd, format_usd

    by = data["by"]
    session = by == "session"
    if session:
        lead_head = (
            ["session", "agent", "models"]
            if view.compact
            else ["session", "agent", "models", "last activity"]
        )
    else:
        lead_head = [by, "sessions"]
    head = [
        *lead_head,
        *(
            ["input", "output", "cost"]
            if view.compact
            else ["tasks", "input", "output", "cache write", "cache read", "total tokens", "cost"]
        ),
    ]

    def numbers(row: dict[str, Any], money: str) -> list[str]:
        if row["unpriced_sessions"]:
            money += f" (+{row['unpriced_sessions']} unpriced)"
        if view.compact:
            return [f"{row['input_tokens']:,}", f"{row['output_tokens']:,}", money]
        every = sum(
            row[k]
            for k in ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")
        )
        return [
            str(row["tasks"]),
            f"{row['input_tokens']:,}",
            f"{row['output_tokens']:,}",
            f"{row['cache_write_tokens']:,}",
            f"{row['cache_read_tokens']:,}",
            f"{every:,}",
            money,
        ]

    def lead(row: dict[str, Any]) -> list[str]:
        if not session:
            return [str(row[by]), str(row["sessions"])]
        cells = [
            row.get("short_id") or str(row[by]),
            row.get("agent", ""),
            "\n".join(row.get("models", [])),
        ]
        if not view.compact:
            cells.append(_local_time(row.get("last_activity"), tz))
        return cells

    rows = data["rows"]
    total = Decimal(data["totals"]["cost_usd"])
    amounts = [Decimal(r["cost_usd"]) for r in rows]
    if session:  # a session's cost reads as in COST_LOG.md and record's line: its own
        shown = [format_usd(a) for a in amounts]
    else:  # ties by the group's key: the same cents in either --order
        shown = format_rows_usd(amounts, total, [str(r[by]) for r in rows])
    body: list[list[str]] = []
    details: dict[int, list[list[str]]] = {}
    for i, (row, money) in enumerate(zip(rows, shown, strict=True)):
        if row.get("api_equivalent"):  # on a plan: list prices, not money paid
            money += " API-eq."
        body.append(lead(row) + numbers(row, money))
        if row.get("breakdown"):
            pad = [""] * (len(lead_head) - 1)
            details[i] = [
                [m["model"], *pad, *numbers(m, format_usd(Decimal(m["cost_usd"])))]
                for m in row["breakdown"]
            ]
    whole = data["totals"]
    first = ["TOTAL", *([""] * (len(lead_head) - 1))]
    if not session:
        first[1] = str(whole["sessions"])
    body.append(first + numbers(whole, format_usd(total)))
    left = len(lead_head) if session else 1
    table = text_table(head, body, details=details, left=left, view=view)
    limits = [r for r in rows if r.get("rate_limits")] if session else []
    if limits:  # per session, as its log reported them (Codex `rate_limits`)
        table += "\nRate limits from the logs: " + "; ".join(
            f"{r.get('short_id') or r[by]} {r['rate_limits']}" for r in limits
        )
    return table


def _local_time(when: str | None, tz: tzinfo | None) -> str:
    """A time as people read it, `2026-12-01 14:05`, in the zone the report shows."""
    if not when:
        return "-"
    moment = datetime.fromisoformat(when)
    return (moment.astimezone(tz) if tz else moment).strftime("%Y-%m-%d %H:%M")


def dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2)
