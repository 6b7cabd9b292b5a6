"""Claude Code's OpenTelemetry `api_request` events, read from a file export.

With `CLAUDE_CODE_ENABLE_TELEMETRY=1` and a logs exporter, Claude Code emits one
`claude_code.api_request` event per model call it makes, with the call's final usage as the
API reported it (`input_tokens`, `output_tokens`, `cache_read_tokens`,
`cache_creation_tokens`, split as `cache_creation_5m_tokens` / `cache_creation_1h_tokens` by
current versions), the `cost_usd` (and exact `cost_usd_micros`) Claude Code computed for it,
`model`, `session.id`,
`event.timestamp`, `query_source` (`repl_main_thread`, `compact`, a sub-agent name, ...)
and, when the API returned one, `request_id` (the same `req_...` the transcript logs as
`requestId`). That makes it the best local source of truth for Claude Code's cost: the
counts are final (no placeholders) and it also covers the auxiliary calls (titles,
summaries, classifiers) the transcript never shows.

costlog reads a file of them, one JSON document per line, in either shape:
- OTLP JSON, as the OpenTelemetry Collector's `file` exporter (or any OTLP/JSON file
  exporter) writes it: `{"resourceLogs": [{"scopeLogs": [{"logRecords": [...]}]}]}`, each
  record with `attributes: [{"key": ..., "value": {"stringValue" | "intValue" |
  "doubleValue" | ...: ...}}]` (64-bit ints arrive as strings, as the OTLP JSON mapping says);
- plain events, one object a line: `{"body": "claude_code.api_request", "attributes":
  {...}}`, or the attributes themselves at top level (`{"event.name": "api_request", ...}`).

Reading is streamed line by line in binary (through `costlog.sources._lines`, so a line
of more than 64 MB is skipped unread, with a warning), and a line that does not mention
`api_request` is never parsed. A line that is not JSON, or an event whose numbers are not whole
non-negative counts, costs only itself: one `path:line: reason` warning. Only the numbers,
ids, model, timestamp, speed and query source of `api_request` events are kept: other events
(`user_prompt` may carry prompt text when `OTEL_LOG_USER_PROMPTS=1`, `tool_result` carries
commands) are skipped unread, and nothing from the file is cached or written to the ledger
except the numbers.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Container, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from costlog.models import Usage
from costlog.safefs import open_log
from costlog.sources._lines import bounded_lines, too_long
from costlog.sources._usage import MAX_TOKENS
from costlog.timeutil import BAD_TIME, from_epoch, parse_log_time

Warn = Callable[[str], None]

EVENT = "api_request"
FULL_EVENT = "claude_code.api_request"
_EVENT_BYTES = EVENT.encode()
_TOKEN_KEYS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_creation_tokens")
_OTLP_VALUES = ("stringValue", "intValue", "doubleValue", "boolValue")
_SPLIT_KEYS = ("cache_creation_5m_tokens", "cache_creation_1h_tokens")
_FLOAT_NOISE = Decimal("1e-12")


@dataclass(frozen=True, slots=True)
class ApiEvent:
    """One `claude_code.api_request`: a billed model call as Claude Code saw it."""

    model: str
    #: input / output / cache_read are as logged; cache creation is split 5m/1h when the
    #: event carries `cache_creation_5m_tokens` / `cache_creation_1h_tokens` (`split`), else
    #: it is all in cache_write_5m
    usage: Usage
    cost_usd: Decimal | None
    session_id: str | None = None
    request_id: str | None = None
    timestamp: datetime | None = None
    query_source: str | None = None
    #: "fast" or "normal"
    speed: str | None = None
    #: where it was read, "path:line"
    where: str = ""
    #: True when the event split its cache writes into 5-minute and 1-hour ones
    split: bool = False


def read_events(
    path: Path, warn: Warn, *, sessions: Container[str] | None = None
) -> Iterator[ApiEvent]:
    """Every `api_request` event in the file, in file order. With `sessions`, only events
    of those session ids, plus events that carry no session id (they can still be joined
    on their request id)."""
    try:
        fh = open_log(path)  # a regular file only, read within a time bound
    except OSError as exc:
        warn(f"{path}: cannot read: {exc.strerror or exc}")
        return
    with fh:
        for lineno, raw in enumerate(bounded_lines(fh), 1):
            if isinstance(raw, int):  # over-long, left unread (an event line is a few KB)
                warn(f"{path}:{lineno}: {too_long(raw)}")
                continue
            if _EVENT_BYTES not in raw:
                continue
            for event in _line_events(raw, f"{path}:{lineno}", warn):
                if sessions is None or event.session_id is None or event.session_id in sessions:
                    yield event


def _line_events(raw: bytes, where: str, warn: Warn) -> list[ApiEvent]:
    """The api_request events of one line; one warning for the whole line if it is bad."""
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        warn(f"{where}: not JSON ({_short(exc)})")
        return []
    if not isinstance(doc, dict):
        warn(f"{where}: not a JSON object")
        return []
    records = list(_otlp_records(doc)) if "resourceLogs" in doc else [_plain_record(doc)]
    events: list[ApiEvent] = []
    problems: list[str] = []
    untimed = False
    for name, attrs, nanos in records:
        if not _is_api_request(name, attrs):
            continue
        event = _event(attrs, nanos, where)
        if isinstance(event, str):
            problems.append(event)
        else:
            events.append(event)
            if event.timestamp is None and (attrs.get("event.timestamp") or _nanos(nanos)):
                untimed = True
    if problems:
        more = f" (and {len(problems) - 1} more events)" if len(problems) > 1 else ""
        warn(f"{where}: {problems[0]}{more}")
    if untimed:  # still joined on the request id; only the time-window join misses it
        warn(f"{where}: {BAD_TIME}")
    return events


Record = tuple[str | None, dict[str, Any], Any]


def _otlp_records(doc: Mapping[str, Any]) -> Iterator[Record]:
    for resource in _list(doc.get("resourceLogs")):
        for scope in _list(_get(resource, "scopeLogs")):
            for record in _list(_get(scope, "logRecords")):
                if not isinstance(record, dict):
                    continue
                attrs = _otlp_attributes(record.get("attributes"))
                body = record.get("body")
                name = record.get("eventName") or (
                    _otlp_value(body) if isinstance(body, dict) else None
                )
                yield (
                    (name if isinstance(name, str) else None),
                    attrs,
                    record.get("timeUnixNano") or record.get("observedTimeUnixNano"),
                )


def _plain_record(doc: dict[str, Any]) -> Record:
    attrs = doc.get("attributes")
    if not isinstance(attrs, dict):
        attrs = doc
    name = doc.get("body") or doc.get("eventName") or doc.get("name")
    return (name if isinstance(name, str) else None), attrs, doc.get("timeUnixNano")


def _otlp_attributes(value: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in _list(value):
        if (
            isinstance(item, dict)
            and isinstance(item.get("key"), str)
            and isinstance(item.get("value"), dict)
        ):
            out[item["key"]] = _otlp_value(item["value"])
    return out


def _otlp_value(value: Mapping[str, Any]) -> Any:
    for kind in _OTLP_VALUES:
        if kind in value:
            return value[kind]
    return None


def _is_api_request(name: str | None, attrs: Mapping[str, Any]) -> bool:
    if name in (FULL_EVENT, EVENT):
        return True
    return attrs.get("event.name") in (EVENT, FULL_EVENT)


def _event(attrs: Mapping[str, Any], nanos: Any, where: str) -> ApiEvent | str:
    model = attrs.get("model")
    if not isinstance(model, str) or not model:
        return "api_request without a model"
    counts: list[int] = []
    for key in _TOKEN_KEYS:
        count = _count(attrs.get(key))
        if isinstance(count, str):
            return f"{key} {count}"
        counts.append(count)
    cost = _cost(attrs)
    if isinstance(cost, str):
        return cost
    inp, out, cread, cwrite = counts
    split = _cache_split(attrs, cwrite)
    if isinstance(split, str):
        return split
    five, hour = split or (cwrite, 0)
    return ApiEvent(
        model=model,
        usage=Usage(inp, out, cread, five, hour),
        split=split is not None,
        cost_usd=cost,
        session_id=_text(attrs.get("session.id")),
        request_id=_text(attrs.get("request_id")),
        timestamp=_when(attrs.get("event.timestamp"), nanos),
        query_source=_text(attrs.get("query_source")),
        speed=_text(attrs.get("speed")),
        where=where,
    )


def _count(value: Any) -> int | str:
    """A token count: absent is 0; ints, int strings and whole floats are accepted."""
    if value is None:
        return 0
    if isinstance(value, bool):
        return f"is not a count: {value!r}"
    number: int
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and value.strip().lstrip("-").isdigit():
        number = int(value.strip())
    else:
        return f"is not a count: {str(value)[:40]!r}"
    if number < 0 or number > MAX_TOKENS:
        return f"is out of range: {number}"
    return number


def _cache_split(attrs: Mapping[str, Any], total: int) -> tuple[int, int] | str | None:
    """(5-minute, 1-hour) cache writes from `cache_creation_5m_tokens` and
    `cache_creation_1h_tokens`, or None when the event has neither. A total above their sum
    keeps the unsplit rest in 5m (the rate a write without a TTL gets)."""
    if attrs.get(_SPLIT_KEYS[0]) is None and attrs.get(_SPLIT_KEYS[1]) is None:
        return None
    parts: list[int] = []
    for key in _SPLIT_KEYS:
        count = _count(attrs.get(key))
        if isinstance(count, str):
            return f"{key} {count}"
        parts.append(count)
    five, hour = parts
    return five + max(total - five - hour, 0), hour


def _cost(attrs: Mapping[str, Any]) -> Decimal | str | None:
    """Claude Code's cost of the call: `cost_usd_micros` (an exact integer) when present,
    else `cost_usd`, a binary float: its printing noise past 12 decimals (0.111825999999999995)
    is dropped, which changes no micro-dollar."""
    value = attrs.get("cost_usd_micros")
    scale = Decimal(1_000_000)
    if value is None:
        value, scale = attrs.get("cost_usd"), Decimal(1)
    if value is None:
        return None
    if isinstance(value, bool):
        return f"cost_usd is not a number: {value!r}"
    try:
        cost = Decimal(str(value)) / scale
    except InvalidOperation:
        return f"cost_usd is not a number: {str(value)[:40]!r}"
    if not cost.is_finite() or cost < 0:
        return f"cost_usd is out of range: {value}"
    exponent = cost.as_tuple().exponent
    if scale == 1 and isinstance(exponent, int) and exponent < -12:
        cost = cost.quantize(_FLOAT_NOISE).normalize()
    return cost


def _when(stamp: Any, nanos: Any) -> datetime | None:
    """`event.timestamp` (ISO 8601), else the record's `timeUnixNano`; None if neither is
    a time in 1970-2100."""
    when = parse_log_time(stamp) if isinstance(stamp, str) and stamp else None
    if when is None:
        ns = _nanos(nanos)
        when = from_epoch(ns / 1e9) if ns else None
    return when


def _nanos(value: Any) -> int:
    """OTLP's `timeUnixNano` (an int, or a decimal string in JSON); 0 when absent, bad, or
    too large to be a time (a float could not even hold it)."""
    try:
        ns = int(value) if value not in (None, "", 0, "0") else 0
    except (TypeError, ValueError, OverflowError):
        return 0
    return ns if 0 < ns < 10**20 else 0


def _text(value: Any) -> str | None:
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _get(value: Any, key: str) -> Any:
    return value.get(key) if isinstance(value, dict) else None


def _short(exc: Exception) -> str:
    return str(exc).split(":", 1)[0][:60]
