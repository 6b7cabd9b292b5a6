"""One Gemini CLI chat file: its messages (the last record of an id wins, keeping what an
earlier record knew and it lacks) and their usage.

A `.jsonl` chat is a log of changes: whole messages re-appended when they change,
`$set` metadata updates, `$rewindTo` truncations (ignored: rewound calls were billed).
A legacy `.json` chat is one document, read whole.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from costlog.models import Usage
from costlog.safefs import read_regular
from costlog.sources import Warn
from costlog.sources._lines import iter_json_lines
from costlog.sources._tools import absolute, commit_refs, is_git_commit
from costlog.sources._usage import token_count
from costlog.timeutil import log_time, parse_log_time

# tuples, not sets: `x in` must work for any JSON value (a list is unhashable)
_EDIT_TOOLS = ("write_file", "replace", "edit", "smart_edit")
_SHELL_TOOLS = ("run_shell_command",)
_FAILED = ("error", "cancelled")
AGENT = "gemini"
_MAX = datetime.max.replace(tzinfo=UTC)


@dataclass(slots=True)
class Message:
    """The parts of one message record costlog needs (the record itself is not kept)."""

    id: str
    kind: str
    where: str
    timestamp: datetime | None = None
    model: str | None = None
    tokens: object = None
    prompt: str | None = None
    edits: set[str] = field(default_factory=set)
    refs: set[str] = field(default_factory=set)


@dataclass(slots=True)
class ChatFile:
    path: Path
    project_dir: Path
    meta: dict[str, Any] = field(default_factory=dict)
    messages: dict[str, Message] = field(default_factory=dict)
    cwd: str | None = None
    last: datetime | None = None

    @property
    def session_id(self) -> str:
        sid = self.meta.get("sessionId")
        return sid if isinstance(sid, str) and sid else self.path.stem

    @property
    def parent_id(self) -> str | None:
        """The parent session of a sub-agent chat (`chats/<parent id>/<id>.jsonl`)."""
        if self.meta.get("kind") == "subagent" and self.path.parent.name != "chats":
            return self.path.parent.name
        return None

    @property
    def started(self) -> datetime | None:
        start = parse_log_time(self.meta.get("startTime"))
        if start is None:
            start = min((m.timestamp for m in self.messages.values() if m.timestamp), default=None)
        return start

    @property
    def rank(self) -> tuple[datetime, str]:
        return (self.started or _MAX, self.session_id)


# ------------------------------------------------------------------ reading one file


class _Reader:
    """Reads one chat file into its ChatFile."""

    def __init__(self, chat: ChatFile, warn: Warn) -> None:
        self.chat = chat
        self.warn = warn

    def run(self) -> ChatFile:
        if self.chat.path.suffix == ".json":
            self._legacy()
        else:
            self._lines()
        self._touch(parse_log_time(self.chat.meta.get("lastUpdated")))
        return self.chat

    def _legacy(self) -> None:
        path = self.chat.path
        try:
            record = json.loads(read_regular(path))  # a regular file, within a time bound
        except OSError as exc:
            self.warn(f"{path}: cannot read: {exc.strerror or exc}")
            return
        except (ValueError, RecursionError):  # RecursionError: deep nesting
            self.warn(f"{path}:1: corrupt or truncated chat file (not JSON), skipped")
            return
        if not isinstance(record, dict) or not isinstance(record.get("messages"), list):
            self.warn(f"{path}:1: not a Gemini CLI chat file, skipped")
            return
        self._set(record, f"{path}:1")

    def _lines(self) -> None:
        """The records of a JSON-lines chat. Lines of another kind in a chat are each
        named; a file with no chat record at all (another agent's log) is named once."""
        foreign: list[str] = []
        chat = False
        for number, record in iter_json_lines(self.chat.path, self.warn):
            where = f"{self.chat.path}:{number}"
            if self._record(record, where):
                if not chat:
                    chat = True
                    for line in foreign:
                        self.warn(f"{line}: not a Gemini CLI chat record, skipped")
            elif chat:
                self.warn(f"{where}: not a Gemini CLI chat record, skipped")
            else:
                foreign.append(where)
        if foreign and not chat:
            n = len(foreign)
            self.warn(
                f"{foreign[0]}: not a Gemini CLI chat file ({n} line{'s' if n != 1 else ''} "
                "of another kind from here on), skipped"
            )

    def _record(self, record: dict[str, Any], where: str) -> bool:
        """Reads one record; False when it is not a chat record."""
        if isinstance(record.get("$rewindTo"), str):
            return True  # hidden from the chat, but those calls were billed: keep them
        if isinstance(record.get("id"), str):
            self._message(record, where)
        elif isinstance(record.get("$set"), dict):
            self._set(record["$set"], where)
        elif isinstance(record.get("sessionId"), str):
            self._set(record, where)
        else:
            return False
        return True

    def _set(self, values: Mapping[str, Any], where: str) -> None:
        for name, value in values.items():
            if name == "messages":
                for message in value if isinstance(value, list) else []:
                    if isinstance(message, dict) and isinstance(message.get("id"), str):
                        self._message(message, where)
            elif name == "startTime" and _later(value, self.chat.meta.get(name)):
                # a resume within the same minute appends to the same file and writes a
                # second metadata line: the session began at the first one
                continue
            else:
                self.chat.meta[name] = value

    def _message(self, record: Mapping[str, Any], where: str) -> None:
        message = Message(
            id=record["id"],
            kind=str(record.get("type") or ""),
            where=where,
            timestamp=log_time(record.get("timestamp"), where, self.warn),
        )
        self._touch(message.timestamp)
        if message.kind == "gemini":
            model = record.get("model")
            message.model = model if isinstance(model, str) and model else None
            message.tokens = record.get("tokens")
            problems: list[str] = []
            if message_usage(message.tokens, where, problems.append) is None and problems:
                # a corrupt update costs only itself: the message's last good record stays
                for problem in problems:
                    self.warn(problem)
                return
            self._tools(message, record.get("toolCalls"))
        elif message.kind == "user":
            message.prompt = _text(record.get("displayContent")) or _text(record.get("content"))
        earlier = self.chat.messages.get(message.id)
        if earlier is not None and earlier.kind == message.kind:
            keep_known(message, earlier)
        self.chat.messages[message.id] = message  # last record of an id wins, see keep_known

    def _tools(self, message: Message, calls: object) -> None:
        for call in calls if isinstance(calls, list) else []:
            if not isinstance(call, dict) or call.get("status") in _FAILED:
                continue
            raw_args = call.get("args")
            args: dict[str, Any] = raw_args if isinstance(raw_args, dict) else {}
            name = call.get("name")
            if name in _EDIT_TOOLS:
                path = args.get("file_path") or args.get("path")
                if isinstance(path, str) and path:
                    message.edits.add(absolute(path, self.chat.cwd))
            elif name in _SHELL_TOOLS and is_git_commit(str(args.get("command") or "")):
                output = "\n".join(_strings([call.get("result"), call.get("resultDisplay")]))
                message.refs |= commit_refs(output)

    def _touch(self, when: datetime | None) -> None:
        if when and (self.chat.last is None or when > self.chat.last):
            self.chat.last = when


def keep_known(message: Message, earlier: Message) -> None:
    """Fill `message` (a later record of the same id) with what `earlier` knew and it lacks.

    A resume rewrites the whole history as a `$set.messages` whose copies carry no tokens,
    tool calls or model and are stamped with the time of the resume; taking them as they
    are loses those requests and shifts the session, so the earlier facts stay.
    """
    if message.tokens is None:
        message.tokens = earlier.tokens
        message.where = earlier.where  # warnings about those tokens name the line they are on
    message.model = message.model or earlier.model
    message.prompt = message.prompt or earlier.prompt
    message.edits |= earlier.edits
    message.refs |= earlier.refs
    if earlier.timestamp and (message.timestamp is None or earlier.timestamp < message.timestamp):
        message.timestamp = earlier.timestamp


def _later(value: object, current: object) -> bool:
    """True when the time `value` is after the time `current` (both as the log writes them)."""
    new, old = parse_log_time(value), parse_log_time(current)
    return new is not None and old is not None and new > old


def _strings(value: object) -> Iterator[str]:
    """Every string inside a JSON value (tool results nest them in parts and responses)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)


def _text(content: object) -> str | None:
    if isinstance(content, str):
        text = content
    elif isinstance(content, list):
        text = "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    else:
        return None
    text = text.strip()
    return text if text and not text.startswith("<") else None  # <session_context> etc.


def message_usage(tokens: object, where: str, warn: Warn) -> Usage | None:
    """The Usage of one `tokens` summary, or None (warned when a count is bad)."""
    if tokens is None:
        return None
    if not isinstance(tokens, dict):
        warn(f"{where}: tokens is not an object, not counted")
        return None
    counts: dict[str, int] = {}
    for name in ("input", "output", "cached", "thoughts", "tool"):
        raw = tokens.get(name, 0)
        count = token_count(0 if raw is None else raw)
        if count is None:
            warn(f"{where}: invalid tokens.{name} {raw!r}, message not counted")
            return None
        counts[name] = count
    cached = counts["cached"]
    if cached > counts["input"]:
        warn(f"{where}: tokens.cached exceeds tokens.input, clamped")
        cached = counts["input"]
    usage = Usage(
        input=counts["input"] - cached + counts["tool"],
        cache_read=cached,
        output=counts["output"] + counts["thoughts"],
        reasoning=counts["thoughts"],
    )
    return usage if usage.total else None


def read_chat(chat: ChatFile, warn: Warn) -> ChatFile:
    """`chat` filled from its file; every problem warned as `path:line: reason`."""
    return _Reader(chat, warn).run()
