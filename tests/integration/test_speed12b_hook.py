"""The post-commit shim decides "nothing to do" without Python, and still loses nothing.

Each test installs the real hooks with `costlog init`, then points the shim at a wrapper
around this Python that logs every start, so a test can see whether Python ran.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from costlog import gitrepo
from costlog.integration import hookrun, setup, watch
from tests_support import git, invoke


def install(root: Path, claude: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`costlog init` in `root`, its shims starting Python through a logging wrapper;
    returns the log of Python starts (one line per start, naming the hook)."""
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(claude))
    setup.init(gitrepo.find(root), agents=["claude-code"])
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "Set up costlog")  # the first look writes idle-watch
    # the look's time is when it started, less a clock tick: a config written by init a few
    # ms before it may still read as newer, and the shim would rightly ask Python once more;
    # in real use init runs long before the next commit, so age the config as that does
    config = root / ".costlog" / "config.yaml"
    aged = config.stat().st_mtime - 60
    os.utime(config, (aged, aged))
    starts = root.parent / "python-starts.log"
    wrapper = root.parent / "python-wrapper"
    wrapper.write_text(f'#!/bin/sh\necho "$3" >> {starts}\nexec {sys.executable} "$@"\n')
    wrapper.chmod(0o755)
    for name in hookrun.GIT_HOOKS:
        hook = root / ".git" / "hooks" / name
        text = hook.read_text()
        hook.write_text(text.replace(f"py={sys.executable}", f"py={wrapper}"))
    starts.write_text("")
    return starts


def commit(root: Path, message: str = "change") -> subprocess.CompletedProcess[str]:
    path = root / "work.txt"
    path.write_text((path.read_text() if path.exists() else "") + "x\n")
    git(root, "add", "work.txt")
    return subprocess.run(
        ["git", "commit", "-q", "-m", message], cwd=root, capture_output=True, text=True
    )


def claude_log(claude: Path, root: Path, sid: str, age_minutes: float) -> Path:
    """A Claude Code transcript of a session in `root`, last written `age_minutes` ago."""
    folder = claude / "projects" / "".join(c if c.isalnum() else "-" for c in str(root))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{sid}.jsonl"
    common = {"sessionId": sid, "cwd": str(root), "version": "2.1.90", "gitBranch": "main"}
    lines = [
        {**common, "type": "user", "uuid": "u0", "timestamp": "2026-11-20T09:00:00.000Z",
         "message": {"role": "user", "content": "Tidy up"}},
        {**common, "type": "assistant", "uuid": "a0", "requestId": f"req-{sid}",
         "timestamp": "2026-11-20T09:01:00.000Z",
         "message": {"id": f"msg-{sid}", "model": "claude-sonnet-4-6", "role": "assistant",
                     "stop_reason": "end_turn", "content": [{"type": "text", "text": "ok"}],
                     "usage": {"input_tokens": 10, "output_tokens": 200,
                               "cache_read_input_tokens": 3000,
                               "cache_creation_input_tokens": 0}}},
    ]  # fmt: skip
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    set_age(path, age_minutes)
    return path


def set_age(path: Path, minutes: float) -> None:
    when = time.time() - minutes * 60
    os.utime(path, (when, when))


def let_time_pass(root: Path, minutes: float, *paths: Path) -> None:
    """Age the logs, their dirs, the config and the hook's own marks together, as if
    `minutes` went by."""
    state = root / ".git" / "costlog"
    dirs = {d for p in paths for d in (p.parent, p.parent.parent)}
    marks = [root / ".costlog" / "config.yaml", state / watch.WATCH, state / watch.STAMP]
    for path in [*paths, *dirs, *marks]:
        st = path.stat()
        when = st.st_mtime - minutes * 60
        os.utime(path, (when, when))


def recorded(root: Path) -> list[str]:
    return sorted(p.stem for p in (root / ".costlog" / "sessions").rglob("*.yaml"))


def test_a_commit_with_nothing_to_do_starts_no_python(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    starts = install(repo, tmp_path / "claude", monkeypatch)
    for n in range(3):
        assert commit(repo, f"change {n}").returncode == 0
    assert starts.read_text() == ""


def test_a_queued_session_is_recorded_by_the_next_commit(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    claude = tmp_path / "claude"
    starts = install(repo, claude, monkeypatch)
    log = claude_log(claude, repo, "ended-1", 0)
    payload = {"session_id": "ended-1", "cwd": str(repo), "transcript_path": str(log)}
    subprocess.run(
        [sys.executable, "-m", "costlog.integration.hookrun", "session-end", "--agent",
         "claude-code"],
        input=json.dumps(payload), text=True, check=True, cwd=repo,
    )  # fmt: skip
    done = commit(repo)
    assert done.returncode == 0, done.stderr
    assert "recorded 2026-11-20 claude-code ended-1" in done.stderr
    assert starts.read_text().split() == ["post-commit"]
    assert "ended-1" in recorded(repo)
    staged = git(repo, "diff", "--cached", "--name-only").stdout.split()
    assert staged == [".costlog/sessions/claude-code/ended-1.yaml", "COST_LOG.md"]


def test_a_live_session_is_recorded_once_it_has_gone_quiet(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    claude = tmp_path / "claude"
    starts = install(repo, claude, monkeypatch)
    log = claude_log(claude, repo, "live-1", 5)  # written 5 minutes ago: still live
    time.sleep(2 * watch.LOOK_SLACK)  # (a dir changed within the slack asks Python again)
    assert commit(repo).returncode == 0  # a new log: Python looks, and notes it as live
    assert starts.read_text().split() == ["post-commit"]
    assert recorded(repo) == []
    for n in range(2):  # the agent keeps writing; the commits in between start no Python
        set_age(log, 0)
        let_time_pass(repo, 1, log)
        assert commit(repo, f"live {n}").returncode == 0
    assert starts.read_text().split() == ["post-commit"]
    let_time_pass(repo, 31, log)  # quiet for longer than idle_minutes (30)
    done = commit(repo, "after the session")
    assert done.returncode == 0, done.stderr
    assert starts.read_text().split() == ["post-commit", "post-commit"]
    assert recorded(repo) == ["live-1"]
    assert "recorded 2026-11-20 claude-code live-1" in done.stderr
    # recorded and seen: quiet again once this test's hand-set mtimes are older than the
    # slack (setting an mtime moves the ctime to now; a real log's is its last write's)
    time.sleep(watch.SLACK)
    assert commit(repo, "later").returncode == 0
    looks = len(starts.read_text().split())
    assert commit(repo, "later still").returncode == 0
    assert len(starts.read_text().split()) == looks <= 3
    assert recorded(repo) == ["live-1"]


def test_config_change_or_new_project_dir_asks_python(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    claude = tmp_path / "claude"
    starts = install(repo, claude, monkeypatch)
    config = repo / ".costlog" / "config.yaml"
    config.write_text(config.read_text() + "idle_minutes: 5\n")
    assert commit(repo).returncode == 0
    assert starts.read_text().split() == ["post-commit"]
    # a session started in a subdirectory has a project dir of its own, created now, with
    # a log already quiet for longer than the new idle_minutes
    sub = repo / "pkg"
    sub.mkdir()
    log = claude_log(claude, sub, "sub-1", 10)
    os.utime(log.parent.parent)  # the projects dir changed when the new dir appeared
    done = commit(repo)
    assert done.returncode == 0, done.stderr
    assert starts.read_text().split() == ["post-commit", "post-commit"]
    assert recorded(repo) == ["sub-1"]


def test_mid_rebase_commits_start_no_python_and_post_rewrite_runs_once(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    starts = install(repo, tmp_path / "claude", monkeypatch)
    git(repo, "checkout", "-q", "-b", "topic")
    for n in range(4):
        assert commit(repo, f"topic {n}").returncode == 0
    git(repo, "checkout", "-q", "main")
    (repo / "other.txt").write_text("main moved on\n")
    git(repo, "add", "other.txt")
    git(repo, "commit", "-q", "-m", "main")
    starts.write_text("")
    git(repo, "checkout", "-q", "topic")
    done = git(repo, "rebase", "-q", "main", check=False)
    assert done.returncode == 0, done.stderr
    assert starts.read_text().split() == ["post-rewrite"]
    git(repo, "checkout", "-q", "-b", "picks", "main")
    starts.write_text("")
    done = git(repo, "cherry-pick", "main..topic", check=False)
    assert done.returncode == 0, done.stderr
    assert starts.read_text() == ""  # each picked commit is skipped before Python
    assert commit(repo).returncode == 0
    assert starts.read_text() == ""


def record_and_commit(root: Path, session: str, cost: str, when: str) -> None:
    result = invoke(
        ["record", "--model", "claude-sonnet-4-6", "--cost", cost, "--session", session,
         "--started", when],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    done = subprocess.run(
        ["git", "commit", "-q", "-m", f"record {session}"], cwd=root, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


def test_squash_merge_commit_leaves_cost_log_right(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    starts = install(repo, tmp_path / "claude", monkeypatch)
    git(repo, "checkout", "-q", "-b", "topic")
    record_and_commit(repo, "theirs", "0.40", "2026-11-20T10:00:00Z")
    record_and_commit(repo, "theirs-2", "0.10", "2026-11-20T10:30:00Z")
    git(repo, "checkout", "-q", "main")
    record_and_commit(repo, "ours", "0.70", "2026-11-20T11:00:00Z")
    git(repo, "config", "merge.costlog.driver", "true")  # as without the driver: keeps ours
    starts.write_text("")
    done = git(repo, "merge", "-q", "--squash", "topic", check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert starts.read_text() == ""  # the merge itself starts no Python
    squash = subprocess.run(
        ["git", "commit", "-q", "-m", "Squash topic"], cwd=repo, capture_output=True, text=True
    )
    assert squash.returncode == 0, squash.stderr
    assert "re-rendered COST_LOG.md for the squash-merged ledger and staged it" in squash.stderr
    assert starts.read_text().split() == ["post-commit"]
    check = invoke(["check"])
    assert check.exit_code == 0, check.output
    assert "3 ledger sessions" in check.output
    # the fix, if one was needed, is staged: the user's next commit carries it
    done = subprocess.run(
        ["git", "commit", "-q", "--allow-empty", "-m", "next"], cwd=repo, capture_output=True,
        text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert git(repo, "status", "--porcelain").stdout == ""
    assert git(repo, "show", "HEAD:COST_LOG.md").stdout == (repo / "COST_LOG.md").read_text()


def test_squash_of_a_branch_main_did_not_touch_starts_no_python(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    starts = install(repo, tmp_path / "claude", monkeypatch)
    git(repo, "checkout", "-q", "-b", "topic")
    record_and_commit(repo, "theirs", "0.40", "2026-11-20T10:00:00Z")
    assert commit(repo, "topic work").returncode == 0
    git(repo, "checkout", "-q", "main")
    assert commit(repo, "main work").returncode == 0  # no session on main meanwhile
    starts.write_text("")
    done = git(repo, "merge", "-q", "--squash", "topic", check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    squash = subprocess.run(
        ["git", "commit", "-q", "-m", "Squash topic"], cwd=repo, capture_output=True, text=True
    )
    assert squash.returncode == 0, squash.stderr
    # the ledger and COST_LOG.md are the branch's, as a whole: nothing to render
    assert starts.read_text() == ""
    assert not (repo / ".git" / "costlog" / watch.SQUASH).exists()
    check = invoke(["check"])
    assert check.exit_code == 0, check.output
    assert git(repo, "status", "--porcelain").stdout == ""
