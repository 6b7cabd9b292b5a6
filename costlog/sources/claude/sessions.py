"""Sessions from the per-file states: each response counted once, owned by one session.

Duplicates across lines and files are counted once: `progress` lines (a parent's mirror of
a sub-agent's messages); a resumed session's replay of earlier lines into a new file (the
call stays with the session that made it, i.e. the file that ended first; ccusage gives it
to the first path in sort order); and `/btw` asides that replay a message under a new
`requestId` as a sidechain (the main-thread copy is kept). A session's `methods.output` says
how many of its responses logged only a placeholder output count.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import attrgetter
from typing import Any

from costlog.models import Session
from costlog.sources.claude.discovery import LogFile
from costlog.sources.claude.filestate import FileState
from costlog.sources.claude.output_estimate import CLAUDE_OUTPUT_METHOD
from costlog.sources.claude.responses import Response
from costlog.timeutil import from_epoch

AGENT = "claude-code"
_EPOCH = datetime.min.replace(tzinfo=UTC)
_BY_TIME = attrgetter("timestamp")

#: a response's identity over all files: (message id, request id), else (path, index)
_Key = tuple[str, Any]


@dataclass
class Part:
    """One transcript file and what it contributes."""

    log: LogFile
    state: FileState


def build_sessions(parts: Iterable[Part]) -> list[Session]:
    """Sessions (sorted by start) from per-file states."""
    ordered = sorted(parts, key=_order)
    merger = _Merger()
    for part in ordered:
        merger.add(part)
    sessions: dict[str, Session] = {}
    agents: dict[str, set[str]] = {}
    for part in ordered:
        sid = part.log.session_id
        session = sessions.setdefault(sid, Session(agent=AGENT, session_id=sid))
        replayed = str(part.log.path) in merger.replayed
        agents.setdefault(sid, set()).update(_session_meta(session, part, replayed))
    placeholders: dict[str, int] = {}
    owner = merger.owner
    requests_of = {sid: session.requests for sid, session in sessions.items()}
    for key, response in merger.responses.items():  # ~45k in a big scan: kept lean
        sid = owner[key]
        if response.steps is None:  # one request (what `to_requests` returns then)
            requests_of[sid].append(response.to_request())
        else:
            requests_of[sid].extend(response.to_requests())
        if not response.final:
            placeholders[sid] = placeholders.get(sid, 0) + 1
    for sid, session in sessions.items():
        session.subagents = len(agents[sid])
        _finish(session, placeholders.get(sid, 0))
    return sorted(sessions.values(), key=lambda s: (s.started or _EPOCH, s.session_id))


def _order(part: Part) -> tuple[float, str]:
    """Files that ended first come first: they keep the calls a later file replays."""
    state = part.state
    end = state.last_ts if state.last_ts is not None else float("inf")
    return end, str(part.log.path)


class _Merger:
    """Counts each response once over all files, and decides which session owns it."""

    def __init__(self) -> None:
        self.responses: dict[_Key, Response] = {}
        self.owner: dict[_Key, str] = {}
        self.by_mid: dict[str, _Key] = {}
        #: files whose responses were partly already seen elsewhere (resumed sessions)
        self.replayed: set[str] = set()

    def add(self, part: Part) -> None:
        sid = part.log.session_id
        path = str(part.log.path)
        responses, owner, by_mid = self.responses, self.owner, self.by_mid
        for i, response in enumerate(part.state.all_responses()):
            mid = response.message_id
            key: _Key = (mid, response.request_id) if mid else (path, i)
            kept = responses.get(key)
            if kept is not None:
                responses[key] = kept.merged(response)
                if owner[key] != sid:
                    self.replayed.add(path)
                continue
            other_key = by_mid.get(mid) if mid else None
            if other_key is not None and mid:
                other = responses[other_key]
                if other.sidechain or response.sidechain:
                    self._btw(mid, other_key, other, key, response, sid)
                    continue
            responses[key] = response
            owner[key] = sid
            if mid:
                by_mid[mid] = key

    def _btw(
        self, mid: str, other_key: _Key, other: Response, key: _Key, response: Response, sid: str
    ) -> None:
        """A `/btw` aside replays a message under a new requestId as a sidechain."""
        if other.sidechain != response.sidechain:
            take_new = other.sidechain  # keep the main-thread copy
        else:
            take_new = response.total() > other.total()
        if take_new:
            del self.responses[other_key]
            del self.owner[other_key]
            self.responses[key] = response
            self.owner[key] = sid
            self.by_mid[mid] = key


def _session_meta(session: Session, part: Part, replayed: bool) -> set[str]:
    """Fold one file's cwd, branch, times and attribution into its session; returns the
    sub-agent ids the file shows."""
    state = part.state
    session.paths.append(str(part.log.path))
    session.warnings.extend(state.warnings)
    agents = set(state.agent_ids)
    if part.log.subagent:
        stem = part.log.path.stem
        agents.add(stem.removeprefix("agent-"))
    else:
        if (state.cwd and not replayed) or session.cwd is None:
            session.cwd = state.cwd or session.cwd
        if state.branch:
            session.branch = state.branch
        if state.first_prompt and session.first_prompt is None:
            session.first_prompt = state.first_prompt
    if session.cwd is None and state.cwd:
        session.cwd = state.cwd
    session.tool_output_refs |= state.refs
    session.edited_files |= state.edited
    # from_epoch: a cache written before times were range-checked may hold year 1
    when = None if state.first_ts is None or replayed else from_epoch(state.first_ts)
    if when is not None:
        session.started = min(session.started, when) if session.started else when
    when = None if state.last_ts is None else from_epoch(state.last_ts)
    if when is not None:
        session.ended = max(session.ended, when) if session.ended else when
    return agents


def _finish(session: Session, placeholders: int) -> None:
    """Requests in time order (untimed last); the session spans them all."""
    requests = session.requests
    stamps = [r.timestamp for r in requests if r.timestamp is not None]
    stamps.sort()
    if len(stamps) == len(requests):
        requests.sort(key=_BY_TIME)
    else:
        requests.sort(key=lambda r: (r.timestamp is None, r.timestamp or _EPOCH))
    if stamps:
        if session.started is None or stamps[0] < session.started:
            session.started = stamps[0]
        if session.ended is None or stamps[-1] > session.ended:
            session.ended = stamps[-1]
    if placeholders:
        session.methods["output"] = (
            f"{placeholders} of {len(session.requests)} responses "
            f"logged only a placeholder output count; used "
            f"{CLAUDE_OUTPUT_METHOD}"
        )
