"""One rollout file: its head (`session_meta`), the facts read from it, their cached form.

A `FileData` is what the incremental cache keeps per file (counts, event keys, models,
times, cwd, branch, where reading stopped), so an unchanged file is not opened again and
a grown one is read on from its offset.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from costlog.models import Request, Usage
from costlog.sources._lines import iter_json_lines
from costlog.timeutil import parse_log_time

Key = tuple[Any, ...]
#: where a fact was read: (calls read before it, its line's time)
Mark = tuple[int, datetime | None]

AGENT = "codex"
#: the first lines searched for the file's own `session_meta`
HEAD_LINES = 20
#: bump when the cached per-file state changes shape or meaning (5: calls keyed by their
#: `response_id` where a `token_usage_record` names it, and the pending one kept)
SCHEMA = 5
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
    #: the last `token_usage_record` not yet matched by its token_count: (response id, its
    #: usage counts in FIELDS order); kept in the cache, as the token_count may come later
    pending: tuple[str, tuple[int, ...]] | None = None
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
            "limits": [list(snap) for snap in self.limits],
            "copies_history": h.copies_history,
            "resume": [
                self.model,
                self.cwd,
                None if self.prev_total is None else [self.prev_total[k] for k in FIELDS],
                None if self.pending is None else [self.pending[0], list(self.pending[1])],
            ],
        }

    @classmethod
    def from_json(cls, path: Path, state: Mapping[str, Any]) -> FileData:
        sid, cwd, started, branch, forked, parent, model = state["head"]
        head = Head(path, sid, cwd, parse_log_time(started), branch, forked, parent, model)
        data = cls(
            head=head,
            ended=parse_log_time(state["ended"]),
            assumed_model=state["assumed"],
            rollout=state["rollout"],
            foreign=state["foreign"],
            lines=state["lines"],
            warnings=list(state["warnings"]),
        )
        for key, name, (i, o, cr, cw, rs), when in state["calls"]:
            usage = Usage(input=i, output=o, cache_read=cr, cache_write_5m=cw, reasoning=rs)
            data.calls.append(
                (_freeze(key), Request(model=name, usage=usage, timestamp=parse_log_time(when)))
            )
        data.limits = [tuple(snap) for snap in state.get("limits", [])]
        head.copies_history = bool(state.get("copies_history", True))
        data.model, data.cwd, total, pending = state["resume"]
        data.pending = None if pending is None else (pending[0], tuple(pending[1]))
        data.prev_total = None if total is None else dict(zip(FIELDS, total, strict=True))
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
