"""cherry-pick and revert, told apart from the user's own commits by what git's reflog says
made each commit: a pick stopped on a conflict and committed by hand leaves
.git/sequencer behind, and the user's next commits must still record what is queued;
the commits that end a revert, or a pick resolved with `--continue`, leave COST_LOG.md
right or say how it was fixed."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from agent_logs import claude_session
from rewrite_repos import commit, costlog_lines, record, run_git, set_up

from costlog import gitrepo as repo_mod
from costlog.integration import hookrun, queue
from tests_support import git, invoke

SESSION = Path(".costlog") / "sessions" / "claude-code" / "sess-1.yaml"


def notice(what: str) -> str:
    return (
        f"costlog: re-rendered COST_LOG.md for the {what} ledger and staged it; commit it "
        "(e.g. `git commit --amend --no-edit`)"
    )


def queue_session(repo: Path, home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A real Claude Code session the SessionEnd hook queued; returns the state dir."""
    claude = home / "claude-config"
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(claude))
    log = claude_session(claude, "sess-1", repo, "2026-11-20T12:00", 2)
    state = repo_mod.find(repo).state_dir
    queue.enqueue(
        state,
        {"agent": "claude-code", "session_id": "sess-1", "transcript_path": str(log),
         "cwd": str(repo)},
    )  # fmt: skip
    return state


def resolve(repo: Path) -> None:
    (repo / "clash.txt").write_text("both\n")
    git(repo, "add", "clash.txt")


def test_commits_after_a_pick_committed_by_hand_record_the_queue(
    repo: Path, isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pick that stopped on a conflict is committed with `git commit`, not
    `--continue`: .git/sequencer stays, still listing picks to do, and the user's next
    commit is an ordinary one that records the queued session."""
    set_up(repo)
    git(repo, "checkout", "-q", "-b", "topic")
    commit(repo, "t1.txt", "topic 1")
    commit(repo, "clash.txt", "topic clash")
    commit(repo, "t3.txt", "topic 3")
    git(repo, "checkout", "-q", "main")
    commit(repo, "clash.txt", "main clash")
    stopped = run_git(repo, "cherry-pick", "main..topic")
    assert stopped.returncode != 0
    resolve(repo)
    git(repo, "commit", "-q", "--no-edit")
    assert (repo / ".git" / "sequencer").is_dir()
    state = queue_session(repo, isolated_home, monkeypatch)
    commit(repo, "after.txt", "my own work")
    assert (repo / SESSION).exists()
    assert not queue.pending(state)
    staged = git(repo, "diff", "--cached", "--name-only").stdout.split()
    assert staged == [SESSION.as_posix(), "COST_LOG.md"]


def test_python_waits_while_picks_remain(
    repo: Path, isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the shim decides for itself, hookrun decides the same way when it is asked
    (a linked worktree, an older shim): no work while a pick is stopped with more to do,
    also for the commit that ends the stopped one."""
    set_up(repo)
    git(repo, "checkout", "-q", "-b", "topic")
    commit(repo, "clash.txt", "topic clash")
    commit(repo, "t2.txt", "topic 2")
    git(repo, "checkout", "-q", "main")
    commit(repo, "clash.txt", "main clash")
    state = queue_session(repo, isolated_home, monkeypatch)
    assert run_git(repo, "cherry-pick", "main..topic").returncode != 0
    resolve(repo)
    git(repo, "-c", "core.hooksPath=/dev/null", "commit", "-q", "--no-edit")
    assert hookrun.made_by(repo_mod.find(repo)) == "commit (cherry-pick)"
    lines: list[str] = []
    assert hookrun.run("post-commit", [], io.StringIO(), say=lines.append) == 0
    [item] = [json.loads(line) for line in (state / queue.QUEUE).read_text().splitlines()]
    assert lines == [] and "tries" not in item  # not even tried
    assert not (repo / SESSION).exists()


def diverged(repo: Path) -> None:
    """topic records a session, then main records another and both change clash.txt: the
    ledgers diverge and the pick of topic's last commit stops on a conflict."""
    set_up(repo)
    git(repo, "checkout", "-q", "-b", "topic")
    record(repo, "theirs", "2026-11-20T10:00:00Z")
    commit(repo, "clash.txt", "topic clash")
    git(repo, "checkout", "-q", "main")
    record(repo, "ours", "2026-11-20T11:00:00Z")
    commit(repo, "clash.txt", "main clash")


@pytest.mark.parametrize("revs", [["main..topic"], ["topic~1", "topic"]])
def test_a_last_pick_resolved_with_continue_leaves_cost_log_right(
    repo: Path, revs: list[str]
) -> None:
    diverged(repo)
    assert run_git(repo, "cherry-pick", *revs).returncode != 0
    resolve(repo)
    done = run_git(repo, "cherry-pick", "--continue")
    assert done.returncode == 0, done.stderr
    assert costlog_lines(done) == [notice("cherry-picked")]
    assert git(repo, "diff", "--cached", "--name-only").stdout.split() == ["COST_LOG.md"]
    git(repo, "commit", "-q", "--amend", "--no-edit")
    check = invoke(["check"])
    assert check.exit_code == 0, check.output
    assert "2 ledger sessions" in check.output


def test_a_single_pick_resolved_with_continue_leaves_cost_log_right(
    repo: Path, isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No pick follows it: the queued session is recorded by that commit too."""
    set_up(repo)
    git(repo, "checkout", "-q", "-b", "topic")
    (repo / "clash.txt").write_text("topic\n")
    git(repo, "add", "clash.txt")
    record(repo, "theirs", "2026-11-20T10:00:00Z")  # one commit: the session and clash.txt
    git(repo, "checkout", "-q", "main")
    record(repo, "ours", "2026-11-20T11:00:00Z")
    commit(repo, "clash.txt", "main clash")
    assert run_git(repo, "cherry-pick", "topic").returncode != 0
    resolve(repo)
    state = queue_session(repo, isolated_home, monkeypatch)
    done = run_git(repo, "cherry-pick", "--continue")
    assert done.returncode == 0, done.stderr
    assert not queue.pending(state)
    git(repo, "commit", "-q", "--amend", "--no-edit")
    check = invoke(["check"])
    assert check.exit_code == 0, check.output
    assert "3 ledger sessions" in check.output


def reverted(repo: Path) -> None:
    """Two sessions recorded one after the other, then a commit of other work."""
    set_up(repo)
    record(repo, "one", "2026-11-20T10:00:00Z")
    record(repo, "two", "2026-11-20T11:00:00Z")
    commit(repo, "work.txt", "other work")


def test_a_revert_of_a_recorded_session_leaves_cost_log_right(repo: Path) -> None:
    reverted(repo)
    done = run_git(repo, "revert", "--no-edit", "HEAD~2")
    assert done.returncode == 0, done.stderr
    assert costlog_lines(done) == [notice("reverted")]
    git(repo, "commit", "-q", "--amend", "--no-edit")
    check = invoke(["check"])
    assert check.exit_code == 0, check.output
    assert "1 ledger session" in check.output


def test_a_range_revert_says_reverted(repo: Path) -> None:
    reverted(repo)
    done = run_git(repo, "revert", "--no-edit", "HEAD", "HEAD~2")  # other work, then one
    assert done.returncode == 0, done.stderr
    assert costlog_lines(done) == [notice("reverted")]
    git(repo, "commit", "-q", "--amend", "--no-edit")
    check = invoke(["check"])
    assert check.exit_code == 0, check.output
    assert "1 ledger session" in check.output
