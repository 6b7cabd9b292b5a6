"""Reading one rollout file's lines into its `FileData`: token counts, and (when asked)
the attribution facts: prompts, edited paths, commits made.

Every fact is stored under a key made of what identifies it across files (an event's
token numbers, a call id, a prompt's digest), so a fork's replay of its parent's lines
can be told apart from its own (see `sessions`).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from datetime import datetime
from typing import IO, Any

from costlog.models import Request, Usage
from costlog.sources import Warn, _lines
from costlog.sources._lines import (
    NOT_OBJECT,
    Unfinished,
    bounded_lines,
    line_blocks,
    loads,
    loads_fast,
    not_json,
    too_long,
)
from costlog.sources._tools import absolute, commit_refs, digest, is_git_commit
from costlog.sources._usage import MAX_TOKENS, MAX_TOTAL_TOKENS, BadUsage, token_count
from costlog.sources.codex import evidence, limits
from costlog.sources.codex.rollout import FIELDS, FileData, Key
from costlog.timeutil import log_time, parse_log_time

#: bytes to read afresh from which msgspec pays for its import (~15 ms)
FAST_AFRESH = 4 << 20
#: prompts are kept this long (in memory only): enough to find work-item keys
PROMPT_CHARS = 4000
FALLBACK_MODEL = "gpt-5"
_PATCH_PATH = re.compile(r"^\*\*\* (?:(?:Add|Update|Delete) File|Move to): (.+?)\s*$", re.M)
_EDIT_TOOLS = ("apply_patch",)  # a tuple: `x in` works for any JSON value


class Reader:
    """Reads one rollout file into a FileData."""

    def __init__(self, data: FileData, warn: Warn, collect: bool) -> None:
        self.data = data
        self._warn = warn
        #: also gather the attribution facts (prompts, edits, commit refs): never cached
        self.collect = collect
        #: parse lines with msgspec (`_lines.loads_fast`): always in a scan; when reading
        #: afresh (`record`, `backfill`, the hooks), only for a big read, worth its import
        self.fast = not collect
        self.commands: dict[str, tuple[str, str | None]] = {}
        #: the latest time in Codex's own form not yet in `data.ended` (see `_unread`)
        self._latest = ""
        #: the days of such times that parsed as log times
        self._days: set[str] = set()
        self.where = ""
        if data.cwd is None:
            data.cwd = data.head.cwd

    def warn(self, message: str) -> None:
        self.data.warnings.append(message)
        self._warn(message)

    def read(self, fh: IO[bytes], start: int) -> tuple[int, dict[str, Any]]:
        """Read from byte `start`; returns the offset after the last whole line and the
        state as of that offset (a last line still being written is counted now if it is
        whole JSON, but read again next time)."""
        fh.seek(start)
        offset = start
        if not self.fast:
            try:
                self.fast = os.fstat(fh.fileno()).st_size - start >= FAST_AFRESH
            except (OSError, AttributeError, ValueError):  # not a real file: keep `json`
                self.fast = False
        blocks = line_blocks(fh) if _lines.MAX_LINE >= 8 * _lines.BLOCK else bounded_lines(fh)
        for raw in blocks:
            if self.data.foreign:
                break
            if isinstance(raw, int):
                if isinstance(raw, Unfinished):  # maybe still being written: read it again
                    self._settle()
                    snapshot = self.data.to_json()
                    self.warn(f"{self.data.head.path}:{self.data.lines + 1}: {too_long(raw)}")
                    return offset, snapshot
                offset += raw
                self.data.lines += 1
                self.warn(f"{self.data.head.path}:{self.data.lines}: {too_long(raw)}")
                continue
            if not raw.endswith(b"\n"):
                self._settle()
                snapshot = self.data.to_json()
                self._line(raw, self.data.lines + 1, last=True)
                return offset, snapshot
            if self._block(raw):
                offset += len(raw)
                continue
            done = 0
            for line in _split(raw):  # one line at a time, as `bounded_lines` gives them
                if self._foreign():
                    break
                known = self.data.rollout
                offset += len(line)
                done += len(line)
                self.data.lines += 1
                self._line(line, self.data.lines)
                # the file's first record showed it is a rollout: the rest in one go
                if not known and done < len(raw) and self._block(raw[done:]):
                    offset += len(raw) - done
                    break
        self._settle()
        return offset, self.data.to_json()

    def _foreign(self) -> bool:
        """The file turned out not to be a rollout (`_line` says so): stop reading."""
        return self.data.foreign

    def _block(self, block: bytes) -> bool:
        """Read a block of whole lines in one msgspec call (`linestruct`), when this is a
        scan of a file known to be a rollout and msgspec reads every line of the block:
        the records only their time is wanted from are never built, the records a scan
        reads (token counts, turn contexts) are read from the fields the struct holds, and
        any other line by `_line`. False (nothing read) when the block must be read line by
        line."""
        if self.collect or not self.data.rollout:
            return False
        records = _records(block)
        if records is None:
            return False
        parts: list[bytes] | None = None
        first = self.data.lines
        days, fixed = self._days, _FIXED.fullmatch
        for number, record in enumerate(records, first + 1):
            payload, kind = record.payload, record.type
            if payload is not None and (
                kind == "response_item"
                or (kind == "event_msg" and payload.type not in _COUNTED_EVENTS)
            ):
                stamp = record.timestamp  # `_unread`'s common case, without a call
                if type(stamp) is str and stamp[:10] in days and fixed(stamp):
                    if stamp > self._latest:
                        self._latest = stamp
                else:
                    self._unread(stamp, number)
                continue
            # a token_usage_record's response id and usage are not in the struct: parsed
            if payload is not None and type(kind) is str and kind != "token_usage_record":
                self._decoded(record, kind, number)
                continue
            if parts is None:
                parts = block.split(b"\n")
            self._line(parts[number - first - 1] + b"\n", number, known=True)
        self.data.lines = first + len(records)
        return True

    def _decoded(self, record: Any, kind: str, number: int) -> None:
        """What `_line` does with a record of a scan, from its `linestruct.Record` (the
        payload's fields a scan reads are in the struct): decoding the line again as a dict
        was most of the cost of a token_count line."""
        self.where = f"{self.data.head.path}:{number}"
        when = log_time(record.timestamp, self.where, self.warn)
        if when and (self.data.ended is None or when > self.data.ended):
            self.data.ended = when
        payload = record.payload
        if kind == "turn_context":
            model = payload.model or payload.model_name
            if isinstance(model, str) and model:
                self.data.model = model
            cwd = payload.cwd
            if isinstance(cwd, str) and cwd:
                self.data.cwd = cwd
        elif kind == "event_msg":  # a counted one: see `_event`
            self._token_count(payload.info, when, payload.model)
            limits.observe(self.data, payload.rate_limits, self.warn, self.where)
        # session_meta and any other kind: only their time (see `_record`)

    def _line(self, raw: bytes, number: int, last: bool = False, known: bool = False) -> None:
        """One line; `known`: `_block` found it is not a record only its time is read."""
        if not self.collect and not last and not known and self.data.rollout:
            unread = _unread(raw)
            if unread is not None:  # a record only its time is wanted from: not parsed
                self._unread(unread.timestamp, number)
                return
        if not raw or raw.isspace():
            return
        self.where = f"{self.data.head.path}:{number}"
        try:
            record = loads_fast(raw) if self.fast else loads(raw)
        except (ValueError, RecursionError) as exc:
            self.warn(f"{self.where}: {not_json(exc, last)}")
            return
        if not isinstance(record, dict):  # null, [], 42: a corrupt line, not another format
            self.warn(f"{self.where}: {NOT_OBJECT}")
            return
        payload = record.get("payload")
        kind = record.get("type")
        if not isinstance(kind, str) or not isinstance(payload, dict):
            if not self.data.rollout:  # another format (a Claude transcript, `exec --json`)
                self.data.foreign = True
                self.warn(f"{self.where}: not a Codex rollout file, skipped")
            else:
                self.warn(f"{self.where}: not a Codex rollout record, skipped")
            return
        self.data.rollout = True
        when = log_time(record.get("timestamp"), self.where, self.warn)
        if when and (self.data.ended is None or when > self.data.ended):
            self.data.ended = when
        self._record(kind, payload, when, number)

    def _unread(self, stamp: object, number: int) -> None:
        """Fold the time of a record not otherwise read into the file's end. Parsing every
        time is most of the cost of such a line, so a time written the way Codex writes it
        (`2026-10-20T08:30:00.123Z`) on a day already parsed, which is then a valid time
        that sorts as its string, is only compared: the latest is parsed once, by
        `_settle`."""
        if type(stamp) is str and stamp[:10] in self._days and _FIXED.fullmatch(stamp):
            if stamp > self._latest:
                self._latest = stamp
            return
        self.where = f"{self.data.head.path}:{number}"
        when = log_time(stamp, self.where, self.warn)
        if when is None:
            return
        if self.data.ended is None or when > self.data.ended:
            self.data.ended = when
        if type(stamp) is str and _FIXED.fullmatch(stamp):
            self._days.add(stamp[:10])

    def _settle(self) -> None:
        """Count the latest time `_unread` only compared into the file's end."""
        when = parse_log_time(self._latest) if self._latest else None
        if when is not None and (self.data.ended is None or when > self.data.ended):
            self.data.ended = when

    def _record(
        self, kind: str, payload: dict[str, Any], when: datetime | None, number: int
    ) -> None:
        # session_meta was read by read_head; later ones are a fork's replayed parent header
        if kind == "turn_context":
            self._turn_context(payload)
        elif kind == "token_usage_record":
            self._usage_record(payload)
        elif kind == "event_msg":
            if not self.collect:
                self._event(payload, when, number)
                return
            data = self.data
            counts = (len(data.prompts), len(data.edits), len(data.refs))
            self._event(payload, when, number)
            self._mark(counts, when)
        elif kind == "response_item" and self.collect:
            data = self.data
            counts = (len(data.prompts), len(data.edits), len(data.refs))
            self._item(payload, number)
            self._mark(counts, when)

    def _mark(self, counts: tuple[int, int, int], when: datetime | None) -> None:
        """Note where the facts this line added were read (see `FileData.prompt_marks`)."""
        data = self.data
        mark = (len(data.calls), when)
        for facts, marks, before in (
            (data.prompts, data.prompt_marks, counts[0]),
            (data.edits, data.edit_marks, counts[1]),
            (data.refs, data.ref_marks, counts[2]),
        ):
            marks.extend([mark] * (len(facts) - before))

    def _turn_context(self, payload: Mapping[str, Any]) -> None:
        model = payload.get("model") or payload.get("model_name")
        if isinstance(model, str) and model:
            self.data.model = model
        cwd = payload.get("cwd")
        if isinstance(cwd, str) and cwd:
            self.data.cwd = cwd

    # ---- events

    def _event(self, payload: Mapping[str, Any], when: datetime | None, number: int) -> None:
        kind = payload.get("type")
        if kind == "token_count":
            self._token_count(payload.get("info"), when, payload.get("model"))
            limits.observe(self.data, payload.get("rate_limits"), self.warn, self.where)
        elif not self.collect:
            return
        elif kind == "user_message":
            message = payload.get("message")
            if isinstance(message, str) and message.strip():
                self.data.prompts.append((("prompt", digest(message)), message[:PROMPT_CHARS]))
        elif kind == "exec_command_end":
            self._exec_end(payload, number)
        elif kind in ("patch_apply_begin", "patch_apply_end"):
            self._patch_event(payload, number)
        elif kind == "item_completed":  # Codex >= 0.171: commands and prompts as items
            evidence.item_completed(self.data, payload, f"{self.data.head.path}:{number}")

    def _usage_record(self, payload: Mapping[str, Any]) -> None:
        """Codex >= 0.171 writes each response's usage with its `response_id` before the
        token_count that holds the same numbers: the id is kept, to name that call."""
        rid = payload.get("response_id")
        try:
            usage = self._usage_numbers(payload.get("usage"), MAX_TOKENS)
        except BadUsage:
            usage = None  # the token_count is checked, and warned about, itself
        if isinstance(rid, str) and rid and usage is not None:
            self.data.pending = (rid, tuple(usage[k] for k in FIELDS))
        else:
            self.data.pending = None

    def _token_count(self, info: object, when: datetime | None, named: object = None) -> None:
        if not isinstance(info, dict):
            return  # `info: null`: a rate-limit update only
        try:
            total = self._usage_numbers(info.get("total_token_usage"), MAX_TOTAL_TOKENS)
            last = self._usage_numbers(info.get("last_token_usage"), MAX_TOKENS)
        except BadUsage as exc:
            self.warn(f"{self.where}: {exc}, event not counted")
            return
        step = last if last is not None else self._step(total)
        if total is not None and (last is not None or step is not None):
            self.data.prev_total = total  # not after an implausible step: it costs only itself
        if step is None or not any(step.values()):
            return
        key = _event_key(total, last, when)
        pending, self.data.pending = self.data.pending, None
        if pending is not None and pending[1] == tuple(step[k] for k in FIELDS):
            key = ("response", pending[0])  # the response's own id: the natural key
        model = info.get("model") or named
        if isinstance(model, str) and model:
            self.data.model = model  # the model named last serves the events that name none
        request = Request(model=self._model(), usage=self._usage(step), timestamp=when)
        self.data.calls.append((key, request))

    @staticmethod
    def _usage_numbers(value: object, limit: int) -> dict[str, int] | None:
        """The usage object's counts, None when absent; raises BadUsage on a bad count."""
        if value is None:
            return None
        if not isinstance(value, dict):
            raise BadUsage("token usage is not an object")
        numbers: dict[str, int] = {}
        get = value.get
        for name in FIELDS:
            raw = get(name, 0)
            if type(raw) is int and 0 <= raw <= limit:  # the common case, without a call
                numbers[name] = raw
                continue
            count = token_count(raw, limit)
            if count is None:
                raise BadUsage(f"invalid {name} {raw!r}")
            numbers[name] = count
        return numbers

    def _step(self, total: dict[str, int] | None) -> dict[str, int] | None:
        if total is None:
            return None
        prev = self.data.prev_total
        if prev is None or any(total[k] < prev[k] for k in FIELDS):
            step = dict(total)  # first total in the file, or the counter restarted
        else:
            step = {k: total[k] - prev[k] for k in FIELDS}
        if any(v > MAX_TOKENS for v in step.values()):
            self.warn(f"{self.where}: implausible step in total_token_usage, not counted")
            return None
        return step

    def _usage(self, n: dict[str, int]) -> Usage:
        cached = n["cached_input_tokens"]
        written = n["cache_write_input_tokens"]
        if cached + written > n["input_tokens"]:
            self.warn(f"{self.where}: cached_input_tokens exceeds input_tokens, clamped")
            cached = min(cached, n["input_tokens"])
            written = min(written, n["input_tokens"] - cached)
        output = n["output_tokens"]
        return Usage(
            input=n["input_tokens"] - cached - written,
            output=output,
            cache_read=cached,
            cache_write_5m=written,
            reasoning=min(n["reasoning_output_tokens"], output),
        )

    def _model(self) -> str:
        model = self.data.model or self.data.head.model
        if model:
            return model
        self.data.assumed_model = True
        return FALLBACK_MODEL

    # ---- tool calls

    def _item(self, payload: Mapping[str, Any], number: int) -> None:
        kind = payload.get("type")
        call_id = str(payload.get("call_id") or f"{self.data.head.path}:{number}")
        if kind == "function_call":
            self._function_call(call_id, payload)
        elif kind == "custom_tool_call" and payload.get("name") in _EDIT_TOOLS:
            self._patch_text(call_id, payload.get("input"), self.data.cwd)
        elif kind == "custom_tool_call":  # code mode: its script is the command (evidence)
            self._remember_command(call_id, payload.get("input"), {})
        elif kind == "local_shell_call":
            action = payload.get("action")
            if isinstance(action, dict):
                self._remember_command(call_id, action.get("command"), action)
        elif kind in ("function_call_output", "custom_tool_call_output"):
            self._output(call_id, payload.get("output"))
        elif kind == "message" and payload.get("role") == "user" and not self.data.prompts:
            self._fallback_prompt(payload.get("content"))

    def _function_call(self, call_id: str, payload: Mapping[str, Any]) -> None:
        try:
            args = json.loads(payload.get("arguments") or "{}")
        except (TypeError, ValueError, RecursionError):
            return
        if not isinstance(args, dict):
            return
        if payload.get("name") in _EDIT_TOOLS:
            self._patch_text(call_id, args.get("input") or args.get("patch"), self._workdir(args))
            return
        command = args.get("cmd") or args.get("command")
        self._remember_command(call_id, command, args)

    def _workdir(self, args: Mapping[str, Any]) -> str | None:
        workdir = args.get("workdir") or args.get("cwd")
        if isinstance(workdir, str) and workdir:
            return absolute(workdir, self.data.cwd)
        return self.data.cwd

    def _remember_command(self, call_id: str, command: object, args: Mapping[str, Any]) -> None:
        text = " ".join(str(c) for c in command) if isinstance(command, list) else command
        if not isinstance(text, str):
            return
        workdir = self._workdir(args)
        self.commands[call_id] = (text, workdir)
        if "*** Begin Patch" in text:  # `apply_patch <<'EOF'` through the shell
            self._patch_text(call_id, text, workdir)

    def _output(self, call_id: str, output: object) -> None:
        command = self.commands.get(call_id)
        if command is None or not is_git_commit(command[0]):
            return
        for ref in commit_refs(_output_text(output)):
            self.data.refs.append((("ref", call_id, ref), ref))

    def _exec_end(self, payload: Mapping[str, Any], number: int) -> None:
        call_id = str(payload.get("call_id") or f"{self.data.head.path}:{number}")
        command = payload.get("command")
        text = " ".join(str(c) for c in command) if isinstance(command, list) else command
        if isinstance(text, str) and is_git_commit(text):
            output = (
                payload.get("aggregated_output")
                or payload.get("stdout")
                or payload.get("formatted_output")
            )
            for ref in commit_refs(_output_text(output)):
                self.data.refs.append((("ref", call_id, ref), ref))

    def _patch_event(self, payload: Mapping[str, Any], number: int) -> None:
        changes = payload.get("changes")
        if not isinstance(changes, dict) or payload.get("success") is False:
            return
        call_id = str(payload.get("call_id") or f"{self.data.head.path}:{number}")
        for name in changes:
            path = absolute(str(name), self.data.cwd)
            self.data.edits.append((("edit", call_id, path), path))

    def _patch_text(self, call_id: str, text: object, base: str | None) -> None:
        if not isinstance(text, str):
            return
        for match in _PATCH_PATH.finditer(text):
            path = absolute(match.group(1), base)
            self.data.edits.append((("edit", call_id, path), path))

    def _fallback_prompt(self, content: object) -> None:
        text = _output_text(content).strip()
        if text and not text.startswith(("<", "# AGENTS.md")):  # injected context, not a prompt
            self.data.prompts.append((("prompt", digest(text)), text[:PROMPT_CHARS]))


def _event_key(
    total: dict[str, int] | None, last: dict[str, int] | None, when: datetime | None
) -> Key:
    """The key of a call with no `response_id` (Codex before 0.171 writes none): its
    running total, which grows with every response and so names one; a replay or a copy
    of the line carries the same total. Where a `token_usage_record` names the response,
    its id is the key instead (`Reader._token_count`): the total alone would take a 0.171
    fork's call (whose total continues from its parent's) for the parent's call of the
    same size made after the fork."""

    def frozen(n: dict[str, int] | None) -> Key | None:
        return tuple(n[k] for k in FIELDS) if n is not None else None

    if total is None:  # no running total to tell two equal calls apart: use the time
        return ("call", when.isoformat() if when else None, frozen(last))
    # the running total alone names the event: a replay of a parent's total-only row may
    # carry `last_token_usage` too (and the other way round), and is still the same event
    return ("call", frozen(total))


#: a log time as Codex writes it: UTC, milliseconds; such strings sort as their times
_FIXED = re.compile(r"\d{4}-\d\d-\d\dT(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{3}Z", re.ASCII)
#: the `event_msg` kinds read without the attribution facts: keep in step with `_event`
_COUNTED_EVENTS = ("token_count",)  # a tuple: `x in` works for any JSON value
_DECODER: Any = None
_ERRORS: tuple[type[Exception], ...] = ()


def _records(block: bytes) -> list[Any] | None:
    """The block's lines decoded as `linestruct.Record`s, one per line; None when msgspec
    does not read every line so (a blank line, bad JSON, a byte-order mark, ...)."""
    global _DECODER, _ERRORS
    if _DECODER is None:
        from costlog.sources.codex import linestruct

        _DECODER, _ERRORS = linestruct.DECODER, linestruct.ERRORS
    try:
        records: list[Any] = _DECODER.decode_lines(block)
    except _ERRORS:
        return None
    return records if len(records) == block.count(b"\n") else None


def _split(block: bytes) -> list[bytes]:
    """A block's whole lines, each with its newline."""
    parts = block.split(b"\n")
    parts.pop()  # the empty rest after the block's last newline
    return [line + b"\n" for line in parts]


def _unread(raw: bytes) -> Any:
    """The line decoded as a `linestruct.Record`, when it is a record a scan without the
    attribution facts does not read (a `response_item`, an `event_msg` other than those
    counted): then only its time is wanted, and the rest of the line (most of a rollout's
    bytes: tool output, reasoning) is checked but never built. None for any other line,
    which is then parsed in full."""
    global _DECODER, _ERRORS
    if _DECODER is None:
        from costlog.sources.codex import linestruct

        _DECODER, _ERRORS = linestruct.DECODER, linestruct.ERRORS
    try:
        record = _DECODER.decode(raw)
    except _ERRORS:
        return None
    payload, kind = record.payload, record.type
    if payload is None or not (
        kind == "response_item" or (kind == "event_msg" and payload.type not in _COUNTED_EVENTS)
    ):
        return None
    return record


def _output_text(output: object) -> str:
    """Tool output as text: a plain string, `{"output": ...}` JSON, or content parts."""
    if isinstance(output, str):
        if output.startswith("{"):
            try:
                inner = json.loads(output)
            except (ValueError, RecursionError):
                return output
            if isinstance(inner, dict) and isinstance(inner.get("output"), str):
                return str(inner["output"])
        return output
    if isinstance(output, list):
        return "\n".join(str(p.get("text", "")) for p in output if isinstance(p, dict))
    if isinstance(output, dict):
        return _output_text(output.get("output") or output.get("content") or "")
    return ""
