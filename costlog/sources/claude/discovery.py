"""Which transcript files there are, and which session each belongs to.

Where: every `*.jsonl` under each projects dir, recursively (the roots come from
`paths.default_roots`). The session id is the file stem of `<project>/<id>.jsonl`; sub-agent
transcripts (`<id>/subagents/agent-*.jsonl`, also `subagents/workflows/...`) belong to
session `<id>`; older versions wrote sub-agent (sidechain) lines into the session file
itself. Other nestings use the parent directory's name (as ccusage does). A file named like
a transcript that is not a regular file (a FIFO, a link to a device) is left out, with a
warning.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter
from pathlib import Path

from costlog.safefs import check_log
from costlog.sources.claude.paths import encode_cwd

Warn = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class LogFile:
    path: Path
    session_id: str
    #: a sub-agent transcript (`<id>/subagents/...`)
    subagent: bool


def discover(
    roots: Sequence[Path],
    project: Path | None = None,
    since: datetime | None = None,
    warn: Warn | None = None,
) -> list[LogFile]:
    """Every transcript under `roots` (dirs or single files), each once; `warn` hears of
    the files skipped because they are not regular files."""
    found: dict[str, LogFile] = {}  # by the path's text: Path's own hash costs ~3x more
    prefixes = _project_prefixes(project)
    cutoff = since.timestamp() if since else None
    for root in roots:
        for log in _discover_root(root, prefixes, warn):
            if cutoff is not None and _mtime(log.path) < cutoff:
                continue
            found.setdefault(str(log.path), log)
    return list(found.values())


def project_dir(log: LogFile) -> Path:
    """The project folder the transcript belongs to (a sub-agent's is its session's)."""
    path = log.path
    parts = path.parts
    if log.subagent and "subagents" in parts:
        at = len(parts) - 1 - parts[::-1].index("subagents")
        return Path(*parts[: at - 1])
    return path.parent


def under_transcript(path: Path, transcript: Path) -> bool:
    """Whether `path` is one of the sub-agent transcripts of the session `transcript`."""
    return path.is_relative_to(transcript.with_suffix("") / "subagents")


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
    for path, _rel in _walk_names(str(folder), (), warn):
        yield Path(path)


def _walk_names(
    folder: str, rel: tuple[str, ...], warn: Warn | None
) -> Iterator[tuple[str, tuple[str, ...]]]:
    """`_walk` as (path, its parts below the walk's top) strings: no Path per folder, no
    `relative_to` per file (a cold scan lists ~1,300 files before it can start reading)."""
    try:
        entries = sorted(os.scandir(folder), key=_NAME)
    except OSError:
        return
    for entry in entries:
        name = entry.name
        if name.endswith(".jsonl") and entry.is_file():
            yield entry.path, (*rel, name)
        elif entry.is_dir(follow_symlinks=False):
            yield from _walk_names(entry.path, (*rel, name), warn)
        elif name.endswith(".jsonl") and warn is not None:
            check_log(entry.path, warn)


_NAME = attrgetter("name")


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
    for path, rel in _walk_names(str(root), (), warn):
        if projects_root and prefixes and len(rel) > 1 and not rel[0].startswith(prefixes):
            continue
        sid, is_sub = _session_of(rel, projects_root, root.name)
        yield LogFile(Path(path), sid, is_sub)
