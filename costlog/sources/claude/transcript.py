"""Reading one Claude Code transcript (`<project>/<session>.jsonl`) into a FileState.

Reading is streamed in binary: only lines containing `"usage"` are parsed as JSON, and a
further line of a response already read with its final count (>= 2.1.97 repeats the final
usage on every content-block line) is recognised on its bytes and not parsed at all. A
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
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any

from costlog.sources._lines import Unfinished, bounded_lines, too_long
from costlog.sources.claude.attribution import add_commit_refs, add_edited_files, user_prompt
from costlog.sources.claude.counts import SPEEDS, Numbers, logged_cost, speed_code, usage_numbers
from costlog.sources.claude.filestate import FileState, response_key
from costlog.sources.claude.output_estimate import content_features
from costlog.sources.claude.responses import Response
from costlog.timeutil import BAD_TIME, parse_log_time

Warn = Callable[[str], None]

#: keys only the `message_delta` (final) usage has
_FINAL_KEYS = frozenset({"server_tool_use", "iterations", "speed", "output_tokens_details"})
_MID = re.compile(rb'"id":"(msg_[A-Za-z0-9_-]+)"')
_OUT_TOKENS = re.compile(rb'"output_tokens":(\d+)')
_NO_CONTENT = (0, 0, 0, 0)
_FAST = SPEEDS.index("fast")


def _epoch(value: Any) -> float | None:
    """A line's ISO 8601 `timestamp` as Unix seconds; None when absent, unreadable or
    outside 1970-2100 (the reader warns about the line)."""
    if not isinstance(value, str) or not value:
        return None
    when = parse_log_time(value)
    return None if when is None else when.timestamp()


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

    def read(self, fh: IO[bytes], start: int) -> int:
        """Read from byte `start` to the end; returns the offset after the last full line."""
        fh.seek(start)
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
                if not self.collect and self._repeat(raw):
                    continue
                self._usage_line(raw, lineno)
            elif state.first_ts is None or self.collect:
                self._other_line(raw, lineno)
        if partial is not None:
            # a line still being written: count it if it is whole JSON, but resume before it
            self._partial(partial, lineno)
        if last_complete is not None:
            self._last_line(last_complete)
        return offset

    def _repeat(self, raw: bytes) -> bool:
        """A further line of a response already read with its final count, adding nothing:
        skip the JSON parse. Checked on the bytes: same ids, no larger output count, same
        sidechain and speed."""
        found = _MID.search(raw)
        if found is None:
            return False
        at = raw.rfind(b'"requestId":"')
        rid = raw[at + 13 : raw.find(b'"', at + 13)].decode() if at >= 0 else None
        response = self.state.responses.get(response_key(found.group(1).decode(), rid, None))
        if (
            response is None
            or not response.final
            or b'"type":"progress"' in raw
            or (b'"isSidechain":true' in raw) != response.sidechain
            or (b'"speed":"fast"' in raw and response.speed != _FAST)
        ):
            return False
        limit = response.output
        return all(int(n) <= limit for n in _OUT_TOKENS.findall(raw))

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

    def _prompt(self, obj: Mapping[str, Any]) -> None:
        if self.state.first_prompt is None:
            self.state.first_prompt = user_prompt(obj)

    def _time(self, obj: Mapping[str, Any], lineno: int) -> float | None:
        """The line's time; a `timestamp` that is there but unusable is warned about once,
        naming the line, and the line still counts (without a time)."""
        value = obj.get("timestamp")
        ts = _epoch(value)
        if ts is None and value not in (None, ""):
            self._bad(lineno, BAD_TIME)
        return ts

    def _meta(self, obj: Mapping[str, Any], ts: float | None = None) -> None:
        state = self.state
        if ts is None:
            ts = _epoch(obj.get("timestamp"))
        if ts is not None:
            if state.first_ts is None or ts < state.first_ts:
                state.first_ts = ts
            if state.last_ts is None or ts > state.last_ts:
                state.last_ts = ts
        if state.cwd is None:
            cwd = obj.get("cwd")
            if isinstance(cwd, str) and cwd:
                state.cwd = cwd
        branch = obj.get("gitBranch")
        if branch != state.branch and isinstance(branch, str) and branch and branch != "HEAD":
            state.branch = branch
        version = obj.get("version")
        if version != state.version and isinstance(version, str) and version:
            state.version = version

    def _usage_line(self, raw: bytes, lineno: int) -> None:
        obj = self._parse(raw, lineno)
        if isinstance(obj, dict):
            self._take(obj, lineno)
        elif obj is not None:
            self._bad(lineno, "not a JSON object")

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
        self._response(line, msg, usage, model, numbers, side, ts, lineno)
        iterations = usage.get("iterations")
        if iterations and isinstance(iterations, list):
            self._advisors(line, msg, iterations, side, ts, lineno)

    def _advisors(
        self,
        line: Mapping[str, Any],
        msg: Mapping[str, Any],
        iterations: list[Any],
        side: bool,
        ts: float | None,
        lineno: int,
    ) -> None:
        """Advisor calls appear only in `usage.iterations[]` (type other than "message",
        with their own model); the top-level usage is the executor's. Each is a request of
        its own, priced at its model."""
        mid = msg.get("id")
        if not isinstance(mid, str):
            return
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
            advisor = {
                **msg,
                "id": f"{mid}~{step.get('type')}{i}",
                "stop_reason": "advisor",
                "content": None,
            }
            self._response(line, advisor, step, model, numbers, side, ts, lineno)

    def _response(
        self,
        line: Mapping[str, Any],
        msg: Mapping[str, Any],
        usage: Mapping[str, Any],
        model: str,
        numbers: Numbers,
        side: bool,
        ts: float | None,
        lineno: int,
    ) -> None:
        """Start the line's response, or fold the line into it."""
        mid = msg.get("id")
        rid = line.get("requestId")
        if type(mid) is not str:
            mid = None
        if type(rid) is not str:
            rid = None
        final = msg.get("stop_reason") is not None or not _FINAL_KEYS.isdisjoint(usage)
        content = msg.get("content")
        sizes = _NO_CONTENT if final else content_features(content)
        if self.collect:
            add_edited_files(content, self.state.edited)
        key = response_key(mid, rid, lineno)
        response = self.state.responses.get(key)
        if response is not None:
            response.add_line(numbers, final, side, sizes, speed_code(usage), ts)
            return
        inp, out, cread, c5, c1, reasoning = numbers
        text, tool, sig, blocks = sizes
        # positional, in field order: keywords cost 3x here, once per response read
        self.state.responses[key] = Response(
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
            text,
            tool,
            sig,
            blocks,
            speed_code(usage),
            logged_cost(line.get("costUSD")),
        )
