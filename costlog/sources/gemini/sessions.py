"""Sessions from Gemini CLI chats: each message counted once across files, sub-agents
rolled into their parent."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from costlog.models import Request, Session
from costlog.sources import Warn
from costlog.sources.gemini.chat import AGENT, ChatFile, Message, keep_known, message_usage

UNKNOWN_MODEL = "unknown"
_MIN = datetime.min.replace(tzinfo=UTC)


def _owners(chats: Sequence[ChatFile]) -> dict[str, str]:
    """Message id -> the earliest-started session holding it."""
    best: dict[str, tuple[datetime, str]] = {}
    for chat in chats:
        for message_id in chat.messages:
            if message_id not in best or chat.rank < best[message_id]:
                best[message_id] = chat.rank
    return {mid: rank[1] for mid, rank in best.items()}


def build(chats: Sequence[ChatFile], warn: Warn) -> list[Session]:
    owners = _owners(chats)
    sessions: dict[str, Session] = {}
    merged: dict[str, dict[str, Message]] = {}
    # legacy .json before the .jsonl it was migrated to, so the newer record wins
    for chat in sorted(chats, key=lambda c: (c.rank, c.path.suffix == ".jsonl", str(c.path))):
        sid = chat.session_id
        session = sessions.setdefault(sid, Session(agent=AGENT, session_id=sid))
        _merge_meta(session, chat)
        messages = merged.setdefault(sid, {})
        for key, message in chat.messages.items():
            if owners.get(key) != sid:
                continue
            earlier = messages.get(key)
            if earlier is not None and earlier.kind == message.kind:
                keep_known(message, earlier)  # a later copy without tokens keeps the counted ones
            messages[key] = message
    for sid, session in sessions.items():
        _fill(session, merged[sid].values(), warn)
    return _roll_up(sessions, chats)


def _merge_meta(session: Session, chat: ChatFile) -> None:
    session.paths.append(str(chat.path))
    session.cwd = session.cwd or chat.cwd
    started = chat.started
    if started and (session.started is None or started < session.started):
        session.started = started
    if chat.last and (session.ended is None or chat.last > session.ended):
        session.ended = chat.last


def _fill(session: Session, messages: Iterable[Message], warn: Warn) -> None:
    for message in messages:
        if message.kind == "user" and session.first_prompt is None and message.prompt:
            session.first_prompt = message.prompt
        if message.kind != "gemini":
            continue
        session.edited_files |= message.edits
        session.tool_output_refs |= message.refs
        usage = message_usage(message.tokens, message.where, warn)
        if usage is None:
            continue
        model = message.model
        if model is None:
            warn(f"{message.where}: message names no model, recorded as {UNKNOWN_MODEL!r}")
        session.requests.append(
            Request(
                model=model or UNKNOWN_MODEL,
                usage=usage,
                timestamp=message.timestamp,
                request_id=message.id,
            )
        )
    session.requests.sort(key=lambda r: r.timestamp or _MIN)


def _roll_up(sessions: dict[str, Session], chats: Sequence[ChatFile]) -> list[Session]:
    parents = {c.session_id: c.parent_id for c in chats if c.parent_id}
    for child_id, parent_id in parents.items():
        parent, child = sessions.get(parent_id), sessions.get(child_id)
        if parent is None or child is None or parent is child:
            continue
        for request in child.requests:
            request.subagent = True
        parent.requests = sorted(
            [*parent.requests, *child.requests], key=lambda r: r.timestamp or _MIN
        )
        parent.subagents += 1 + child.subagents
        parent.paths.extend(child.paths)
        parent.edited_files |= child.edited_files
        parent.tool_output_refs |= child.tool_output_refs
        if child.ended and (parent.ended is None or child.ended > parent.ended):
            parent.ended = child.ended
        del sessions[child_id]
    return sorted(sessions.values(), key=lambda s: (s.started or _MIN, s.session_id))
