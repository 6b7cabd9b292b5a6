"""Reading one Claude Code transcript (`<project>/<session>.jsonl`) into a FileState.

Reading is streamed in binary: only lines containing `"usage"` are parsed as JSON. A scan
(no attribution fields wanted) finds them by a byte search over blocks of whole lines and
decodes only the fields it uses, with msgspec (`linestruct`); every usage line is decoded,
repeats of a final count included (>= 2.1.97 repeats it on every content-block line): that
costs less than recognising them on their bytes, and the file's times see every line. The
content of a line without a final count is measured (for the output estimate) only if its
response still has none at the end of the read: most get one a line or two later. A
corrupt line costs only itself (`file:line: reason`); a line still being written (no newline
yet) is counted if it is whole JSON, and the next read resumes before it.

What a line can be: an assistant line with `message.usage` (one content block of a
response); a `progress` line, a parent file's mirror of a sub-agent's message (counted as a
sidechain line); a sidechain line written into the session file by older versions (a
sub-agent call); an API-error line (model `<synthetic>`, not billed, skipped); or any other
line, read only for the file's times, cwd, branch and version (and, when read afresh, the
attribution fields). Old `costUSD` values are kept as the logged cost. Advisor calls, which
show only in `usage.iterations[]` (a type other than "message", with their own model), are
responses of their own, priced at their model.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from costlog.sources import _lines
from costlog.sources._lines import Unfinished, bounded_lines, line_blocks, too_long
from costlog.sources.claude.attribution import add_commit_refs, add_edited_files, user_prompt
from costlog.sources.claude.counts import (
    Numbers,
    logged_cost,
    speed_code,
    speed_index,
    usage_numbers,
)
from costlog.sources.claude.evidence import add_git_operation
from costlog.sources.claude.filestate import FileState, response_key
from costlog.sources.claude.output_estimate import content_features
from costlog.sources.claude.responses import Response
from costlog.timeutil import BAD_TIME, FIRST_YEAR, LAST_YEAR, parse_log_time

Warn = Callable[[str], None]

#: bytes to read afresh from which the msgspec decode pays for its import (~15 ms)
FAST_AFRESH = 4 << 20
#: keys only the `message_delta` (final) usage has
_FINAL_KEYS = frozenset({"server_tool_use", "iterations", "speed", "output_tokens_details"})
#: the byte search for the lines that hold usage (a compiled literal: `re` scans about a
#: fifth faster than `bytes.find` for it)
_USAGE_KEY = re.compile(rb'"usage"')
#: unmeasured lines held at most (`FileReader._settle`): a bound on the memory they keep
_UNSIZED = 256


def _epoch(value: Any) -> float | None:
    """A line's ISO 8601 `timestamp` as Unix seconds; None when absent, unreadable or
    outside 1970-2100 (the reader warns about the line). Claude Code's own form
    (`2026-11-04T03:50:31.000Z`, UTC) is read directly, as `parse_log_time` reads it (once
    per usage line: its strip, zone shift and second range check change nothing there)."""
    if type(value) is str and len(value) == 24 and value[23] == "Z":
        try:
            when = datetime.fromisoformat(value)
        except ValueError:
            pass  # `parse_log_time` says why not
        else:
            if when.tzinfo is UTC and FIRST_YEAR <= when.year <= LAST_YEAR:
                return when.timestamp()
    if not isinstance(value, str) or not value:
        return None
    parsed = parse_log_time(value)
    return None if parsed is None else parsed.timestamp()


def _newlines(find: Callable[[bytes, int, int], int], start: int, stop: int) -> int:
    """The newlines in `block[start:stop]` (`find` is `block.find`). A `find` loop, not
    `bytes.count`: find looks for one byte with memchr, count goes byte by byte, and lines
    here are long (tool output), so this is about three times faster."""
    lines = 0
    at = find(b"\n", start, stop)
    while at >= 0:
        lines += 1
        at = find(b"\n", at + 1, stop)
    return lines


class FileReader:
    """Streams one transcript into a FileState (from scratch or from a byte offset).

    `collect`: the file is read afresh, so also gather the attribution fields (first
    prompt, commit refs, edited files) and parse every line (no byte-level shortcut)."""

    def __init__(self, path: Path, state: FileState, warn: Warn, collect: bool) -> None:
        self.path = path
        self.name = str(path)
        state.index()
        self.state = state
        self.warn = warn
        self.collect = collect
        #: decode usage lines with msgspec (`linestruct`): always in a scan; when read
        #: afresh (`record`, the hooks), only for a big read, worth msgspec's import
        self.fast = not collect
        #: lines of responses without a final count yet, with their content unmeasured
        self._unsized: list[tuple[Response, Any, bool]] = []

    def read(self, fh: IO[bytes], start: int) -> int:
        """Read from byte `start` to the end; returns the offset after the last full line."""
        fh.seek(start)
        if not self.collect and _lines.MAX_LINE >= 8 * _lines.BLOCK:
            return self._read_blocks(fh, start)
        if not self.fast:
            try:
                self.fast = os.fstat(fh.fileno()).st_size - start >= FAST_AFRESH
            except (OSError, AttributeError, ValueError):  # not a real file: keep `json`
                self.fast = False
        offset = start
        state = self.state
        lineno = state.lines
        last_complete: bytes | None = None
        partial: bytes | None = None
        for raw in bounded_lines(fh):
            lineno += 1
            if type(raw) is not bytes:  # an over-long line (its size), left unread
                if isinstance(raw, Unfinished):
                    partial = b""
                    break
                size = int(raw)
                offset += size
                state.lines = lineno
                self._bad(lineno, too_long(size))
                continue
            if not raw.endswith(b"\n"):
                partial = raw
                break
            offset += len(raw)
            state.lines = lineno
            last_complete = raw
            if b'"usage"' in raw:
                self._usage_line(raw, lineno)
            elif state.first_ts is None or self.collect:
                self._other_line(raw, lineno)
        if partial is not None:
            # a line still being written: count it if it is whole JSON, but resume before it
            self._partial(partial, lineno)
        self._settle()
        if last_complete is not None:
            self._last_line(last_complete)
        return offset

    def _read_blocks(self, fh: IO[bytes], start: int) -> int:
        """`read` without the attribution fields, by blocks: only the lines holding
        `"usage"` (found by a byte search) are visited, and, until the file's first time is
        known, the lines before them. Same results and warnings as the line loop."""
        offset = start
        state = self.state
        lineno = state.lines
        last_block = b""
        partial: bytes | None = None
        for block in line_blocks(fh):
            if type(block) is not bytes:  # an over-long line (its size), left unread
                lineno += 1
                if isinstance(block, Unfinished):
                    partial = b""
                    break
                size = int(block)
                offset += size
                state.lines = lineno
                self._bad(lineno, too_long(size))
                continue
            if not block.endswith(b"\n"):
                partial = block
                lineno += 1
                break
            offset += len(block)
            last_block = block
            lineno = self._block(block, lineno)
            state.lines = lineno
        if partial is not None:
            # a line still being written: count it if it is whole JSON, but resume before it
            self._partial(partial, lineno)
        self._settle()
        if last_block:
            self._last_line(last_block[last_block.rfind(b"\n", 0, len(last_block) - 1) + 1 :])
        return offset

    def _block(self, block: bytes, lineno: int) -> int:
        """Read the lines of one block of whole lines that follow line `lineno`; returns the
        number of the block's last line."""
        state = self.state
        find = block.find
        pos, end = 0, len(block)
        while state.first_ts is None and pos < end:  # every line counts for the first time
            stop = find(b"\n", pos) + 1
            raw = block[pos:stop]
            lineno += 1
            pos = stop
            if b'"usage"' in raw:
                self._usage_line(raw, lineno)
            else:
                self._other_line(raw, lineno)
        # once per usage line: `_usage_line` and `_newlines` written out, without their calls
        rfind, decode = block.rfind, _decode_fast
        take, untyped = self._take_fast, self._usage_json
        for found in _USAGE_KEY.finditer(block, pos):
            hit = found.start()
            if hit < pos:
                continue  # a further `"usage"` of a line already read
            begin = rfind(b"\n", pos, hit) + 1 or pos
            stop = find(b"\n", hit) + 1
            at = find(b"\n", pos, begin)  # the lines between the last usage line and this
            while at >= 0:
                lineno += 1
                at = find(b"\n", at + 1, begin)
            lineno += 1
            pos = stop
            raw = block[begin:stop]
            fast = decode(raw)
            if fast is not None:
                take(fast, lineno)
            else:
                untyped(raw, lineno)
        return lineno + _newlines(find, pos, end)

    def _parse(self, raw: bytes, lineno: int, quiet: bool = False) -> Any:
        try:
            return json.loads(raw)
        except (ValueError, RecursionError) as exc:  # RecursionError: deep nesting
            if not quiet:
                self._bad(lineno, f"corrupt line ({exc.__class__.__name__}: {exc})"[:160])
            return None

    def _bad(self, lineno: int, reason: str) -> None:
        message = f"{self.name}:{lineno}: {reason}"
        self.state.warnings.append(message)
        self.warn(message)

    def _partial(self, raw: bytes, lineno: int) -> None:
        obj = self._parse(raw, lineno, quiet=True)
        if obj is None:
            message = f"{self.name}:{lineno}: truncated last line (no newline), skipped"
            self.warn(message)  # not cached: the next scan re-reads this line
            return
        if isinstance(obj, dict) and b'"usage"' in raw:
            self._take(obj, lineno)

    def _last_line(self, raw: bytes) -> None:
        obj = self._parse(raw, 0, quiet=True)
        if isinstance(obj, dict):
            self._meta(obj)

    def _other_line(self, raw: bytes, lineno: int) -> None:
        state = self.state
        if state.first_ts is None:
            obj = self._parse(raw, lineno, quiet=True)
            if isinstance(obj, dict):
                self._meta(obj, self._time(obj, lineno))
                if self.collect:
                    self._prompt(obj)
        elif self.collect and state.first_prompt is None and b'"user"' in raw:
            obj = self._parse(raw, lineno, quiet=True)
            if isinstance(obj, dict):
                self._prompt(obj)
        if self.collect and b"tool_result" in raw:
            add_commit_refs(raw, state.refs)
            add_git_operation(raw, state.refs)

    def _prompt(self, obj: Mapping[str, Any]) -> None:
        if self.state.first_prompt is None:
            self.state.first_prompt = user_prompt(obj)

    def _time(self, obj: Mapping[str, Any], lineno: int) -> float | None:
        """The line's time; a `timestamp` that is there but unusable is warned about once,
        naming the line, and the line still counts (without a time)."""
        return self._time_of(obj.get("timestamp"), lineno)

    def _time_of(self, value: Any, lineno: int) -> float | None:
        ts = _epoch(value)
        if ts is None and value not in (None, ""):
            self._bad(lineno, BAD_TIME)
        return ts

    def _meta(self, obj: Mapping[str, Any], ts: float | None = None) -> None:
        get = obj.get
        self._meta_of(ts, get("timestamp"), get("cwd"), get("gitBranch"), get("version"))

    def _meta_of(self, ts: float | None, stamp: Any, cwd: Any, branch: Any, version: Any) -> None:
        state = self.state
        if ts is None:
            ts = _epoch(stamp)
        if ts is not None:
            if state.first_ts is None or ts < state.first_ts:
                state.first_ts = ts
            if state.last_ts is None or ts > state.last_ts:
                state.last_ts = ts
        if state.cwd is None and isinstance(cwd, str) and cwd:
            state.cwd = cwd
        if branch != state.branch and isinstance(branch, str) and branch and branch != "HEAD":
            state.branch = branch
        if version != state.version and isinstance(version, str) and version:
            state.version = version

    def _usage_line(self, raw: bytes, lineno: int) -> None:
        fast = _decode_fast(raw) if self.fast else None
        if fast is not None:
            self._take_fast(fast, lineno)
            return
        self._usage_json(raw, lineno)

    def _usage_json(self, raw: bytes, lineno: int) -> None:
        """A usage line the fast decode does not read (or without it), by `json`."""
        obj = self._parse(raw, lineno)
        if isinstance(obj, dict):
            self._take(obj, lineno)
        elif obj is not None:
            self._bad(lineno, "not a JSON object")

    def _take_fast(self, obj: Any, lineno: int) -> None:
        """`_take` over a line decoded into a `linestruct.Line` (only the fields read; the
        content stays raw bytes until an output estimate needs it). Once per usage line of
        a scan: `_time_of` and `_meta_of` are written out here, the same tests in the same
        order, without their calls."""
        stamp = obj.timestamp
        ts = _epoch(stamp)
        state = self.state
        if ts is None:
            if stamp is not None and stamp != "":
                self._bad(lineno, BAD_TIME)
        else:
            if state.first_ts is None or ts < state.first_ts:
                state.first_ts = ts
            if state.last_ts is None or ts > state.last_ts:
                state.last_ts = ts
        cwd, branch, version = obj.cwd, obj.gitBranch, obj.version
        if state.cwd is None and isinstance(cwd, str) and cwd:
            state.cwd = cwd
        if branch != state.branch and isinstance(branch, str) and branch and branch != "HEAD":
            state.branch = branch
        if version != state.version and isinstance(version, str) and version:
            state.version = version
        line = obj
        side = obj.isSidechain is True
        if obj.type == "progress":
            data = obj.data
            inner = data.message if data is not None else None
            if inner is None:
                return
            line, side = inner, True
            ts = self._time_of(inner.timestamp, lineno) or ts
        msg = line.message
        if msg is None:
            return
        usage = msg.usage
        typed = type(usage) is _USAGE  # a `linestruct.Usage`, else a dict (or not usage)
        if not typed and type(usage) is not dict:
            return
        model = msg.model
        if model == "<synthetic>" or line.isApiErrorMessage:
            return
        if not isinstance(model, str) or not model:
            self._bad(lineno, "usage without a model name, skipped")
            return
        numbers = _typed_numbers(usage) if typed else usage_numbers(usage)
        if isinstance(numbers, str):
            self._bad(lineno, f"rejected usage: {numbers}")
            return
        if side:
            agent = line.agentId or obj.agentId
            if isinstance(agent, str) and agent and agent not in self.state.agent_ids:
                self.state.agent_ids.append(agent)
        mid, rid, cost = msg.id, line.requestId, line.costUSD
        content = msg.content
        if typed:
            final = msg.stop_reason is not None or _typed_final(usage)
            speed = usage.speed
            speed = 0 if speed is _UNSET else speed_index(speed)
            iterations = usage.iterations
        else:
            final = msg.stop_reason is not None or not _FINAL_KEYS.isdisjoint(usage)
            speed = speed_code(usage)
            iterations = usage.get("iterations")
        if self.collect:
            add_edited_files(_raw(content) if content else None, self.state.edited)
        response = self._response(mid, rid, model, numbers, side, ts, lineno, final, speed, cost)
        if not final and content:  # measured later, and only if it stays without a count
            self._unmeasured(response, content, True)
        if iterations and isinstance(iterations, list):
            self._advisors(mid, rid, cost, iterations, side, ts, lineno)

    def _unmeasured(self, response: Response, content: Any, raw: bool) -> None:
        """Keep the content of a line without a final count (`raw`: msgspec's undecoded
        bytes) to measure it at `_settle`."""
        self._unsized.append((response, content, raw))
        if len(self._unsized) >= _UNSIZED:
            self._settle()

    def _settle(self) -> None:
        """Add the content sizes of the lines left unmeasured to their responses, for the
        responses still without a final count. The sizes only ever feed the output estimate
        of a response with no final count, and most responses get one a line or two later:
        measuring their content (for msgspec's raw bytes, a full decode) would be wasted.
        The sums are those of measuring every such line at once; a response with a final
        count keeps none (the scan cache stores them as 0)."""
        for response, content, raw in self._unsized:
            if not response.final:
                response.add_content(content_features(_raw(content) if raw else content))
        self._unsized.clear()

    def _take(self, obj: dict[str, Any], lineno: int) -> None:
        ts = self._time(obj, lineno)
        self._meta(obj, ts)
        line = obj
        side = obj.get("isSidechain") is True
        if obj.get("type") == "progress":
            data = obj.get("data")
            inner = data.get("message") if isinstance(data, dict) else None
            if not isinstance(inner, dict):
                return
            line, side = inner, True
            ts = self._time(inner, lineno) or ts
        msg = line.get("message")
        if type(msg) is not dict:
            return
        usage = msg.get("usage")
        if type(usage) is not dict:
            return
        model = msg.get("model")
        if model == "<synthetic>" or line.get("isApiErrorMessage"):
            return  # an API error shown as a message: not billed
        if not isinstance(model, str) or not model:
            self._bad(lineno, "usage without a model name, skipped")
            return
        numbers = usage_numbers(usage)
        if isinstance(numbers, str):
            self._bad(lineno, f"rejected usage: {numbers}")
            return
        if side:
            agent = line.get("agentId") or obj.get("agentId")
            if isinstance(agent, str) and agent and agent not in self.state.agent_ids:
                self.state.agent_ids.append(agent)
        mid, rid, cost = msg.get("id"), line.get("requestId"), line.get("costUSD")
        final = msg.get("stop_reason") is not None or not _FINAL_KEYS.isdisjoint(usage)
        content = msg.get("content")
        if self.collect:
            add_edited_files(content, self.state.edited)
        speed = speed_code(usage)
        response = self._response(mid, rid, model, numbers, side, ts, lineno, final, speed, cost)
        if not final:  # measured later, as `_take_fast` does
            self._unmeasured(response, content, False)
        iterations = usage.get("iterations")
        if iterations and isinstance(iterations, list):
            self._advisors(mid, rid, cost, iterations, side, ts, lineno)

    def _advisors(
        self,
        mid: Any,
        rid: Any,
        cost: Any,
        iterations: list[Any],
        side: bool,
        ts: float | None,
        lineno: int,
    ) -> None:
        """Advisor calls appear only in `usage.iterations[]` (type other than "message",
        with their own model); the top-level usage is the executor's. Each is a request of
        its own, priced at its model (final: it has a count of its own, and no content)."""
        if not isinstance(mid, str):
            return
        executor = self.state.responses.get(response_key(mid, rid if type(rid) is str else None, 0))
        if executor is not None:  # its executor steps: each its own request (`responses`)
            executor.note_steps(iterations)
        for i, step in enumerate(iterations):
            if not isinstance(step, dict) or step.get("type") in (None, "message"):
                continue
            model = step.get("model")
            if not isinstance(model, str) or not model:
                continue
            numbers = usage_numbers(step)
            if isinstance(numbers, str):
                self._bad(lineno, f"rejected advisor usage: {numbers}")
                continue
            advisor = f"{mid}~{step.get('type')}{i}"
            self._response(
                advisor,
                rid,
                model,
                numbers,
                side,
                ts,
                lineno,
                True,
                speed_code(step),
                cost,
            )

    def _response(
        self,
        mid: Any,
        rid: Any,
        model: str,
        numbers: Numbers,
        side: bool,
        ts: float | None,
        lineno: int,
        final: bool,
        speed: int,
        cost: Any,
    ) -> Response:
        """Start the line's response, or fold the line into it; returns the response. Its
        content is measured later, and only while it has no final count (`_settle`)."""
        if type(mid) is not str:
            mid = None
        if type(rid) is not str:
            rid = None
        key = response_key(mid, rid, lineno)
        response = self.state.responses.get(key)
        if response is not None:
            response.add_line(numbers, final, side, speed, ts, cost)
            return response
        inp, out, cread, c5, c1, reasoning = numbers
        # positional, in field order: keywords cost 3x here, once per response read
        response = self.state.responses[key] = Response(
            mid,
            rid,
            model,
            ts,
            inp,
            out,
            cread,
            c5,
            c1,
            reasoning,
            final,
            side,
            0,  # text, tool and signature characters, blocks: see `_settle`
            0,
            0,
            0,
            speed,
            None if cost is None else logged_cost(cost),
        )
        return response


# ---------------------------------------------------------------- the fast decode

_DECODER: Any = None
_TYPED: Any = None
_ERRORS: tuple[type[Exception], ...] = ()
_USAGE: Any = None  # `linestruct.Usage`, once loaded
_UNSET: Any = None  # `msgspec.UNSET`, once loaded
_typed_numbers: Callable[[Any], Numbers | str]
_typed_final: Callable[[Any], bool]


def load_fast() -> None:
    """Import the fast decode now (before worker processes are forked, so that they
    inherit it rather than each importing msgspec)."""
    global _DECODER, _TYPED, _ERRORS, _USAGE, _UNSET, _typed_numbers, _typed_final
    if _DECODER is None:
        from costlog.sources.claude import linestruct

        _TYPED, _ERRORS, _USAGE = linestruct.TYPED.decode, linestruct.ERRORS, linestruct.Usage
        _UNSET = linestruct.UNSET
        _typed_numbers, _typed_final = linestruct.typed_numbers, linestruct.typed_final
        _DECODER = linestruct.DECODER.decode


def _decode_fast(raw: bytes) -> Any:
    """The line decoded into `linestruct.Line` (named fields only, the rest skipped
    unbuilt), or None when it does not fit (not an object, a field of another shape, not
    JSON): then the plain JSON path reads it, with its warnings. Invalid UTF-8 in a field
    not read here does not cost the line its usage."""
    if _DECODER is None:
        load_fast()
    try:
        return _TYPED(raw)
    except _ERRORS:  # a usage of another shape: the untyped line, read as before
        pass
    try:
        return _DECODER(raw)
    except _ERRORS:
        return None


def _raw(content: Any) -> Any:
    """A raw `content` value decoded (all of it: the output estimate measures it). By
    msgspec, which `_take_fast` (the only caller) has loaded: `loads_fast` gives what
    `json.loads` gives, 3x faster."""
    try:
        return _lines.loads_fast(bytes(content))
    except (ValueError, RecursionError):
        return json.loads(bytes(content).decode("utf-8", "replace"))
