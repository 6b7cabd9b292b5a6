"""post-rewrite after a `rebase -i` that moved commits: the old tip is the one git noted
in ORIG_HEAD, not the last commit replayed, when costlog asks whether COST_LOG.md may be
behind the rebased ledger."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

from rewrite_repos import commit, record

from costlog import gitrepo as repo_mod
from costlog.integration import setup
from tests_support import git, invoke

#: a sequence editor that replays the commits newest first
REVERSE = (
    "import sys; p = sys.argv[1]; "
    "picks = [line for line in open(p) if line.startswith('pick ')]; "
    "open(p, 'w').writelines(picks[::-1])"
)


def test_a_reordering_rebase_renders_cost_log_for_the_moved_session(repo: Path) -> None:
    """topic's session is replayed first and an unrelated commit last: the last commit
    replayed was made before the session, but the branch as a whole brought it."""
    setup.init(repo_mod.find(repo), agents=["claude-code"])
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Set up costlog")
    git(repo, "checkout", "-q", "-b", "topic")
    commit(repo, "a.txt", "topic work")
    record(repo, "theirs", "2026-11-20T10:00:00Z")
    git(repo, "checkout", "-q", "main")
    record(repo, "ours", "2026-11-20T11:00:00Z")
    editor = f"{shlex.quote(sys.executable)} -c {shlex.quote(REVERSE)}"
    done = subprocess.run(
        ["git", "rebase", "-i", "main", "topic"], cwd=repo, capture_output=True, text=True,
        env={**os.environ, "GIT_SEQUENCE_EDITOR": editor}, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    subjects = git(repo, "log", "-2", "--format=%s").stdout.split("\n")[:2]
    assert subjects == ["topic work", "record theirs"]
    assert "costlog: re-rendered COST_LOG.md for the rebased ledger (staged)" in done.stderr
    git(repo, "commit", "-q", "--amend", "--no-edit")
    check = invoke(["check"])
    assert check.exit_code == 0, check.output
    assert "2 ledger sessions" in check.output
