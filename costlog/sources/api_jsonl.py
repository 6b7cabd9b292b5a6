"""Generic JSONL of raw model-API responses or stream events (`--agent api`).

Each line is one JSON object: a whole response, a stream event, a bare usage object, or
a wrapper `{"timestamp": ..., "session": ..., "response": {...}}` around one of those.
It is the escape hatch for home-made agents that log what the provider returned.

Usage semantics differ per provider (FORMATS.md §7, PRICING.md §1.2); costlog's `input`
always EXCLUDES cached input, so each shape is normalised here:

* OpenAI Chat Completions `usage.prompt_tokens` INCLUDES `prompt_tokens_details.
  cached_tokens` -> input = prompt - cached, cache_read = cached; `completion_tokens`
  already includes `completion_tokens_details.reasoning_tokens` (kept as `reasoning`).
* OpenAI Responses `usage.input_tokens` includes `input_tokens_details.cached_tokens`,
  `output_tokens` includes `output_tokens_details.reasoning_tokens`: same rule.
* Anthropic `usage.input_tokens` already EXCLUDES the cache; `cache_read_input_tokens`
  -> cache_read; `cache_creation_input_tokens` -> cache_write_5m except the part the
  `cache_creation.ephemeral_1h_input_tokens` split puts in cache_write_1h.
  Streaming: `message_start` carries input + cache and a placeholder output;
  `message_delta` carries the final CUMULATIVE `output_tokens` (and, on newer APIs,
  cumulative input/cache too). The two are combined into ONE request whose fields are
  replaced by the delta's values, never summed.
* Gemini `usageMetadata.promptTokenCount` INCLUDES `cachedContentTokenCount`;
  `thoughtsTokenCount` is billed as output and is NOT inside `candidatesTokenCount`;
  `toolUsePromptTokenCount` is extra prompt input. input = prompt - cached + tool,
  output = candidates + thoughts, reasoning = thoughts.

Lines that carry the same response id (Gemini stream chunks carry cumulative usage under
one `responseId`, a response logged twice) are one request: the last line wins.
Bare usage objects without an id count one request per line, with one exception: a
bare Anthropic usage WITHOUT `service_tier` / `cache_creation` (the `message_delta.usage`
shape) right after a bare one WITH them (the `message_start` / full-response shape) is
that stream's delta and is combined as above (the real recorded pair in
formats/examples/api/ is exactly this). Logs from before those fields existed are never
combined that way: log the event envelopes (`{"type": "message_start", ...}`) instead.

Session id: the line's `session` / `session_id` / `conversation_id` field, else the file
stem; a `cwd` field on any line sets the session's cwd. Bad JSON, counts that are not
ints, negative or absurd (> MAX_COUNT), or cached > prompt: one warning
`path:line: reason` and the line is skipped. Files are read line by line, never whole.

The count validation, usage normalisers and read-only SQLite helpers here are shared
with the `aider`, `llm` and `opencode` adapters.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from costlog.models import Request, Session, Usage
from costlog.safefs import NOT_REGULAR, check_log, kind, open_log_text
from costlog.sources import Warn
from costlog.timeutil import BAD_TIME
from costlog.timeutil import parse_log_time as parse_time  # llm and opencode import it here

#: a per-request token count above this is a corrupt log, not a real request (20M, the
#: same limit as every adapter: no model reads or writes that much in one call)
MAX_COUNT = 20_000_000

_SESSION_KEYS = ("session", "session_id", "conversation_id")
_TIME_KEYS = ("timestamp", "time", "ts", "created_at", "created", "createTime")
_SPEEDS = {"priority": "priority", "standard": "standard", "default": "standard"}


class BadUsage(ValueError):
    """A usage object whose numbers cannot be trusted (the caller warns and skips)."""


# -- shared helpers -------------------------------------------------------------------


def count(obj: Mapping[str, Any], *path: str) -> int:
    """The token count at `path` in `obj`: missing or null is 0, anything odd raises."""
    value: Any = obj
    for key in path:
        if not isinstance(value, Mapping):
            return 0
        value = value.get(key)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadUsage(f"{'.'.join(path)} is not an integer: {value!r}")
    if value < 0:
        raise BadUsage(f"{'.'.join(path)} is negative: {value}")
    if value > MAX_COUNT:
        raise BadUsage(f"{'.'.join(path)} is absurd: {value}")
    return value


def check_cached(total: int, cached: int, what: str) -> int:
    """`total - cached`, refusing a cached part larger than its whole."""
    if cached > total:
        raise BadUsage(f"cached tokens ({cached}) exceed {what} ({total})")
    return total - cached


def iter_json_lines(path: Path, warn: Warn) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each JSON-object line, streaming; bad lines warned."""
    try:
        # -sig: a leading BOM is not part of line 1; newline="\n": a stray CR ends no line
        handle = open_log_text(path, encoding="utf-8-sig", errors="replace", newline="\n")
    except OSError as exc:
        warn(f"{path}: cannot read: {exc.strerror or exc}")
        return
    with handle:
        for number, line in enumerate(_bounded(handle), start=1):
            if isinstance(line, int):
                warn(
                    f"{path}:{number}: line of {line:,} characters is too long to hold "
                    "usage, skipped"
                )
                continue
            text = line.strip()
            if not text:
                continue
            try:
                obj = json.loads(text)
            except (ValueError, RecursionError) as exc:  # RecursionError: deep nesting
                reason = "truncated line" if not line.endswith("\n") else "bad JSON"
                msg = exc.msg if isinstance(exc, json.JSONDecodeError) else "nested too deep"
                warn(f"{path}:{number}: {reason} ({msg})")
                continue
            if not isinstance(obj, dict):
                warn(f"{path}:{number}: not a JSON object")
                continue
            yield number, obj


#: a line longer than this (characters) is skipped unread: memory stays bounded
MAX_LINE = 64 << 20


def _bounded(handle: TextIO) -> Iterator[str | int]:
    """The lines of `handle`; one longer than MAX_LINE comes as its length, unread."""
    readline = handle.readline
    while line := readline(MAX_LINE):
        if len(line) < MAX_LINE or line.endswith("\n"):
            yield line
            continue
        size, line = len(line), ""  # freed before reading on
        while chunk := readline(1 << 20):
            size += len(chunk)
            if chunk.endswith("\n"):
                break
        yield size


def open_readonly(path: Path) -> sqlite3.Connection:
    """A read-only connection (`mode=ro` URI): a running agent's database is left alone."""
    try:  # SQLite's own open would block on a FIFO: a regular file only
        mode = os.stat(path).st_mode
    except OSError as exc:
        raise sqlite3.OperationalError(exc.strerror or str(exc)) from None
    if not stat.S_ISREG(mode):
        raise sqlite3.OperationalError(f"{NOT_REGULAR} ({kind(mode)})")
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    connection.row_factory = sqlite3.Row
    return connection


def columns(connection: sqlite3.Connection, table: str) -> set[str]:
    """The columns `table` has (empty when the table does not exist)."""
    return {row[1] for row in connection.execute(f'PRAGMA table_info("{table}")')}


def covers(session: Session, since: datetime | None) -> bool:
    """False when the session is known to have ended before `since`."""
    last = session.ended or session.started
    return since is None or last is None or last >= since


def span(session: Session) -> None:
    """Set started/ended from the request timestamps where they are still unknown."""
    stamps = [r.timestamp for r in session.requests if r.timestamp is not None]
    if stamps:
        session.started = session.started or min(stamps)
        session.ended = session.ended or max(stamps)


# -- provider usage normalisers -------------------------------------------------------


def openai_chat_usage(u: Mapping[str, Any]) -> Usage:
    prompt = count(u, "prompt_tokens")
    cached = count(u, "prompt_tokens_details", "cached_tokens")
    return Usage(
        input=check_cached(prompt, cached, "prompt_tokens"),
        cache_read=cached,
        output=count(u, "completion_tokens"),
        reasoning=count(u, "completion_tokens_details", "reasoning_tokens"),
    )


def openai_responses_usage(u: Mapping[str, Any]) -> Usage:
    prompt = count(u, "input_tokens")
    cached = count(u, "input_tokens_details", "cached_tokens")
    return Usage(
        input=check_cached(prompt, cached, "input_tokens"),
        cache_read=cached,
        output=count(u, "output_tokens"),
        reasoning=count(u, "output_tokens_details", "reasoning_tokens"),
    )


def anthropic_usage(u: Mapping[str, Any]) -> Usage:
    usage = Usage(
        input=count(u, "input_tokens"),
        output=count(u, "output_tokens"),
        cache_read=count(u, "cache_read_input_tokens"),
        reasoning=count(u, "output_tokens_details", "thinking_tokens"),
    )
    usage.cache_write_5m, usage.cache_write_1h = anthropic_cache_writes(u)
    return usage


def anthropic_cache_writes(u: Mapping[str, Any]) -> tuple[int, int]:
    """(5-minute, 1-hour) cache writes: the 1h split is taken out of the total."""
    one_hour = count(u, "cache_creation", "ephemeral_1h_input_tokens")
    five_min = count(u, "cache_creation", "ephemeral_5m_input_tokens")
    total = (
        count(u, "cache_creation_input_tokens")
        if "cache_creation_input_tokens" in u
        else five_min + one_hour
    )
    if one_hour > total:
        raise BadUsage(
            f"ephemeral_1h_input_tokens ({one_hour}) exceed cache_creation_input_tokens ({total})"
        )
    return total - one_hour, one_hour


def gemini_usage(u: Mapping[str, Any]) -> Usage:
    prompt = count(u, "promptTokenCount")
    cached = count(u, "cachedContentTokenCount")
    thoughts = count(u, "thoughtsTokenCount")
    return Usage(
        input=check_cached(prompt, cached, "promptTokenCount")
        + count(u, "toolUsePromptTokenCount"),
        cache_read=cached,
        output=count(u, "candidatesTokenCount") + thoughts,
        reasoning=thoughts,
    )


def usage_kind(u: Mapping[str, Any], body: Mapping[str, Any]) -> str | None:
    """Which provider shape a usage object has: openai / responses / anthropic / gemini."""
    if "promptTokenCount" in u or "candidatesTokenCount" in u:
        return "gemini"
    if "prompt_tokens" in u or "completion_tokens" in u:
        return "openai"
    if "input_tokens" in u or "output_tokens" in u:
        details = u.get("output_tokens_details")
        if (
            "input_tokens_details" in u
            or body.get("object") == "response"
            or (isinstance(details, Mapping) and "reasoning_tokens" in details)
        ):
            return "responses"
        return "anthropic"
    return None


NORMALISERS = {
    "openai": openai_chat_usage,
    "responses": openai_responses_usage,
    "anthropic": anthropic_usage,
    "gemini": gemini_usage,
}


# -- the adapter ----------------------------------------------------------------------


@dataclass
class _FileState:
    """What one file has produced so far: requests by session, keyed for de-duplication."""

    path: Path
    stem: str
    warn: Warn
    requests: dict[str, dict[str, Request]] = field(default_factory=dict)
    cwds: dict[str, str] = field(default_factory=dict)
    #: the Anthropic stream message waiting for its message_delta: (session, key, line)
    open_message: tuple[str, str, int] | None = None
    #: the last bare start-shaped Anthropic usage line: (session, key)
    bare_start: tuple[str, str] | None = None
    #: the open message got only corrupt deltas so far (dropped if no good one follows)
    spoiled: bool = False

    def put(self, session: str, key: str, request: Request) -> None:
        bucket = self.requests.setdefault(session, {})
        bucket.pop(key, None)  # a repeated id moves to its latest position
        bucket[key] = request


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _session_key(obj: Mapping[str, Any], stem: str) -> str:
    for key in _SESSION_KEYS:
        value = obj.get(key)
        if isinstance(value, str) and value:
            return value
    return stem


def _timestamp(
    state: _FileState, number: int, obj: Mapping[str, Any], body: Mapping[str, Any]
) -> datetime | None:
    """The first usable time under the usual keys; a line whose times are all unusable is
    warned about (and counts, without a time)."""
    present = False
    for source in (obj, body):
        for key in _TIME_KEYS:
            value = source.get(key)
            when = parse_time(value)
            if when is not None:
                return when
            present = present or (value is not None and value != "")
    if present:
        state.warn(f"{state.path}:{number}: {BAD_TIME}")
    return None


def _unwrap(obj: dict[str, Any]) -> dict[str, Any]:
    """The response object inside a stream event or a logging wrapper."""
    inner = obj.get("response")
    if isinstance(inner, dict):
        return inner
    return obj


def _usage_of(body: Mapping[str, Any]) -> Mapping[str, Any] | None:
    for key in ("usage", "usageMetadata", "usage_metadata"):
        value = body.get(key)
        if isinstance(value, Mapping):
            return value
    return body if usage_kind(body, body) else None


def _model(obj: Mapping[str, Any], body: Mapping[str, Any]) -> str:
    for source in (body, obj):
        for key in ("model", "modelVersion"):
            value = source.get(key)
            if isinstance(value, str) and value:
                return value
    return "unknown"


def _request_id(body: Mapping[str, Any]) -> str | None:
    for key in ("id", "responseId"):
        value = body.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def _speed(body: Mapping[str, Any], usage: Mapping[str, Any]) -> str | None:
    tier = usage.get("service_tier") or body.get("service_tier")
    return _SPEEDS.get(tier) if isinstance(tier, str) else None


def _read_line(state: _FileState, number: int, obj: dict[str, Any]) -> None:
    session = _session_key(obj, state.stem)
    if isinstance(obj.get("cwd"), str):
        state.cwds.setdefault(session, obj["cwd"])
    kind = obj.get("type")
    if kind == "message_start" and isinstance(obj.get("message"), dict):
        _message_start(state, session, number, obj)
        return
    if kind == "message_delta":
        _message_delta(state, session, number, obj)
        return
    body = _unwrap(obj)
    usage = _usage_of(body)
    if usage is None:
        return  # a stream event or response without usage: nothing billed on this line
    shape = usage_kind(usage, body)
    if shape is None:
        return
    if shape == "anthropic" and usage is body:
        _bare_anthropic(state, session, number, usage)
        return
    state.bare_start = None
    request = Request(
        model=_model(obj, body),
        usage=NORMALISERS[shape](usage),
        timestamp=_timestamp(state, number, obj, body),
        speed=_speed(body, usage),
        request_id=_request_id(body),
    )
    state.put(session, request.request_id or f"line:{number}", request)


def _bare_anthropic(state: _FileState, session: str, number: int, usage: Mapping[str, Any]) -> None:
    """A bare Anthropic usage line: a start-shaped one may be followed by its delta.

    Only the full `Usage` object (message_start, whole responses) carries `service_tier`
    or the `cache_creation` split; `message_delta.usage` never does. So a bare line
    without them right after a bare start-shaped line is that stream's final delta.
    """
    start = state.bare_start
    full = "service_tier" in usage or "cache_creation" in usage
    if start is not None and not full and start[0] == session:
        request = state.requests[start[0]][start[1]]
        request.usage = _merge_delta(request.usage, usage)  # a corrupt delta changes nothing
        state.bare_start = None
        return
    key = f"line:{number}"
    state.put(
        session,
        key,
        Request(model="unknown", usage=anthropic_usage(usage), speed=_speed(usage, usage)),
    )
    state.bare_start = (session, key) if full else None


def _message_start(state: _FileState, session: str, number: int, obj: dict[str, Any]) -> None:
    message: dict[str, Any] = obj["message"]
    usage = _mapping(message.get("usage"))
    request = Request(
        model=_model(obj, message),
        usage=anthropic_usage(usage),
        timestamp=_timestamp(state, number, obj, message),
        speed=_speed(message, usage),
        request_id=_request_id(message),
    )
    key = request.request_id or f"line:{number}"
    _close_stream(state)
    state.put(session, key, request)
    state.open_message = (session, key, number)


def _close_stream(state: _FileState) -> None:
    """Warn about a message_start that never got its message_delta (output unknown)."""
    if state.open_message is not None:
        if state.spoiled:  # its delta was corrupt (already warned): a placeholder output
            state.requests.get(state.open_message[0], {}).pop(state.open_message[1], None)
        else:
            state.warn(
                f"{state.path}:{state.open_message[2]}: message_start without "
                "message_delta: output_tokens is only the placeholder"
            )
        state.open_message = None
        state.spoiled = False


def _message_delta(state: _FileState, session: str, number: int, obj: dict[str, Any]) -> None:
    delta = _mapping(obj.get("usage"))
    target = state.open_message
    if target is None:
        raise BadUsage("message_delta without a message_start")
    bucket = state.requests.get(target[0], {})
    request = bucket.get(target[1])
    if request is None:
        state.open_message = None
        raise BadUsage("message_delta without a message_start")
    try:
        request.usage = _merge_delta(request.usage, delta)
    except BadUsage:
        # a corrupt line costs only itself: a good delta may still follow; if none does,
        # the placeholder output must not be priced as the answer (_close_stream drops it)
        state.spoiled = True
        raise
    state.open_message = None
    state.spoiled = False


def _merge_delta(start: Usage, delta: Mapping[str, Any]) -> Usage:
    """message_start's usage with every field the delta carries REPLACED (cumulative)."""
    merged = Usage(**start.as_dict())
    if "output_tokens" in delta:
        merged.output = count(delta, "output_tokens")
    if "input_tokens" in delta:
        merged.input = count(delta, "input_tokens")
    if "cache_read_input_tokens" in delta:
        merged.cache_read = count(delta, "cache_read_input_tokens")
    if "cache_creation_input_tokens" in delta or "cache_creation" in delta:
        merged.cache_write_5m, merged.cache_write_1h = anthropic_cache_writes(delta)
    if "output_tokens_details" in delta:
        merged.reasoning = count(delta, "output_tokens_details", "thinking_tokens")
    return merged


def _sessions(state: _FileState) -> Iterator[Session]:
    for key, requests in state.requests.items():
        session = Session(
            agent="api",
            session_id=key,
            requests=list(requests.values()),
            cwd=state.cwds.get(key),
            paths=[str(state.path)],
        )
        span(session)
        yield session


def read_file(path: Path, warn: Warn) -> Iterator[Session]:
    """Every session in one JSONL file."""
    state = _FileState(path=path, stem=path.stem, warn=warn)
    for number, obj in iter_json_lines(path, warn):
        try:
            _read_line(state, number, obj)
        except BadUsage as exc:
            warn(f"{path}:{number}: {exc}")
    _close_stream(state)
    yield from _sessions(state)


def _files(roots: Sequence[Path], warn: Warn) -> Iterator[Path]:
    """The log files `roots` name; one that is not a regular file (a FIFO, a link to a
    device) is left out with a warning."""
    for root in roots:
        if root.is_dir():
            yield from sorted(
                p for p in root.rglob("*.jsonl") if not p.is_dir() and check_log(p, warn)
            )
        elif root.is_file():
            yield root
        elif root.exists():
            check_log(root, warn)


class ApiJsonlAdapter:
    name = "api"

    def default_roots(self, env: Mapping[str, str], home: Path) -> list[Path]:
        """None: these files live wherever the user's own tool writes them (--path)."""
        return []

    def scan(
        self,
        roots: Sequence[Path],
        *,
        project: Path | None = None,
        since: datetime | None = None,
        warn: Warn,
    ) -> Iterator[Session]:
        for path in _files(roots, warn):
            for session in read_file(path, warn):
                if covers(session, since):
                    yield session

    def find_session(self, roots: Sequence[Path], session_id: str, *, warn: Warn) -> Session | None:
        return next((s for s in self.scan(roots, warn=warn) if s.session_id == session_id), None)


ADAPTER = ApiJsonlAdapter()
