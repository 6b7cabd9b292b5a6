"""Codex CLI: read `$CODEX_HOME/sessions/YYYY/MM/DD/rollout-*.jsonl` (and `archived_sessions/`).

Each rollout line is `{"timestamp", "type", "payload"}`. The rules applied, and why:

* **One request per `token_count` event.** `event_msg` lines with `payload.type ==
  "token_count"` carry `info.last_token_usage` (that call) and `info.total_token_usage`
  (running total). We take `last_token_usage`; rows that only carry the running total
  count the step from the previous total in the same file. `info: null` rows (rate-limit
  updates) and all-zero steps count nothing.
* **Re-emitted events are counted once.** Codex writes the same `token_count` again (same
  total, same last call) after some turns; an event is identified by its token numbers
  (running total + last call), so a repeat is dropped.
* **Forked sessions do not bill the parent twice.** A fork (`/fork`, or a sub-agent spawned
  with the parent's history) starts by re-writing the parent's rollout lines into the new
  file with *new* timestamps, so timestamps cannot tell them apart. The token numbers can:
  a replayed event has the parent's running total and last call. Each event belongs to
  the earliest-started session that holds it; the fork keeps only its own calls. The same
  rule drops replayed tool calls and prompts, so commits and the first prompt stay with
  the session that made them.
* **Sub-agents roll up.** A rollout whose `session_meta.source.subagent.thread_spawn` names
  a parent thread is read into that parent session (requests marked `subagent`, counted in
  `subagents`) when the parent's file is present; otherwise it stands alone.
* **OpenAI usage semantics.** `input_tokens` includes `cached_input_tokens` (and a newer
  `cache_write_input_tokens`), so `input = input - cached - cache_write`, cached goes to
  `cache_read`. `output_tokens` already includes `reasoning_output_tokens` (billed as
  output); `reasoning` is informational.
* **Model** from `info.model` on the event, else the latest `turn_context.model`, else
  `session_meta.model`; a log naming none (Sept 2025 builds) is priced as `gpt-5`, the
  default then, and the session says so in `methods`.
* **Identity.** The session id is `session_meta.id` (the uuid in the file name, also the
  `CODEX_THREAD_ID`); files without a `session_meta` use the uuid or stem of the file name.
  cwd and branch come from `session_meta` (`cwd`, `git.branch`). The same relative path in
  `sessions/` and `archived_sessions/` is read once, from `sessions/`.
* **Robust reading.** Files are streamed line by line. A corrupt or truncated line, or a
  count that is negative, fractional, not a number or absurdly large, is reported as
  `path:line: reason` and skipped; the rest of the file still counts. A file whose first
  record is not a rollout line (a Claude transcript, saved `codex exec --json` output) is
  skipped with one warning.
* **Incremental cache** (`costlog.sources.cache`). Per file it keeps the per-call counts,
  event keys, models, timestamps, cwd, branch and where reading stopped; an unchanged file
  is not opened, a grown one is read from that offset. Prompts, edited paths and commit
  refs (`first_prompt`, `edited_files`, `tool_output_refs`) are never cached: they are
  filled when a file is given as a root, by `find_session`, or with `use_cache=False`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from costlog.models import Request, Session, Usage
from costlog.safefs import check_log, open_log
from costlog.sources import cwd_inside, in_scope
from costlog.sources.cache import FileCache, tail_hash
from costlog.timeutil import log_time
from costlog.timeutil import parse_log_time as parse_time  # gemini imports it from here

Warn = Callable[[str], None]
Key = tuple[Any, ...]

AGENT = "codex"
#: prompts are kept this long (in memory only): enough to find work-item keys
PROMPT_CHARS = 4000
FALLBACK_MODEL = "gpt-5"
#: a single call reading or writing more than this is a corrupt number, not usage (the
#: same 20M per request as every adapter: no model reads or writes that much in one call)
MAX_CALL_TOKENS = 20_000_000
#: running totals may be large, but not this large
MAX_TOTAL_TOKENS = 10**12
HEAD_LINES = 20
#: bump when the cached per-file state changes shape or meaning
SCHEMA = 1
_FIELDS = (
    "input_tokens",
    "cached_input_tokens",
    "cache_write_input_tokens",
    "output_tokens",
    "reasoning_output_tokens",
)
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_PATCH_PATH = re.compile(r"^\*\*\* (?:(?:Add|Update|Delete) File|Move to): (.+?)\s*$", re.M)
_GIT_COMMIT = re.compile(r"\bgit\b[^;&|\n]*\bcommit\b")
_COMMIT_LINE = re.compile(r"^\[[^\]\n]+? ([0-9a-f]{7,40})\] (.+?)\s*$", re.M)
_EDIT_TOOLS = ("apply_patch",)  # a tuple: `x in` works for any JSON value


# ------------------------------------------------------------------ shared helpers
# (also used by the Gemini adapter)

#: a line longer than this is skipped unread (bounded memory; no usage line is this big)
MAX_LINE = 64 << 20


def bounded_lines(fh: BinaryIO) -> Iterator[bytes | int]:
    """The lines of `fh`, holding at most MAX_LINE bytes of one: a longer line comes as its
    size (an int), skipped unread; one still being written at the end as b"\\x00" (partial)."""
    readline = fh.readline
    while raw := readline(MAX_LINE):
        if len(raw) < MAX_LINE or raw.endswith(b"\n"):
            yield raw
            continue
        size, raw = len(raw), b""  # freed before reading on
        while True:
            chunk = readline(1 << 20)
            size += len(chunk)
            if chunk.endswith(b"\n"):
                yield size
                break
            if not chunk:
                yield b"\x00"
                return


def too_long(size: int) -> str:
    return f"line of {size:,} bytes is too long to hold usage, skipped"


def iter_json_lines(path: Path, warn: Warn) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each JSON-object line; bad lines are warned and skipped."""
    try:
        handle = open_log(path)  # a regular file only: a FIFO named like a log would hang
    except OSError as exc:
        warn(f"{path}: cannot read: {exc.strerror or exc}")
        return
    with handle:
        for number, raw in enumerate(bounded_lines(handle), 1):
            if isinstance(raw, int):
                warn(f"{path}:{number}: {too_long(raw)}")
                continue
            if not raw.strip():
                continue
            try:
                value = json.loads(raw)
            except (ValueError, RecursionError):  # RecursionError: deep nesting
                reason = "corrupt line (not JSON)"
                if not raw.endswith(b"\n"):
                    reason = "truncated last line (not JSON)"
                warn(f"{path}:{number}: {reason}, skipped")
                continue
            if not isinstance(value, dict):
                warn(f"{path}:{number}: not a JSON object, skipped")
                continue
            yield number, value


def token_count(value: object, limit: int = MAX_CALL_TOKENS) -> int | None:
    """A token count as logged: a non-negative int below `limit`, else None."""
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if 0 <= value <= limit else None


def commit_refs(output: str) -> set[str]:
    """Commit shas and subjects from `git commit` output (`[main 1a2b3c4] Subject`)."""
    refs: set[str] = set()
    for match in _COMMIT_LINE.finditer(output):
        refs.add(match.group(1))
        refs.add(match.group(2))
    return refs


def is_git_commit(command: str) -> bool:
    return bool(_GIT_COMMIT.search(command))


def absolute(path: str, base: str | None) -> str:
    """`path` made absolute against `base` when it is relative and a base is known."""
    if path.startswith("/") or not base:
        return path
    return str(Path(base) / path)


def digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8", "replace")).hexdigest()


# ------------------------------------------------------------------ per-file reading


@dataclass(slots=True)
class Head:
    """What the first lines of a rollout say about it."""

    path: Path
    session_id: str
    cwd: str | None = None
    started: datetime | None = None
    branch: str | None = None
    forked_from: str | None = None
    parent_thread: str | None = None
    model: str | None = None


@dataclass(slots=True)
class FileData:
    """One rollout file's facts, and where reading stopped (so a grown file resumes)."""

    head: Head
    calls: list[tuple[Key, Request]] = field(default_factory=list)
    prompts: list[tuple[Key, str]] = field(default_factory=list)
    edits: list[tuple[Key, str]] = field(default_factory=list)
    refs: list[tuple[Key, str]] = field(default_factory=list)
    ended: datetime | None = None
    assumed_model: bool = False
    #: True once a line was a rollout record; False for a file of another format
    rollout: bool = False
    foreign: bool = False
    lines: int = 0
    warnings: list[str] = field(default_factory=list)
    model: str | None = None
    cwd: str | None = None
    prev_total: dict[str, int] | None = None

    @property
    def rank(self) -> tuple[datetime, str]:
        return (self.head.started or datetime.max.replace(tzinfo=UTC), self.head.session_id)

    def to_json(self) -> dict[str, Any]:
        """The cacheable part: counts, ids, models, times, cwd, branch (no prompt or output)."""
        h = self.head
        return {
            "head": [
                h.session_id,
                h.cwd,
                _iso(h.started),
                h.branch,
                h.forked_from,
                h.parent_thread,
                h.model,
            ],
            "calls": [
                [
                    list(key),
                    r.model,
                    [
                        r.usage.input,
                        r.usage.output,
                        r.usage.cache_read,
                        r.usage.cache_write_5m,
                        r.usage.reasoning,
                    ],
                    _iso(r.timestamp),
                ]
                for key, r in self.calls
            ],
            "ended": _iso(self.ended),
            "assumed": self.assumed_model,
            "rollout": self.rollout,
            "foreign": self.foreign,
            "lines": self.lines,
            "warnings": list(self.warnings),
            "resume": [
                self.model,
                self.cwd,
                None if self.prev_total is None else [self.prev_total[k] for k in _FIELDS],
            ],
        }

    @classmethod
    def from_json(cls, path: Path, state: Mapping[str, Any]) -> FileData:
        sid, cwd, started, branch, forked, parent, model = state["head"]
        head = Head(path, sid, cwd, parse_time(started), branch, forked, parent, model)
        data = cls(
            head=head,
            ended=parse_time(state["ended"]),
            assumed_model=state["assumed"],
            rollout=state["rollout"],
            foreign=state["foreign"],
            lines=state["lines"],
            warnings=list(state["warnings"]),
        )
        for key, name, (i, o, cr, cw, rs), when in state["calls"]:
            usage = Usage(input=i, output=o, cache_read=cr, cache_write_5m=cw, reasoning=rs)
            data.calls.append(
                (_freeze(key), Request(model=name, usage=usage, timestamp=parse_time(when)))
            )
        data.model, data.cwd, total = state["resume"]
        data.prev_total = None if total is None else dict(zip(_FIELDS, total, strict=True))
        return data


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when else None


def _freeze(value: Any) -> Any:
    """JSON lists back into the tuples keys are made of."""
    return tuple(_freeze(v) for v in value) if isinstance(value, list) else value


def _id_from_name(path: Path) -> str:
    match = _UUID.search(path.stem)
    return match.group(0) if match else path.stem


def _meta_fields(head: Head, payload: Mapping[str, Any]) -> None:
    head.session_id = str(payload.get("id") or payload.get("session_id") or head.session_id)
    cwd = payload.get("cwd")
    head.cwd = cwd if isinstance(cwd, str) and cwd else head.cwd
    head.started = parse_time(payload.get("timestamp")) or head.started
    git = payload.get("git")
    if isinstance(git, dict) and isinstance(git.get("branch"), str):
        head.branch = git["branch"]
    forked = payload.get("forked_from_id")
    head.forked_from = forked if isinstance(forked, str) else None
    head.parent_thread = _parent_thread(payload.get("source"))
    model = payload.get("model")
    head.model = model if isinstance(model, str) and model else None


def _parent_thread(source: object) -> str | None:
    if not isinstance(source, dict):
        return None
    sub = source.get("subagent")
    spawn = sub.get("thread_spawn") if isinstance(sub, dict) else None
    parent = spawn.get("parent_thread_id") if isinstance(spawn, dict) else None
    return parent if isinstance(parent, str) else None


def read_head(path: Path) -> Head:
    """The file's own `session_meta` (first one within the first lines), quietly."""
    head = Head(path=path, session_id=_id_from_name(path))
    for number, record in iter_json_lines(path, lambda _m: None):
        if head.started is None:
            head.started = parse_time(record.get("timestamp"))
        if record.get("type") == "session_meta" and isinstance(record.get("payload"), dict):
            _meta_fields(head, record["payload"])
            break
        if number >= HEAD_LINES:
            break
    return head


class _Invalid(ValueError):
    """A usage object with a count that cannot be trusted."""


class _Reader:
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

    def read(self, fh: BinaryIO, start: int) -> tuple[int, dict[str, Any]]:
        """Read from byte `start`; returns the offset after the last whole line and the
        state as of that offset (a last line still being written is counted now if it is
        whole JSON, but read again next time)."""
        fh.seek(start)
        offset = start
        for raw in bounded_lines(fh):
            if self.data.foreign:
                break
            if isinstance(raw, int):
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
            record = json.loads(raw)
        except (ValueError, RecursionError):
            what = "truncated last line" if last else "corrupt line"
            self.warn(f"{self.where}: {what} (not JSON), skipped")
            return
        if not isinstance(record, dict):  # null, [], 42: a corrupt line, not another format
            self.warn(f"{self.where}: not a JSON object, skipped")
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
            last = self._usage_numbers(info.get("last_token_usage"), MAX_CALL_TOKENS)
        except _Invalid as exc:
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
        """The usage object's counts, None when absent; raises _Invalid on a bad count."""
        if value is None:
            return None
        if not isinstance(value, dict):
            raise _Invalid("token usage is not an object")
        numbers: dict[str, int] = {}
        for name in _FIELDS:
            raw = value.get(name, 0)
            count = token_count(raw, limit)
            if count is None:
                raise _Invalid(f"invalid {name} {raw!r}")
            numbers[name] = count
        return numbers

    def _step(self, total: dict[str, int] | None) -> dict[str, int] | None:
        if total is None:
            return None
        prev = self.data.prev_total
        if prev is None or any(total[k] < prev[k] for k in _FIELDS):
            step = dict(total)  # first total in the file, or the counter restarted
        else:
            step = {k: total[k] - prev[k] for k in _FIELDS}
        if any(v > MAX_CALL_TOKENS for v in step.values()):
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
        return tuple(n[k] for k in _FIELDS) if n is not None else None

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


# ------------------------------------------------------------------ assembling sessions


def _dedupe_owners(files: Sequence[FileData]) -> dict[Key, str]:
    """Each fact (call, prompt, edit, ref) belongs to the earliest-started session holding it."""
    best: dict[Key, tuple[datetime, str]] = {}
    for data in files:
        rank = data.rank
        for key in _keys(data):
            if key not in best or rank < best[key]:
                best[key] = rank
    return {key: rank[1] for key, rank in best.items()}


def _keys(data: FileData) -> Iterator[Key]:
    for facts in (data.calls, data.prompts, data.edits, data.refs):
        for key, _value in facts:
            yield key


def _build(files: Sequence[FileData]) -> list[Session]:
    owners = _dedupe_owners(files)
    sessions: dict[str, Session] = {}
    seen: dict[str, set[Key]] = {}
    for data in sorted(files, key=lambda d: (d.rank, str(d.head.path))):
        sid = data.head.session_id
        session = sessions.get(sid)
        if session is None:
            session = sessions[sid] = _new_session(data)
            seen[sid] = set()
        _merge_file(session, data, owners, seen[sid])
    return _roll_up_subagents(sessions, files)


def _new_session(data: FileData) -> Session:
    head = data.head
    return Session(
        agent=AGENT,
        session_id=head.session_id,
        cwd=head.cwd,
        started=head.started,
        branch=head.branch,
    )


def _owned(
    facts: Iterable[tuple[Key, Any]], sid: str, owners: Mapping[Key, str], seen: set[Key]
) -> Iterator[Any]:
    for key, value in facts:
        if owners.get(key) == sid and key not in seen:
            seen.add(key)
            yield value


def _merge_file(
    session: Session, data: FileData, owners: Mapping[Key, str], seen: set[Key]
) -> None:
    sid = session.session_id
    session.paths.append(str(data.head.path))
    session.requests.extend(_owned(data.calls, sid, owners, seen))
    prompts = list(_owned(data.prompts, sid, owners, seen))
    if session.first_prompt is None and prompts:
        session.first_prompt = prompts[0]
    session.edited_files.update(_owned(data.edits, sid, owners, seen))
    session.tool_output_refs.update(_owned(data.refs, sid, owners, seen))
    session.cwd = session.cwd or data.head.cwd
    session.branch = session.branch or data.head.branch
    if data.ended and (session.ended is None or data.ended > session.ended):
        session.ended = data.ended
    if data.assumed_model:
        session.methods["model"] = f"{FALLBACK_MODEL} assumed: the log names no model"


def _roll_up_subagents(sessions: dict[str, Session], files: Sequence[FileData]) -> list[Session]:
    parents = {d.head.session_id: d.head.parent_thread for d in files if d.head.parent_thread}
    for child_id, parent_id in parents.items():
        parent = sessions.get(parent_id)
        child = sessions.get(child_id)
        if parent is None or child is None or parent is child:
            continue
        for request in child.requests:
            request.subagent = True
        parent.requests.extend(child.requests)
        parent.requests.sort(key=lambda r: r.timestamp or datetime.min.replace(tzinfo=UTC))
        parent.subagents += 1 + child.subagents
        parent.paths.extend(child.paths)
        parent.edited_files |= child.edited_files
        parent.tool_output_refs |= child.tool_output_refs
        parent.methods.update(child.methods)
        if child.ended and (parent.ended is None or child.ended > parent.ended):
            parent.ended = child.ended
        del sessions[child_id]
    return list(sessions.values())


# ------------------------------------------------------------------ discovery


def rollout_files(roots: Sequence[Path], warn: Warn | None = None) -> list[Path]:
    """Rollout files under `roots`; `sessions/` wins over `archived_sessions/` copies.
    Anything named like one that is not a regular file (a FIFO, a link to a device) is
    left out, with a warning through `warn`."""
    found: dict[object, Path] = {}
    ordered = sorted(roots, key=lambda r: r.name == "archived_sessions")
    skip = warn or (lambda _m: None)
    for root in ordered:
        if root.is_file():
            found.setdefault(root.resolve(), root)
            continue
        if root.exists() and not root.is_dir():
            check_log(root, skip)  # a FIFO or device given by name: say why it is not read
            continue
        for base in _session_dirs(root):
            for path in sorted(base.rglob("*.jsonl")):
                if not check_log(path, skip):
                    continue
                rel = path.relative_to(base)
                key: object = (
                    (base.parent.resolve(), rel)
                    if base.name in ("sessions", "archived_sessions")
                    else path.resolve()
                )
                found.setdefault(key, path)
    return list(found.values())


def _session_dirs(root: Path) -> list[Path]:
    """A CODEX_HOME holds sessions/ and archived_sessions/; any other dir is read as given."""
    subdirs = [root / "sessions", root / "archived_sessions"]
    present = [d for d in subdirs if d.is_dir()]
    return present or ([root] if root.is_dir() else [])


def _context(roots: Sequence[Path]) -> list[Path]:
    """For a rollout given as a file: the CODEX_HOME it sits in, whose other files may hold
    its fork parent (to drop the replay) or its sub-agents (to roll them up)."""
    homes: list[Path] = []
    for root in roots:
        if root.is_file():
            for parent in root.parents:
                if parent.name in ("sessions", "archived_sessions"):
                    homes.append(parent.parent)
                    break
    return homes


def families(heads: Sequence[Head]) -> list[list[Head]]:
    """Heads grouped so that forks, their parents, sub-agents and copies stay together."""
    group: dict[str, str] = {}

    def find(name: str) -> str:
        while group.setdefault(name, name) != name:
            group[name] = group[group[name]]
            name = group[name]
        return name

    for head in heads:
        for other in (head.forked_from, head.parent_thread):
            if other:
                group[find(other)] = find(head.session_id)
    out: dict[str, list[Head]] = {}
    for head in heads:
        out.setdefault(find(head.session_id), []).append(head)
    return list(out.values())


def _recent(head: Head, since: datetime | None) -> bool:
    if since is None:
        return True
    try:
        mtime = datetime.fromtimestamp(head.path.stat().st_mtime, UTC)
    except OSError:
        return False
    return mtime >= since


class _Files:
    """Per-file state through the incremental cache (`costlog.sources.cache`)."""

    def __init__(self, warn: Warn, use_cache: bool) -> None:
        self.warn = warn
        self.cache = FileCache(AGENT, SCHEMA, enabled=use_cache) if use_cache else None
        self.hits: dict[Path, FileData] = {}

    def head(self, path: Path) -> Head:
        """A file's head: from the cache when the file is unchanged, else its first lines."""
        if self.cache is not None:
            try:
                status, cached = self.cache.lookup(str(path), path.stat())
            except OSError:
                status, cached = "miss", None
            # a hit with a partial last line is re-read from there (it may be whole now)
            if status == "hit" and cached is not None and cached.offset == cached.size:
                data = FileData.from_json(path, cached.state)
                self.hits[path] = data
                return data.head
        return read_head(path)

    def read(self, head: Head, collect: bool) -> FileData:
        hit = self.hits.get(head.path)
        if hit is not None and not collect:
            for message in hit.warnings:
                self.warn(message)
            return hit
        try:
            with open_log(head.path) as fh:
                st = os.fstat(fh.fileno())  # the file read, not what the name points to now
                data, offset, state = self._read_from(fh, head, st, collect)
                tail = tail_hash(fh, offset)
        except OSError as exc:
            self.warn(f"{head.path}: cannot read: {exc.strerror or exc}")
            return FileData(head=head)
        if self.cache is not None:
            self.cache.put(str(head.path), st, offset, tail, state)
        return data

    def _read_from(
        self, fh: BinaryIO, head: Head, st: Any, collect: bool
    ) -> tuple[FileData, int, dict[str, Any]]:
        status, cached = (
            self.cache.lookup(str(head.path), st)
            if self.cache is not None and not collect
            else ("miss", None)
        )
        if (
            status in ("hit", "grown")
            and cached is not None
            and tail_hash(fh, cached.offset) == cached.tail
        ):
            data = FileData.from_json(head.path, cached.state)
            for message in data.warnings:
                self.warn(message)
            offset, state = _Reader(data, self.warn, collect).read(fh, cached.offset)
            return data, offset, state
        data = FileData(head=head)
        offset, state = _Reader(data, self.warn, collect).read(fh, 0)
        return data, offset, state

    def save(self) -> None:
        if self.cache is not None:
            self.cache.save()


def _read(files: Sequence[FileData]) -> list[Session]:
    sessions = _build([data for data in files if data.rollout])
    for session in sessions:
        session.started = session.started or min(
            (r.timestamp for r in session.requests if r.timestamp), default=None
        )
    return sorted(
        sessions, key=lambda s: (s.started or datetime.min.replace(tzinfo=UTC), s.session_id)
    )


def _named(roots: Sequence[Path], warn: Warn) -> tuple[list[Path], list[Path]]:
    """The rollout files `roots` name, and the other files of the CODEX_HOMEs that hold
    the ones given as single files (their fork parents and sub-agents)."""
    named = rollout_files(roots, warn)
    known = {p.resolve() for p in named}
    context = [p for p in rollout_files(_context(roots), warn) if p.resolve() not in known]
    return named, context


def _sessions(
    files: _Files, heads: Sequence[Head], wanted: set[Path], fresh: set[Path]
) -> Iterator[Session]:
    """Sessions holding a wanted file, read one family of related files at a time. A family
    with a `fresh` file is read in full, with the attribution facts, bypassing the cache."""
    for family in families(heads):
        if not any(h.path in wanted for h in family):
            continue
        collect = any(h.path in fresh for h in family)
        for session in _read([files.read(h, collect) for h in family]):
            if wanted.intersection(Path(p) for p in session.paths):
                yield session
    files.save()


class CodexAdapter:
    name = AGENT

    def default_roots(self, env: Mapping[str, str], home: Path) -> list[Path]:
        base = Path(env["CODEX_HOME"]).expanduser() if env.get("CODEX_HOME") else home / ".codex"
        return [base / "sessions", base / "archived_sessions"]

    def scan(
        self,
        roots: Sequence[Path],
        *,
        project: Path | None = None,
        since: datetime | None = None,
        warn: Warn,
        use_cache: bool = True,
    ) -> Iterator[Session]:
        """Every session under `roots`. Files given as roots are read afresh, with the
        attribution fields; directories go through the incremental cache (no attribution
        fields) unless `use_cache` is False."""
        files = _Files(warn, use_cache)
        named, context = _named(roots, warn)
        heads = [files.head(p) for p in [*named, *context]]
        given = set(named)
        wanted = {
            h.path
            for h in heads
            if h.path in given and cwd_inside(h.cwd, project) and _recent(h, since)
        }
        fresh = {p for p in named if p in roots} if use_cache else given
        for session in _sessions(files, heads, wanted, fresh):
            if in_scope(session, project, since):
                yield session

    def find_session(self, roots: Sequence[Path], session_id: str, *, warn: Warn) -> Session | None:
        """The session read afresh with its attribution fields (a sub-agent's id finds the
        parent session it was rolled into)."""
        files = _Files(warn, use_cache=True)
        named, context = _named(roots, warn)
        heads = [files.head(p) for p in [*named, *context]]
        wanted = {h.path for h in heads if h.session_id == session_id}
        for session in _sessions(files, heads, wanted, wanted):
            return session
        return None


ADAPTER = CodexAdapter()
