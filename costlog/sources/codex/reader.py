"""Reading one rollout file's lines into its `FileData`: token counts, and (when asked)
the attribution facts: prompts, edited paths, commits made.

Every fact is stored under a key made of what identifies it across files (an event's
token numbers, a call id, a prompt's digest), so a fork's replay of its parent's lines
can be told apart from its own (see `sessions`).

A scan (no attribution facts) does not decode the lines it only takes the time of (a
`response_item`, an `event_msg` that is not a token count: most of a rollout's bytes)
when it recognises them by their first bytes, as Codex writes them (`_SKIPPABLE`), on a
day an earlier such line showed to be a date, ending in `}`. So damage in the middle of
such a line, which cannot hold token counts, is not warned about; a line cut short (no
closing `}`) still is, and every other line is read as ever. See docs/codex-reading.md.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
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
from costlog.sources.codex.rollout import FIELDS, Counts, FileData, Key
from costlog.timeutil import BAD_TIME, FIRST_YEAR, LAST_YEAR, parse_log_time

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
        #: the days (`b"2026-10-20"`) of lines `_SKIPPABLE` matched, each a valid date
        #: (see `_seen_day`)
        self._checked: set[bytes] = set()
        #: the day of the last line `_block` skipped: its `_day_form`, its line's start
        self._today: tuple[_Match, bytes] = (_NO_DAY, b"\n")
        #: the line being read, for `where`: set per line, made into text only to warn
        self._number = 0
        #: the time of the line being read as its text, when that reads back as the time
        #: (`_own_text`), else None: a call keeps it for the cache (`FileData.times`)
        self._text: str | None = None
        if data.cwd is None:
            data.cwd = data.head.cwd

    @property
    def where(self) -> str:
        """`path:line` of the line being read, for a warning."""
        return f"{self.data.head.path}:{self._number}"

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
        if _lines.MAX_LINE < 8 * _lines.BLOCK:  # a test's lowered limit: line by line
            blocks: Iterator[bytes | int | memoryview] = bounded_lines(fh)
        elif self.collect or not hasattr(fh, "readinto"):
            blocks = line_blocks(fh)
        else:
            blocks = _scan_blocks(fh)
        for raw in blocks:
            if self.data.foreign:
                break
            if type(raw) is memoryview:  # whole lines, in `_scan_blocks`' buffer
                if self._block(raw):
                    offset += len(raw)
                    continue
                raw = bytes(raw)  # read line by line below (no second `_block` try)
            elif isinstance(raw, int):
                if isinstance(raw, Unfinished):  # maybe still being written: read it again
                    self._settle()
                    snapshot = self.data.to_json()
                    self.warn(f"{self.data.head.path}:{self.data.lines + 1}: {too_long(raw)}")
                    return offset, snapshot
                offset += raw
                self.data.lines += 1
                self.warn(f"{self.data.head.path}:{self.data.lines}: {too_long(raw)}")
                continue
            elif not raw.endswith(b"\n"):
                self._settle()
                snapshot = self.data.to_json()
                self._line(raw, self.data.lines + 1, last=True)
                return offset, snapshot
            elif self._block(raw):
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

    def _block(self, block: bytes | memoryview) -> bool:
        """Read a block of whole lines, when this is a scan of a file known to be a
        rollout; False (nothing read) when the block must be read line by line.

        Each line is found by a byte search for its newline. A line `_SKIPPABLE` matches
        (a record a scan only takes the time of, as Codex writes it, ending in `}`) on a
        day an earlier such line showed valid is not decoded at all: its time is taken
        from its first bytes and the rest of it (most of a rollout's bytes: tool output,
        reasoning) is not looked at. Every other line is decoded on its own, by msgspec
        into a `linestruct.Record` (`_kept`), and read as `_line` would read it."""
        if self.collect or not self.data.rollout:
            return False
        _load_decoder()
        buf: Any = block if type(block) is bytes else block.obj  # type: ignore[union-attr]
        find, starts, skippable = buf.find, buf.startswith, _SKIPPABLE.match
        end, pos, number = len(block), 0, self.data.lines
        today, head = self._today  # the last skipped line's day: its `_day_form`, line start
        stamps: list[bytes | bytearray] = []  # of the lines skipped
        keep = stamps.append
        while (nl := find(b"\n", pos, end)) >= 0:
            after = nl + 1
            number += 1
            if today(buf, pos, after) is not None:  # on the day of the last one skipped
                keep(buf[pos + _STAMP_AT : pos + _STAMP_END])
            elif (
                not starts(head, pos)  # (on that day, `today` has said it is not such a line)
                and skippable(buf, pos, after) is not None
                and self._seen_day(day := bytes(buf[pos + _STAMP_AT : pos + _DAY_END]))
            ):
                today, head = _day_form(day), buf[pos : pos + _DAY_END]
                keep(buf[pos + _STAMP_AT : pos + _STAMP_END])
            else:
                self._kept(block[pos:after], number)
            pos = after
        self.data.lines = number
        self._stamps(stamps, (today, bytes(head)))
        return True

    def _stamps(self, stamps: list[bytes | bytearray], today: tuple[_Match, bytes]) -> bool:
        """Fold the times of a block's skipped lines (each `_FIXED`, so they sort as their
        times) into the file's end at once, by their maximum, which `_settle` parses, and
        keep the day of the last one (its `_day_form` and the start of its line) for the
        next block: whether there were any."""
        self._today = today
        if not stamps:
            return False
        latest = max(stamps).decode()
        if latest > self._latest:
            self._latest = latest
        return True

    def _seen_day(self, day: bytes) -> bool:
        """Whether an earlier line `_SKIPPABLE` matched was on `day`, which is then a
        valid date. The first such line of a day is read in full (and the day, when it is
        a date, noted), so a line is skipped only on a day already checked; a day that is
        not a date (`2026-02-30`) never is, and each of its lines is warned about."""
        if day in self._checked:
            return True
        if parse_log_time(day.decode() + "T00:00:00.000Z") is not None:
            self._checked.add(day)
        return False

    def _kept(self, line: bytes | memoryview, number: int) -> None:
        """A line of a block `_block` does not skip: decoded as a `linestruct.Record` and
        read from the fields it holds (`_decoded`), or by `_line` when msgspec does not
        read it so (bad JSON, a blank line, a count that is not one...) or the struct does
        not hold what it needs: a token_usage_record's response id and usage, or a line
        that is not a rollout record."""
        try:
            record = _DECODER.decode(line)
        except _ERRORS:
            self._line(bytes(line), number, known=True)
            return
        payload, kind = record.payload, record.type
        if payload is None or type(kind) is not str or kind == "token_usage_record":
            self._line(bytes(line), number, known=True)
        elif kind == "response_item" or (
            kind == "event_msg" and payload.type not in _COUNTED_EVENTS
        ):
            self._unread(record.timestamp, number)
        else:
            self._decoded(record, kind, number)

    def _decoded(self, record: Any, kind: str, number: int) -> None:
        """What `_line` does with a record of a scan, from its `linestruct.Record` (the
        payload's fields a scan reads are in the struct): decoding the line again as a dict
        was most of the cost of a token_count line. The usual time (`_time`'s first step,
        `_log_time`, inline: this runs once per call of a history) and the usual event
        (both usage objects, their counts checked by msgspec) are read here without a call
        of ours."""
        self._number = number
        stamp = record.timestamp
        when: datetime | None = None
        if type(stamp) is str and stamp[-1:] == "Z" and 10 <= len(stamp) <= 40:
            try:
                when = _from_iso(stamp)
            except ValueError:
                pass
            else:
                if when.tzinfo is not UTC or not FIRST_YEAR <= when.year <= LAST_YEAR:
                    when = None
        self._text = stamp if when is not None else None  # as `_own_text` keeps it
        if when is None:
            when = self._time(stamp)
        data = self.data
        if when and (data.ended is None or when > data.ended):
            data.ended = when
        payload = record.payload
        if kind == "event_msg":  # a counted one: see `_event`
            info = payload.info
            if type(info) is _INFO:  # else `info: null` (a rate-limit update only), or odd
                total, last = info.total_token_usage, info.last_token_usage
                if type(total) is _TOTAL and type(last) is _STEP:
                    self._count(_astuple(total), _astuple(last), when, info.model or payload.model)
                else:
                    try:
                        counts, step = _info_numbers(info)
                    except BadUsage as exc:
                        self.warn(f"{self.where}: {exc}, event not counted")
                    else:
                        self._count(counts, step, when, info.model or payload.model)
            rate_limits = payload.rate_limits
            if type(rate_limits) is _LIMITS and not limits.observe_typed(data, rate_limits):
                self.warn(f"{self.where}: {limits.NOT_UNDERSTOOD}")  # else none, or odd
        elif kind == "turn_context":
            model = payload.model or payload.model_name
            if isinstance(model, str) and model:
                self.data.model = model
            cwd = payload.cwd
            if isinstance(cwd, str) and cwd:
                self.data.cwd = cwd
        # session_meta and any other kind: only their time (see `_record`)

    def _line(self, raw: bytes, number: int, last: bool = False, known: bool = False) -> None:
        """One line; `known`: `_block` found it is not a record only its time is read."""
        if not self.collect and not last and not known and self.data.rollout:
            if _SKIPPABLE.match(raw) is not None and self._seen_day(raw[_STAMP_AT:_DAY_END]):
                stamp = raw[_STAMP_AT:_STAMP_END].decode()  # as `_block` skips it
                if stamp > self._latest:
                    self._latest = stamp
                return
            unread = _unread(raw)
            if unread is not None:  # a record only its time is wanted from: not parsed
                self._unread(unread.timestamp, number)
                return
        if not raw or raw.isspace():
            return
        self._number = number
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
        written = record.get("timestamp")
        when = self._time(written)
        # only a token count makes a call (`_count`), which keeps its time's text
        self._text = _own_text(written) if when is not None and kind == "event_msg" else None
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
        self._number = number
        when = self._time(stamp)
        if when is None:
            return
        if self.data.ended is None or when > self.data.ended:
            self.data.ended = when
        if type(stamp) is str and _FIXED.fullmatch(stamp):
            self._days.add(stamp[:10])

    def _time(self, stamp: object) -> datetime | None:
        """`log_time` of the line being read: the usual text read by `_log_time`, its
        `file:line` made only to warn."""
        when = _log_time(stamp)
        if when is None and stamp is not None and stamp != "":
            self.warn(f"{self.where}: {BAD_TIME}")
        return when

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
        if counts == (len(data.prompts), len(data.edits), len(data.refs)):
            return  # most lines add none
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
            usage = _usage_numbers(payload.get("usage"), MAX_TOKENS)
        except BadUsage:
            usage = None  # the token_count is checked, and warned about, itself
        if isinstance(rid, str) and rid and usage is not None:
            self.data.pending = (rid, usage)
        else:
            self.data.pending = None

    def _token_count(self, info: object, when: datetime | None, named: object = None) -> None:
        if not isinstance(info, dict):
            return  # `info: null`: a rate-limit update only
        try:
            total = _usage_numbers(info.get("total_token_usage"), MAX_TOTAL_TOKENS)
            last = _usage_numbers(info.get("last_token_usage"), MAX_TOKENS)
        except BadUsage as exc:
            self.warn(f"{self.where}: {exc}, event not counted")
            return
        self._count(total, last, when, info.get("model") or named)

    def _count(
        self, total: Counts | None, last: Counts | None, when: datetime | None, model: object
    ) -> None:
        """One token_count event's call, from its checked counts; `model`: the one the
        event names, if any."""
        data = self.data
        step = last if last is not None else self._step(total)
        if total is not None and (last is not None or step is not None):
            data.prev_total = total  # not after an implausible step: it costs only itself
        if step is None or not any(step):
            return
        # once per event of a history: what `_event_key`, `_model` and `_usage` do, inline
        key = ("call", total) if total is not None else _event_key(total, last, when)
        pending = data.pending
        if pending is not None:
            data.pending = None
            if pending[1] == step:
                key = ("response", pending[0])  # the response's own id: the natural key
        if isinstance(model, str) and model:
            data.model = model  # the model named last serves the events that name none
        name = data.model or data.head.model or self._model()
        given, cached, written, output, reasoning = step
        if cached + written > given:
            usage = self._usage(step)  # says so, and clamps
        else:
            reasoning = reasoning if reasoning < output else output
            usage = None
        if data.rows is not None:  # only the state is wanted: the call as `to_json` keeps it
            if usage is None:
                counts = [given - cached - written, output, cached, written, reasoning]
            else:
                u = usage
                counts = [u.input, u.output, u.cache_read, u.cache_write_5m, u.reasoning]
            text = self._text or (when.isoformat() if when else None)
            data.rows.append([list(key), name, counts, text])
            return
        if usage is None:
            usage = Usage(given - cached - written, output, cached, written, 0, reasoning)
        data.calls.append((key, Request(name, usage, when)))
        data.times.append(self._text)

    def _step(self, total: Counts | None) -> Counts | None:
        if total is None:
            return None
        prev = self.data.prev_total
        if prev is None or any(t < p for t, p in zip(total, prev, strict=True)):
            step = total  # first total in the file, or the counter restarted
        else:
            i, c, w, o, r = (t - p for t, p in zip(total, prev, strict=True))
            step = (i, c, w, o, r)
        if any(v > MAX_TOKENS for v in step):
            self.warn(f"{self.where}: implausible step in total_token_usage, not counted")
            return None
        return step

    def _usage(self, n: Counts) -> Usage:
        given, cached, written, output, reasoning = n
        if cached + written > given:
            self.warn(f"{self.where}: cached_input_tokens exceeds input_tokens, clamped")
            cached = min(cached, given)
            written = min(written, given - cached)
        return Usage(given - cached - written, output, cached, written, 0, min(reasoning, output))

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


def _log_time(stamp: object) -> datetime | None:
    """`parse_log_time`, the usual time (UTC written `Z`, as Codex writes it) read by
    `fromisoformat` alone, which then reads it as `parse_log_time` does."""
    if type(stamp) is str and stamp[-1:] == "Z" and 10 <= len(stamp) <= 40:
        try:
            when = _from_iso(stamp)
        except ValueError:
            return parse_log_time(stamp)
        if when.tzinfo is UTC and FIRST_YEAR <= when.year <= LAST_YEAR:
            return when
    return parse_log_time(stamp)


def _own_text(stamp: object) -> str | None:
    """A log time that `parse_log_time` read, as its text when `datetime.fromisoformat`
    reads that text as the same time (UTC written `Z`, nothing around it), as the cache
    reads it back (`FileData.from_json`); else None: the time is formatted instead. (For
    such text `parse_log_time` is `fromisoformat` and nothing more: a test holds it so.)"""
    if type(stamp) is str and stamp[-1:] == "Z" and 10 <= len(stamp) <= 40 and stamp[:1].isdigit():
        return stamp
    return None


def _usage_numbers(value: object, limit: int) -> Counts | None:
    """The usage object's counts in FIELDS order, None when absent; raises BadUsage on
    a bad count (the first in FIELDS order)."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise BadUsage("token usage is not an object")
    get = value.get
    numbers = (
        get("input_tokens", 0),
        get("cached_input_tokens", 0),
        get("cache_write_input_tokens", 0),
        get("output_tokens", 0),
        get("reasoning_output_tokens", 0),
    )
    return _checked(numbers, limit)


def _info_numbers(info: Any) -> tuple[Counts | None, Counts | None]:
    """The total and last counts of a `linestruct.Info`, as `_usage_numbers` gives them
    (raising BadUsage on the first bad one, the total's first). Each count of a usage
    object decoded as a struct was checked by msgspec (`linestruct.Total`, `Step`)."""
    return (
        _struct_numbers(info.total_token_usage, _TOTAL),
        _struct_numbers(info.last_token_usage, _STEP),
    )


def _struct_numbers(value: object, kind: type) -> Counts | None:
    """`_usage_numbers` of a usage object decoded as `kind` (any other JSON value is kept
    as itself: not an object)."""
    if value is None:
        return None
    if type(value) is not kind:
        raise BadUsage("token usage is not an object")
    counts: Counts = _astuple(value)
    return counts


def _checked(numbers: tuple[Any, Any, Any, Any, Any], limit: int) -> Counts:
    """The five counts, each checked against `limit`; raises BadUsage on a bad one."""
    i, c, w, o, r = numbers
    if (  # the common case, without a call
        type(i) is int
        and type(c) is int
        and type(w) is int
        and type(o) is int
        and type(r) is int
        and 0 <= i <= limit
        and 0 <= c <= limit
        and 0 <= w <= limit
        and 0 <= o <= limit
        and 0 <= r <= limit
    ):
        return numbers
    checked: list[int] = []
    for name, raw in zip(FIELDS, numbers, strict=True):
        if type(raw) is int and 0 <= raw <= limit:
            checked.append(raw)
            continue
        count = token_count(raw, limit)
        if count is None:
            raise BadUsage(f"invalid {name} {raw!r}")
        checked.append(count)
    i, c, w, o, r = checked
    return (i, c, w, o, r)


def _event_key(total: Counts | None, last: Counts | None, when: datetime | None) -> Key:
    """The key of a call with no `response_id` (Codex before 0.171 writes none): its
    running total, which grows with every response and so names one; a replay or a copy
    of the line carries the same total. Where a `token_usage_record` names the response,
    its id is the key instead (`Reader._token_count`): the total alone would take a 0.171
    fork's call (whose total continues from its parent's) for the parent's call of the
    same size made after the fork."""
    if total is None:  # no running total to tell two equal calls apart: use the time
        return ("call", when.isoformat() if when else None, last)
    # the running total alone names the event: a replay of a parent's total-only row may
    # carry `last_token_usage` too (and the other way round), and is still the same event
    return ("call", total)


#: a log time as Codex writes it: UTC, milliseconds; such strings sort as their times
_DAY, _TIME_OF_DAY = r"\d{4}-\d\d-\d\d", r"T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{3}Z"
_FIXED = re.compile(_DAY + _TIME_OF_DAY, re.ASCII)
#: the `event_msg` kinds read without the attribution facts: keep in step with `_event`
_COUNTED_EVENTS = ("token_count",)  # a tuple: `x in` works for any JSON value
_DECODER: Any = None
_ERRORS: tuple[type[Exception], ...] = ()
_astuple: Any = None
_INFO: Any = None
_LIMITS: Any = None
_TOTAL: Any = None
_STEP: Any = None
_from_iso = datetime.fromisoformat


def _skippable(day: bytes) -> re.Pattern[bytes]:
    """A line a scan only takes the time of, as Codex writes it (with or without the
    `ordinal` of Codex >= 0.171), its day matching `day`: its time in `_FIXED` form first,
    then its type, a `response_item` or an `event_msg` other than those counted, then its
    payload, an object; and the line ends in `}` before its newline, so one cut short by a
    crash is still decoded (and warned about). To be matched with the line's end as
    `endpos`: `.*` jumps there, and only the last two bytes are looked at."""
    counted = b"|".join(re.escape(kind.encode()) for kind in _COUNTED_EVENTS)
    return re.compile(
        rb'\{"timestamp":"'
        + day
        + _TIME_OF_DAY.encode()
        + rb'",(?:"ordinal":(?:0|[1-9]\d{0,18}),)?"type":"(?:response_item","payload":\{'
        + rb'|event_msg","payload":\{"type":"(?!(?:'
        + counted
        + rb')")[^"\\]*")(?s:.*)\}\n\Z'
    )


_SKIPPABLE = _skippable(_DAY.encode())
#: where in such a line its time starts, its day ends and its time ends
_STAMP_AT, _DAY_END, _STAMP_END = 14, 24, 38
#: `_SKIPPABLE.match` on one day (`_day_form`), or on none: no day seen yet
_Match = Callable[[Any, int, int], "re.Match[bytes] | None"]
_NO_DAY: _Match = re.compile(rb"(?!)").match
#: `_day_form`'s patterns, by day (a history spans a few hundred days at most)
_DAY_FORMS: dict[bytes, _Match] = {}


def _day_form(day: bytes) -> _Match:
    """`_SKIPPABLE.match` for the lines of one day (`b"2026-10-20"`): a skipped line on
    the day of the one before is then recognised by one call, without a second look at
    its day."""
    form = _DAY_FORMS.get(day)
    if form is None:
        form = _DAY_FORMS[day] = _skippable(re.escape(day)).match
    return form


#: read buffers of `_scan_blocks` not in use: one per process, reused from file to file
_BUFFERS: list[bytearray] = []


def _scan_blocks(fh: IO[bytes]) -> Iterator[bytes | int | memoryview]:
    """`line_blocks` for a scan, read into one buffer reused from file to file instead of a
    new bytes object per block: each new MB of a fresh object is page faults (~70,000 for
    500 MB, a tenth of a scan's time). A block of whole lines comes as a memoryview of the
    buffer's start, good only until the next block is asked for; a last line cut short,
    a line longer than the buffer and one over MAX_LINE come as `line_blocks` gives them.
    Every refill is `fh.readinto`, so through the log's time-bounded reader."""
    readinto = fh.readinto  # type: ignore[attr-defined]
    fits = _BUFFERS and len(_BUFFERS[-1]) == _lines.BLOCK  # (a test may change BLOCK)
    buf = _BUFFERS.pop() if fits else bytearray(_lines.BLOCK)
    try:
        view, size, limit = memoryview(buf), len(buf), _lines.MAX_LINE
        held = 0  # the start of a line the last read ended inside, at the buffer's start
        first = True
        while True:
            got = readinto(view[held:]) or 0
            end = held + got
            if not got:  # the end of the file
                if held:
                    yield bytes(view[:held])  # a last line cut short, or still being written
                return
            cut = buf.rfind(b"\n", 0, end) + 1
            if cut and first:  # the first line alone: `Reader` learns from it the file is a
                first = False  # rollout, and then reads the rest of the block in one go
                nl = buf.find(b"\n", 0, end) + 1
                yield bytes(view[:nl])
                end -= nl
                cut -= nl
                view[:end] = view[nl : nl + end]
            if cut:
                yield view[:cut]
                held = end - cut
                view[:held] = view[cut:end]  # memoryview copies overlapping bytes safely
                continue
            if end < size:  # a short read inside a line: read on
                held = end
                continue
            line = bytes(view)  # a line longer than the buffer, as `line_blocks` reads it
            held = 0
            line += fh.readline(limit - len(line))
            if line.endswith(b"\n") or len(line) < limit:
                yield line
                continue
            length, line = len(line), b""  # freed before reading on
            length, ended = _lines._skip_rest(fh, length)
            if not ended:
                yield Unfinished(length)
                return
            yield length
    finally:
        _BUFFERS.append(buf)


def _load_decoder() -> None:
    """`linestruct`'s decoder, imported on first use (msgspec costs ~15 ms to import)."""
    global _DECODER, _ERRORS, _astuple, _INFO, _LIMITS, _TOTAL, _STEP
    if _DECODER is None:
        from costlog.sources.codex import linestruct

        _DECODER, _ERRORS = linestruct.DECODER, linestruct.ERRORS
        _astuple, _INFO, _LIMITS = linestruct.astuple, linestruct.Info, linestruct.Limits
        _TOTAL, _STEP = linestruct.Total, linestruct.Step


def _split(block: bytes) -> Iterator[bytes]:
    """A block's whole lines, each with its newline, one at a time: after a file's first
    line the rest of its first block is mostly read in one go (`Reader._block`), so it is
    not split up front."""
    start, find = 0, block.find
    while (end := find(b"\n", start)) >= 0:
        yield block[start : end + 1]
        start = end + 1


def _unread(raw: bytes) -> Any:
    """The line decoded as a `linestruct.Record`, when it is a record a scan without the
    attribution facts does not read (a `response_item`, an `event_msg` other than those
    counted): then only its time is wanted, and the rest of the line (most of a rollout's
    bytes: tool output, reasoning) is checked but never built. None for any other line,
    which is then parsed in full."""
    _load_decoder()
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
