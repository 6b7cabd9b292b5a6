"""Issue 15 item 19 after review: what `costlog init` commits names no machine's paths.

Each clone's `init` writes a launcher into its own git dir naming its own Python; the
committed hooks and `/end-session` commands find it (else `costlog` on PATH, else they say
how to set it up and exit 0). Re-running init migrates files an older init wrote with an
absolute interpreter path, and uninstall removes both forms.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from agent_logs import claude_session

from costlog.integration import agentsetup
from tests_support import git, run

AGENTS = ("claude-code", "codex", "gemini", "opencode")
COMMITTED = (
    ".claude/settings.json",
    ".claude/commands/end-session.md",
    ".codex/hooks.json",
    ".gemini/settings.json",
    ".gemini/commands/end-session.toml",
    ".opencode/command/end-session.md",
    ".opencode/plugin/costlog.js",
    ".costlog/bin/costlog",
)
NOT_SET_UP = "costlog is not set up in this clone: run `costlog init`"


@pytest.fixture
def git_only(tmp_path: Path) -> dict[str, str]:
    """An agent's environment whose PATH has git but no costlog (a `.venv` install)."""
    folder = tmp_path / "git-only-bin"
    folder.mkdir()
    for program in ("git", "sh"):
        (folder / program).symlink_to(shutil.which(program) or f"/usr/bin/{program}")
    return {**os.environ, "PATH": str(folder)}


def _init(root: Path, monkeypatch: pytest.MonkeyPatch, *extra: str) -> str:
    monkeypatch.chdir(root)
    args = ["init"]
    for agent in AGENTS:
        args += ["--agent", agent]
    return run(*args, *extra)


def _hook(root: Path, name: str = ".claude/settings.json") -> str:
    data = json.loads((root / name).read_text())
    [handler] = [h for g in data["hooks"]["SessionEnd"] for h in g["hooks"]]
    return str(handler["command"])


def _sh(command: str, cwd: Path, env: dict[str, str], stdin: str = "") -> tuple[int, str]:
    done = subprocess.run(
        ["/bin/sh", "-c", command],
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.returncode, done.stdout + done.stderr


def _end_session_line(root: Path, session_id: str, arguments: str) -> str:
    """The `!` line of Claude Code's /end-session, substituted as Claude Code does."""
    text = (root / ".claude" / "commands" / "end-session.md").read_text()
    [line] = [x for x in text.splitlines() if x.startswith("!`")]
    command = line[2:-1]
    return command.replace("${CLAUDE_SESSION_ID}", session_id).replace("$ARGUMENTS", arguments)


def test_committed_files_are_portable_and_each_clone_runs_its_own_costlog(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, git_only: dict[str, str]
) -> None:
    _init(repo, monkeypatch)
    for name in COMMITTED:
        assert sys.executable not in (repo / name).read_text(), name
    launcher = repo / ".git" / "costlog" / "bin" / "costlog"
    assert sys.executable in launcher.read_text()  # per clone, inside the git dir
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Set up costlog")
    assert ".costlog/bin/costlog" in git(repo, "ls-files").stdout.splitlines()  # the runner

    # a teammate's clone before its own `costlog init`: one line, exit 0, agent unblocked
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(repo), str(clone))
    for command in (_hook(clone), _hook(clone, ".codex/hooks.json")):
        code, said = _sh(command, clone, git_only, stdin="{}")
        assert (code, said.strip()) == (0, NOT_SET_UP)
    code, said = _sh(_end_session_line(clone, "", "--tasks 1"), clone, git_only)
    assert (code, said.strip()) == (0, NOT_SET_UP)

    # after its `init`, the same committed files run this clone's costlog, no PATH needed
    _init(clone, monkeypatch)
    assert git(clone, "status", "--porcelain").stdout == ""  # nothing committed changes
    version = _hook(clone).replace("hook session-end --agent claude-code", "--version")
    code, said = _sh(version, clone / ".costlog", git_only)  # from a subdirectory too
    assert code == 0 and said.startswith("costlog") and NOT_SET_UP not in said, said


def test_end_session_with_an_empty_session_id_records_the_latest_session(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, git_only: dict[str, str]
) -> None:
    claude = tmp_path / "claude"
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(claude))
    claude_session(claude, "7d3c9a10-2222-4c3b-9a55-0123456789ab", repo, "2026-11-20T12:00", 2)
    _init(repo, monkeypatch)
    env = {**git_only, "CLAUDE_CONFIG_DIR": str(claude)}
    # an empty id (older Claude Code) must not eat the next option: `--session --tasks 1`
    code, said = _sh(_end_session_line(repo, "", "--tasks 1 --task-types '1 code'"), repo, env)
    assert "unexpected extra argument" not in said
    assert code == 0, said
    assert said.startswith("recorded "), said
    [entry] = list((repo / ".costlog" / "sessions" / "claude-code").glob("*.yaml"))
    assert "7d3c9a10" in entry.name


OLD_ABSOLUTE = "/opt/old-venv/bin/python3 -m costlog"


def test_init_again_migrates_absolute_paths_an_older_init_wrote(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _init(repo, monkeypatch)
    settings = repo / ".claude" / "settings.json"
    command = repo / ".claude" / "commands" / "end-session.md"
    # as the previous version wrote them: the installing interpreter's absolute path
    old_hook = f"{OLD_ABSOLUTE} hook session-end --agent claude-code"
    settings.write_text(
        json.dumps(
            {"hooks": {"SessionEnd": [{"hooks": [{"type": "command", "command": old_hook}]}]}}
        )
    )
    command.write_text(command.read_text().replace("sh .costlog/bin/costlog", OLD_ABSOLUTE))
    monkeypatch.chdir(repo)
    code_lines = [line for line in run("doctor", code=1).splitlines() if " agent hooks: " in line]
    assert len(code_lines) == 1 and "older costlog" in code_lines[0], code_lines
    _init(repo, monkeypatch)
    assert _hook(repo) == agentsetup.hook_command("claude-code")
    assert OLD_ABSOLUTE not in command.read_text() + settings.read_text()
    # an old form found at uninstall time goes too
    settings.write_text(
        json.dumps(
            {
                "theme": "dark",
                "hooks": {"SessionEnd": [{"hooks": [{"type": "command", "command": old_hook}]}]},
            }
        )
    )
    out = run("uninstall")
    assert json.loads(settings.read_text()) == {"theme": "dark"}
    assert not command.exists() and not (repo / ".costlog" / "bin" / "costlog").exists()
    assert not (repo / ".git" / "costlog" / "bin" / "costlog").exists()
    assert "remove .git/costlog/bin/costlog" in out


def test_doctor_says_the_agent_hooks_once_with_the_worst_finding(
    repo: Path, monkeypatch: pytest.MonkeyPatch, git_only: dict[str, str]
) -> None:
    _init(repo, monkeypatch)
    codex = repo / ".codex" / "hooks.json"  # one handler portable, one naming a gone Python
    codex.write_text(
        codex.read_text().replace(
            json.dumps(agentsetup.hook_command("codex"))[1:-1],
            "/nonexistent/python3 -m costlog hook session-end --agent codex",
        )
    )
    monkeypatch.setenv("PATH", git_only["PATH"])
    lines = [line for line in run("doctor", code=1).splitlines() if " agent hooks: " in line]
    assert lines == [
        "error agent hooks: the agents' hooks name /nonexistent/python3, which is gone here "
        "(written by an older costlog; other clones do not have it): run `costlog init` "
        "again to make them portable"
    ]
    (repo / ".git" / "costlog" / "bin" / "costlog").unlink()
    _init(repo, monkeypatch)  # puts the launcher back and makes the Codex hook portable
    lines = [line for line in run("doctor").splitlines() if " agent hooks: " in line]
    assert lines == [
        f"ok    agent hooks: the agents' hooks run costlog with {sys.executable} "
        "(.git/costlog/bin/costlog)"
    ]
