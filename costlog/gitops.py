"""The few git writes costlog makes: stage its own files, or commit only them.

Every git process costlog starts gets COSTLOG_SKIP=1, so our own hooks never recurse.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

from costlog.errors import CostlogError


def _git(root: Path, *args: str) -> str:
    env = {**os.environ, "COSTLOG_SKIP": "1"}
    try:
        done = subprocess.run(
            ["git", *args], cwd=root, env=env, capture_output=True, text=True, check=True
        )
    except FileNotFoundError:
        raise CostlogError("git is not installed or not on PATH") from None
    except subprocess.CalledProcessError as exc:
        raise CostlogError(
            f"git {args[0]} failed: {exc.stderr.strip() or exc.stdout.strip()}"
        ) from None
    return done.stdout


def stage(root: Path, paths: Sequence[str]) -> None:
    """`git add` exactly these paths (the ledger file and COST_LOG.md), nothing else.

    A path that is (or lies under) a symlink is refused before git runs: staging it would
    commit a link to some file outside the repo, or fail half way."""
    from costlog.safefs import check_repo_path, repo_path

    for rel in paths:
        check_repo_path(root, repo_path(root, rel))
    if paths:
        _git(root, "add", "--", *paths)


def commit_only(root: Path, paths: Sequence[str], message: str) -> str:
    """A commit holding only these paths; whatever else is staged stays staged."""
    stage(root, paths)
    _git(root, "commit", "-q", "--only", "-m", message, "--", *paths)
    return _git(root, "rev-parse", "--short", "HEAD").strip()
