"""Claude Code: `~/.claude/projects/<project>/<session>.jsonl` transcripts.

Where: every `*.jsonl` under each projects dir, recursively: `CLAUDE_CONFIG_DIR` (a
comma-separated list; an entry may name the config dir or its `projects/`), else
`$XDG_CONFIG_HOME/claude/projects` (`~/.config/claude/projects`) and `~/.claude/projects`.
The session id is the file stem of `<project>/<id>.jsonl`; sub-agent transcripts
(`<id>/subagents/agent-*.jsonl`, also `subagents/workflows/...`) belong to session `<id>`;
older versions wrote sub-agent (sidechain) lines into the session file itself, and those are
counted as the sub-agent calls they are. Other nestings use the parent directory's name (as
ccusage does).

How output tokens are counted (README paragraph). Claude Code writes one transcript line per
content block of an API response, each with a copy of the response's usage, so costlog groups
lines by `message.id` + `requestId` and never sums them. Input, cache-read and cache-write
counts (5-minute and 1-hour writes kept apart, from `usage.cache_creation`) are fixed when the
response starts and are reliable on every line. `output_tokens` is not: each line is built
from the `message_start` snapshot, where it is a placeholder of about 1-30, and only a line
written after `message_delta` holds the final count. Versions ~2.1.62-2.1.96 get it right on
the last line, 2.1.97 and later on every line, while 1.0.x-2.1.5x and sub-agent transcripts
often have no final count at all. So, per response: if any line carries a final marker
(`stop_reason` set, or the `message_delta` usage shape with `server_tool_use`, `iterations`,
`speed` or `output_tokens_details`), costlog takes the largest logged `output_tokens`, which
is an actual number. Otherwise the logged number is only a lower bound, and costlog uses
`max(logged, estimate)`, where the estimate is a least-squares fit on the response's content
(0.269 x text + 0.240 x tool-input + 0.220 x thinking-signature characters + 54 per
text/tool block; Opus 4.7 and later 0.403 / 0.400 / 0.280 / 47, for their new tokenizer). The
part above the logged count is shown as estimated (`estimated_output`), and the session's
`methods.output` says how many responses needed it. On 128 real responses whose final count
is known the estimate totals 0.99x the real output (1.09x on the 34 from the placeholder-era
versions), with a mean error of about 20 % per response; the placeholder itself, which
ccusage keeps, is typically 1-30 tokens against hundreds or thousands real. Even a
perfect reading is a lower bound of the bill: transcripts never show Claude Code's auxiliary
calls (titles, summaries, classifiers).

Duplicates across lines and files are counted once: `progress` lines (a parent's mirror of a
sub-agent's messages); a resumed session's replay of earlier lines into a new file (the call
stays with the session that made it, i.e. the file that ended first; ccusage gives it to the
first path in sort order); and `/btw` asides that replay a message under a new `requestId`
as a sidechain (the main-thread copy is kept). API-error lines (model `<synthetic>`) are not
billed and are skipped. Negative, non-integer or absurd (> 20M) token counts reject the line
with a warning. Old `costUSD` values are kept as the logged cost. `ExitPlanMode`'s `plan`
input is pasted in by Claude Code, not written by the model, so the estimate ignores it.
Advisor calls, which show only in `usage.iterations[]` (a type other than "message", with
their own model), are requests of their own, priced at their model.

Reading is streamed in binary: only lines containing `"usage"` are parsed as JSON, a further
line of a response already read with its final count is recognised on its bytes and not
parsed at all, and a corrupt line costs only itself (`file:line: reason`). Big cold reads
(>= 64 MB to read) are spread over up to 4 worker processes (`COSTLOG_SCAN_WORKERS=N` to
choose; 1 turns it off).

Incremental cache (`costlog.sources.cache`): per file it keeps the per-response counts, ids,
model names, timestamps, content sizes, cwd and branch, keyed by path, size, mtime and inode;
a file that only grew is read from where the last scan stopped. Prompt text, tool output and
edited paths are never cached: `find_session`, `scan(..., use_cache=False)` and a single
file given as root read the files again and also fill `first_prompt`, `tool_output_refs`
(sha and subject printed by `git commit`) and `edited_files` (Edit/Write/MultiEdit/
NotebookEdit targets).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from operator import attrgetter
from pathlib import Path
from typing import Any

from costlog.estimate.tokens import CLAUDE_OUTPUT_METHOD, claude_output_estimate
from costlog.gcpause import gc_paused
from costlog.models import Request, Session, Usage
from costlog.safefs import check_log, open_log
from costlog.sources.cache import FileCache, tail_hash
from costlog.sources.claude.paths import default_roots, encode_cwd
from costlog.timeutil import BAD_TIME, from_epoch, parse_log_time

Warn = Callable[[str], None]

AGENT = "claude-code"
#: bump when the cached per-file state changes shape or meaning
SCHEMA = 1
#: a token count above this in one request is a corrupt line, not usage
MAX_TOKENS = 20_000_000
#: a line longer than this is skipped unread (bounded memory; no usage line is this big)
MAX_LINE = 64 << 20
#: cold reads of at least this many bytes are spread over worker processes
PARALLEL_BYTES = 64_000_000
#: keys only the `message_delta` (final) usage has
_FINAL_KEYS = frozenset({"server_tool_use", "iterations", "speed", "output_tokens_details"})
_EDIT_TOOLS = frozenset({"Edit", "Write", "MultiEdit", "NotebookEdit"})
_SPEEDS = (None, "standard", "fast", "priority")
#: `[main 1a2b3c4] subject` as printed by `git commit`, inside a JSON string
_COMMIT = re.compile(
    rb'\[(?:detached HEAD|[^\[\]\s"\\]+)(?: \(root-commit\))? ([0-9a-f]{7,40})\] '
    rb'((?:[^"\\]|\\[^n])*)'
)
_MID = re.compile(rb'"id":"(msg_[A-Za-z0-9_-]+)"')
_OUT_TOKENS = re.compile(rb'"output_tokens":(\d+)')
_SKIP_PROMPT = (
    "<local-command",
    "Caveat:",
    "<system-reminder>",
    "<command-message>",
    "This session is being continued",
    "[Request interrupted",
)

# one response group, stored as a flat list (compact in the cache)
(
    G_MID,
    G_RID,
    G_MODEL,
    G_TS,
    G_IN,
    G_OUT,
    G_CR,
    G_C5,
    G_C1,
    G_FINAL,
    G_SIDE,
    G_TEXT,
    G_TOOL,
    G_SIG,
    G_BLOCKS,
    G_REASON,
    G_SPEED,
    G_COST,
) = range(18)
_GROUP_LEN = 18


# ---------------------------------------------------------------- discovery


@dataclass(frozen=True, slots=True)
class LogFile:
    path: Path
    session_id: str
    #: a sub-agent transcript (`<id>/subagents/...`)
    subagent: bool


def _session_of(rel: tuple[str, ...], projects_root: bool, root_name: str) -> tuple[str, bool]:
    if "subagents" in rel[:-1]:
        at = rel.index("subagents")
        return (rel[at - 1] if at else root_name), True
    depth_of_session_file = 2 if projects_root else 1
    if len(rel) == depth_of_session_file:
        return rel[-1][: -len(".jsonl")], False
    return (rel[-2] if len(rel) > 1 else root_name), False


def _walk(folder: Path, warn: Warn | None = None) -> Iterator[Path]:
    """The `.jsonl` regular files under `folder`; one named like a log that is something
    else (a FIFO, a link to a device) is left out, with a warning through `warn`."""
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return
    for entry in entries:
        if entry.name.endswith(".jsonl") and entry.is_file():
            yield Path(entry.path)
        elif entry.is_dir(follow_symlinks=False):
            yield from _walk(Path(entry.path), warn)
        elif entry.name.endswith(".jsonl") and warn is not None:
            check_log(entry.path, warn)


def discover(
    roots: Sequence[Path],
    project: Path | None = None,
    since: datetime | None = None,
    warn: Warn | None = None,
) -> list[LogFile]:
    """Every transcript under `roots` (dirs or single files), each once; `warn` hears of
    the files skipped because they are not regular files."""
    found: dict[Path, LogFile] = {}
    prefixes = _project_prefixes(project)
    cutoff = since.timestamp() if since else None
    for root in roots:
        for log in _discover_root(root, prefixes, warn):
            if cutoff is not None and _mtime(log.path) < cutoff:
                continue
            found.setdefault(log.path, log)
    return list(found.values())


def _project_prefixes(project: Path | None) -> tuple[str, ...]:
    if project is None:
        return ()
    forms = {str(project), str(project.resolve())}
    return tuple(sorted(encode_cwd(f) for f in forms))


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _discover_root(root: Path, prefixes: tuple[str, ...], warn: Warn | None) -> Iterator[LogFile]:
    if root.is_file():
        parts = root.parts
        if "subagents" in parts[:-1]:
            at = len(parts) - 1 - parts[::-1].index("subagents")
            yield LogFile(root, parts[at - 1], True)
            return
        yield LogFile(root, root.stem, False)
        # a main transcript brings its sub-agents along
        for sub in _walk(root.with_suffix("") / "subagents", warn):
            yield LogFile(sub, root.stem, True)
        return
    if not root.is_dir():
        if warn is not None and root.exists():
            check_log(root, warn)  # a FIFO or device given by name: say why it is not read
        return
    if root.name != "projects" and (root / "projects").is_dir():
        root = root / "projects"
    projects_root = root.name == "projects"
    for path in _walk(root, warn):
        rel = path.relative_to(root).parts
        if projects_root and prefixes and len(rel) > 1 and not rel[0].startswith(prefixes):
            continue
        sid, is_sub = _session_of(rel, projects_root, root.name)
        yield LogFile(path, sid, is_sub)


# ---------------------------------------------------------------- one file


def _skip_rest(fh: Any, size: int) -> int | None:
    """Consume the rest of an over-long line; its whole size, or None if the file ends first."""
    while True:
        chunk = fh.readline(1 << 20)  # small reads: skipping holds no second MAX_LINE
        size += len(chunk)
        if chunk.endswith(b"\n"):
            return size
        if not chunk:
            return None


def _epoch(value: Any) -> float | None:
    """A line's ISO 8601 `timestamp` as Unix seconds; None when absent, unreadable or
    outside 1970-2100 (the reader warns about the line)."""
    if not isinstance(value, str) or not value:
        return None
    when = parse_log_time(value)
    return None if when is None else when.timestamp()


def _token(usage: Mapping[str, Any], key: str) -> int | str:
    value = usage.get(key, 0)
    if value is None:
        return 0
    if type(value) is not int:
        return f"{key} is a {type(value).__name__}, not a token count"
    if value < 0 or value > MAX_TOKENS:
        return f"{key}={value} is out of range"
    return value


def _numbers(usage: Mapping[str, Any]) -> tuple[int, int, int, int, int, int] | str:
    """(input, output, cache_read, write_5m, write_1h, reasoning), or why the line is bad."""
    get = usage.get
    inp, out = get("input_tokens"), get("output_tokens")
    # absent is 0; null (and any wrong type, e.g. false) goes to the checked path below
    cread, write = get("cache_read_input_tokens", 0), get("cache_creation_input_tokens", 0)
    split = get("cache_creation")
    if (
        type(inp) is int
        and type(out) is int
        and type(cread) is int
        and type(write) is int
        and min(inp, out, cread, write) >= 0
        and max(inp, out, cread, write) <= MAX_TOKENS
        and type(split) is dict
        and "output_tokens_details" not in usage
    ):
        five, hour = split.get("ephemeral_5m_input_tokens"), split.get("ephemeral_1h_input_tokens")
        if (
            type(five) is int
            and type(hour) is int
            and min(five, hour) >= 0
            and max(five, hour) <= MAX_TOKENS
        ):
            return inp, out, cread, five, hour, 0
    return _numbers_checked(usage)


def _numbers_checked(usage: Mapping[str, Any]) -> tuple[int, int, int, int, int, int] | str:
    if "input_tokens" not in usage and "output_tokens" not in usage:
        return "usage without input_tokens/output_tokens"
    values: list[int] = []
    for key in (
        "input_tokens",
        "output_tokens",
        "cache_read_input_tokens",
        "cache_creation_input_tokens",
    ):
        got = _token(usage, key)
        if isinstance(got, str):
            return got
        values.append(got)
    write_5m, write_1h = values[3], 0
    split = usage.get("cache_creation")
    if isinstance(split, dict) and (
        "ephemeral_5m_input_tokens" in split or "ephemeral_1h_input_tokens" in split
    ):
        five = _token(split, "ephemeral_5m_input_tokens")
        hour = _token(split, "ephemeral_1h_input_tokens")
        if isinstance(five, str):
            return five
        if isinstance(hour, str):
            return hour
        write_5m, write_1h = five, hour
    reasoning = 0
    details = usage.get("output_tokens_details")
    if isinstance(details, dict):
        got = _token(details, "thinking_tokens")
        if isinstance(got, str):
            return got
        reasoning = got
    return values[0], values[1], values[2], write_5m, write_1h, reasoning


def content_features(content: Any) -> tuple[int, int, int, int]:
    """(text chars, tool-input chars, thinking-signature chars, blocks) of one line's content."""
    text = tool = sig = blocks = 0
    if isinstance(content, str):
        return len(content), 0, 0, 1
    if not isinstance(content, list):
        return 0, 0, 0, 0
    for block in content:
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        if kind == "text":
            text += _chars(block.get("text"))
            blocks += 1
        elif kind in ("tool_use", "server_tool_use"):
            tool += _tool_chars(block)
            blocks += 1
        elif kind == "thinking":
            sig += _chars(block.get("signature"))
        elif kind == "redacted_thinking":
            sig += _chars(block.get("data"))
    return text, tool, sig, blocks


def _chars(value: Any) -> int:
    """Length of a string field; 0 for anything else (a corrupt line's wrong type)."""
    return len(value) if isinstance(value, str) else 0


def _tool_chars(block: Mapping[str, Any]) -> int:
    name = block.get("name")
    name = name if isinstance(name, str) else ""
    args = block.get("input")
    if name == "ExitPlanMode" and isinstance(args, dict):
        # Claude Code pastes the plan file into this call's input; the model wrote no plan
        args = {k: v for k, v in args.items() if k != "plan"}
    return len(json.dumps(args)) + len(name)


def _speed_code(usage: Mapping[str, Any]) -> int:
    value = usage.get("speed")
    return _SPEEDS.index(value) if value in _SPEEDS[1:] else 0


def _cost(value: Any) -> str | None:
    # NaN, Infinity and 1e400 (inf) are corrupt numbers, not costs
    if (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and 0 <= value < float("inf")
    ):
        return repr(value)
    return None


@dataclass
class FileState:
    """What one transcript file contributes; JSON-able apart from the attribution fields."""

    groups: dict[str, list[Any]] = field(default_factory=dict)
    #: the groups as loaded from the cache, before `index()` keys them
    rows: list[list[Any]] | None = None
    lines: int = 0
    cwd: str | None = None
    branch: str | None = None
    version: str | None = None
    first_ts: float | None = None
    last_ts: float | None = None
    agent_ids: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # attribution, in memory only (filled when `collect`)
    first_prompt: str | None = None
    refs: set[str] = field(default_factory=set)
    edited: set[str] = field(default_factory=set)

    def all_groups(self) -> list[list[Any]]:
        return self.rows if self.rows is not None else list(self.groups.values())

    def index(self) -> None:
        """Key the groups loaded from the cache, to add lines to them."""
        if self.rows is not None:
            self.groups = {_key(g[G_MID], g[G_RID], f"r{i}"): g for i, g in enumerate(self.rows)}
            self.rows = None

    def to_json(self) -> list[Any]:
        return [
            self.all_groups(),
            self.lines,
            self.cwd,
            self.branch,
            self.version,
            self.first_ts,
            self.last_ts,
            self.agent_ids,
            self.warnings,
        ]

    @classmethod
    def from_json(cls, data: Any) -> FileState | None:
        """The state as cached, or None when the cached data does not have this shape."""
        try:
            groups, lines, cwd, branch, version, first_ts, last_ts, agents, warnings = data
        except (TypeError, ValueError):
            return None
        if not isinstance(groups, list) or any(len(g) != _GROUP_LEN for g in groups):
            return None
        return cls({}, groups, lines, cwd, branch, version, first_ts, last_ts, agents, warnings)


def _key(mid: str | None, rid: str | None, line: int | str | None) -> str:
    if mid:
        return f"{mid}\x1f{rid or ''}"
    return f"#{line}"


class FileReader:
    """Streams one transcript into a FileState (from scratch or from a byte offset)."""

    def __init__(self, path: Path, state: FileState, warn: Warn, collect: bool) -> None:
        self.path = path
        self.name = str(path)
        state.index()
        self.state = state
        self.warn = warn
        self.collect = collect

    def read(self, fh: Any, start: int) -> int:
        """Read from byte `start` to the end; returns the offset after the last full line."""
        fh.seek(start)
        offset = start
        state = self.state
        lineno = state.lines
        last_complete: bytes | None = None
        partial: bytes | None = None
        readline = fh.readline
        for raw in iter(lambda: readline(MAX_LINE), b""):
            lineno += 1
            if not raw.endswith(b"\n"):
                skipped = None
                if len(raw) == MAX_LINE:
                    raw = b""  # freed before reading on: memory stays at one MAX_LINE
                    skipped = _skip_rest(fh, MAX_LINE)
                if skipped is None:
                    partial = raw
                    break
                offset += skipped
                state.lines = lineno
                self._bad(lineno, f"line of {skipped:,} bytes is too long to hold usage, skipped")
                continue
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
        """A further line of a response already read with its final count, adding nothing
        (>= 2.1.97 repeats the final usage on every content-block line): skip the JSON parse.
        Checked on the bytes: same ids, no larger output count, same sidechain and speed."""
        found = _MID.search(raw)
        if found is None:
            return False
        at = raw.rfind(b'"requestId":"')
        rid = raw[at + 13 : raw.find(b'"', at + 13)].decode() if at >= 0 else None
        group = self.state.groups.get(_key(found.group(1).decode(), rid, None))
        if (
            group is None
            or not group[G_FINAL]
            or b'"type":"progress"' in raw
            or (b'"isSidechain":true' in raw) != group[G_SIDE]
            or (b'"speed":"fast"' in raw and group[G_SPEED] != 2)
        ):
            return False
        limit = group[G_OUT]
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
            self._commit_refs(raw)

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
        numbers = _numbers(usage)
        if isinstance(numbers, str):
            self._bad(lineno, f"rejected usage: {numbers}")
            return
        if side:
            agent = line.get("agentId") or obj.get("agentId")
            if isinstance(agent, str) and agent and agent not in self.state.agent_ids:
                self.state.agent_ids.append(agent)
        self._group(line, msg, usage, model, numbers, side, ts, lineno)
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
            numbers = _numbers_checked(step)
            if isinstance(numbers, str):
                self._bad(lineno, f"rejected advisor usage: {numbers}")
                continue
            advisor = {
                **msg,
                "id": f"{mid}~{step.get('type')}{i}",
                "stop_reason": "advisor",
                "content": None,
            }
            self._group(line, advisor, step, model, numbers, side, ts, lineno)

    def _group(
        self,
        line: Mapping[str, Any],
        msg: Mapping[str, Any],
        usage: Mapping[str, Any],
        model: str,
        numbers: tuple[int, ...],
        side: bool,
        ts: float | None,
        lineno: int,
    ) -> None:
        mid = msg.get("id")
        rid = line.get("requestId")
        if type(mid) is not str:
            mid = None
        if type(rid) is not str:
            rid = None
        final = msg.get("stop_reason") is not None or not _FINAL_KEYS.isdisjoint(usage)
        content = msg.get("content")
        text, tool, sig, blocks = (0, 0, 0, 0) if final else content_features(content)
        if self.collect:
            self._edits(content)
        inp, out, cread, c5, c1, reasoning = numbers
        key = _key(mid, rid, lineno)
        group = self.state.groups.get(key)
        if group is None:
            self.state.groups[key] = [
                mid,
                rid,
                model,
                ts,
                inp,
                out,
                cread,
                c5,
                c1,
                final,
                side,
                text,
                tool,
                sig,
                blocks,
                reasoning,
                _speed_code(usage),
                _cost(line.get("costUSD")),
            ]
            return
        if out > group[G_OUT]:
            group[G_OUT] = out
        if numbers[:1] + numbers[2:] != (
            group[G_IN],
            group[G_CR],
            group[G_C5],
            group[G_C1],
            group[G_REASON],
        ):
            for i, value in zip(
                (G_IN, G_CR, G_C5, G_C1, G_REASON), numbers[:1] + numbers[2:], strict=True
            ):
                group[i] = max(group[i], value)
        group[G_FINAL] = group[G_FINAL] or final
        group[G_SIDE] = group[G_SIDE] and side
        if blocks or text or tool or sig:
            group[G_TEXT] += text
            group[G_TOOL] += tool
            group[G_SIG] += sig
            group[G_BLOCKS] += blocks
        speed = _speed_code(usage)
        if speed > group[G_SPEED]:
            group[G_SPEED] = speed
        if ts is not None and (group[G_TS] is None or ts < group[G_TS]):
            group[G_TS] = ts

    # ------------------------------------------------------------ attribution (not cached)

    def _edits(self, content: Any) -> None:
        if not isinstance(content, list):
            return
        for block in content:
            if (
                isinstance(block, dict)
                and block.get("type") == "tool_use"
                and isinstance(block.get("name"), str)
                and block["name"] in _EDIT_TOOLS
            ):
                args = block.get("input")
                if isinstance(args, dict):
                    target = args.get("file_path") or args.get("notebook_path")
                    if isinstance(target, str) and target:
                        self.state.edited.add(target)

    def _commit_refs(self, raw: bytes) -> None:
        for match in _COMMIT.finditer(raw):
            self.state.refs.add(match.group(1).decode())
            try:
                subject = json.loads(b'"' + match.group(2) + b'"')
            except ValueError:
                continue
            if isinstance(subject, str) and subject.strip():
                self.state.refs.add(subject.strip())

    def _prompt(self, obj: Mapping[str, Any]) -> None:
        if (
            self.state.first_prompt is not None
            or obj.get("type") != "user"
            or obj.get("isMeta")
            or obj.get("isSidechain")
            or obj.get("isCompactSummary")
        ):
            return
        msg = obj.get("message")
        content = msg.get("content") if isinstance(msg, dict) else None
        if isinstance(content, str):
            text = content.strip()
        elif isinstance(content, list):
            text = "\n".join(
                b.get("text") or ""
                for b in content
                if isinstance(b, dict) and b.get("type") == "text"
            ).strip()
        else:
            return
        if text and not text.startswith(_SKIP_PROMPT):
            self.state.first_prompt = text


# ---------------------------------------------------------------- many files -> sessions


@dataclass
class _Part:
    log: LogFile
    state: FileState


def read_file(
    log: LogFile,
    warn: Warn,
    cache: FileCache | None,
    collect: bool,
    defer: list[tuple[LogFile, os.stat_result]] | None = None,
) -> FileState | None:
    """One file's state: from the cache when unchanged, else (re-)read. A file that must be
    read whole is appended to `defer` instead (and None returned) when `defer` is given."""
    path = log.path
    name = str(path)
    try:
        st = path.stat()
    except OSError as exc:
        warn(f"{name}: cannot read ({exc.strerror})")
        return FileState()
    status, cached = cache.lookup(name, st) if cache is not None and not collect else ("miss", None)
    restored = FileState.from_json(cached.state) if cached is not None else None
    if restored is None:
        status = "miss"
    if status == "hit" and restored is not None:
        for message in restored.warnings:
            warn(message)
        return restored
    if status == "miss" and defer is not None and not collect:
        defer.append((log, st))
        return None
    try:
        with open_log(path) as fh:  # a regular file only, read within a time bound
            start = 0
            state = FileState()
            if (
                status == "grown"
                and cached is not None
                and restored is not None
                and tail_hash(fh, cached.offset) == cached.tail
            ):
                state = restored
                for message in state.warnings:
                    warn(message)
                start = cached.offset
            offset = FileReader(path, state, warn, collect).read(fh, start)
            tail = tail_hash(fh, offset)
    except OSError as exc:
        warn(f"{name}: cannot read ({exc.strerror})")
        return FileState()
    if cache is not None:
        cache.put(name, st, offset, tail, state.to_json())
    return state


def _cold_read(path: str) -> tuple[list[Any], int, str, list[str]] | str:
    """Read one whole file (runs in a worker process): (state, offset, tail hash, warnings),
    or why it could not be read."""
    messages: list[str] = []
    state = FileState()
    try:
        with open_log(path) as fh:
            offset = FileReader(Path(path), state, messages.append, False).read(fh, 0)
            tail = tail_hash(fh, offset)
    except OSError as exc:
        return f"{path}: cannot read ({exc.strerror})"
    return state.to_json(), offset, tail, messages


def _workers(jobs: Sequence[tuple[LogFile, os.stat_result]]) -> int:
    """Worker processes for a cold read: only when it is big enough to pay for them."""
    configured = os.environ.get("COSTLOG_SCAN_WORKERS", "")
    if configured.isdigit():
        wanted = int(configured)
    else:
        if sum(st.st_size for _, st in jobs) < PARALLEL_BYTES:
            return 1
        try:
            wanted = min(4, len(os.sched_getaffinity(0)))
        except AttributeError:  # not on Linux
            wanted = min(4, os.cpu_count() or 1)
    return max(1, min(wanted, len(jobs)))


def _read_many(
    jobs: Sequence[tuple[LogFile, os.stat_result]],
    warn_for: Callable[[Path], Warn],
    cache: FileCache,
) -> dict[Path, FileState]:
    """Whole-file reads, spread over processes when there is a lot to read."""
    order = sorted(jobs, key=lambda job: -job[1].st_size)  # biggest first: better balance
    paths = [str(log.path) for log, _ in order]
    workers = _workers(jobs)
    if workers > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(method)) as pool:
            results = list(pool.map(_cold_read, paths))
    else:
        results = [_cold_read(p) for p in paths]
    out: dict[Path, FileState] = {}
    for (log, st), result in zip(order, results, strict=True):
        warn = warn_for(log.path)
        if isinstance(result, str):
            warn(result)
            out[log.path] = FileState()
            continue
        data, offset, tail, messages = result
        for message in messages:
            warn(message)
        cache.put(str(log.path), st, offset, tail, data)
        out[log.path] = FileState.from_json(data) or FileState()
    return out


def _total(group: Sequence[Any]) -> int:
    return int(group[G_IN] + group[G_OUT] + group[G_CR] + group[G_C5] + group[G_C1])


def _merge(kept: list[Any], other: Sequence[Any]) -> list[Any]:
    """The same response seen in two files (a replay or a progress copy): max of each."""
    out = list(kept)
    for i in (G_IN, G_OUT, G_CR, G_C5, G_C1, G_TEXT, G_TOOL, G_SIG, G_BLOCKS, G_REASON, G_SPEED):
        out[i] = max(out[i], other[i])
    out[G_FINAL] = kept[G_FINAL] or other[G_FINAL]
    out[G_SIDE] = kept[G_SIDE] and other[G_SIDE]
    if other[G_TS] is not None and (kept[G_TS] is None or other[G_TS] < kept[G_TS]):
        out[G_TS] = other[G_TS]
    if out[G_COST] is None:
        out[G_COST] = other[G_COST]
    return out


_Key = tuple[str, Any]


class _Merger:
    """Counts each response once over all files, and decides which session owns it."""

    def __init__(self) -> None:
        self.groups: dict[_Key, list[Any]] = {}
        self.owner: dict[_Key, str] = {}
        self.by_mid: dict[str, _Key] = {}
        #: files whose responses were partly already seen elsewhere (resumed sessions)
        self.replayed: set[str] = set()

    def add(self, part: _Part) -> None:
        sid = part.log.session_id
        path = str(part.log.path)
        groups, owner, by_mid = self.groups, self.owner, self.by_mid
        for i, group in enumerate(part.state.all_groups()):
            mid = group[0]  # G_MID
            key: _Key = (mid, group[1]) if mid else (path, i)
            kept = groups.get(key)
            if kept is not None:
                groups[key] = _merge(kept, group)
                if owner[key] != sid:
                    self.replayed.add(path)
                continue
            other_key = by_mid.get(mid) if mid else None
            if other_key is not None:
                other = groups[other_key]
                if other[G_SIDE] or group[G_SIDE]:
                    self._btw(other_key, other, key, group, sid)
                    continue
            groups[key] = group
            owner[key] = sid
            if mid:
                by_mid[mid] = key

    def _btw(
        self, other_key: _Key, other: list[Any], key: _Key, group: list[Any], sid: str
    ) -> None:
        """A `/btw` aside replays a message under a new requestId as a sidechain."""
        if other[G_SIDE] != group[G_SIDE]:
            take_new = other[G_SIDE]  # keep the main-thread copy
        else:
            take_new = _total(group) > _total(other)
        if take_new:
            del self.groups[other_key]
            del self.owner[other_key]
            self.groups[key] = group
            self.owner[key] = sid
            self.by_mid[group[G_MID]] = key


def _order(part: _Part) -> tuple[float, str]:
    state = part.state
    end = state.last_ts if state.last_ts is not None else float("inf")
    return end, str(part.log.path)


def build_sessions(parts: Iterable[_Part]) -> list[Session]:
    """Sessions (sorted by start) from per-file states."""
    ordered = sorted(parts, key=_order)
    merger = _Merger()
    for part in ordered:
        merger.add(part)
    sessions: dict[str, Session] = {}
    agents: dict[str, set[str]] = {}
    for part in ordered:
        sid = part.log.session_id
        session = sessions.setdefault(sid, Session(agent=AGENT, session_id=sid))
        replayed = str(part.log.path) in merger.replayed
        agents.setdefault(sid, set()).update(_session_meta(session, part, replayed))
    placeholders: dict[str, int] = {}
    for key, group in merger.groups.items():
        sid = merger.owner[key]
        sessions[sid].requests.append(_request(group))
        if not group[G_FINAL]:
            placeholders[sid] = placeholders.get(sid, 0) + 1
    for sid, session in sessions.items():
        session.subagents = len(agents[sid])
        _finish(session, placeholders.get(sid, 0))
    epoch = datetime.min.replace(tzinfo=UTC)
    return sorted(sessions.values(), key=lambda s: (s.started or epoch, s.session_id))


def _session_meta(session: Session, part: _Part, replayed: bool) -> set[str]:
    """Fold one file's cwd, branch, times and attribution into its session; returns the
    sub-agent ids the file shows."""
    state = part.state
    session.paths.append(str(part.log.path))
    session.warnings.extend(state.warnings)
    agents = set(state.agent_ids)
    if part.log.subagent:
        stem = part.log.path.stem
        agents.add(stem.removeprefix("agent-"))
    else:
        if (state.cwd and not replayed) or session.cwd is None:
            session.cwd = state.cwd or session.cwd
        if state.branch:
            session.branch = state.branch
        if state.first_prompt and session.first_prompt is None:
            session.first_prompt = state.first_prompt
    if session.cwd is None and state.cwd:
        session.cwd = state.cwd
    session.tool_output_refs |= state.refs
    session.edited_files |= state.edited
    # from_epoch: a cache written before times were range-checked may hold year 1
    when = None if state.first_ts is None or replayed else from_epoch(state.first_ts)
    if when is not None:
        session.started = min(session.started, when) if session.started else when
    when = None if state.last_ts is None else from_epoch(state.last_ts)
    if when is not None:
        session.ended = max(session.ended, when) if session.ended else when
    return agents


def _request(group: Sequence[Any]) -> Request:
    (
        _mid,
        rid,
        model,
        ts,
        inp,
        out,
        cread,
        c5,
        c1,
        final,
        side,
        text,
        tool,
        sig,
        blocks,
        reasoning,
        speed,
        cost,
    ) = group
    extra = 0
    if not final:
        guess = claude_output_estimate(model, text=text, tool=tool, signature=sig, blocks=blocks)
        if guess > out:
            out, extra = guess, guess - out
    logged = None
    if cost is not None:
        try:
            logged = Decimal(cost)
        except InvalidOperation:
            logged = None
    # positional: this runs once per request on every scan
    return Request(
        model,
        Usage(inp, out, cread, c5, c1, reasoning),
        None if ts is None else from_epoch(ts),
        "actual",
        extra,
        _SPEEDS[speed],
        rid,
        logged,
        bool(side),
    )


def _finish(session: Session, placeholders: int) -> None:
    stamps = [r.timestamp for r in session.requests if r.timestamp is not None]
    stamps.sort()
    if len(stamps) == len(session.requests):
        session.requests.sort(key=_BY_TIME)
    else:
        session.requests.sort(key=lambda r: (r.timestamp is None, r.timestamp or _EPOCH))
    if stamps:
        if session.started is None or stamps[0] < session.started:
            session.started = stamps[0]
        if session.ended is None or stamps[-1] > session.ended:
            session.ended = stamps[-1]
    if placeholders:
        session.methods["output"] = (
            f"{placeholders} of {len(session.requests)} responses "
            f"logged only a placeholder output count; used "
            f"{CLAUDE_OUTPUT_METHOD}"
        )


_EPOCH = datetime.min.replace(tzinfo=UTC)
_BY_TIME = attrgetter("timestamp")


# ---------------------------------------------------------------- the adapter


class ClaudeCode:
    name = AGENT

    def default_roots(self, env: Mapping[str, str], home: Path) -> list[Path]:
        return default_roots(env, home)

    def scan(
        self,
        roots: Sequence[Path],
        *,
        project: Path | None = None,
        since: datetime | None = None,
        warn: Warn,
        use_cache: bool = True,
    ) -> Iterator[Session]:
        """Every session under `roots` (data dirs) through the incremental cache, unless
        `use_cache` is False. Roots that are all single transcripts are read afresh, with
        the in-memory attribution fields, and only their sessions are returned."""
        if roots and all(r.is_file() for r in roots):
            yield from _transcripts(roots, warn, use_cache)
            return
        logs = discover(roots, project, since, _once(warn))
        fresh = (
            {log.path for log in logs}
            if not use_cache
            else {
                log.path
                for log in logs
                if any(log.path == r or _under_file(log.path, r) for r in roots if r.is_file())
            }
        )
        yield from _read_all(logs, fresh, warn, use_cache)

    def find_session(self, roots: Sequence[Path], session_id: str, *, warn: Warn) -> Session | None:
        """The session read afresh (with attribution fields); its project's other
        transcripts come from the cache, so calls a resumed session replays stay with the
        session that made them."""
        skipped = _once(warn)
        mine = [log for log in discover(roots, warn=skipped) if log.session_id == session_id]
        if not mine:
            return None
        folders = {_project_dir(log) for log in mine}
        paths = {log.path for log in mine}
        logs = mine + [
            log for log in discover(sorted(folders), warn=skipped) if log.path not in paths
        ]
        for session in _read_all(logs, paths, warn, True, loud=paths):
            if session.session_id == session_id:
                return session
        return None


def _transcripts(files: Sequence[Path], warn: Warn, use_cache: bool) -> Iterator[Session]:
    """Sessions of these transcript files (and their sub-agents), read afresh. In a Claude
    projects tree the other transcripts of the same project are consulted too (through the
    cache, silently), so the calls a resumed session replays stay with their own session."""
    skipped = _once(warn)
    mine = discover(files, warn=skipped)
    ids = {log.session_id for log in mine}
    paths = {log.path for log in mine}
    folders = {
        log.path.parent
        for log in mine
        if not log.subagent and log.path.parent.parent.name == "projects"
    }
    others = (
        [log for log in discover(sorted(folders), warn=skipped) if log.path not in paths]
        if use_cache
        else []
    )
    for session in _read_all(mine + others, paths, warn, use_cache, loud=paths):
        if session.session_id in ids:
            yield session


def _once(warn: Warn) -> Warn:
    """`warn`, saying each line once (a folder can be listed twice in one look-up)."""
    said: set[str] = set()

    def say(line: str) -> None:
        if line not in said:
            said.add(line)
            warn(line)

    return say


def _under_file(path: Path, root: Path) -> bool:
    return path.is_relative_to(root.with_suffix("") / "subagents")


def _project_dir(log: LogFile) -> Path:
    path = log.path
    parts = path.parts
    if log.subagent and "subagents" in parts:
        at = len(parts) - 1 - parts[::-1].index("subagents")
        return Path(*parts[: at - 1])
    return path.parent


def _read_all(
    logs: Sequence[LogFile],
    fresh: set[Path],
    warn: Warn,
    use_cache: bool,
    loud: set[Path] | None = None,
) -> Iterator[Session]:
    """Sessions from these files; `fresh` ones are read without the cache and with the
    attribution fields; only `loud` files (default: all) report problems through `warn`."""

    def warn_for(path: Path) -> Warn:
        return warn if loud is None or path in loud else _ignore

    with gc_paused():
        cache = FileCache(AGENT, SCHEMA, enabled=use_cache)
        states: dict[Path, FileState | None] = {}
        cold: list[tuple[LogFile, os.stat_result]] = []
        for log in logs:
            collect = log.path in fresh
            states[log.path] = read_file(
                log, warn_for(log.path), None if collect else cache, collect, cold
            )
        states.update(_read_many(cold, warn_for, cache))
        cache.save()
        sessions = build_sessions(_Part(log, states[log.path] or FileState()) for log in logs)
    yield from sessions


def _ignore(_message: str) -> None:
    return None


ADAPTER = ClaudeCode()
