"""Joining a Claude Code session with OpenTelemetry `api_request` events.

Each event is joined to the transcript's response on the request id (`request_id` =
`requestId`); where they match, the event's final tokens and Claude Code's logged
`cost_usd` replace the transcript's numbers for that request (which fixes placeholder output
counts exactly). An export without request ids is joined on (model, time within 5 minutes,
equal input + cache tokens) instead, and `methods.otel` says which join was used. Events of
the session (`session.id`) that match no transcript response are auxiliary calls: they were
billed, so they are added as requests of their own, and `methods.residual` reports them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from costlog.models import Request, Session, Usage
from costlog.sources.claude.otel import ApiEvent

#: an event and a transcript response this far apart can still be the same call (the
#: transcript line is written when the response starts, the event when it ends)
JOIN_WINDOW = timedelta(minutes=5)
_EPOCH = datetime.min.replace(tzinfo=UTC)


@dataclass
class _Join:
    by_id: int = 0
    by_shape: int = 0
    extra_output: int = 0
    auxiliary: list[ApiEvent] = field(default_factory=list)


def apply_otel(session: Session, events: Sequence[ApiEvent], lines: list[str]) -> _Join | None:
    """Join, replace, add auxiliary calls, say so. None when nothing matched or was added."""
    join = _Join()
    by_rid: dict[str, list[int]] = {}
    for i, request in enumerate(session.requests):
        if request.request_id:
            by_rid.setdefault(request.request_id, []).append(i)
    taken: set[int] = set()
    pending: list[ApiEvent] = []
    steps: set[int] = set()
    for event in _last_per_request_id(events):
        same_id = by_rid.get(event.request_id or "", [])
        index = _id_match(session.requests, same_id, event, taken)
        if index is not None:
            taken.add(index)
            join.by_id += 1
            # the executor steps of one call split from a line's `usage.iterations[]`: the
            # event holds the whole call, so it replaces all of them (advisors keep theirs)
            more = {
                i for i in same_id if i not in taken and session.requests[i].model == event.model
            }
            join.extra_output -= sum(session.requests[i].usage.output for i in more)
            steps |= more
            taken |= more
            join.extra_output += _replace(session, index, event)
        else:
            pending.append(event)
    if steps:
        session.requests = [r for i, r in enumerate(session.requests) if i not in steps]
        taken = {i - sum(1 for s in steps if s < i) for i in taken - steps}
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
    if event.split:  # the event's own split is final
        c5, c1 = event.usage.cache_write_5m, event.usage.cache_write_1h
    else:
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
    """An older event gives one cache-creation total: keep the transcript's 5m/1h split."""
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
