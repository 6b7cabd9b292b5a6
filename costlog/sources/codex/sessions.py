"""Sessions from rollout files: each fact counted once, forks without their replay,
sub-agents rolled into their parent.

A fork (`/fork`, or a sub-agent spawned with the parent's history) starts by re-writing
the parent's lines into its own file with new timestamps; the token numbers still match
the parent's. So each fact belongs to the earliest-started session holding it, and a
fork keeps only what it did itself.

The replay is also known from the fork's file alone, for when the parent's file is gone
or was never on this machine: a file whose `session_meta` names a parent
(`forked_from_id`, or `source.subagent.thread_spawn.parent_thread_id`) starts with the
replayed rows, all written within a second of that `session_meta`, before any call of its
own (which takes a model turn). Those leading calls are the parent's, never counted here,
and so are the prompts, edits and commit output replayed with them;
their running totals still set the baseline the fork's own total-only rows step from. A fork
by Codex 0.171 and later copies nothing (`history_base`, `forked_from_ordinal_exclusive`
name where the parent's history ends): every call in it is its own, and as its running
total starts from the parent's, only `last_token_usage` is counted from it.

Files that start at the same instant are copies of one another (a copied rollout, a
branch of a history that keeps the original lines): they are read as one family, so an
event both hold counts once.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from costlog.models import Request, Session
from costlog.sources.codex import limits
from costlog.sources.codex.reader import FALLBACK_MODEL
from costlog.sources.codex.rollout import AGENT, FileData, Head, Key, Mark


def _dedupe_owners(files: Sequence[FileData]) -> dict[Key, str]:
    """Each fact (call, prompt, edit, ref) belongs to the earliest-started session holding it."""
    best: dict[Key, tuple[datetime, str]] = {}
    for data in files:
        rank = data.rank
        for key in _keys(data):
            if key not in best or rank < best[key]:
                best[key] = rank
    return {key: rank[1] for key, rank in best.items()}


#: how soon after a fork's `session_meta` its replayed parent rows are written
REPLAY_WINDOW = timedelta(seconds=1)


def _replays(data: FileData) -> bool:
    """Whether the file starts with a copy of a parent's lines (module docstring)."""
    head = data.head
    # a fork that points at the parent's history instead of copying it replays nothing
    return (
        bool(head.forked_from or head.parent_thread)
        and head.started is not None
        and (head.copies_history)
    )


def _in_window(data: FileData, when: datetime | None) -> bool:
    start = data.head.started
    return when is not None and start is not None and timedelta(0) <= when - start < REPLAY_WINDOW


def _replayed_calls(data: FileData) -> int:
    """How many of the file's leading calls are its parent's replayed history: those timed
    within REPLAY_WINDOW of its `session_meta`."""
    if not _replays(data):
        return 0
    replayed = 0
    for _key, request in data.calls:
        if not _in_window(data, request.timestamp):
            break
        replayed += 1
    return replayed


def own_calls(data: FileData) -> list[tuple[Key, Request]]:
    """The file's calls without a fork's or sub-agent's replayed parent history."""
    return data.calls[_replayed_calls(data) :]


def own_facts(
    data: FileData, facts: Sequence[tuple[Key, Any]], marks: Sequence[Mark]
) -> list[tuple[Key, Any]]:
    """The prompts, edits or refs (`facts`, with their `marks`) the file holds of its own:
    a fork's replay also copies its parent's prompts, edits and commit output, which are the
    parent's even when the parent's file is not here. A fact read before the last replayed
    call is replayed; one read after it, before the fork's first call of its own, is when
    its line is timed within the replay window."""
    replayed = _replayed_calls(data)
    if not _replays(data) or len(marks) != len(facts):
        return list(facts)
    return [
        fact
        for fact, (calls, when) in zip(facts, marks, strict=True)
        if not (calls < replayed or (calls == replayed and _in_window(data, when)))
    ]


def _own_prompts(data: FileData) -> list[tuple[Key, str]]:
    return own_facts(data, data.prompts, data.prompt_marks)


def _own_edits(data: FileData) -> list[tuple[Key, str]]:
    return own_facts(data, data.edits, data.edit_marks)


def _own_refs(data: FileData) -> list[tuple[Key, str]]:
    return own_facts(data, data.refs, data.ref_marks)


def _keys(data: FileData) -> Iterator[Key]:
    for facts in (own_calls(data), _own_prompts(data), _own_edits(data), _own_refs(data)):
        for key, _value in facts:
            yield key
    for snap in data.limits:
        yield limits.key_of(snap)


def _build(files: Sequence[FileData]) -> list[Session]:
    # a file alone owns every fact it holds: only its repeats are left out (`_owned`)
    owners = _dedupe_owners(files) if len(files) > 1 else None
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
    facts: Iterable[tuple[Key, Any]], sid: str, owners: Mapping[Key, str] | None, seen: set[Key]
) -> Iterator[Any]:
    """The facts `sid` owns (all, for `owners` None: a file read alone), each key once."""
    for key, value in facts:
        if key not in seen and (owners is None or owners.get(key) == sid):
            seen.add(key)
            yield value


def _merge_file(
    session: Session, data: FileData, owners: Mapping[Key, str] | None, seen: set[Key]
) -> None:
    sid = session.session_id
    session.paths.append(str(data.head.path))
    session.requests.extend(_owned(own_calls(data), sid, owners, seen))
    prompts = list(_owned(_own_prompts(data), sid, owners, seen))
    if session.first_prompt is None and prompts:
        session.first_prompt = prompts[0]
    session.edited_files.update(_owned(_own_edits(data), sid, owners, seen))
    session.tool_output_refs.update(_owned(_own_refs(data), sid, owners, seen))
    reports = ((limits.key_of(snap), snap) for snap in data.limits)
    session.rate_limits = limits.summarize(_owned(reports, sid, owners, seen), session.rate_limits)
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
        parent.rate_limits = limits.merge(parent.rate_limits, child.rate_limits)
        if child.ended and (parent.ended is None or child.ended > parent.ended):
            parent.ended = child.ended
        del sessions[child_id]
    return list(sessions.values())


def families(heads: Sequence[Head]) -> list[list[Head]]:
    """Heads grouped so that forks, their parents, sub-agents and copies stay together
    (a copy: the same session id, or the same first instant)."""
    group: dict[str, str] = {}

    def find(name: str) -> str:
        while group.setdefault(name, name) != name:
            group[name] = group[group[name]]
            name = group[name]
        return name

    first: dict[datetime, str] = {}
    for head in heads:
        for other in (head.forked_from, head.parent_thread):
            if other:
                group[find(other)] = find(head.session_id)
        if head.started is not None:
            twin = first.setdefault(head.started, head.session_id)
            if twin != head.session_id:
                group[find(twin)] = find(head.session_id)
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
