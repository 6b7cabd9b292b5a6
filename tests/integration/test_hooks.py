"""The git hooks: installed beside what is there, fast, and never failing a commit."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from costlog import config as config_mod
from costlog import gitrepo as repo_mod
from costlog.integration import hookrun, queue, setup
from costlog.ledger.store import Ledger
from costlog.models import Commit, Entry
from tests_support import REPO_ROOT, git, invoke

ROOT = REPO_ROOT


def commit(
    root: Path, name: str = "a.txt", message: str = "change", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    path = root / name
    path.write_text(path.read_text() + "x\n" if path.exists() else "x\n")
    git(root, "add", name)
    return subprocess.run(
        ["git", "commit", "-q", "-m", message],
        cwd=root,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
    )


def init(root: Path) -> list[str]:
    return setup.init(repo_mod.find(root), agents=["claude-code"])


def queued(root: Path) -> list[dict[str, object]]:
    path = repo_mod.find(root).state_dir / queue.QUEUE
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def enqueue_bogus(root: Path) -> None:
    queue.enqueue(
        repo_mod.find(root).state_dir, {"agent": "claude-code", "session_id": "no-such-session"}
    )


def test_config_path_constant_matches() -> None:
    assert hookrun.CONFIG_PATH == config_mod.CONFIG_PATH


def test_commit_runs_the_hook_which_processes_the_queue(repo: Path) -> None:
    init(repo)
    enqueue_bogus(repo)
    done = commit(repo)
    assert done.returncode == 0, done.stderr
    # the session could not be found yet: queued again with a try counted, nothing lost
    assert [(i["session_id"], i["tries"]) for i in queued(repo)] == [("no-such-session", 1)]


def test_existing_hook_is_kept_and_still_runs(repo: Path) -> None:
    hook = repo / ".git" / "hooks" / "post-commit"
    hook.parent.mkdir(exist_ok=True)
    hook.write_text('#!/bin/sh\necho mine >> "$(git rev-parse --git-dir)/ran"\n')
    hook.chmod(0o750)
    original = hook.read_bytes()
    lines = init(repo)
    assert any("kept and still run" in line for line in lines)
    enqueue_bogus(repo)
    assert commit(repo).returncode == 0
    assert (repo / ".git" / "ran").read_text() == "mine\n"
    assert queued(repo)[0]["tries"] == 1  # costlog ran too
    setup.uninstall(repo_mod.find(repo))
    assert hook.read_bytes() == original
    assert oct(hook.stat().st_mode & 0o777) == oct(0o750)
    assert not (hook.parent / "post-commit.costlog-legacy").exists()


def test_post_rewrite_feeds_both_hooks_and_moves_ledger_links(repo: Path) -> None:
    hook = repo / ".git" / "hooks" / "post-rewrite"
    hook.parent.mkdir(exist_ok=True)
    hook.write_text('#!/bin/sh\ncat > "$(git rev-parse --git-dir)/rewritten"\n')
    hook.chmod(0o755)
    init(repo)
    commit(repo, message="Add parser")
    old = git(repo, "rev-parse", "HEAD").stdout.strip()
    found = repo_mod.find(repo)
    ledger = Ledger(found, ".costlog/sessions")
    with ledger.lock():
        ledger.write(
            Entry(
                id="claude-code/s1",
                agent="claude-code",
                started=datetime(2026, 11, 20, 9, tzinfo=UTC),
                commits=[Commit(old[:12], "Add parser", evidence="tool-output")],
            )
        )
    done = subprocess.run(
        ["git", "commit", "-q", "--amend", "-m", "Add parser (amended)"],
        cwd=repo,
        capture_output=True,
        text=True,
        env={**os.environ, "GIT_COMMITTER_DATE": "2026-11-20T10:00:00+00:00"},
    )
    assert done.returncode == 0, done.stderr
    new = git(repo, "rev-parse", "HEAD").stdout.strip()
    assert new != old
    assert (repo / ".git" / "rewritten").read_text().split()[:2] == [old, new]
    entry = ledger.get("claude-code/s1")
    assert entry is not None and [c.sha for c in entry.commits] == [new[:12]]
    staged = git(repo, "diff", "--cached", "--name-only").stdout
    assert ".costlog/sessions/claude-code/s1.yaml" in staged


def write_husky(root: Path) -> None:
    """What `npx husky init` (v9) leaves: core.hooksPath=.husky/_ and its wrapper scripts."""
    underscore = root / ".husky" / "_"
    underscore.mkdir(parents=True)
    (underscore / "h").write_text(
        '#!/usr/bin/env sh\n[ "$HUSKY" = "2" ] && set -x\nn=$(basename "$0")\n'
        's=$(dirname "$(dirname "$0")")/$n\n[ ! -f "$s" ] && exit 0\n'
        '[ "${HUSKY-}" = "0" ] && exit 0\nsh -e "$s" "$@"\nc=$?\nexit $c\n'
    )
    for name in ("post-commit", "post-rewrite", "post-merge", "pre-commit"):
        wrapper = underscore / name
        wrapper.write_text('#!/usr/bin/env sh\n. "$(dirname "$0")/h"\n')
        wrapper.chmod(0o755)
    (underscore / "h").chmod(0o755)
    git(root, "config", "core.hooksPath", ".husky/_")


def test_husky_repo_gets_a_block_in_its_own_hook(repo: Path) -> None:
    write_husky(repo)
    user = repo / ".husky" / "post-commit"
    user.write_text("echo from-husky >> .git/husky-ran\n")
    before = user.read_bytes()
    init(repo)
    assert not (repo / ".git" / "hooks" / "post-commit").exists()
    assert user.read_text().startswith("echo from-husky")
    assert "# >>> costlog post-commit" in user.read_text()
    enqueue_bogus(repo)
    done = commit(repo)
    assert done.returncode == 0, done.stderr
    assert (repo / ".git" / "husky-ran").read_text() == "from-husky\n"
    assert queued(repo)[0]["tries"] == 1
    setup.uninstall(repo_mod.find(repo))
    assert user.read_bytes() == before
    assert not (repo / ".husky" / "post-rewrite").exists()


def test_plain_core_hookspath_dir_is_used(repo: Path) -> None:
    (repo / ".githooks").mkdir()
    git(repo, "config", "core.hooksPath", ".githooks")
    init(repo)
    assert "costlog-hook-shim" in (repo / ".githooks" / "post-commit").read_text()
    enqueue_bogus(repo)
    assert commit(repo).returncode == 0
    assert queued(repo)[0]["tries"] == 1


def test_worktree_shares_hooks_and_state(repo: Path, tmp_path: Path) -> None:
    init(repo)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "costlog init")
    other = tmp_path / "wt"
    git(repo, "worktree", "add", "-q", "-b", "side", str(other))
    found = repo_mod.find(other)
    assert found.state_dir == repo_mod.find(repo).state_dir
    enqueue_bogus(other)
    assert commit(other).returncode == 0
    assert queued(repo)[0]["tries"] == 1
    assert setup.init(repo_mod.find(other), agents=["claude-code"])[0].startswith("already")


def test_broken_config_still_lets_the_commit_through(repo: Path) -> None:
    init(repo)
    (repo / ".costlog" / "config.yaml").write_text("ledger_dir: [unclosed\n")
    enqueue_bogus(repo)
    done = commit(repo)
    assert done.returncode == 0
    assert git(repo, "log", "-1", "--format=%s").stdout.strip() == "change"
    errors = [line for line in done.stderr.splitlines() if line.startswith("costlog:")]
    assert len(errors) == 1 and "post-commit hook skipped" in errors[0]
    assert "Traceback" in (repo / ".git" / "costlog" / "hook.log").read_text()
    assert queued(repo)[0]["session_id"] == "no-such-session"  # kept for next time


def test_broken_ledger_still_lets_the_commit_through(repo: Path) -> None:
    init(repo)
    commit(repo, message="first")
    old = git(repo, "rev-parse", "HEAD").stdout.strip()
    bad = repo / ".costlog" / "sessions" / "claude-code" / "x.yaml"
    bad.parent.mkdir(parents=True)
    bad.write_text(f"schema: 1\nid: [{old[:12]}\n")  # mentions the sha, and is not YAML
    done = subprocess.run(
        ["git", "commit", "-q", "--amend", "-m", "first, amended"],
        cwd=repo,
        capture_output=True,
        text=True,
        env={**os.environ, "GIT_COMMITTER_DATE": "2026-11-20T11:00:00Z"},
    )
    assert done.returncode == 0
    assert git(repo, "log", "-1", "--format=%s").stdout.strip() == "first, amended"
    errors = [line for line in done.stderr.splitlines() if line.startswith("costlog:")]
    assert len(errors) == 1 and "post-rewrite hook skipped" in errors[0], done.stderr
    assert "x.yaml" in (repo / ".git" / "costlog" / "hook.log").read_text()


def test_skips_during_rebase_and_with_costlog_skip(repo: Path) -> None:
    init(repo)
    enqueue_bogus(repo)
    (repo / ".git" / "rebase-merge").mkdir()
    lines: list[str] = []
    assert hookrun.run("post-commit", [], io.StringIO(), say=lines.append) == 0
    assert "tries" not in queued(repo)[0]
    (repo / ".git" / "rebase-merge").rmdir()
    assert commit(repo, env={"COSTLOG_SKIP": "1"}).returncode == 0
    assert "tries" not in queued(repo)[0]


def test_shim_falls_back_when_its_python_is_gone(repo: Path) -> None:
    init(repo)
    hook = repo / ".git" / "hooks" / "post-commit"
    hook.write_text(
        hook.read_text()
        .replace(f"py='{sys.executable}'", "py=/gone/bin/python")
        .replace(f"py={sys.executable}", "py=/gone/bin/python")
    )
    assert "py=/gone/bin/python" in hook.read_text()
    bare_path = "/usr/bin:/bin"
    done = commit(repo, env={"PATH": bare_path})
    assert done.returncode == 0
    assert done.stderr.strip().splitlines() == [
        "costlog: /gone/bin/python is gone; post-commit hook skipped (reinstall costlog and "
        "run `costlog init`, or `costlog uninstall`)"
    ]


def test_session_end_hook_queues_claude_codes_input_fast(repo: Path) -> None:
    init(repo)
    payload = {
        "session_id": "00893aaf-19fa-41d2-8238-13269b9b3ca0",
        "transcript_path": "/home/u/.claude/projects/x/00893aaf.jsonl",
        "cwd": str(repo),
        "hook_event_name": "SessionEnd",
        "reason": "other",
    }
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "costlog", "hook", "session-end", "--agent", "claude-code"],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        cwd="/",
    )
    elapsed = time.perf_counter() - start
    assert done.returncode == 0 and done.stdout == "" and done.stderr == ""
    assert elapsed < 1.5
    [item] = queued(repo)
    assert item["session_id"] == payload["session_id"] and item["agent"] == "claude-code"
    assert item["transcript_path"] == payload["transcript_path"]


def test_session_end_outside_a_repo_and_bad_input_are_quiet(tmp_path: Path) -> None:
    for text in ("", "not json", json.dumps({"cwd": str(tmp_path)})):
        assert hookrun.run("session-end", ["--agent", "gemini"], io.StringIO(text)) == 0


def test_queue_drain_is_idempotent_and_dedupes(tmp_path: Path) -> None:
    state = tmp_path / "state"
    queue.enqueue(state, {"agent": "claude-code", "session_id": "a", "reason": "clear"})
    queue.enqueue(state, {"agent": "claude-code", "session_id": "b"})
    queue.enqueue(state, {"agent": "claude-code", "session_id": "a", "reason": "other"})
    items = queue.drain(state)
    assert [(i["session_id"], i.get("reason")) for i in items] == [("a", "other"), ("b", None)]
    assert queue.drain(state) == []
    assert not queue.pending(state)


def test_concurrent_session_end_hooks_all_land(repo: Path) -> None:
    init(repo)
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "costlog.integration.hookrun", "session-end"],
            stdin=subprocess.PIPE,
            text=True,
            cwd=repo,
        )
        for _ in range(8)
    ]
    for n, proc in enumerate(procs):
        proc.communicate(json.dumps({"session_id": f"s{n}", "cwd": str(repo)}))
        assert proc.returncode == 0
    assert sorted(i["session_id"] for i in queue.drain(repo_mod.find(repo).state_dir)) == [
        f"s{n}" for n in range(8)
    ]


def test_pre_commit_hooks_manifest_is_what_the_framework_needs() -> None:
    from ruamel.yaml import YAML

    hooks = YAML(typ="safe").load((ROOT / ".pre-commit-hooks.yaml").read_text())
    by_id = {h["id"]: h for h in hooks}
    for name in ("post-commit", "post-rewrite", "post-merge"):
        hook = by_id[f"costlog-{name}"]
        assert hook["stages"] == [name]
        assert hook["always_run"] is True and hook["pass_filenames"] is False
        assert hook["entry"] == f"costlog hook {name}"
    assert (
        "pre-commit install --hook-type post-commit"
        in (ROOT / ".pre-commit-hooks.yaml").read_text()
    )


@pytest.mark.skipif(
    shutil.which("pre-commit") is None
    and not (Path(sys.executable).parent / "pre-commit").exists(),
    reason="the pre-commit tool is not installed",
)
def test_pre_commit_framework_repo_runs_costlog(repo: Path) -> None:
    from pre_commit.clientlib import load_manifest  # type: ignore[import-untyped]

    assert {h["id"] for h in load_manifest(str(ROOT / ".pre-commit-hooks.yaml"))} >= {
        "costlog-post-commit",
        "costlog-post-rewrite",
    }
    # the manifest's entries, as a local hook (the test has no network to build an env)
    manifest = (ROOT / ".pre-commit-hooks.yaml").read_text()
    local = manifest.replace("language: python", "language: system").replace(
        "entry: costlog hook", f"entry: {sys.executable} -m costlog hook"
    )
    body = "\n".join(
        "      " + line if line.strip() else line
        for line in local.splitlines()
        if not line.startswith("#")
    )
    (repo / ".pre-commit-config.yaml").write_text(
        "default_install_hook_types: [post-commit, post-rewrite]\n"
        f"repos:\n  - repo: local\n    hooks:\n{body}\n"
    )
    tool = shutil.which("pre-commit") or str(Path(sys.executable).parent / "pre-commit")
    env = {**os.environ, "PRE_COMMIT_HOME": str(repo.parent / "pc-home")}
    done = subprocess.run([tool, "install"], cwd=repo, capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = init(repo)
    assert any("run by the pre-commit framework" in line for line in lines)
    assert "File generated by pre-commit" in (repo / ".git/hooks/post-commit").read_text()
    enqueue_bogus(repo)
    git(repo, "add", ".pre-commit-config.yaml")
    done = commit(repo, env=env)
    assert done.returncode == 0, done.stderr
    assert queued(repo)[0]["tries"] == 1


def record_and_commit(root: Path, session: str, cost: str, when: str) -> None:

    result = invoke(
        [
            "record",
            "--model",
            "claude-sonnet-4-6",
            "--cost",
            cost,
            "--session",
            session,
            "--started",
            when,
        ],
    )
    assert result.exit_code == 0, result.output
    done = subprocess.run(
        ["git", "commit", "-q", "-m", f"record {session}"], cwd=root, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


def test_merge_of_two_branches_with_sessions_never_stops_on_cost_log(repo: Path) -> None:

    init(repo)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Set up costlog")
    git(repo, "checkout", "-q", "-b", "other")
    record_and_commit(repo, "theirs", "0.40", "2026-11-20T10:00:00Z")
    git(repo, "checkout", "-q", "main")
    record_and_commit(repo, "ours", "0.70", "2026-11-20T11:00:00Z")
    done = subprocess.run(
        ["git", "merge", "-q", "--no-edit", "other"], cwd=repo, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "<<<<<<<" not in (repo / "COST_LOG.md").read_text()
    # the merge driver rendered the merged ledger into the merge commit itself
    assert git(repo, "status", "--porcelain").stdout == ""
    check = invoke(["check"])
    assert check.exit_code == 0, check.output
    assert "2 ledger sessions" in check.output


def test_post_merge_renders_when_the_driver_could_not(repo: Path) -> None:
    """A merge without the driver (another clone's config, GitHub): post-merge catches up."""

    init(repo)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Set up costlog")
    git(repo, "checkout", "-q", "-b", "other")
    record_and_commit(repo, "theirs", "0.40", "2026-11-20T10:00:00Z")
    git(repo, "checkout", "-q", "main")
    record_and_commit(repo, "ours", "0.70", "2026-11-20T11:00:00Z")
    git(repo, "config", "merge.costlog.driver", "true")  # keeps ours, like a text merge would
    done = subprocess.run(
        ["git", "merge", "-q", "--no-edit", "other"], cwd=repo, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "re-rendered COST_LOG.md for the merged ledger" in done.stderr
    assert git(repo, "diff", "--cached", "--name-only").stdout.split() == ["COST_LOG.md"]
    check = invoke(["check"])
    assert check.exit_code == 0, check.output


def test_merge_driver_leaves_hand_written_conflicts(repo: Path, tmp_path: Path) -> None:
    init(repo)
    base, ours, theirs = (tmp_path / n for n in ("base", "ours", "theirs"))
    base.write_text("# Log\n\nnotes\n")
    ours.write_text("# Log\n\nour notes\n")
    theirs.write_text("# Log\n\ntheir notes\n")
    lines: list[str] = []
    code = hookrun.run(
        "merge-driver",
        [str(base), str(ours), str(theirs), "COST_LOG.md"],
        io.StringIO(),
        say=lines.append,
    )
    assert code == 1
    assert "<<<<<<< ours" in ours.read_text()


def test_commit_never_waits_for_a_busy_ledger(repo: Path) -> None:
    init(repo)
    enqueue_bogus(repo)
    ledger = Ledger(repo_mod.find(repo), ".costlog/sessions")
    with ledger.lock():
        start = time.perf_counter()
        assert commit(repo).returncode == 0
        assert time.perf_counter() - start < 5
    assert "tries" not in queued(repo)[0]  # left for the next commit
    assert commit(repo).returncode == 0
    assert queued(repo)[0]["tries"] == 1
