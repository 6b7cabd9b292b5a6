"""What agents' tool calls tell about the work: git commits made, files edited.

Attribution (which work item a session served) reads these facts; adapters that log tool
calls and their output (Codex, Gemini) share these helpers so both read them alike.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

_GIT_COMMIT = re.compile(r"\bgit\b[^;&|\n]*\bcommit\b")
#: `git commit` prints `[main 1a2b3c4] Subject` (a root commit: `[main (root-commit) ...]`)
_COMMIT_LINE = re.compile(r"^\[[^\]\n]+? ([0-9a-f]{7,40})\] (.+?)\s*$", re.M)


def commit_refs(output: str) -> set[str]:
    """Commit shas and subjects from `git commit` output (`[main 1a2b3c4] Subject`)."""
    refs: set[str] = set()
    for match in _COMMIT_LINE.finditer(output):
        refs.add(match.group(1))
        refs.add(match.group(2))
    return refs


def is_git_commit(command: str) -> bool:
    """True for a shell command that runs `git ... commit` (its output names the commit)."""
    return bool(_GIT_COMMIT.search(command))


def absolute(path: str, base: str | None) -> str:
    """`path` made absolute against `base` when it is relative and a base is known."""
    if path.startswith("/") or not base:
        return path
    return str(Path(base) / path)


def digest(text: str) -> str:
    """A short stable key for a text (a prompt seen twice is one fact, not two)."""
    return hashlib.sha1(text.encode("utf-8", "replace")).hexdigest()
