"""Reconcile a Claude Code session read from its transcript with better local sources.

A transcript is a lower bound of the bill: older versions log placeholder output counts, and
no version shows Claude Code's auxiliary calls (titles, summaries, classifiers), advisor
sub-usage or sub-agent responses whose final count was never written. Two local sources
know better, and costlog uses them when it finds them (the README's "Better local sources
for Claude Code"; the joins themselves are in `enrich_otel` and `enrich_state`):

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

3. **`cost-state` lines** of the transcript itself (Claude Code 2.1.332 and later): its own
   running totals, title and summary calls included (`coststate`). After the OTel join,
   what they count beyond the session is added once as auxiliary usage with its cache
   split (`methods.auxiliary`); the `~/.claude.json` residual is then not reported again.

Nothing changes silently: every number taken from these sources is named in `methods`, and
with neither source the session is returned untouched. Only numbers, ids and model names
are read; no prompt or event text is kept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from costlog.models import Request, Session
from costlog.sources.claude.coststate import CostState, apply_cost_state, read_cost_state
from costlog.sources.claude.enrich_otel import apply_otel
from costlog.sources.claude.enrich_state import apply_state
from costlog.sources.claude.otel import ApiEvent
from costlog.sources.claude.state import LastSession

if TYPE_CHECKING:
    from costlog.pricing.table import PriceTable

AGENT = "claude-code"
ENV_OTEL = "COSTLOG_OTEL_FILE"


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
    cost_state: CostState | None = None,
) -> Reconciled:
    """The session corrected by the OTel events, the transcript's own cost-state totals and
    the state file (a copy; the input is not changed), and the residual lines."""
    out = replace(
        session,
        requests=[_copy(r) for r in session.requests],
        methods=dict(session.methods),
        warnings=list(session.warnings),
    )
    lines: list[str] = []
    mine = [e for e in events if e.session_id in (None, session.session_id)]
    join = apply_otel(out, mine, lines) if mine else None
    counted = cost_state is not None and apply_cost_state(out, cost_state, table, lines)
    if state is not None and state.session_id == session.session_id and not counted:
        # with the cost-state added, the state file would report the same calls again
        apply_state(out, state, table, fix_output=join is None, lines=lines)
    return Reconciled(out, lines, join.auxiliary if join else [])


def _copy(request: Request) -> Request:
    return replace(request, usage=replace(request.usage))


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
    keys = ("residual", "auxiliary", "state_residual")
    return [f"residual: {methods[k]}" for k in keys if k in methods]


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

    if session.agent != AGENT:
        return Reconciled(session)
    cost_state = read_cost_state(session.paths, session.session_id, warn)
    if sources.otel is None and sources.state is None and cost_state is None:
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
    if not events and state is None and cost_state is None:
        return Reconciled(session)
    return reconcile(session, events=events, state=state, table=table, cost_state=cost_state)


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
