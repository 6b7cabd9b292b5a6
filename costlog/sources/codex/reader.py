"""Reading one rollout file's lines into its `FileData`: token counts, and (when asked)
the attribution facts: prompts, edited paths, commits made.

Every fact is stored under a key made of what identifies it across files (an event's
token numbers, a call id, a prompt's digest), so a fork's replay of its parent's lines
can be told apart from its own (see `sessions`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import IO, Any

from costlog.models import Request, Usage
from costlog.sources import Warn
from costlog.sources._lines import NOT_OBJECT, Unfinished, bounded_lines, loads, not_json, too_long
from costlog.sources._tools import absolute, commit_refs, digest, is_git_commit
from costlog.sources._usage import MAX_TOKENS, MAX_TOTAL_TOKENS, BadUsage, token_count
from costlog.sources.codex.rollout import FIELDS, FileData, Key
from costlog.timeutil import log_time

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
        self.commands: dict[str, tuple[str, str | None]] = {}
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
        for raw in bounded_lines(fh):
            if self.data.foreign:
                break
            if isinstance(raw, int):
                if isinstance(raw, Unfinished):  # maybe still being written: read it again
                    snapshot = self.data.to_json()
                    self.warn(f"{self.data.head.path}:{self.data.lines + 1}: {too_long(raw)}")
                    return offset, snapshot
                offset += raw
                self.data.lines += 1
                self.warn(f"{self.data.head.path}:{self.data.lines}: {too_long(raw)}")
                continue
            if not raw.endswith(b"\n"):
                snapshot = self.data.to_json()
                self._line(raw, self.data.lines + 1, last=True)
                return offset, snapshot
            offset += len(raw)
            self.data.lines += 1
            self._line(raw, self.data.lines)
        return offset, self.data.to_json()

    def _line(self, raw: bytes, number: int, last: bool = False) -> None:
        if not raw.strip():
            return
        self.where = f"{self.data.head.path}:{number}"
        try:
            record = loads(raw)
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

    def _record(
        self, kind: str, payload: dict[str, Any], when: datetime | None, number: int
    ) -> None:
        # session_meta was read by read_head; later ones are a fork's replayed parent header
        if kind == "turn_context":
            self._turn_context(payload)
        elif kind == "event_msg":
            self._event(payload, when, number)
        elif kind == "response_item" and self.collect:
            self._item(payload, number)

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
            self._token_count(payload.get("info"), when)
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

    def _token_count(self, info: object, when: datetime | None) -> None:
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
        model = info.get("model") if isinstance(info.get("model"), str) else None
        request = Request(model=model or self._model(), usage=self._usage(step), timestamp=when)
        self.data.calls.append((key, request))

    @staticmethod
    def _usage_numbers(value: object, limit: int) -> dict[str, int] | None:
        """The usage object's counts, None when absent; raises BadUsage on a bad count."""
        if value is None:
            return None
        if not isinstance(value, dict):
            raise BadUsage("token usage is not an object")
        numbers: dict[str, int] = {}
        for name in FIELDS:
            raw = value.get(name, 0)
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
    def frozen(n: dict[str, int] | None) -> Key | None:
        return tuple(n[k] for k in FIELDS) if n is not None else None

    if total is None:  # no running total to tell two equal calls apart: use the time
        return ("call", when.isoformat() if when else None, frozen(last))
    return ("call", frozen(total), frozen(last))


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
