"""Sessions from rollout files: each fact counted once, forks without their replay,
sub-agents rolled into their parent.

A fork (`/fork`, or a sub-agent spawned with the parent's history) starts by re-writing
the parent's lines into its own file with new timestamps; the token numbers still match
the parent's. So each fact belongs to the earliest-started session holding it, and a
fork keeps only what it did itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from costlog.models import Session
from costlog.sources.codex.reader import FALLBACK_MODEL
from costlog.sources.codex.rollout import AGENT, FileData, Head, Key


def _dedupe_owners(files: Sequence[FileData]) -> dict[Key, str]:
    """Each fact (call, prompt, edit, ref) belongs to the earliest-started session holding it."""
    best: dict[Key, tuple[datetime, str]] = {}
    for data in files:
        rank = data.rank
        for key in _keys(data):
            if key not in best or rank < best[key]:
                best[key] = rank
    return {key: rank[1] for key, rank in best.items()}


def _keys(data: FileData) -> Iterator[Key]:
    for facts in (data.calls, data.prompts, data.edits, data.refs):
        for key, _value in facts:
            yield key


def _build(files: Sequence[FileData]) -> list[Session]:
    owners = _dedupe_owners(files)
    sessions: dict[str, Session] = {}
    seen: dict[str, set[Key]] = {}
    for data in sorted(files, key=lambda d: (d.rank, str(d.head.path))):
        sid = data.head.session_id
        session = sessions.get(sid)
        if session is None:
            session = sessions[sid] = _new_session(data)
            seen[sid] = set()
        _merge_file(session, data, owners, seen[sid])
    return _roll_up_subagents(sessions, files)


def _new_session(data: FileData) -> Session:
    head = data.head
    return Session(
        agent=AGENT,
        session_id=head.session_id,
        cwd=head.cwd,
        started=head.started,
        branch=head.branch,
    )


def _owned(
    facts: Iterable[tuple[Key, Any]], sid: str, owners: Mapping[Key, str], seen: set[Key]
) -> Iterator[Any]:
    for key, value in facts:
        if owners.get(key) == sid and key not in seen:
            seen.add(key)
            yield value


def _merge_file(
    session: Session, data: FileData, owners: Mapping[Key, str], seen: set[Key]
) -> None:
    sid = session.session_id
    session.paths.append(str(data.head.path))
    session.requests.extend(_owned(data.calls, sid, owners, seen))
    prompts = list(_owned(data.prompts, sid, owners, seen))
    if session.first_prompt is None and prompts:
        session.first_prompt = prompts[0]
    session.edited_files.update(_owned(data.edits, sid, owners, seen))
    session.tool_output_refs.update(_owned(data.refs, sid, owners, seen))
    session.cwd = session.cwd or data.head.cwd
    session.branch = session.branch or data.head.branch
    if data.ended and (session.ended is None or data.ended > session.ended):
        session.ended = data.ended
    if data.assumed_model:
        session.methods["model"] = f"{FALLBACK_MODEL} assumed: the log names no model"


def _roll_up_subagents(sessions: dict[str, Session], files: Sequence[FileData]) -> list[Session]:
    parents = {d.head.session_id: d.head.parent_thread for d in files if d.head.parent_thread}
    for child_id, parent_id in parents.items():
        parent = sessions.get(parent_id)
        child = sessions.get(child_id)
        if parent is None or child is None or parent is child:
            continue
        for request in child.requests:
            request.subagent = True
        parent.requests.extend(child.requests)
        parent.requests.sort(key=lambda r: r.timestamp or datetime.min.replace(tzinfo=UTC))
        parent.subagents += 1 + child.subagents
        parent.paths.extend(child.paths)
        parent.edited_files |= child.edited_files
        parent.tool_output_refs |= child.tool_output_refs
        parent.methods.update(child.methods)
        if child.ended and (parent.ended is None or child.ended > parent.ended):
            parent.ended = child.ended
        del sessions[child_id]
    return list(sessions.values())


def families(heads: Sequence[Head]) -> list[list[Head]]:
    """Heads grouped so that forks, their parents, sub-agents and copies stay together."""
    group: dict[str, str] = {}

    def find(name: str) -> str:
        while group.setdefault(name, name) != name:
            group[name] = group[group[name]]
            name = group[name]
        return name

    for head in heads:
        for other in (head.forked_from, head.parent_thread):
            if other:
                group[find(other)] = find(head.session_id)
    out: dict[str, list[Head]] = {}
    for head in heads:
        out.setdefault(find(head.session_id), []).append(head)
    return list(out.values())


def sessions_of(files: Sequence[FileData]) -> list[Session]:
    """The sessions these related files hold (files of another format left out), by start."""
    sessions = _build([data for data in files if data.rollout])
    for session in sessions:
        session.started = session.started or min(
            (r.timestamp for r in session.requests if r.timestamp), default=None
        )
    return sorted(
        sessions, key=lambda s: (s.started or datetime.min.replace(tzinfo=UTC), s.session_id)
    )
