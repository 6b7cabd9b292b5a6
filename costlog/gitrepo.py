"""Finding the repository costlog works in, without spawning git (hooks stay fast)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from costlog.errors import CostlogError


@dataclass(frozen=True)
class Repo:
    #: the work tree's top directory
    root: Path
    #: the git directory shared by all worktrees (`git rev-parse --git-common-dir`)
    common_dir: Path

    @property
    def state_dir(self) -> Path:
        """Private, uncommitted state: lock, caches, queue, logs."""
        return self.common_dir / "costlog"


def find(start: Path | None = None) -> Repo:
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        dot_git = candidate / ".git"
        if dot_git.is_dir():
            return Repo(candidate, dot_git)
        if dot_git.is_file():
            return Repo(candidate, _common_dir(dot_git))
    raise CostlogError(
        f"not inside a git repository: {here}", hint="run `git init` first, or cd into a repo"
    )


def _common_dir(dot_git_file: Path) -> Path:
    """A worktree's `.git` is a file `gitdir: <path>`; its `commondir` names the shared dir."""
    text = dot_git_file.read_text(encoding="utf-8").strip()
    if not text.startswith("gitdir:"):
        raise CostlogError("not a gitdir file", path=dot_git_file)
    git_dir = Path(text.split(":", 1)[1].strip())
    if not git_dir.is_absolute():
        git_dir = (dot_git_file.parent / git_dir).resolve()
    common = git_dir / "commondir"
    if common.exists():
        target = Path(common.read_text(encoding="utf-8").strip())
        return target if target.is_absolute() else (git_dir / target).resolve()
    return git_dir


def relative_cwd(repo: Repo, cwd: str | None) -> str | None:
    """A session's cwd relative to the repo root ('.' for the root); None if outside."""
    if not cwd:
        return None
    try:
        rel = os.path.relpath(Path(cwd).resolve(), repo.root)
    except ValueError:
        return None
    return None if rel.startswith("..") else rel
