"""One rollout file: its head (`session_meta`), the facts read from it, their cached form.

A `FileData` is what the incremental cache keeps per file (counts, event keys, models,
times, cwd, branch, where reading stopped), so an unchanged file is not opened again and
a grown one is read on from its offset.
"""

from __future__ import annotations

import marshal
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from costlog.models import Request, Usage
from costlog.sources._lines import iter_json_lines
from costlog.timeutil import FIRST_YEAR, LAST_YEAR, parse_log_time

Key = tuple[Any, ...]
#: a usage object's counts, in FIELDS order
Counts = tuple[int, int, int, int, int]
#: where a fact was read: (calls read before it, its line's time)
Mark = tuple[int, datetime | None]

AGENT = "codex"
#: the first lines searched for the file's own `session_meta`
HEAD_LINES = 20
#: bump when the cached per-file state changes shape or meaning (5: calls keyed by their
#: `response_id` where a `token_usage_record` names it, and the pending one kept; 6: the
#: calls as one marshal blob, `compact`, which an older costlog could not read; 7: the
#: rate-limit reports as one too)
SCHEMA = 7
#: the counts of a usage object, in the order the cache stores them
FIELDS = (
    "input_tokens",
    "cached_input_tokens",
    "cache_write_input_tokens",
    "output_tokens",
    "reasoning_output_tokens",
)
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


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
    #: False for a fork that names where its history starts instead of copying it
    #: (`history_base` / `forked_from_ordinal_exclusive`, Codex >= 0.171): no replayed rows
    copies_history: bool = True


@dataclass(slots=True)
class FileData:
    """One rollout file's facts, and where reading stopped (so a grown file resumes)."""

    head: Head
    calls: list[tuple[Key, Request]] = field(default_factory=list)
    #: each call's time as text, where it was read as such (the log's own `...Z` form, or
    #: the cache's), else None: `to_json` stores it as it is instead of formatting the time
    #: again. Used only when it is as long as `calls` (else every time is formatted)
    times: list[str | None] = field(default_factory=list)
    #: for a read that only makes the file's state (a cold read in a worker, whose data is
    #: not used otherwise): the calls as `to_json` stores them, built so by the reader
    #: instead of as `calls` (then empty); None in every other read
    rows: list[list[Any]] | None = None
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
    prev_total: Counts | None = None
    #: the last `token_usage_record` not yet matched by its token_count: (response id, its
    #: usage counts in FIELDS order); kept in the cache, as the token_count may come later
    pending: tuple[str, Counts] | None = None
    #: rate-limit reports, consecutive equal ones once (see `limits`)
    limits: list[tuple[Any, ...]] = field(default_factory=list)
    #: for each prompt, edit and ref (in memory only, like them): how many calls the file
    #: held when its line was read, and the line's time; a fork's replayed parent facts are
    #: told by them (`sessions.own_facts`)
    prompt_marks: list[Mark] = field(default_factory=list)
    edit_marks: list[Mark] = field(default_factory=list)
    ref_marks: list[Mark] = field(default_factory=list)

    @property
    def rank(self) -> tuple[datetime, str]:
        return (self.head.started or datetime.max.replace(tzinfo=UTC), self.head.session_id)

    def to_json(self) -> dict[str, Any]:
        """The cacheable part: counts, ids, models, times, cwd, branch (no prompt or output)."""
        h = self.head
        calls: list[list[Any]] = [] if self.rows is None else [*self.rows]
        add = calls.append
        texts = self.times if len(self.times) == len(self.calls) else [None] * len(self.calls)
        for (key, r), text in zip(self.calls, texts, strict=True):  # one pass, inline
            u, when = r.usage, r.timestamp
            add(
                [
                    list(key),
                    r.model,
                    [u.input, u.output, u.cache_read, u.cache_write_5m, u.reasoning],
                    text if text is not None else when.isoformat() if when else None,
                ]
            )
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
            "calls": calls,
            "ended": _iso(self.ended),
            "assumed": self.assumed_model,
            "rollout": self.rollout,
            "foreign": self.foreign,
            "lines": self.lines,
            "warnings": list(self.warnings),
            "limits": [list(snap) for snap in self.limits],
            "copies_history": h.copies_history,
            "resume": [
                self.model,
                self.cwd,
                None if self.prev_total is None else list(self.prev_total),
                None if self.pending is None else [self.pending[0], list(self.pending[1])],
            ],
        }

    @classmethod
    def from_json(cls, path: Path, state: Mapping[str, Any]) -> FileData:
        head = head_of(path, state)
        data = cls(
            head=head,
            ended=parse_log_time(state["ended"]),
            assumed_model=state["assumed"],
            rollout=state["rollout"],
            foreign=state["foreign"],
            lines=state["lines"],
            warnings=list(state["warnings"]),
        )
        # one pass, inline: a cold scan's parent rebuilds every call of the history here
        add, read_time = data.calls.append, datetime.fromisoformat
        text = data.times.append
        for key, name, (i, o, cr, cw, rs), when in _unpacked(state["calls"]):
            try:  # what `to_json` wrote, an aware UTC time as text, reads straight back
                stamp: datetime | None = read_time(when)
            except (TypeError, ValueError):
                stamp = None
            if (
                stamp is None
                or stamp.tzinfo is not UTC
                or not 10 <= len(when) <= 40
                or not FIRST_YEAR <= stamp.year <= LAST_YEAR
            ):  # anything else (a damaged cache) as a log time, and stored as that
                stamp = parse_log_time(when)
                text(None)
            else:  # as `parse_log_time` reads it (it is not padded: it parsed as it is)
                text(when)
            if (
                type(key) is list
                and len(key) == 2
                and type(key[1]) is tuple
                and type(key[0]) is str
            ):
                key = (key[0], key[1])  # handed over in memory by a worker: counts a tuple
            else:
                key = _key(key)
            add((key, Request(name, Usage(i, o, cr, cw, 0, rs), stamp)))
        data.limits = [tuple(snap) for snap in _unpacked(state.get("limits", []))]
        data.model, data.cwd, total, pending = state["resume"]
        data.pending = None if pending is None else (pending[0], _counts(pending[1]))
        data.prev_total = None if total is None else _counts(total)
        return data


def head_of(path: Path, state: Mapping[str, Any]) -> Head:
    """The head `FileData.from_json` gives, without building the file's calls."""
    sid, cwd, started, branch, forked, parent, model = state["head"]
    head = Head(path, sid, cwd, parse_log_time(started), branch, forked, parent, model)
    head.copies_history = bool(state.get("copies_history", True))
    return head


def compact(state: dict[str, Any]) -> dict[str, Any]:
    """The state as the cache keeps it: the calls, and the rate-limit reports (one per
    token_count of Codex 0.171), each as one marshal blob, not a list of lists per item. A
    history's calls then take a few MB in the cache's memory and its file, not tens, and a
    worker process hands them over as one object; `from_json` reads both forms."""
    packed = {
        name: marshal.dumps(value)
        for name in ("calls", "limits")
        if type(value := state.get(name)) is list
    }
    return {**state, **packed} if packed else state


def _unpacked(stored: Any) -> Any:
    """A list `compact` packed as one marshal blob, back as the list (one not packed, as
    it is)."""
    return marshal.loads(stored) if type(stored) is bytes else stored


def _counts(stored: Any) -> Counts:
    """Five counts the cache kept, in FIELDS order."""
    i, c, w, o, r = stored
    return (i, c, w, o, r)


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when else None


def _key(value: Any) -> Any:
    """A stored key back as its tuple; the common `["call", [5 counts]]` without recursion."""
    if type(value) is list and len(value) == 2 and type(value[0]) is str:
        inner = value[1]
        if type(inner) is tuple:  # a state handed over in memory (a worker's), not loaded
            return (value[0], inner)
        if type(inner) is list and all(type(v) is int for v in inner):
            return (value[0], tuple(inner))
    return _freeze(value)


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
    head.started = parse_log_time(payload.get("timestamp")) or head.started
    git = payload.get("git")
    if isinstance(git, dict) and isinstance(git.get("branch"), str):
        head.branch = git["branch"]
    forked = payload.get("forked_from_id")
    head.forked_from = forked if isinstance(forked, str) else None
    points = "history_base" in payload or "forked_from_ordinal_exclusive" in payload
    head.copies_history = not points
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
            head.started = parse_log_time(record.get("timestamp"))
        if record.get("type") == "session_meta" and isinstance(record.get("payload"), dict):
            _meta_fields(head, record["payload"])
            break
        if number >= HEAD_LINES:
            break
    return head
