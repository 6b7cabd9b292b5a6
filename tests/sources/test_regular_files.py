"""Agent logs are read only when they are regular files: a FIFO named like a log, or a link
to /dev/zero, is skipped with a warning naming it, and neither `costlog scan` nor a
`git commit` (whose hook reads the logs) hangs or spins on it.

Every run here is a subprocess with a timeout, so a regression fails instead of hanging.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from costlog.integration import hookrun
from costlog.sources.claude.paths import encode_cwd
from tests_support import FIXTURES_DIR, git, run

FIXTURES = FIXTURES_DIR
TIMEOUT = 60
FIFO = "not a regular file (a FIFO)"
DEVICE = "not a regular file (a character device)"


def costlog(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "costlog", *args],
        cwd=cwd,
        text=True,
        capture_output=True,
        timeout=TIMEOUT,
        env=os.environ.copy(),
        stdin=subprocess.DEVNULL,
    )


def plant(folder: Path, name: str, kind: str) -> Path:
    """A FIFO, or a symlink to /dev/zero, named `name` in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to("/dev/zero")
    return path


def codex_home(home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    target = home / "codex"
    shutil.copytree(FIXTURES / "codex" / "home", target)
    monkeypatch.setenv("CODEX_HOME", str(target))
    return target / "sessions" / "2026" / "03" / "05"


def claude_home(home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    config = home / "claude"
    project = config / "projects" / "-work-proj"
    project.mkdir(parents=True)
    shutil.copy(
        FIXTURES / "claude-code" / "ccusage__project-alpha_chat.jsonl",
        project / "5f0c2a9e-1111-4c3b-9a55-0123456789ab.jsonl",
    )
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(config))
    return project


def gemini_home(home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(FIXTURES / "gemini" / "home" / ".gemini", home / ".gemini")
    project = home / ".gemini" / "tmp" / "proj"
    # the files it reads to find a project's directory, as FIFOs too
    (project / ".project_root").unlink()
    os.mkfifo(project / ".project_root")
    (home / ".gemini" / "projects.json").unlink()
    os.mkfifo(home / ".gemini" / "projects.json")
    return project / "chats"


HOMES = {
    "codex": (
        codex_home,
        "rollout-2026-03-05T11-00-00-019a00{n}-eeee-7eee-8eee-eeeeeeeeeeee.jsonl",
    ),
    "claude-code": (claude_home, "0000000{n}-1111-4c3b-9a55-0123456789ab.jsonl"),
    "gemini": (gemini_home, "session-2026-08-21T11-00-0000000{n}.jsonl"),
}


@pytest.mark.parametrize("agent", sorted(HOMES))
def test_scan_skips_a_fifo_and_a_link_to_dev_zero_named_like_logs(
    agent: str, isolated_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make, pattern = HOMES[agent]
    folder = make(isolated_home, monkeypatch)
    fifo = plant(folder, pattern.format(n=1), "fifo")
    zero = plant(folder, pattern.format(n=2), "zero")
    done = costlog(tmp_path, "scan", "--agent", agent, "--by", "session")
    assert done.returncode == 0, done.stderr
    assert f"{fifo}: skipped, {FIFO}" in done.stderr
    assert f"{zero}: skipped, {DEVICE}" in done.stderr
    total = next(line for line in done.stdout.splitlines() if " TOTAL " in line)
    cost = total.replace("│", "|").split("|")[-2].strip()
    assert cost not in ("$0", "$0.00")  # the real logs beside them still count


def test_scan_of_a_fifo_given_by_path_says_so(tmp_path: Path) -> None:
    fifo = plant(tmp_path, "session.jsonl", "fifo")
    for agent in ("claude-code", "codex", "gemini", "api", "aider"):
        done = costlog(tmp_path, "scan", "--agent", agent, "--path", str(fifo))
        assert done.returncode == 0, done.stderr
        assert f"{fifo}: skipped, {FIFO}" in done.stderr, agent


def test_other_adapters_skip_fifos_in_their_places(tmp_path: Path) -> None:
    for agent, name in (
        ("llm", "logs.db"),
        ("opencode", "opencode.db"),
        ("aider", ".aider.chat.history.md"),
    ):
        folder = tmp_path / agent
        fifo = plant(folder, name, "fifo")
        done = costlog(folder, "scan", "--agent", agent, "--path", str(folder))
        assert done.returncode == 0, done.stderr
        assert f"{fifo}: skipped, {FIFO}" in done.stderr, agent
    runs = tmp_path / "runs"
    fifo = plant(runs / "run-1", "run.log", "fifo")
    done = costlog(tmp_path, "scan", "--agent", "rundir", "--path", str(runs))
    assert done.returncode == 0, done.stderr
    assert f"{fifo}: cannot read: {FIFO}" in done.stderr


@pytest.mark.parametrize("agent", ["codex", "claude-code"])
def test_a_fifo_in_place_of_the_scan_cache_is_ignored(
    agent: str, isolated_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from costlog.sources import cache
    from costlog.sources.claude import incremental as claude_code
    from costlog.sources.codex import rollout as codex

    HOMES[agent][0](isolated_home, monkeypatch)
    schema = {"codex": codex.SCHEMA, "claude-code": claude_code.SCHEMA}[agent]
    path = cache.FileCache(agent, schema, enabled=False).path
    path.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(path)
    done = costlog(tmp_path, "scan", "--agent", agent)
    assert done.returncode == 0, done.stderr
    assert "TOTAL" in done.stdout


def test_a_commit_with_a_fifo_among_the_logs_finishes_and_warns(
    repo: Path, isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = codex_home(isolated_home, monkeypatch)
    run("init", "--agent", "codex")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Set up costlog")
    fifo = plant(folder, HOMES["codex"][1].format(n=1), "fifo")
    zero = plant(folder, HOMES["codex"][1].format(n=2), "zero")
    # this repo's Claude Code logs are looked at on every commit (idle sessions)
    claude = isolated_home / "claude"
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(claude))
    claude_fifo = plant(
        claude / "projects" / encode_cwd(str(repo)),
        "5f0c2a9e-1111-4c3b-9a55-0123456789ab.jsonl",
        "fifo",
    )
    # a Codex session that ran here ends: its SessionEnd hook queues it
    sid = "019cd000-1111-2222-3333-444444444444"
    rollout = folder / f"rollout-2026-03-10T10-00-00-{sid}.jsonl"
    rollout.write_text(
        (FIXTURES / "codex" / "real" / "harness-recall__codex_with_tools.jsonl")
        .read_text()
        .replace("/Users/dev/app", str(repo))
    )
    payload = {
        "session_id": sid,
        "transcript_path": str(rollout),
        "cwd": str(repo),
        "hook_event_name": "SessionEnd",
        "reason": "exit",
    }
    assert hookrun.run("session-end", ["--agent", "codex"], io.StringIO(json.dumps(payload))) == 0

    (repo / "work.txt").write_text("x\n")
    git(repo, "add", "work.txt")
    done = subprocess.run(
        ["git", "commit", "-q", "-m", "Work"],
        cwd=repo,
        text=True,
        capture_output=True,
        timeout=TIMEOUT,
        env=os.environ.copy(),
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    assert f"{fifo}: skipped, {FIFO}" in done.stderr
    assert f"{zero}: skipped, {DEVICE}" in done.stderr
    assert "recorded 2026-03-10 codex 019cd000" in done.stderr
    assert (repo / ".costlog" / "sessions" / "codex" / f"{sid}.yaml").exists()
    assert claude_fifo.exists()  # untouched, and it blocked nothing
