"""Finding rollout files: a CODEX_HOME's `sessions/` and `archived_sessions/`, a folder,
or single files (with the rest of their CODEX_HOME, which may hold a fork's parent or a
sub-agent)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from costlog.safefs import check_log
from costlog.sources import Warn


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
            home = base.name in ("sessions", "archived_sessions")
            resolved: Path | None = None  # once per tree, not per file: a system call a part
            for path in sorted(base.rglob("*.jsonl")):
                if not check_log(path, skip):
                    continue
                if home:
                    resolved = resolved or base.parent.resolve()
                    key: object = (resolved, path.relative_to(base))
                else:
                    key = path.resolve()
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


def named_files(roots: Sequence[Path], warn: Warn) -> tuple[list[Path], list[Path]]:
    """The rollout files `roots` name, and the other files of the CODEX_HOMEs that hold
    the ones given as single files (their fork parents and sub-agents)."""
    named = rollout_files(roots, warn)
    homes = _context(roots)
    if not homes:  # no file given on its own: nothing to add (and nothing to resolve)
        return named, []
    known = {p.resolve() for p in named}
    context = [p for p in rollout_files(homes, warn) if p.resolve() not in known]
    return named, context
