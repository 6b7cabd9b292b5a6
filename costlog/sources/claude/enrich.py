"""Reconcile a Claude Code session read from its transcript with better local sources.

A transcript is a lower bound of the bill: older versions log placeholder output counts, and
no version shows Claude Code's auxiliary calls (titles, summaries, classifiers), advisor
sub-usage or sub-agent responses whose final count was never written. Two local sources
know better, and costlog uses them when it finds them (README paragraph):

1. **OpenTelemetry `api_request` events** exported to a file (`--otel FILE`, config
   `claude_otel_file`, or `COSTLOG_OTEL_FILE`): exact per-request tokens and cost. Each
   event is joined to the transcript's response on the request id (`request_id` =
   `requestId`); where they match, the event's final tokens and Claude Code's logged
   `cost_usd` replace the transcript's numbers for that request (which fixes placeholder
   output counts exactly). An export without request ids is joined on (model, time within
   5 minutes, equal input + cache tokens) instead, and `methods.otel` says which join was
   used. Events of the session (`session.id`) that match no transcript response are
   auxiliary calls: they were billed, so they are added as requests of their own, and
   `methods.residual` reports them ("OTel: 14 auxiliary requests, $0.0213, not in the
   transcript (added)").
2. **`~/.claude.json`** `projects[cwd].lastModelUsage`, Claude Code's own per-model totals
   for the project's *last* session, used only when its `lastSessionId` is this session.
   When the transcript has responses without a final output count (and OTel did not fix
   them), the state file's output total for that model is preferred: the part not already
   logged is spread over those responses in proportion to the content estimate (still
   marked estimated per response; `methods.output` says so). Then the per-model totals
   are compared with what costlog computed, and any difference (tokens and $ by model) is
   reported in `methods.state_residual` and as one line of `costlog record`'s output. It
   is reported, not added: it is what the transcript cannot show (auxiliary calls,
   advisor, lost sub-agent finals).

Nothing changes silently: every number taken from these sources is named in `methods`, and
with neither source the session is returned untouched. Only numbers, ids and model names
are read; no prompt or event text is kept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from costlog.models import Request, Session, Usage
from costlog.sources.claude.otel import ApiEvent
from costlog.sources.claude.state import LastSession, ModelTotals

if TYPE_CHECKING:
    from costlog.pricing.table import PriceTable

AGENT = "claude-code"
#: an event and a transcript response this far apart can still be the same call (the
#: transcript line is written when the response starts, the event when it ends)
JOIN_WINDOW = timedelta(minutes=5)
ENV_OTEL = "COSTLOG_OTEL_FILE"
_EPOCH = datetime.min.replace(tzinfo=UTC)
#: a model-name normaliser (the price table's canonical name, else the name)
_Key = Callable[[str], str]


@dataclass
class Reconciled:
    session: Session
    #: one line per residual found, for the `record` output
    lines: list[str] = field(default_factory=list)
    #: OTel events of the session that no transcript response matched (added as requests)
    auxiliary: list[ApiEvent] = field(default_factory=list)


def reconcile(
    session: Session,
    *,
    events: Iterable[ApiEvent] = (),
    state: LastSession | None = None,
    table: PriceTable | None = None,
) -> Reconciled:
    """The session corrected by the OTel events and the state file (a copy; the input is
    not changed), and the residual lines."""
    out = replace(
        session,
        requests=[_copy(r) for r in session.requests],
        methods=dict(session.methods),
        warnings=list(session.warnings),
    )
    lines: list[str] = []
    mine = [e for e in events if e.session_id in (None, session.session_id)]
    join = _apply_otel(out, mine, lines) if mine else None
    if state is not None and state.session_id == session.session_id:
        _apply_state(out, state, table, fix_output=join is None, lines=lines)
    return Reconciled(out, lines, join.auxiliary if join else [])


def _copy(request: Request) -> Request:
    return replace(request, usage=replace(request.usage))


# ---------------------------------------------------------------- OpenTelemetry


@dataclass
class _Join:
    by_id: int = 0
    by_shape: int = 0
    extra_output: int = 0
    auxiliary: list[ApiEvent] = field(default_factory=list)


def _apply_otel(session: Session, events: Sequence[ApiEvent], lines: list[str]) -> _Join | None:
    """Join, replace, add auxiliary calls, say so. None when nothing matched or was added."""
    join = _Join()
    by_rid: dict[str, list[int]] = {}
    for i, request in enumerate(session.requests):
        if request.request_id:
            by_rid.setdefault(request.request_id, []).append(i)
    taken: set[int] = set()
    pending: list[ApiEvent] = []
    for event in _last_per_request_id(events):
        index = _id_match(session.requests, by_rid.get(event.request_id or "", []), event, taken)
        if index is not None:
            taken.add(index)
            join.by_id += 1
            join.extra_output += _replace(session, index, event)
        else:
            pending.append(event)
    for event in pending:
        index = _shape_match(session.requests, event, taken) if not event.request_id else None
        if index is not None:
            taken.add(index)
            join.by_shape += 1
            join.extra_output += _replace(session, index, event)
        elif event.session_id == session.session_id:
            join.auxiliary.append(event)
    if not taken and not join.auxiliary:
        return None
    _add_auxiliary(session, join.auxiliary)
    _describe_otel(session, join, len(taken), lines)
    return join


def _last_per_request_id(events: Sequence[ApiEvent]) -> list[ApiEvent]:
    """One event per request id (the last one, as a retry's success comes last)."""
    last: dict[str, int] = {}
    for index, event in enumerate(events):
        if event.request_id:
            last[event.request_id] = index
    return [e for i, e in enumerate(events) if not e.request_id or last[e.request_id] == i]


def _id_match(
    requests: Sequence[Request], indices: Sequence[int], event: ApiEvent, taken: set[int]
) -> int | None:
    """The request with the event's request id: the one of the event's model first (an
    advisor call logged in `usage.iterations[]` shares its executor's request id)."""
    free = [i for i in indices if i not in taken]
    same = [i for i in free if requests[i].model == event.model]
    chosen = same or free
    return chosen[0] if chosen else None


def _shape_match(requests: Sequence[Request], event: ApiEvent, taken: set[int]) -> int | None:
    """The nearest untaken request of the same model and prompt size within the window."""
    if event.timestamp is None:
        return None
    best: tuple[timedelta, int] | None = None
    for index, request in enumerate(requests):
        if index in taken or request.timestamp is None or request.model != event.model:
            continue
        if request.usage.prompt_tokens != event.usage.prompt_tokens:
            continue
        gap = abs(request.timestamp - event.timestamp)
        if gap <= JOIN_WINDOW and (best is None or gap < best[0]):
            best = (gap, index)
    return None if best is None else best[1]


def _replace(session: Session, index: int, event: ApiEvent) -> int:
    """Put the event's numbers on the request; returns how much output it added."""
    old = session.requests[index]
    c5, c1 = _cache_split(old.usage, event.usage.cache_write_5m)
    new = event.usage.output
    session.requests[index] = replace(
        old,
        usage=Usage(
            event.usage.input, new, event.usage.cache_read, c5, c1, min(old.usage.reasoning, new)
        ),
        source="actual",
        estimated_output=0,
        speed=old.speed or _speed(event.speed),
        logged_cost_usd=event.cost_usd if event.cost_usd is not None else old.logged_cost_usd,
    )
    return new - old.usage.output


def _cache_split(old: Usage, total: int) -> tuple[int, int]:
    """The event gives one cache-creation total: keep the transcript's 5m/1h split."""
    if old.cache_write_5m + old.cache_write_1h == total:
        return old.cache_write_5m, old.cache_write_1h
    one_hour = min(old.cache_write_1h, total)
    return total - one_hour, one_hour


def _speed(value: str | None) -> str | None:
    return {"fast": "fast", "normal": "standard"}.get(value or "")


def _add_auxiliary(session: Session, events: Sequence[ApiEvent]) -> None:
    for event in events:
        session.requests.append(
            Request(
                model=event.model,
                usage=replace(event.usage),
                timestamp=event.timestamp,
                source="actual",
                speed=_speed(event.speed),
                request_id=event.request_id,
                logged_cost_usd=event.cost_usd,
            )
        )
        if event.timestamp is not None:
            if session.started is None or event.timestamp < session.started:
                session.started = event.timestamp
            if session.ended is None or event.timestamp > session.ended:
                session.ended = event.timestamp
    session.requests.sort(key=lambda r: (r.timestamp is None, r.timestamp or _EPOCH))


def _describe_otel(session: Session, join: _Join, matched: int, lines: list[str]) -> None:
    transcript = len(session.requests) - len(join.auxiliary)
    how = []
    if join.by_id:
        how.append(f"{join.by_id} joined on request id")
    if join.by_shape:
        how.append(
            f"{join.by_shape} joined on model, time and prompt tokens (the export "
            "has no request ids)"
        )
    text = (
        f"{matched} of {transcript} transcript requests take their tokens and cost from "
        f"OpenTelemetry api_request events ({'; '.join(how) or 'none joined'})"
    )
    if join.extra_output:
        text += f"; output {join.extra_output:+,} tokens against the transcript"
    if matched < transcript:
        text += f"; {transcript - matched} had no event and keep the transcript's numbers"
    session.methods["otel"] = text
    if not any(r.estimated_output for r in session.requests):
        session.methods.pop("output", None)
    if join.auxiliary:
        cost = sum((e.cost_usd or Decimal(0) for e in join.auxiliary), Decimal(0))
        unpriced = sum(1 for e in join.auxiliary if e.cost_usd is None)
        money = f"${cost:.4f}" + (f" (+{unpriced} without a logged cost)" if unpriced else "")
        residual = (
            f"OTel: {len(join.auxiliary)} auxiliary request"
            f"{'s' if len(join.auxiliary) != 1 else ''}, {money}, not in the "
            "transcript (added)"
        )
        session.methods["residual"] = residual
        lines.append(residual)


# ---------------------------------------------------------------- ~/.claude.json


def _apply_state(
    session: Session,
    state: LastSession,
    table: PriceTable | None,
    *,
    fix_output: bool,
    lines: list[str],
) -> None:
    key = _keyer(table) if state.models else _everything
    theirs = _their_totals(state, key)
    if fix_output:
        fixed = {m: _fill_output(session, m, t.usage.output, key) for m, t in theirs.items()}
        done = {m: n for m, n in fixed.items() if n}
        if done:
            session.methods["output"] = _fill_note(done, session)
    parts = _residual_parts(session, theirs, key, table)
    if parts:
        text = (
            "~/.claude.json (Claude Code's own totals for this session) minus this "
            "record: " + "; ".join(parts) + " (auxiliary calls, advisor, lost sub-agent "
            "finals; reported, not added)"
        )
        session.methods["state_residual"] = text
        lines.append(text)


#: the name of the one group compared when the state file has no per-model totals
ALL_MODELS = "all models"


def _everything(_name: str) -> str:
    return ALL_MODELS


def _their_totals(state: LastSession, key: _Key) -> dict[str, ModelTotals]:
    """The state's totals per (normalised) model; the session totals (`lastTotal*`,
    `lastCost`) as one group when an older Claude Code wrote no `lastModelUsage`."""
    if not state.models:
        return {ALL_MODELS: ModelTotals(usage=replace(state.usage), cost_usd=state.cost_usd)}
    out: dict[str, ModelTotals] = {}
    for name, totals in state.models.items():
        seen = out.get(key(name))
        if seen is None:
            out[key(name)] = totals
            continue
        usage = replace(seen.usage)
        usage.add(totals.usage)
        cost = (
            None
            if seen.cost_usd is None or totals.cost_usd is None
            else seen.cost_usd + totals.cost_usd
        )
        out[key(name)] = ModelTotals(usage=usage, cost_usd=cost)
    return out


def _keyer(table: PriceTable | None) -> _Key:
    def key(name: str) -> str:
        return (table.canonical(name) if table is not None else None) or name

    return key


def _fill_output(session: Session, model: str, total: int, key: _Key) -> int:
    """Spread the state's output total for `model` over its placeholder responses; returns
    how many responses changed (0 when there are none or the total is too small)."""
    mine = [r for r in session.requests if key(r.model) == model]
    placeholders = [r for r in mine if r.estimated_output > 0]
    if not placeholders:
        return 0
    final = sum(r.usage.output for r in mine if r.estimated_output == 0)
    logged = [r.usage.output - r.estimated_output for r in placeholders]
    spare = total - final - sum(logged)
    if spare < 0:
        return 0
    weights = [max(r.usage.output, 1) for r in placeholders]
    whole = sum(weights)
    given = 0
    for i, request in enumerate(placeholders):
        share = spare - given if i == len(placeholders) - 1 else spare * weights[i] // whole
        given += share
        request.usage.output = logged[i] + share
        request.estimated_output = share
    return len(placeholders)


def _fill_note(done: Mapping[str, int], session: Session) -> str:
    count = sum(done.values())
    return (
        f"{count} of {len(session.requests)} responses logged only a placeholder output "
        f"count; the output totals of {', '.join(sorted(done))} are Claude Code's own "
        "(~/.claude.json lastModelUsage, which also counts auxiliary calls), spread over "
        "those responses in proportion to the content estimate; the part above the "
        "logged counts stays marked estimated"
    )


def _residual_parts(
    session: Session, theirs: Mapping[str, ModelTotals], key: _Key, table: PriceTable | None
) -> list[str]:
    ours_usage: dict[str, Usage] = {}
    for request in session.requests:
        ours_usage.setdefault(key(request.model), Usage()).add(request.usage)
    ours_cost = _costs(session.requests, key, table)
    parts = []
    for model in sorted(set(ours_usage) | set(theirs)):
        totals = theirs.get(model)
        their_usage = totals.usage if totals is not None else Usage()
        their_cost = totals.cost_usd if totals is not None else Decimal(0)
        our_cost = ours_cost.get(model) if model in ours_usage else Decimal(0)
        part = _diff(their_usage, ours_usage.get(model, Usage()), their_cost, our_cost)
        if part:
            parts.append(f"{model}: {part}")
    return parts


def _costs(
    requests: Sequence[Request], key: _Key, table: PriceTable | None
) -> dict[str, Decimal | None]:
    if table is None:
        return {}
    from costlog.pricing.table import price_requests

    models, _total, _rules = price_requests(requests, table)
    out: dict[str, Decimal | None] = {}
    for name, mu in models.items():
        group = key(name)
        before = out.get(group, Decimal(0))
        out[group] = None if before is None or mu.cost_usd is None else before + mu.cost_usd
    return out


def _diff(theirs: Usage, ours: Usage, their_cost: Decimal | None, our_cost: Decimal | None) -> str:
    kinds = (
        ("input", theirs.input - ours.input),
        ("output", theirs.output - ours.output),
        ("cache read", theirs.cache_read - ours.cache_read),
        (
            "cache write",
            theirs.cache_write_5m
            + theirs.cache_write_1h
            - ours.cache_write_5m
            - ours.cache_write_1h,
        ),
    )
    bits = [f"{name} {delta:+,}" for name, delta in kinds if delta]
    if their_cost is not None and our_cost is not None:
        money = their_cost - our_cost
        if abs(money) >= Decimal("0.00005"):
            bits.append(f"{'+' if money > 0 else '-'}${abs(money):.4f}")
    return ", ".join(bits)


# ---------------------------------------------------------------- finding the sources


def otel_file(
    explicit: Path | None, configured: str, env: Mapping[str, str], root: Path, home: Path
) -> Path | None:
    """The OTel export to use: --otel, else COSTLOG_OTEL_FILE, else config
    `claude_otel_file` (relative to the repo root; `~/` is the home directory)."""
    if explicit is not None:
        return explicit
    value = (env.get(ENV_OTEL) or configured or "").strip()
    if not value:
        return None
    path = home / value[2:] if value.startswith("~/") else Path(value)
    return path if path.is_absolute() else root / path


def report_lines(methods: Mapping[str, str]) -> list[str]:
    """The residual lines a recorded entry's methods hold, for the `record` output."""
    return [f"residual: {methods[k]}" for k in ("residual", "state_residual") if k in methods]


# ---------------------------------------------------------------- applying it


@dataclass(frozen=True, slots=True)
class Sources:
    """The better sources found for `costlog record`."""

    otel: Path | None = None
    #: Claude Code's global config file (`~/.claude.json`), when it exists
    state: Path | None = None


def find_sources(
    *, explicit_otel: Path | None, configured_otel: str, env: Mapping[str, str], root: Path
) -> Sources:
    from costlog.sources.claude.state import find_state

    home = Path(env.get("HOME") or Path.home())
    return Sources(
        otel=otel_file(explicit_otel, configured_otel, env, root, home), state=find_state(env, home)
    )


def apply(
    session: Session, sources: Sources, table: PriceTable | None, warn: Callable[[str], None]
) -> Reconciled:
    """Reconcile one Claude Code session with whatever `sources` has (other agents'
    sessions, and a session with no better source, come back unchanged)."""
    from costlog.sources.claude.otel import read_events
    from costlog.sources.claude.state import last_session

    if session.agent != AGENT or (sources.otel is None and sources.state is None):
        return Reconciled(session)
    events: list[ApiEvent] = []
    if sources.otel is not None:
        ids = {r.request_id for r in session.requests if r.request_id}
        events = [
            e
            for e in read_events(sources.otel, warn, sessions={session.session_id})
            if e.session_id is not None or e.request_id in ids
        ]
    state = (
        last_session(sources.state, session.cwd, warn)
        if sources.state is not None and session.cwd
        else None
    )
    if not events and state is None:
        return Reconciled(session)
    return reconcile(session, events=events, state=state, table=table)


def with_otel(
    sessions: Iterable[Session], path: Path, table: PriceTable | None, warn: Callable[[str], None]
) -> Iterator[Session]:
    """`costlog scan --otel FILE`: each Claude Code session joined with its events (the
    file is read once); one summary line of the auxiliary calls added goes to `warn`."""
    from costlog.sources.claude.otel import read_events

    added, cost, touched = 0, Decimal(0), 0

    by_session: dict[str, list[ApiEvent]] = {}
    by_request: dict[str, ApiEvent] = {}
    for event in read_events(path, warn):
        if event.session_id is not None:
            by_session.setdefault(event.session_id, []).append(event)
        elif event.request_id:
            by_request[event.request_id] = event
    for session in sessions:
        if session.agent != AGENT:
            yield session
            continue
        events = by_session.get(session.session_id, []) + [
            by_request[r.request_id]
            for r in session.requests
            if r.request_id and r.request_id in by_request
        ]
        if not events:
            yield session
            continue
        result = reconcile(session, events=events, table=table)
        if result.auxiliary:
            added, touched = added + len(result.auxiliary), touched + 1
            cost += sum((e.cost_usd or Decimal(0) for e in result.auxiliary), Decimal(0))
        yield result.session
    if added:
        warn(
            f"OTel: {added} auxiliary requests in {touched} session"
            f"{'s' if touched != 1 else ''}, ${cost:.4f}, not in the transcripts (added)"
        )
