"""`costlog scan`: usage and cost straight from the agents' logs, touching no ledger.

Every request is priced on its own (the long-context rule needs it) at the price in force
on its date, then summed per group. Money stays Decimal; tokens stay int.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from costlog import sources
from costlog.commands.texttable import text_table
from costlog.errors import CostlogError
from costlog.models import Request, Session, Usage

if TYPE_CHECKING:
    from costlog.pricing.table import PriceTable

GROUPS = ("day", "week", "month", "session", "model", "project")
TOTAL_KEYS = (
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_5m_tokens",
    "cache_write_1h_tokens",
    "reasoning_tokens",
    "requests",
    "sessions",
    "cost_usd",
    "unpriced_requests",
)


@dataclass
class Options:
    agents: Sequence[str] = ()
    paths: Sequence[Path] = ()
    project: Path | None = None
    since: datetime | None = None
    until: datetime | None = None
    tz: tzinfo | None = None
    by: str = "day"


@dataclass
class Bucket:
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_5m_tokens: int = 0
    cache_write_1h_tokens: int = 0
    reasoning_tokens: int = 0
    requests: int = 0
    cost_usd: Decimal = Decimal(0)
    unpriced_requests: int = 0
    estimated_output_tokens: int = 0
    session_ids: set[str] = field(default_factory=set)
    models: set[str] = field(default_factory=set)

    def add(self, session_id: str, request: Request, cost: Decimal | None, model: str) -> None:
        u = request.usage
        self.input_tokens += u.input
        self.output_tokens += u.output
        self.cache_read_tokens += u.cache_read
        self.cache_write_5m_tokens += u.cache_write_5m
        self.cache_write_1h_tokens += u.cache_write_1h
        self.reasoning_tokens += u.reasoning
        self.estimated_output_tokens += request.estimated_output
        self.requests += 1
        if cost is None:
            self.unpriced_requests += 1
        else:
            self.cost_usd += cost
        self.session_ids.add(session_id)
        self.models.add(model)

    def merge(self, other: Bucket) -> None:
        for name in (
            "input_tokens",
            "output_tokens",
            "cache_read_tokens",
            "cache_write_5m_tokens",
            "cache_write_1h_tokens",
            "reasoning_tokens",
            "requests",
            "cost_usd",
            "unpriced_requests",
            "estimated_output_tokens",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.session_ids |= other.session_ids
        self.models |= other.models

    def as_dict(self) -> dict[str, Any]:
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_read_tokens": self.cache_read_tokens,
            "cache_write_5m_tokens": self.cache_write_5m_tokens,
            "cache_write_1h_tokens": self.cache_write_1h_tokens,
            "reasoning_tokens": self.reasoning_tokens,
            "requests": self.requests,
            "sessions": len(self.session_ids),
            "cost_usd": format(self.cost_usd, "f"),
            "unpriced_requests": self.unpriced_requests,
        }


@dataclass
class Result:
    totals: Bucket
    rows: dict[str, Bucket]
    by: str
    warnings: list[str]

    def as_json(self) -> dict[str, Any]:
        rows = []
        for key in sorted(self.rows):
            bucket = self.rows[key]
            rows.append(
                {
                    self.by: key,
                    **bucket.as_dict(),
                    "models": sorted(bucket.models),
                    "estimated_output_tokens": bucket.estimated_output_tokens,
                }
            )
        return {
            "by": self.by,
            "totals": self.totals.as_dict(),
            "rows": rows,
            "warnings": len(self.warnings),
        }


def sessions_for(
    options: Options, warn: Callable[[str], None], env: dict[str, str] | None = None
) -> Iterator[Session]:
    environ = dict(os.environ if env is None else env)
    home = Path(environ.get("HOME") or Path.home())
    names = list(options.agents) or sources.names()
    project = options.project.resolve() if options.project else None
    given = _Given(options.paths, warn)
    for name in names:
        adapter = sources.get(name) if options.agents else _maybe(name)
        if adapter is None:
            continue
        roots = list(options.paths) or [
            p for p in adapter.default_roots(environ, home) if p.exists()
        ]
        if not roots:
            continue
        found = adapter.scan(roots, project=project, since=options.since, warn=given.warn)
        for session in found:
            given.saw(session)
            if project is None or _inside(session.cwd, project):
                yield session
    filtered = options.since is not None or options.until is not None or project is not None
    given.report(" or ".join(options.agents), filtered)


class _Given:
    """The paths given with `--path`, and whether each was of use: an adapter warned about
    it or read usage from it. One of no use gets a warning, so a file no adapter can
    read never makes a silent empty table."""

    def __init__(self, paths: Sequence[Path], warn: Callable[[str], None]) -> None:
        self.roots = [str(p) for p in paths]
        self.used: set[str] = set()
        self.unknown_source = False  # a session that names no file: any root may be its
        self._warn = warn

    def warn(self, line: str) -> None:
        self._mark(line.startswith)
        self._warn(line)

    def saw(self, session: Session) -> None:
        if not session.requests:  # read as an empty session: the table shows nothing
            return
        if not session.paths:
            self.unknown_source = True
        for path in session.paths:
            self._mark(path.startswith)
            resolved = str(Path(path).resolve())
            for root in self.roots:
                if resolved.startswith(str(Path(root).resolve())):
                    self.used.add(root)

    def _mark(self, starts: Callable[[str], bool]) -> None:
        for root in self.roots:
            if starts(root):
                self.used.add(root)

    def report(self, who: str, filtered: bool) -> None:
        if self.unknown_source:
            return
        scope = " in the range or project asked for" if filtered else ""
        guess = f"not a log the {who} reader knows?" if who else "not a log any reader knows?"
        for root in self.roots:
            if root not in self.used:
                self._warn(f"{root}: no {who or 'agent'} usage found{scope} ({guess})")


def inputs(
    options: Options, otel: Path | None
) -> tuple[PriceTable, Iterable[Session] | None, list[str]]:
    """The price table (inside a repo, its `.costlog/prices.yaml` counts too) and, with an
    OpenTelemetry export, the sessions enriched by it, with the problems met doing so.
    Without `otel` the sessions are left to `run` (None)."""
    from costlog.commands.context import price_table

    table = price_table()
    problems: list[str] = []
    sessions = None
    if otel is not None:
        from costlog.sources.claude import enrich as truth

        sessions = truth.with_otel(
            sessions_for(options, problems.append), otel, table, problems.append
        )
    return table, sessions, problems


def _maybe(name: str) -> sources.Adapter | None:
    try:
        return sources.get(name)
    except CostlogError:
        return None


def _inside(cwd: str | None, project: Path) -> bool:
    if not cwd:
        return False
    try:
        Path(cwd).resolve().relative_to(project)
    except ValueError:
        return False
    return True


def run(options: Options, table: Any, sessions: Iterable[Session] | None = None) -> Result:
    """Group every request in range and price it.

    Each request is charged by its own plan (its model's rates on its date, the
    long-context tier its own prompt reaches, its speed multiplier); requests that share
    a row and a plan are summed first and priced once, which is exact (the arithmetic is
    linear and Decimal) and keeps a large history fast.
    """
    if options.by not in GROUPS:
        raise CostlogError(f"cannot group by {options.by!r}", hint="use " + ", ".join(GROUPS))
    warnings: list[str] = []
    stream = sessions if sessions is not None else sessions_for(options, warnings.append)
    totals = Bucket()
    rows: dict[str, Bucket] = {}
    pending: dict[tuple[str, Any], Usage] = {}  # (row, plan) -> summed tokens
    names: dict[str, tuple[str, str | None]] = {}  # logged name -> (table name, speed)
    for session in stream:
        session_id = f"{session.agent}/{session.session_id}"
        for request in session.requests:
            when = request.timestamp or session.started
            if not _in_range(when, options):
                continue
            named = names.get(request.model)
            if named is None:
                named = names[request.model] = (
                    table.canonical(request.model) or request.model,
                    table.speed_of(request.model),
                )
            model = named[0]
            key = _group_key(options, session, model, when)
            row = rows.get(key)
            if row is None:
                row = rows[key] = Bucket()
            cost = request.logged_cost_usd
            plan = None
            if cost is None:
                plan = table.plan(
                    model,
                    request.usage.prompt_tokens,
                    when.date() if when else None,
                    request.speed or named[1],
                )
                if plan is not None:
                    total = pending.get((key, plan))
                    if total is None:
                        total = pending[(key, plan)] = Usage()
                    total.add(request.usage)
                    cost = Decimal(0)  # priced below, per plan
            row.add(session_id, request, cost, model)
    for (key, plan), usage in pending.items():
        rows[key].cost_usd += plan.cost(usage)
    for row in rows.values():
        totals.merge(row)
    return Result(totals, rows, options.by, warnings)


def _in_range(when: datetime | None, options: Options) -> bool:
    if when is None:
        return options.since is None and options.until is None
    if options.since and when < options.since:
        return False
    return not (options.until and when >= options.until)


_DAYS: dict[tuple[int, Any], date] = {}


def _local_day(when: datetime, tz: tzinfo | None) -> date:
    """The local date of a time, memoised per 15 minutes (every UTC offset and change of
    offset in use falls on a quarter hour), so a large history converts few times."""
    slot = (int(when.timestamp()) // 900, tz)
    day = _DAYS.get(slot)
    if day is None:
        day = _DAYS[slot] = when.astimezone(tz).date() if tz else when.date()
    return day


def _group_key(options: Options, session: Session, model: str, when: datetime | None) -> str:
    by = options.by
    if by == "session":
        return f"{session.agent}/{session.session_id}"
    if by == "model":
        return model
    if by == "project":
        return session.cwd or "(unknown)"
    if when is None:
        return "(no date)"
    day = _local_day(when, options.tz)
    if by == "day":
        return day.isoformat()
    if by == "week":
        monday = day - timedelta(days=day.weekday())
        return f"{monday.isoformat()} (week)"
    return day.strftime("%Y-%m")


# ---------------------------------------------------------------- output


def to_json(result: Result) -> str:
    return json.dumps(result.as_json(), indent=2)


def to_csv(result: Result) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    columns = [result.by, *TOTAL_KEYS, "models"]
    writer.writerow(columns)
    for row in result.as_json()["rows"]:
        writer.writerow([row[result.by], *(row[k] for k in TOTAL_KEYS), " ".join(row["models"])])
    total = result.totals.as_dict()
    writer.writerow(["TOTAL", *(total[k] for k in TOTAL_KEYS), ""])
    return out.getvalue()


def to_table(result: Result) -> str:
    head = [result.by, "input", "output", "cache read", "cache write", "requests", "cost (USD)"]
    body = []
    for row in [*result.as_json()["rows"], {result.by: "TOTAL", **result.totals.as_dict()}]:
        writes = row["cache_write_5m_tokens"] + row["cache_write_1h_tokens"]
        cost = f"{Decimal(row['cost_usd']):,.2f}"
        if row["unpriced_requests"]:
            cost += f" +{row['unpriced_requests']} unpriced"
        body.append(
            [
                str(row[result.by]),
                f"{row['input_tokens']:,}",
                f"{row['output_tokens']:,}",
                f"{row['cache_read_tokens']:,}",
                f"{writes:,}",
                f"{row['requests']:,}",
                cost,
            ]
        )
    return text_table(head, body)
