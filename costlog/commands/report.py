"""`costlog report`: the ledger grouped by time, agent, model, work item, task type,
author or machine.

The numbers are the ones COST_LOG.md shows for the same ledger: the same Decimal sums,
the same split rules: a session's cost is split among its work items by the lines its
commits changed for each (`analysis.work_item_split`; its tasks evenly), and among its task
types in proportion to their task counts; by model or provider, each model's own tokens and
cost, and the session's tasks go to its primary (costliest) model. Sessions, tokens and
requests count whole in every other group a session belongs to.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any

from costlog import analysis
from costlog.commands.texttable import text_table
from costlog.config import Config
from costlog.errors import CostlogError
from costlog.gitrepo import Repo
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
            "cost_usd": format(self.cost, "f"),
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
        for key, cost_share, share in _shares(entry, by, tz):
            row = rows[key]
            row.sessions.add(entry.id)
            row.tasks += (entry.tasks_completed or 0) * share
            row.usage.add(entry.tokens)  # sessions and tokens count whole in each group
            row.requests += sum(mu.requests for mu in entry.models.values())
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


def as_json_parts(parts: Sequence[tuple[str, Sequence[Entry], tzinfo]], by: str) -> dict[str, Any]:
    """`as_json` over several repositories' sessions, given as (label, entries, zone): days
    and months in each repository's own zone, so each repository's rows are exactly what
    its own `report` shows; `by="repo"` is one row per repository, listed or not."""
    if by != "repo" and by not in GROUPS:
        raise CostlogError(f"cannot group by {by!r}", hint="use " + ", ".join((*GROUPS, "repo")))
    rows: dict[str, Row] = {}
    for label, entries, tz in parts:
        found = {label: _whole(entries)} if by == "repo" else group(entries, by, tz)
        for key, row in found.items():
            if key in rows:
                rows[key].merge(row)
            else:
                rows[key] = row
    every = [e for _, entries, _ in parts for e in entries]
    return {
        "by": by,
        "totals": totals(every),
        "rows": [{by: key, **rows[key].as_dict()} for key in _order(rows, by)],
    }


def _order(rows: dict[str, Row], by: str) -> list[str]:
    if by in ("day", "week", "month", "session"):
        return sorted(rows)
    return sorted(rows, key=lambda k: (-rows[k].cost, k))


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


def to_table(data: dict[str, Any]) -> str:
    by = data["by"]
    head = [by, "sessions", "tasks", "input", "output", "cache read", "cache write", "cost"]
    body = []
    for row in [*data["rows"], {by: "TOTAL", **data["totals"]}]:
        cost = f"${Decimal(row['cost_usd']):,.2f}"
        if row["unpriced_sessions"]:
            cost += f" (+{row['unpriced_sessions']} unpriced)"
        body.append(
            [
                str(row[by]),
                str(row["sessions"]),
                str(row["tasks"]),
                f"{row['input_tokens']:,}",
                f"{row['output_tokens']:,}",
                f"{row['cache_read_tokens']:,}",
                f"{row['cache_write_tokens']:,}",
                cost,
            ]
        )
    return text_table(head, body)


def dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2)
