"""What one transcript file contributes, and the flat form the scan cache keeps of it.

Per file the cache keeps the responses (counts, ids, model names, times, content sizes),
the line count, cwd, branch, version, first and last time, the sub-agent ids and the
warnings. Prompt text, tool output and edited paths (the attribution fields) stay in memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from costlog.sources.claude.responses import Response


@dataclass
class FileState:
    """One file's responses and metadata, from scratch, from the cache, or both (a file
    that grew is read on from where the cached state ends)."""

    responses: dict[str, Response] = field(default_factory=dict)
    #: the responses as loaded from the cache, before `index()` keys them
    loaded: list[Response] | None = None
    lines: int = 0
    cwd: str | None = None
    branch: str | None = None
    version: str | None = None
    first_ts: float | None = None
    last_ts: float | None = None
    agent_ids: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # attribution, in memory only (filled when the file is read afresh)
    first_prompt: str | None = None
    refs: set[str] = field(default_factory=set)
    edited: set[str] = field(default_factory=set)

    def all_responses(self) -> list[Response]:
        return self.loaded if self.loaded is not None else list(self.responses.values())

    def index(self) -> None:
        """Key the responses loaded from the cache, to add lines to them."""
        if self.loaded is not None:
            self.responses = {
                response_key(r.message_id, r.request_id, f"r{i}"): r
                for i, r in enumerate(self.loaded)
            }
            self.loaded = None

    # ------------------------------------------------------------ the cache boundary

    def to_json(self) -> list[Any]:
        """The cached form: flat lists and tuples that marshal stores."""
        return [
            [r.to_row() for r in self.all_responses()],
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
            rows, lines, cwd, branch, version, first_ts, last_ts, agents, warnings = data
            if not isinstance(rows, list):
                return None
            loaded = Response.from_rows(rows)
        except (TypeError, ValueError):
            return None
        return cls({}, loaded, lines, cwd, branch, version, first_ts, last_ts, agents, warnings)


def response_key(mid: str | None, rid: str | None, line: int | str | None) -> str:
    """A response's key within one file: its ids, else the line it was read from."""
    if mid:
        return f"{mid}\x1f{rid or ''}"
    return f"#{line}"
