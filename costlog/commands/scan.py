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
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from costlog import sources
from costlog.commands.texttable import PLAIN, View, text_table
from costlog.errors import CostlogError
from costlog.models import Request, Session, Usage
from costlog.sources import progress

if TYPE_CHECKING:
    from costlog.pricing.table import PriceTable

GROUPS = ("day", "week", "month", "session", "model", "project", "agent", "provider")
#: groups whose rows are in time order (the rest: costliest first)
TIMED = ("day", "week", "month", "session")
#: where a session without a single dated request sorts
_EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
#: `_local_day`'s slot
_SLOT = timedelta(minutes=15)
#: a request's cost until its plan prices the row (one object: Decimal is immutable)
_ZERO = Decimal(0)
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
    #: also sum each row per model (`--breakdown`)
    breakdown: bool = False


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
    #: the latest request's time (a session row's "last activity")
    last: datetime | None = None

    def take(self, session_id: str, summed: _Summed, model: str, priced: bool) -> None:
        """Count the requests of `summed` (one session's, of one model). `priced`: their
        plan prices them later (`run`); else those without a cost their log gave are
        unpriced (the logged costs are added by `run`, in the order of the requests)."""
        last = summed.last
        if last is not None and (self.last is None or last > self.last):
            self.last = last
        u = summed.usage
        self.input_tokens += u.input
        self.output_tokens += u.output
        self.cache_read_tokens += u.cache_read
        self.cache_write_5m_tokens += u.cache_write_5m
        self.cache_write_1h_tokens += u.cache_write_1h
        self.reasoning_tokens += u.reasoning
        self.estimated_output_tokens += summed.estimated
        self.requests += summed.count
        if not priced:
            self.unpriced_requests += summed.unpriced
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
        if other.last is not None and (self.last is None or other.last > self.last):
            self.last = other.last

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


#: a request's counts, in `Usage`'s order
_GET = [
    attrgetter(f"usage.{name}")
    for name in ("input", "output", "cache_read", "cache_write_5m", "cache_write_1h", "reasoning")
]
_ESTIMATED, _WHEN, _LOGGED = (
    attrgetter("estimated_output"),
    attrgetter("timestamp"),
    attrgetter("logged_cost_usd"),
)


class _Summed:
    """A group of one session's requests (same row, model and plan) summed at once, each
    field by one pass in C (`attrgetter`), not request by request: a scan of a large
    history makes few groups of many requests. `last`: the latest request's time (the
    session's start for one without; of equal times written with different offsets, which
    no reader gives, the first in the group); `unpriced`: how many have no cost from their
    log (they are unpriced unless a plan prices the group)."""

    __slots__ = ("count", "estimated", "last", "unpriced", "usage")

    def __init__(self, requests: list[Request], started: datetime | None) -> None:
        self.count = len(requests)
        self.usage = Usage(*(sum(map(get, requests)) for get in _GET))
        self.estimated: int = sum(map(_ESTIMATED, requests))
        times = list(map(_WHEN, requests))
        try:
            last: datetime | None = max(times)
        except TypeError:  # a request without a time (with some with one)
            last = None
        if last is None:  # the session's start stands in for a request without a time
            known = [when for when in (t or started for t in times) if when is not None]
            last = max(known) if known else None
        self.last = last
        self.unpriced = list(map(_LOGGED, requests)).count(None)


@dataclass
class Result:
    totals: Bucket
    rows: dict[str, Bucket]
    by: str
    warnings: list[str]
    #: with `breakdown`: each row's buckets per model
    details: dict[str, dict[str, Bucket]] = field(default_factory=dict)
    #: the zone days and times are shown in
    tz: tzinfo | None = None
    #: `--order`: None keeps each group's own order (time ascending, else costliest first
    #: in tables; JSON and CSV rows by key, as they always were)
    order: str | None = None
    #: sessions whose log names a subscription plan: their cost is API-equivalent
    on_plan: set[str] = field(default_factory=set)
    #: the plan each of those sessions' log names (`ChatGPT Plus`), by session id
    plan_of: dict[str, str] = field(default_factory=dict)

    def keys(self, table: bool = False) -> list[str]:
        """The rows in the order asked: by key (time order) or, in a table of a group that
        is not time, by cost, costliest first; `--order` turns either way round."""
        if self.by == "session" and table:  # in the order they were last active
            keys = sorted(self.rows, key=lambda k: (self.rows[k].last or _EARLIEST, k))
            return keys[::-1] if self.order == "desc" else keys
        if self.by in TIMED or not table:
            keys = sorted(self.rows)
            return keys[::-1] if self.order == "desc" else keys
        keys = sorted(self.rows, key=lambda k: (-self.rows[k].cost_usd, k))
        return keys[::-1] if self.order == "asc" else keys

    def as_json(self, table: bool = False) -> dict[str, Any]:
        rows = []
        for key in self.keys(table):
            bucket = self.rows[key]
            row = {
                self.by: key,
                **bucket.as_dict(),
                "models": sorted(bucket.models),
                "estimated_output_tokens": bucket.estimated_output_tokens,
            }
            if self.by == "session":
                row["last_activity"] = bucket.last.isoformat() if bucket.last else None
            # on a plan the log names: the cost is list prices (API-equivalent), not paid
            named = sorted({self.plan_of[i] for i in bucket.session_ids if i in self.plan_of})
            row["plan"] = ", ".join(named) or None
            row["api_equivalent"] = bool(named)
            if key in self.details:
                models = self.details[key]
                order = sorted(models, key=lambda m: (-models[m].cost_usd, m))
                if self.order == "asc":  # the models under a row as cheap-first as the rows
                    order.reverse()
                row["breakdown"] = [{"model": m, **models[m].as_dict()} for m in order]
            rows.append(row)
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
    routed = _routed(options.paths, names) if options.paths and not options.agents else None
    for name in names:
        adapter = sources.get(name) if options.agents else _maybe(name)
        if adapter is None:
            continue
        if routed is not None:
            roots = routed[name]
        else:
            roots = list(options.paths) or [
                p for p in adapter.default_roots(environ, home) if p.exists()
            ]
        if not roots:
            continue
        with progress.allowed():  # a big cold read says how far it is (on a terminal)
            found = adapter.scan(roots, project=project, since=options.since, warn=given.warn)
            for session in found:
                given.saw(session)
                if project is None or _inside(session.cwd, project):
                    yield session
    filtered = options.since is not None or options.until is not None or project is not None
    given.report(" or ".join(options.agents), filtered)


def _routed(paths: Sequence[Path], names: Sequence[str]) -> dict[str, list[Path]]:
    """`--path` without `--agent`: each file goes only to the adapters that recognise it
    (sources.recognise), so the others neither read it nor warn about it; a directory,
    or a file none is sure of, goes to every adapter, as before."""
    routed: dict[str, list[Path]] = {name: [] for name in names}
    for path in paths:
        claimed = sources.recognise(path) if path.is_file() else []
        for name in claimed or names:
            if name in routed:
                routed[name].append(path)
    return routed


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
        if not self.roots:  # no --path: nothing to mark, and resolving costs a stat a path
            return
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
    memo, memo_key = _memo(options, table, sessions)
    if memo is not None and memo_key is not None:  # nothing changed since a scan like it
        kept = memo.get(memo_key, options.tz, _KEPT)
        if isinstance(kept, Result):
            return kept
    warnings: list[str] = []
    stream = sessions if sessions is not None else sessions_for(options, warnings.append)
    # Claude Code's own totals (title and summary calls), as `record` adds them; imported
    # here: a scan answered from the kept results above never needs it
    from costlog.sources.claude import coststate

    stream = coststate.in_scan(stream, table, warnings.append)
    totals = Bucket()
    rows: dict[str, Bucket] = {}
    details: dict[str, dict[str, Bucket]] = {}
    pending: dict[tuple[str, str, Any], Usage] = {}  # (row, model, plan) -> summed tokens
    split = options.breakdown
    provider = _provider_of() if options.by == "provider" else None
    # logged name -> (table name, speed, the row key of `--by model` or `provider`)
    names: dict[str, tuple[str, str | None, str]] = {}
    on_plan: set[str] = set()
    plan_of: dict[str, str] = {}
    ranged = options.since is not None or options.until is not None
    by = options.by
    by_session = by in ("session", "agent", "project")  # one row key per session
    by_model = by in ("model", "provider")
    day_keys: dict[int, str] = {}  # a 15-minute slot -> its day, week or month row key
    # (model, day, speed) -> whether one plan charges every size of request, and it
    flats: dict[tuple[str, date | None, str | None], tuple[bool, Any]] = {}
    # the last slot a request fell in, and its row key (none yet: an empty range)
    slot_start = slot_end = _EARLIEST
    slot_key = ""
    for session in stream:
        session_id = f"{session.agent}/{session.session_id}"
        planned = session.rate_limits is not None and bool(session.rate_limits.plan_type)
        if planned and session.rate_limits is not None and session.rate_limits.plan_type:
            plan_of[session_id] = _plan_name(session.agent, session.rate_limits.plan_type)
        session_key = _group_key(options, session, "", None) if by_session else ""
        started = session.started
        # the session's requests by (row, model, plan): each group is summed in one go
        # below, not request by request (a plan of None: priced by the log, or unpriced)
        groups: dict[tuple[str, str, Any], list[Request]] = {}
        logged: list[tuple[str, str, Decimal]] = []  # (row, model, cost its log gave)
        for request in session.requests:
            when = request.timestamp or started
            if ranged and not _in_range(when, options):
                continue
            named = names.get(request.model)
            if named is None:
                canonical = table.canonical(request.model) or request.model
                named = names[request.model] = (
                    canonical,
                    table.speed_of(request.model),
                    provider(canonical) if provider else canonical,
                )
            model = named[0]
            if by_session:
                key = session_key
            elif by_model:
                key = named[2]
            elif when is None:
                key = "(no date)"
            elif when.tzinfo is not None and slot_start <= when < slot_end:
                key = slot_key  # in the slot of the request before
            else:  # the day, week or month: the same for a whole slot (`_local_day`)
                quarter = int(when.timestamp()) // 900
                found = day_keys.get(quarter)
                if found is None:
                    found = day_keys[quarter] = _group_key(options, session, model, when)
                key = slot_key = found
                slot_start = _EARLIEST + timedelta(seconds=quarter * 900)
                slot_end = slot_start + _SLOT
            plan = None
            if request.logged_cost_usd is not None:
                logged.append((key, model, request.logged_cost_usd))
            else:
                day = when.date() if when else None
                speed = request.speed or named[1]
                flat = flats.get((model, day, speed))
                if flat is None:
                    flat = flats[model, day, speed] = table.flat_plan(model, day, speed)
                plan = (
                    flat[1]
                    if flat[0]
                    else table.plan(model, request.usage.prompt_tokens, day, speed)
                )
            grouped = (key, model, plan)
            group = groups.get(grouped)
            if group is None:
                groups[grouped] = [request]
            else:
                group.append(request)
        for (key, model, plan), requests in groups.items():
            row = rows.get(key)
            if row is None:
                row = rows[key] = Bucket()
            summed = _Summed(requests, started)
            row.take(session_id, summed, model, plan is not None)
            if plan is not None:
                to_price = (key, model if split else "", plan)
                total = pending.get(to_price)
                if total is None:
                    total = pending[to_price] = Usage()
                total.add(summed.usage)
            if planned:
                on_plan.add(session_id)
            if split:
                detail = details.setdefault(key, {}).get(model)
                if detail is None:
                    detail = details[key][model] = Bucket()
                detail.take(session_id, summed, model, plan is not None)
        for key, model, cost in logged:  # one by one, as Decimal rounds a sum past 28 digits
            rows[key].cost_usd += cost
            if split:
                details[key][model].cost_usd += cost
    for (key, model, plan), usage in pending.items():
        priced = plan.cost(usage)
        rows[key].cost_usd += priced
        if split:
            details[key][model].cost_usd += priced
    for row in rows.values():
        totals.merge(row)
    result = Result(totals, rows, options.by, warnings, details, options.tz)
    result.on_plan = on_plan
    result.plan_of = {k: v for k, v in plan_of.items() if k in on_plan}
    if memo is not None and memo_key is not None:
        memo.put(memo_key, result, options.tz, _KEPT)
    return result


#: the record types a kept result is made of (see `scan_memo`)
_KEPT: dict[str, type] = {"Result": Result, "Bucket": Bucket}


def _memo(options: Options, table: Any, sessions: Iterable[Session] | None) -> tuple[Any, Any]:
    """The kept results and this scan's key in them, when the scan reads the logs itself
    and depends on nothing but them (`scan_memo`); (None, None) otherwise."""
    if sessions is not None or os.environ.get("COSTLOG_NO_SCAN_MEMO"):
        return None, None
    from costlog.commands import scan_memo

    memo_key = scan_memo.key(options, table, scan_memo.reader_roots(options))
    return (scan_memo.Memo(), memo_key) if memo_key is not None else (None, None)


def _provider_of() -> Callable[[str], str]:
    from costlog.analysis.families import provider_of

    return provider_of


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
    if by in ("model", "provider"):  # `model` is the provider's name for `provider`
        return model
    if by == "agent":
        return session.agent
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


def _plan_name(agent: str, log_name: str) -> str:
    """The plan table's name for a plan a log names (`plus`: ChatGPT Plus), else the name
    as the log wrote it."""
    from costlog.pricing.plans import from_log_name

    info = from_log_name(log_name, agent)
    return info.name if info is not None else f"{agent} plan {log_name!r}"


# ---------------------------------------------------------------- output


def to_json(result: Result) -> str:
    return json.dumps(result.as_json(), indent=2)


def to_csv(result: Result) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    columns = [result.by, *TOTAL_KEYS, "models", "plan", "api_equivalent"]
    writer.writerow(columns)
    for row in result.as_json()["rows"]:
        writer.writerow(
            [
                row[result.by],
                *(row[k] for k in TOTAL_KEYS),
                " ".join(row["models"]),
                row["plan"] or "",
                "true" if row["api_equivalent"] else "false",
            ]
        )
    total = result.totals.as_dict()
    writer.writerow(["TOTAL", *(total[k] for k in TOTAL_KEYS), "", "", ""])
    return out.getvalue()


def to_table(result: Result, view: View = PLAIN) -> str:
    """ccusage's columns: the group, its models (one a line), last activity for a session,
    input, output, cache write, cache read, total tokens, requests, cost; `view.compact`
    keeps the group, models, input, output and cost. Group costs are cents that add up to
    the TOTAL row (largest remainder, ties by key), a cost below a cent shown as such, never
    as $0.00; a lone row reads as the TOTAL does, a session as its own cost."""
    from costlog.money import format_rows_usd, format_usd

    data = result.as_json(table=True)
    rows = data["rows"]
    models = result.by != "model" and not result.details  # a breakdown lists them instead
    session = result.by == "session" and not view.compact
    head = [result.by, *(["models"] if models else []), *(["last activity"] if session else [])]
    head += (
        ["input", "output", "cost"]
        if view.compact
        else ["input", "output", "cache write", "cache read", "total tokens", "requests", "cost"]
    )
    total = result.totals
    amounts = [Decimal(r["cost_usd"]) for r in rows]
    if result.by == "session":  # a session's own cost, as `record` and COST_LOG.md show it
        shown = [format_usd(a) for a in amounts]
    else:  # ties by the group's key, so a row reads the same in either --order
        shown = format_rows_usd(amounts, total.cost_usd, [str(r[result.by]) for r in rows])

    def numbers(row: dict[str, Any], money: str) -> list[str]:
        writes = row["cache_write_5m_tokens"] + row["cache_write_1h_tokens"]
        every = row["input_tokens"] + row["output_tokens"] + row["cache_read_tokens"] + writes
        if row["unpriced_requests"]:
            money += f" +{row['unpriced_requests']} unpriced"
        if view.compact:
            return [f"{row['input_tokens']:,}", f"{row['output_tokens']:,}", money]
        return [
            f"{row['input_tokens']:,}",
            f"{row['output_tokens']:,}",
            f"{writes:,}",
            f"{row['cache_read_tokens']:,}",
            f"{every:,}",
            f"{row['requests']:,}",
            money,
        ]

    body: list[list[str]] = []
    details: dict[int, list[list[str]]] = {}
    for i, (row, money) in enumerate(zip(rows, shown, strict=True)):
        lead = [str(row[result.by])]
        if models:
            lead.append("\n".join(row["models"]))
        if session:
            lead.append(_local_time(row["last_activity"], result.tz))
        body.append(lead + numbers(row, money))
        if "breakdown" in row:
            pad = [""] * (len(lead) - 1)
            details[i] = [
                [m["model"], *pad, *numbers(m, format_usd(Decimal(m["cost_usd"])))]
                for m in row["breakdown"]
            ]
    every = total.as_dict()
    lead = ["TOTAL", *([""] * (len(head) - len(numbers(every, "")) - 1))]
    body.append(lead + numbers(every, format_usd(total.cost_usd)))
    return text_table(head, body, details=details, left=len(lead), view=view)


def _local_time(when: str | None, tz: tzinfo | None) -> str:
    """A session's last activity as people read it: `2026-12-01 14:05` in the zone shown."""
    if not when:
        return "-"
    moment = datetime.fromisoformat(when)
    return (moment.astimezone(tz) if tz else moment).strftime("%Y-%m-%d %H:%M")
