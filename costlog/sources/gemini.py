"""Gemini CLI: read `~/.gemini/tmp/<project>/chats/session-*.jsonl` (and legacy `.json`).

The chat recording is a log of changes, and the rules applied follow how Gemini CLI itself
reads it back (`chatRecordingService.ts`):

* **Records.** Line 1 is metadata (`sessionId`, `projectHash`, `startTime`, `kind`). Later
  lines are whole messages, re-appended each time a message changes (same `id`: **the last
  one wins**), `{"$set": {...}}` metadata updates (which may carry a whole `messages`
  list), and `{"$rewindTo": id}` truncations.
* **Rewound calls still count.** `/rewind` hides messages from the conversation, but those
  API calls were made and billed, so every `gemini` message ever written is counted once.
* **One request per `gemini` message with `tokens`.** Gemini's `promptTokenCount`
  (`tokens.input`) includes the cached part (`tokens.cached`), so `input = input - cached`
  and cached goes to `cache_read`. Thinking tokens (`tokens.thoughts`) are billed as output
  and are *not* in `tokens.output`, so `output = output + thoughts` and `reasoning =
  thoughts`. Tool-use prompt tokens (`tokens.tool`) are outside `input` and billed as
  input, so they are added to `input`. A message without `tokens` counts nothing.
* **Messages are counted once across files.** A legacy `.json` chat is copied whole into a
  new `.jsonl` when resumed, and the old file stays; a message id belongs to the
  earliest-started session that holds it.
* **Sub-agents roll up.** `chats/<parent session id>/<id>.jsonl` (`kind: "subagent"`) is
  read into the parent session (requests marked `subagent`, counted in `subagents`) when
  the parent is present.
* **Project directory.** The chats do not log the cwd. `<project>` is a slug whose owner is
  written in `<project>/.project_root` and in `~/.gemini/projects.json`; older directories
  are named by `sha256(project root)`, as is `projectHash`, so the root is recovered by
  hashing known paths (the registry's and the `--project` being scanned).
* **Robust reading.** `.jsonl` files are streamed line by line; a corrupt or truncated
  line, or a token count that is negative, fractional, not a number or absurdly large, is
  reported as `path:line: reason` and skipped. Legacy `.json` files are one JSON document
  and are read whole.
* **Locations.** `GEMINI_DATA_DIR` (ccusage's override) if set, else
  `$GEMINI_CLI_HOME/.gemini/tmp` (Gemini CLI's own override of the home), else
  `~/.gemini/tmp`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from costlog.models import Request, Session, Usage
from costlog.safefs import check_log, read_regular
from costlog.sources import cwd_inside, in_scope
from costlog.sources.codex import (
    MAX_CALL_TOKENS,
    Warn,
    absolute,
    commit_refs,
    is_git_commit,
    iter_json_lines,
    token_count,
)
from costlog.timeutil import log_time, parse_log_time

AGENT = "gemini"
UNKNOWN_MODEL = "unknown"
# tuples, not sets: `x in` must work for any JSON value (a list is unhashable)
_EDIT_TOOLS = ("write_file", "replace", "edit", "smart_edit")
_SHELL_TOOLS = ("run_shell_command",)
_FAILED = ("error", "cancelled")
_MAX = datetime.max.replace(tzinfo=UTC)
_MIN = datetime.min.replace(tzinfo=UTC)


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
    def __init__(self, chat: ChatFile, warn: Warn) -> None:
        self.chat = chat
        self.warn = warn

    def run(self) -> ChatFile:
        if self.chat.path.suffix == ".json":
            self._legacy()
        else:
            for number, record in iter_json_lines(self.chat.path, self.warn):
                self._record(record, f"{self.chat.path}:{number}")
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

    def _record(self, record: dict[str, Any], where: str) -> None:
        if isinstance(record.get("$rewindTo"), str):
            return  # hidden from the chat, but those calls were billed: keep them
        if isinstance(record.get("id"), str):
            self._message(record, where)
        elif isinstance(record.get("$set"), dict):
            self._set(record["$set"], where)
        elif isinstance(record.get("sessionId"), str):
            self._set(record, where)
        else:
            self.warn(f"{where}: not a Gemini CLI chat record, skipped")

    def _set(self, values: Mapping[str, Any], where: str) -> None:
        for name, value in values.items():
            if name == "messages":
                for message in value if isinstance(value, list) else []:
                    if isinstance(message, dict) and isinstance(message.get("id"), str):
                        self._message(message, where)
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
        self.chat.messages[message.id] = message  # last record of an id wins

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


# ------------------------------------------------------------------ usage


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
        count = token_count(0 if raw is None else raw, MAX_CALL_TOKENS)
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


# ------------------------------------------------------------------ project directories


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class Projects:
    """Maps a `tmp/<project>` directory (slug or hash) back to the project root."""

    def __init__(self, tmp_dirs: Iterable[Path], hint: Path | None) -> None:
        self.known: dict[str, str] = {}  # slug or sha256 -> root
        candidates: list[str] = []
        for tmp in tmp_dirs:
            for root, slug in _registry(tmp.parent / "projects.json").items():
                self.known.setdefault(slug, root)
                candidates.append(root)
        if hint is not None:
            candidates.append(str(hint))
        for root in candidates:
            self.known.setdefault(sha256_hex(root), root)

    def root(self, project_dir: Path, project_hash: object) -> str | None:
        marker = project_dir / ".project_root"
        try:
            owner = read_regular(marker, limit=1 << 16).decode("utf-8").strip()
        except (OSError, UnicodeDecodeError):
            owner = ""
        if owner:
            return owner
        found = self.known.get(project_dir.name)
        if found is None and isinstance(project_hash, str):
            found = self.known.get(project_hash)
        return found


def _registry(path: Path) -> dict[str, str]:
    """`~/.gemini/projects.json`: {"projects": {"/abs/path": "slug"}}."""
    try:
        data = json.loads(read_regular(path))
    except (OSError, ValueError, RecursionError):
        return {}
    projects = data.get("projects") if isinstance(data, dict) else None
    if not isinstance(projects, dict):
        return {}
    return {str(k): v for k, v in projects.items() if isinstance(v, str)}


# ------------------------------------------------------------------ discovery


def _tmp_dirs(root: Path) -> list[Path]:
    """The `tmp` directories (holding `<project>/chats/`) that `root` names or contains."""
    for tmp in (root / "tmp", root / ".gemini" / "tmp"):  # a ~/.gemini or a home
        if tmp.is_dir():
            return [tmp]
    return [root]


def chat_files(roots: Sequence[Path], warn: Warn | None = None) -> Iterator[tuple[Path, Path]]:
    """(chat file, its project directory) under `roots` (a data dir, a project dir, a file).
    One named like a chat file that is not a regular file (a FIFO, a link to a device) is
    left out, with a warning through `warn`."""
    seen: set[Path] = set()
    for root in roots:
        for path, project_dir in _chat_files_of(root, warn or (lambda _m: None)):
            if path.resolve() not in seen:
                seen.add(path.resolve())
                yield path, project_dir


def _chat_files_of(root: Path, warn: Warn) -> Iterator[tuple[Path, Path]]:
    if root.is_file():
        chats = next((p for p in root.parents if p.name == "chats"), root.parent)
        yield root, chats.parent
        # its sub-agents, in chats/<full session id>/ (the file name has the first 8 chars)
        short = root.stem.rsplit("-", 1)[-1]
        if root.parent == chats and root.name.startswith("session-") and len(short) == 8:
            for sub in sorted(chats.glob(f"{short}*/*.jsonl")):
                yield sub, chats.parent
        return
    if root.exists() and not root.is_dir():
        check_log(root, warn)  # a FIFO or device given by name: say why it is not read
        return
    if root.name == "chats":
        chat_dirs = [root]
    elif (root / "chats").is_dir():
        chat_dirs = [root / "chats"]
    else:
        chat_dirs = [d for tmp in _tmp_dirs(root) for d in sorted(tmp.glob("*/chats"))]
    for chats in chat_dirs:
        for path in sorted(chats.rglob("*.json*")):
            if path.suffix in (".json", ".jsonl") and not path.is_dir() and check_log(path, warn):
                yield path, chats.parent


# ------------------------------------------------------------------ assembling sessions


def _owners(chats: Sequence[ChatFile]) -> dict[str, str]:
    """Message id -> the earliest-started session holding it."""
    best: dict[str, tuple[datetime, str]] = {}
    for chat in chats:
        for message_id in chat.messages:
            if message_id not in best or chat.rank < best[message_id]:
                best[message_id] = chat.rank
    return {mid: rank[1] for mid, rank in best.items()}


def _build(chats: Sequence[ChatFile], warn: Warn) -> list[Session]:
    owners = _owners(chats)
    sessions: dict[str, Session] = {}
    merged: dict[str, dict[str, Message]] = {}
    # legacy .json before the .jsonl it was migrated to, so the newer record wins
    for chat in sorted(chats, key=lambda c: (c.rank, c.path.suffix == ".jsonl", str(c.path))):
        sid = chat.session_id
        session = sessions.setdefault(sid, Session(agent=AGENT, session_id=sid))
        _merge_meta(session, chat)
        messages = merged.setdefault(sid, {})
        messages.update((k, m) for k, m in chat.messages.items() if owners.get(k) == sid)
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


# ------------------------------------------------------------------ the adapter


def _recent(path: Path, since: datetime | None) -> bool:
    if since is None:
        return True
    try:
        return datetime.fromtimestamp(path.stat().st_mtime, UTC) >= since
    except OSError:
        return False


def _read(
    roots: Sequence[Path], project: Path | None, since: datetime | None, warn: Warn
) -> list[Session]:
    found = list(chat_files(roots, warn))
    projects = Projects({d.parent for _p, d in found}, project)
    chats = []
    for path, project_dir in found:
        cwd = projects.root(project_dir, None)
        if not _recent(path, since) or (cwd is not None and not cwd_inside(cwd, project)):
            continue
        chat = _Reader(ChatFile(path=path, project_dir=project_dir, cwd=cwd), warn).run()
        if not chat.meta and not chat.messages:
            continue  # nothing in it was a chat record (each line was warned)
        chat.cwd = chat.cwd or projects.root(project_dir, chat.meta.get("projectHash"))
        chat.cwd = chat.cwd or _first_directory(chat.meta.get("directories"))
        chats.append(chat)
    return _build(chats, warn)


def _first_directory(directories: object) -> str | None:
    if isinstance(directories, list) and directories and isinstance(directories[0], str):
        return directories[0]
    return None


def _named(files: Iterable[tuple[Path, Path]], session_id: str) -> list[Path]:
    """The files that can hold `session_id`: `session-<time>-<first 8 of id>.json(l)`, its
    sub-agents in `chats/<id>/`, and for a sub-agent `<parent>/<id>.jsonl` its parent's."""
    paths = [p for p, _d in files]
    ids = {session_id}
    ids |= {p.parent.name for p in paths if p.stem == session_id and p.parent.name != "chats"}
    return [p for p in paths if any(i[:8] in p.name or p.parent.name == i for i in ids)]


class GeminiAdapter:
    name = AGENT

    def default_roots(self, env: Mapping[str, str], home: Path) -> list[Path]:
        if env.get("GEMINI_DATA_DIR"):
            return [Path(env["GEMINI_DATA_DIR"]).expanduser()]
        base = Path(env["GEMINI_CLI_HOME"]).expanduser() if env.get("GEMINI_CLI_HOME") else home
        return [base / ".gemini" / "tmp"]

    def scan(
        self,
        roots: Sequence[Path],
        *,
        project: Path | None = None,
        since: datetime | None = None,
        warn: Warn,
    ) -> Iterator[Session]:
        for session in _read(roots, project, since, warn):
            if in_scope(session, project, since):
                yield session

    def find_session(self, roots: Sequence[Path], session_id: str, *, warn: Warn) -> Session | None:
        named = _named(chat_files(roots), session_id)
        held: list[str] = []
        sessions = _read(named, None, None, held.append) if named else []
        if any(s.session_id == session_id for s in sessions):
            for message in held:
                warn(message)
        else:
            sessions = _read(roots, None, None, warn)
        for session in sessions:
            if session.session_id == session_id:
                return session
        # a sub-agent's id finds the parent it was rolled into
        for session in sessions:
            if any(Path(p).stem == session_id for p in session.paths):
                return session
        return None


ADAPTER = GeminiAdapter()
