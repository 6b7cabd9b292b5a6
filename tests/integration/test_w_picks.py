"""cherry-pick and revert: costlog waits for the last picked commit and then looks at
COST_LOG.md once; the earlier picks cost git no Python start and never find the index
changed under them."""

from __future__ import annotations

from pathlib import Path

import pytest
from agent_logs import claude_session
from rewrite_repos import commit, costlog_lines, record, run_git, set_up

from costlog import gitrepo as repo_mod
from costlog.integration import queue
from tests_support import git, invoke

NOTICE = (
    "re-rendered COST_LOG.md for the cherry-picked ledger and staged it; commit it "
    "(e.g. `git commit --amend --no-edit`)"
)


def diverged(repo: Path) -> None:
    """topic records a session, then main records another: the two ledgers diverge."""
    set_up(repo)
    git(repo, "checkout", "-q", "-b", "topic")
    commit(repo, "t1.txt", "topic 1")
    record(repo, "theirs", "2026-11-20T10:00:00Z")
    commit(repo, "t2.txt", "topic 2")
    git(repo, "checkout", "-q", "main")
    record(repo, "ours", "2026-11-20T11:00:00Z")


def test_picking_a_session_onto_a_moved_ledger_renders_once_at_the_end(repo: Path) -> None:
    diverged(repo)
    done = run_git(repo, "cherry-pick", "main..topic")
    assert done.returncode == 0, done.stderr
    assert costlog_lines(done) == [f"costlog: {NOTICE}"]
    assert git(repo, "log", "-1", "--format=%s").stdout.strip() == "topic 2"
    assert git(repo, "diff", "--cached", "--name-only").stdout.split() == ["COST_LOG.md"]
    git(repo, "commit", "-q", "-m", "Cost log after the picks")
    check = invoke(["check"])
    assert check.exit_code == 0, check.output
    assert "2 ledger sessions" in check.output


def test_one_picked_commit_is_its_own_last(repo: Path) -> None:
    diverged(repo)
    done = run_git(repo, "cherry-pick", "topic~1")
    assert done.returncode == 0, done.stderr
    assert costlog_lines(done) == [f"costlog: {NOTICE}"]
    git(repo, "commit", "-q", "--amend", "--no-edit")
    check = invoke(["check"])
    assert check.exit_code == 0, check.output


def test_picks_onto_an_unmoved_ledger_leave_nothing_to_do(repo: Path) -> None:
    set_up(repo)
    git(repo, "checkout", "-q", "-b", "topic")
    commit(repo, "t1.txt", "topic 1")
    record(repo, "theirs", "2026-11-20T10:00:00Z")
    commit(repo, "t2.txt", "topic 2")
    git(repo, "checkout", "-q", "main")
    commit(repo, "main.txt", "main moves on")  # but records nothing
    done = run_git(repo, "cherry-pick", "main..topic")
    assert done.returncode == 0, done.stderr
    assert costlog_lines(done) == []
    assert git(repo, "status", "--porcelain").stdout == ""
    check = invoke(["check"])
    assert check.exit_code == 0, check.output


def test_a_queued_session_waits_for_the_commit_after_the_picks(
    repo: Path, isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Recording between two picks would stage files the next pick then trips over: the
    queue is left for the user's next commit, which records it."""
    claude = isolated_home / "claude-config"
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(claude))
    set_up(repo)
    git(repo, "checkout", "-q", "-b", "topic")
    for n in range(3):
        commit(repo, f"t{n}.txt", f"topic {n}")
    git(repo, "checkout", "-q", "main")
    log = claude_session(claude, "sess-1", repo, "2026-11-20T12:00", 2)
    state = repo_mod.find(repo).state_dir
    queue.enqueue(
        state,
        {"agent": "claude-code", "session_id": "sess-1", "transcript_path": str(log),
         "cwd": str(repo)},
    )  # fmt: skip
    done = run_git(repo, "cherry-pick", "main..topic")
    assert done.returncode == 0, done.stderr
    assert git(repo, "log", "-1", "--format=%s").stdout.strip() == "topic 2"
    assert git(repo, "status", "--porcelain").stdout == ""
    assert queue.pending(state)
    commit(repo, "after.txt", "after the picks")
    assert (repo / ".costlog" / "sessions" / "claude-code" / "sess-1.yaml").exists()
    assert not queue.pending(state)
