"""OpenCode (sst/opencode): `opencode.db` SQLite, and the older JSON-file storage.

Where: `$OPENCODE_DATA_DIR`, else `${XDG_DATA_HOME:-~/.local/share}/opencode`, holding
`opencode.db` (and `opencode-*.db`) and, from older versions, `storage/`. Databases
are opened read-only (`mode=ro` URI) so a running OpenCode is not disturbed.

Tables (as OpenCode's session schema defines them): `session(id, parent_id,
directory, time_created, ...)`, `message(id, session_id, time_created, data)` and
`part(id, message_id, session_id, time_created, data)`; `data` is the JSON of the
record minus its ids. Legacy storage keeps the same records as files:
`storage/session/<project>/<id>.json`, `storage/message/<session>/<id>.json`,
`storage/part/<message>/<id>.json`. A message id found in a database is not read again
from JSON.

Counting rules:
* One request per `step-finish` part (one model call each). OpenCode's processor ADDS
  each step's cost to the assistant message but OVERWRITES the message's `tokens` with
  the last step's, so a multi-step message's own `tokens` undercount. Only a message
  without step-finish parts is counted from its own `tokens` / `cost`.
* `tokens.input` excludes the cache (OpenCode subtracts cache read and write from the
  SDK's input), `cache.read` -> cache_read, `cache.write` -> cache_write_5m.
* Output: newer OpenCode stores `output = outputTokens - reasoning`, older stored the
  SDK's `outputTokens` (which holds reasoning); its own cost formula bills `output +
  reasoning` at the output rate in both. When `tokens.total` is logged it decides which
  (total - prompt is the full output); otherwise output + reasoning, as OpenCode bills.
* `cost` (USD, float) -> logged_cost_usd when > 0 (0 means OpenCode had no price, e.g. a
  subscription provider, not a free call). Steps/messages with no tokens and no cost
  (aborted before usage) are skipped. Bad counts skip that record with a warning.
* Model: `modelID`. Session: the message's `session_id`; cwd = session `directory`, else
  the assistant's `path.cwd`. A child session (`parent_id`, a subagent task) is folded
  into its root session: its requests are `subagent=True` and the root's `subagents`
  counts it.
* Attribution (`opencode_parts`): the commits its `bash` tool parts made, the files its
  edit tools changed, and the first prompt (in memory only), a child's with its root's.

`$OPENCODE_DB` names the database OpenCode uses instead of `<data dir>/opencode.db` (a
relative name is inside the data dir, as OpenCode resolves it; `:memory:` keeps nothing on
disk, so there is nothing to read). All roots of one scan are read into one store, so a
database reached twice (by `$OPENCODE_DB` and through its folder) is read once.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from costlog.models import Request, Session, Usage
from costlog.safefs import check_log, read_regular
from costlog.sources import Warn, covers, span
from costlog.sources._sqlite import columns, open_readonly
from costlog.sources._usage import BadUsage, count
from costlog.sources.opencode_parts import TOOL_LIKE, Facts, prompt_text, tool_part
from costlog.timeutil import log_time

DB_GLOB = "opencode*.db"


def opencode_usage(tokens: Mapping[str, Any]) -> Usage:
    """A message's or step's `tokens` object in costlog's semantics."""
    usage = Usage(
        input=count(tokens, "input"),
        cache_read=count(tokens, "cache", "read"),
        cache_write_5m=count(tokens, "cache", "write"),
        reasoning=count(tokens, "reasoning"),
    )
    output = count(tokens, "output")
    usage.output = output + usage.reasoning
    if tokens.get("total") is not None:
        full_output = count(tokens, "total") - usage.prompt_tokens
        if full_output == output:
            usage.output = output
    return usage


def _cost(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if value < 0:
        raise BadUsage(f"cost is negative: {value}")
    if value != value or value == float("inf"):  # NaN, Infinity, 1e400
        raise BadUsage(f"cost is not a finite number: {value}")
    return Decimal(str(value)) if value > 0 else None


@dataclass
class _Message:
    id: str
    session_id: str
    data: dict[str, Any]
    where: str
    steps: list[tuple[str, dict[str, Any], str]] = field(default_factory=list)


@dataclass
class _Store:
    """Everything read from one data dir: sessions' facts and assistant messages."""

    warn: Warn
    directories: dict[str, str] = field(default_factory=dict)
    parents: dict[str, str] = field(default_factory=dict)
    messages: dict[str, _Message] = field(default_factory=dict)
    paths: dict[str, set[str]] = field(default_factory=dict)
    #: per session: commits its tools made, files they edited (in memory only)
    facts: dict[str, Facts] = field(default_factory=dict)
    #: per session: its first user message (time, id), and that message's prompt text
    first_user: dict[str, tuple[float, str]] = field(default_factory=dict)
    prompts: dict[str, str] = field(default_factory=dict)
    #: the database files read, resolved: one reached by two roots is read once
    read: set[Path] = field(default_factory=set)
    #: first user message id -> its session (built from `first_user` when parts are read)
    _firsts: dict[str, str] | None = None

    def session_info(self, sid: str, directory: Any, parent: Any) -> None:
        if isinstance(directory, str) and directory:
            self.directories.setdefault(sid, directory)
        if isinstance(parent, str) and parent:
            self.parents.setdefault(sid, parent)

    def message(self, mid: str, sid: str, data: Any, where: str, source: str) -> None:
        if mid in self.messages or data is None:  # None: unreadable, already warned
            return
        if not isinstance(data, dict):
            self.warn(f"{where}: message data is not a JSON object")
            return
        if data.get("role") == "assistant":
            self.messages[mid] = _Message(mid, sid, data, where)
            self.paths.setdefault(sid, set()).add(source)
        elif data.get("role") == "user":
            time = data.get("time")
            created = time.get("created") if isinstance(time, dict) else None
            key = (float(created) if isinstance(created, int | float) else 0.0, mid)
            if sid not in self.first_user or key < self.first_user[sid]:
                self.first_user[sid] = key
                self._firsts = None

    def step(self, mid: str, pid: str, data: Any, where: str) -> None:
        """One part: a step's usage, a tool's commit or edit, a first prompt's text."""
        if not isinstance(data, dict):
            return
        message = self.messages.get(mid)
        if message is None:
            self._user_part(mid, data)
        elif data.get("type") == "tool":
            facts = self.facts.setdefault(message.session_id, Facts())
            tool_part(data, facts, self.directories.get(message.session_id))
        elif data.get("type") == "step-finish" and all(pid != s for s, _, _ in message.steps):
            message.steps.append((pid, data, where))

    def _user_part(self, mid: str, data: dict[str, Any]) -> None:
        if self._firsts is None:  # messages are all read before their parts
            self._firsts = {first: sid for sid, (_, first) in self.first_user.items()}
        sid = self._firsts.get(mid)
        if sid is not None and sid not in self.prompts:
            text = prompt_text(data)
            if text is not None:
                self.prompts[sid] = text

    def first_user_ids(self) -> list[str]:
        return [mid for _, mid in self.first_user.values()]


def _loads(text: Any, where: str, warn: Warn) -> Any:
    if not isinstance(text, str | bytes):
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: deep nesting
        warn(f"{where}: bad JSON")
        return None


# -- SQLite ---------------------------------------------------------------------------


def _read_db(path: Path, store: _Store) -> None:
    try:
        resolved = path.resolve()
    except OSError:
        resolved = path
    if resolved in store.read:
        return
    store.read.add(resolved)
    try:
        with closing(open_readonly(path)) as db:
            _db_sessions(db, store)
            _db_messages(db, path, store)
            if "data" in columns(db, "part"):
                _db_parts(db, path, store)
    except sqlite3.Error as exc:
        store.warn(f"{path}: not a readable OpenCode database: {exc}")


def _db_sessions(db: sqlite3.Connection, store: _Store) -> None:
    have = columns(db, "session")
    if "id" not in have:
        return
    wanted = [c if c in have else f"NULL AS {c}" for c in ("id", "directory", "parent_id")]
    for row in db.execute(f"SELECT {', '.join(wanted)} FROM session"):
        store.session_info(row["id"], row["directory"], row["parent_id"])


def _db_messages(db: sqlite3.Connection, path: Path, store: _Store) -> None:
    if not {"id", "session_id", "data"} <= columns(db, "message"):
        return
    for row in db.execute("SELECT id, session_id, data FROM message ORDER BY session_id, id"):
        where = f"{path}:message:{row['id']}"
        store.message(
            row["id"], row["session_id"], _loads(row["data"], where, store.warn), where, str(path)
        )


def _db_parts(db: sqlite3.Connection, path: Path, store: _Store) -> None:
    likes = " OR ".join("data LIKE ?" for _ in TOOL_LIKE)
    sql = f"SELECT id, message_id, data FROM part WHERE data LIKE '%step-finish%' OR {likes}"
    for row in db.execute(sql + " ORDER BY id", TOOL_LIKE):
        if row["message_id"] in store.messages:
            where = f"{path}:part:{row['id']}"
            store.step(row["message_id"], row["id"], _loads(row["data"], where, store.warn), where)
    firsts = store.first_user_ids()
    for start in range(0, len(firsts), 500):  # SQLite's limit on bound parameters
        chunk = firsts[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        rows = db.execute(
            "SELECT id, message_id, data FROM part WHERE message_id IN "
            f"({marks}) AND data LIKE '%\"text\"%' ORDER BY id",
            chunk,
        )
        for row in rows:
            where = f"{path}:part:{row['id']}"
            store.step(row["message_id"], row["id"], _loads(row["data"], where, store.warn), where)


# -- legacy JSON storage --------------------------------------------------------------


def _json_files(folder: Path) -> Iterator[Path]:
    if folder.is_dir():
        yield from sorted(folder.rglob("*.json"))


def _read_storage(storage: Path, store: _Store) -> None:
    for file in _json_files(storage / "session"):
        info = _loads(_text(file, store), str(file), store.warn)
        if isinstance(info, dict) and isinstance(info.get("id"), str):
            store.session_info(info["id"], info.get("directory"), info.get("parentID"))
    for file in _json_files(storage / "message"):
        data = _loads(_text(file, store), str(file), store.warn)
        if isinstance(data, dict):
            mid = data.get("id") or file.stem
            sid = data.get("sessionID") or file.parent.name
            store.message(str(mid), str(sid), data, str(file), str(file))
    for file in _json_files(storage / "part"):
        data = _loads(_text(file, store), str(file), store.warn)
        if isinstance(data, dict):
            mid = data.get("messageID") or file.parent.name
            store.step(str(mid), str(data.get("id") or file.stem), data, str(file))


def _text(file: Path, store: _Store) -> str | None:
    try:  # a regular file only, read within a time bound
        return read_regular(file).decode("utf-8", errors="replace")
    except OSError as exc:
        store.warn(f"{file}: cannot read: {exc.strerror or exc}")
        return None


# -- assembling sessions --------------------------------------------------------------


def _request(
    message: _Message, rid: str, data: Mapping[str, Any], where: str, warn: Warn
) -> Request | None:
    tokens = data.get("tokens")
    try:
        if not isinstance(tokens, Mapping):
            raise BadUsage("no tokens object")
        usage = opencode_usage(tokens)
        cost = _cost(data.get("cost"))
    except BadUsage as exc:
        warn(f"{where}: {exc}")
        return None
    if usage.total == 0 and cost is None:
        return None
    model = message.data.get("modelID")
    return Request(
        model=model if isinstance(model, str) and model else "unknown",
        usage=usage,
        request_id=rid,
        logged_cost_usd=cost,
        timestamp=_message_time(message, warn),
    )


def _message_time(message: _Message, warn: Warn) -> datetime | None:
    time = message.data.get("time")
    return log_time(time.get("created"), message.where, warn) if isinstance(time, Mapping) else None


def _requests(message: _Message, warn: Warn) -> list[Request]:
    if not message.steps:
        one = _request(message, message.id, message.data, message.where, warn)
        return [one] if one else []
    steps = (_request(message, pid, data, where, warn) for pid, data, where in message.steps)
    return [step for step in steps if step is not None]


def _root(store: _Store, sid: str) -> str:
    seen = {sid}
    while sid in store.parents and store.parents[sid] not in seen:
        parent = store.parents[sid]
        if parent not in store.paths and parent not in store.directories:
            break
        seen.add(parent)
        sid = parent
    return sid


def _sessions(store: _Store) -> list[Session]:
    sessions: dict[str, Session] = {}
    children: dict[str, set[str]] = {}
    for message in store.messages.values():
        _facts(store, message.session_id, sessions, _root(store, message.session_id))
        root = _root(store, message.session_id)
        session = sessions.get(root)
        if session is None:
            session = sessions[root] = Session(
                agent="opencode", session_id=root, cwd=store.directories.get(root)
            )
        requests = _requests(message, store.warn)
        if root != message.session_id:
            children.setdefault(root, set()).add(message.session_id)
            for request in requests:
                request.subagent = True
        session.requests.extend(requests)
        _fill_cwd(session, message)
        for source in sorted(store.paths.get(message.session_id, ())):
            if source not in session.paths:
                session.paths.append(source)
    for root, session in sessions.items():
        session.subagents = len(children.get(root, ()))
        session.requests.sort(key=lambda r: (r.timestamp is None, r.timestamp))
        span(session)
    return [s for s in sessions.values() if s.requests]


def _facts(store: _Store, sid: str, sessions: dict[str, Session], root: str) -> None:
    """Hand one session's attribution facts to its root session (once per session)."""
    facts = store.facts.pop(sid, None)
    prompt = store.prompts.pop(sid, None) if sid == root else None
    if facts is None and prompt is None:
        return
    session = sessions.get(root)
    if session is None:
        session = sessions[root] = Session(
            agent="opencode", session_id=root, cwd=store.directories.get(root)
        )
    if facts is not None:
        session.tool_output_refs |= facts.refs
        session.edited_files |= facts.edited
    if prompt is not None and session.first_prompt is None:
        session.first_prompt = prompt


def _fill_cwd(session: Session, message: _Message) -> None:
    path = message.data.get("path")
    if session.cwd is None and isinstance(path, Mapping) and isinstance(path.get("cwd"), str):
        session.cwd = path["cwd"]


def _stores(roots: Sequence[Path], warn: Warn) -> Iterator[_Store]:
    store = _Store(warn=warn)
    for root in roots:
        if root.is_file():
            _read_db(root, store)
        elif root.exists() and not root.is_dir():
            check_log(root, warn)  # a FIFO or a device: SQLite would block or spin on it
        elif root.is_dir():
            for db in sorted(root.glob(DB_GLOB)):
                if check_log(db, warn):  # SQLite would block on a FIFO
                    _read_db(db, store)
            storage = root if (root / "message").is_dir() else root / "storage"
            _read_storage(storage, store)
    yield store


class OpenCodeAdapter:
    name = "opencode"

    def default_roots(self, env: Mapping[str, str], home: Path) -> list[Path]:
        """`$OPENCODE_DB` (when set), then the data dir: `$OPENCODE_DATA_DIR`, else
        `${XDG_DATA_HOME:-~/.local/share}/opencode`."""
        if env.get("OPENCODE_DATA_DIR"):
            folder = Path(env["OPENCODE_DATA_DIR"]).expanduser()
        else:
            data = (
                Path(env["XDG_DATA_HOME"])
                if env.get("XDG_DATA_HOME")
                else home / ".local" / "share"
            )
            folder = data / "opencode"
        named = env.get("OPENCODE_DB", "").strip()
        if not named or named == ":memory:":
            return [folder]
        return [folder / Path(named).expanduser(), folder]  # an absolute name stays as it is

    def scan(
        self,
        roots: Sequence[Path],
        *,
        project: Path | None = None,
        since: datetime | None = None,
        warn: Warn,
    ) -> Iterator[Session]:
        for store in _stores(roots, warn):
            for session in _sessions(store):
                if covers(session, since):
                    yield session

    def find_session(self, roots: Sequence[Path], session_id: str, *, warn: Warn) -> Session | None:
        for store in _stores(roots, warn):
            for session in _sessions(store):
                if session.session_id == session_id:
                    return session
        return None


ADAPTER = OpenCodeAdapter()
