"""Generic JSONL of raw model-API responses or stream events (`--agent api`).

Each line is one JSON object: a whole response, a stream event, a bare usage object, or
a wrapper `{"timestamp": ..., "session": ..., "response": {...}}` around one of those.
It is the escape hatch for home-made agents that log what the provider returned. Each
provider's usage shape is normalised by `costlog.sources.provider_usage`.

Anthropic streams: `message_start` carries input + cache and a placeholder output;
`message_delta` carries the final CUMULATIVE `output_tokens` (and, on newer APIs,
cumulative input/cache too). The two are combined into ONE request whose fields are
replaced by the delta's values, never summed.

Lines that carry the same response id (Gemini stream chunks carry cumulative usage under
one `responseId`, a response logged twice) are one request: the last line wins.
Bare usage objects without an id count one request per line, with one exception: a
bare Anthropic usage WITHOUT `service_tier` / `cache_creation` (the `message_delta.usage`
shape) right after a bare one WITH them (the `message_start` / full-response shape) is
that stream's delta and is combined as above (a recorded stream logged as bare usage
objects is exactly this pair). Logs from before those fields existed are never combined
that way: log the event envelopes (`{"type": "message_start", ...}`) instead.

Session id: the line's `session` / `session_id` / `conversation_id` field, else the file
stem; a `cwd` field on any line sets the session's cwd. Bad JSON, counts that are not
ints, negative or absurd (over `costlog.sources._usage.MAX_TOKENS`), or cached > prompt:
one warning `path:line: reason` and the line is skipped. Files are read line by line,
never whole.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from costlog.models import Request, Session, Usage
from costlog.safefs import check_log
from costlog.sources import Warn, covers, span
from costlog.sources._lines import iter_json_lines
from costlog.sources._usage import BadUsage, count
from costlog.sources.provider_usage import (
    NORMALISERS,
    anthropic_cache_writes,
    anthropic_usage,
    usage_kind,
)
from costlog.timeutil import BAD_TIME, parse_log_time

_SESSION_KEYS = ("session", "session_id", "conversation_id")
_TIME_KEYS = ("timestamp", "time", "ts", "created_at", "created", "createTime")
_SPEEDS = {"priority": "priority", "standard": "standard", "default": "standard"}


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
            when = parse_log_time(value)
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
