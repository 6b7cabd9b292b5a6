"""Helpers shared by the rebase, cherry-pick and revert hook tests: commits, sessions that
link them, and a repository set up with costlog's hooks."""

from __future__ import annotations

import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from costlog import gitrepo
from costlog.integration import setup
from costlog.ledger.store import Ledger
from costlog.models import Commit, Entry
from tests_support import git, invoke


def commit(root: Path, name: str, message: str) -> str:
    """Write `name`, commit it with `message`; returns the new commit's sha."""
    (root / name).write_text(message + "\n")
    git(root, "add", name)
    git(root, "commit", "-q", "-m", message)
    return git(root, "rev-parse", "HEAD").stdout.strip()


def link(root: Path, session: str, shas: list[str]) -> None:
    """A session entry that made these commits (written, not staged)."""
    ledger = Ledger(gitrepo.find(root), ".costlog/sessions")
    with ledger.lock():
        ledger.write(
            Entry(
                id=f"claude-code/{session}",
                agent="claude-code",
                started=datetime(2026, 11, 20, 9, len(session), tzinfo=UTC),
                cost_usd=None,
                commits=[Commit(s[:12], f"work {n}", evidence="tool-output") for n, s in
                         enumerate(shas)],
            )
        )  # fmt: skip


def links(root: Path, session: str) -> list[str]:
    entry = Ledger(gitrepo.find(root), ".costlog/sessions").get(f"claude-code/{session}")
    assert entry is not None
    return [c.sha for c in entry.commits]


def record(root: Path, session: str, when: str) -> None:
    """`costlog record` of a manual session, committed."""
    result = invoke(
        ["record", "--model", "claude-sonnet-4-6", "--cost", "0.25", "--session", session,
         "--started", when],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", f"record {session}")


def set_up(repo: Path) -> None:
    """`costlog init` for Claude Code (hooks installed), committed."""
    setup.init(gitrepo.find(repo), agents=["claude-code"])
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Set up costlog")


def run_git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """git as the user runs it (its hooks fire; an editor it asks for accepts at once),
    failing or not: the caller asserts."""
    return subprocess.run(
        ["git", *args], cwd=root, capture_output=True, text=True, check=False,
        env={**os.environ, "GIT_EDITOR": "true"},
    )  # fmt: skip


def costlog_lines(done: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in done.stderr.splitlines() if line.startswith("costlog:")]
