"""`costlog init --statusline --guard` registers the status line (wrapping one the user
had) and the guard hooks in Claude Code's settings; `uninstall` takes exactly that back."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from costlog import gitrepo as repo_mod
from costlog.integration import setup
from tests_support import run

USER_SETTINGS = """{
  "statusLine": {"type": "command", "command": "printf 'my line\\\\nsecond'", "padding": 0},
  "hooks": {
    "PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "lint.sh"}]}]
  }
}
"""


def settings(repo: Path) -> dict[str, object]:
    data = json.loads((repo / ".claude" / "settings.json").read_text())
    assert isinstance(data, dict)
    return data


def test_statusline_wraps_the_users_and_uninstall_restores_it(repo: Path, tmp_path: Path) -> None:
    (repo / ".claude").mkdir()
    (repo / ".claude" / "settings.json").write_text(USER_SETTINGS)
    before = (repo / ".claude" / "settings.json").read_bytes()
    out = run("init", "--agent", "claude-code", "--statusline", "--guard")
    assert "status line and budget guard" in out
    data = settings(repo)
    line = data["statusLine"]
    assert isinstance(line, dict) and line["padding"] == 0
    command = line["command"]
    assert "my line" in command and "costlog.integration.statusline" in command
    # run as Claude Code runs it, through the shell with the JSON on stdin: both lines shown
    shown = subprocess.run(
        ["sh", "-c", command],
        input=json.dumps({"session_id": "s", "workspace": {"project_dir": str(repo)}}),
        capture_output=True,
        text=True,
        cwd=repo,
        env={**os.environ, "COSTLOG_STATE_DIR": str(tmp_path / "state")},
        timeout=60,
        check=True,
    ).stdout
    assert shown.startswith("my line · ") and "today" in shown and "second" not in shown
    hooks = data["hooks"]
    assert isinstance(hooks, dict)
    pre = hooks["PreToolUse"]
    assert pre[0]["matcher"] == "Bash"  # the user's own handler stays first
    assert pre[1]["matcher"] == "*"
    assert "costlog.integration.guard" in pre[1]["hooks"][0]["command"]
    assert "costlog.integration.guard" in hooks["UserPromptSubmit"][0]["hooks"][0]["command"]
    # again: nothing changes
    assert "already set up" in run("init", "--agent", "claude-code", "--statusline", "--guard")
    setup.uninstall(repo_mod.find(repo))
    assert (repo / ".claude" / "settings.json").read_bytes() == before


def test_uninstall_after_user_edits_strips_only_ours(repo: Path) -> None:
    (repo / ".claude").mkdir()
    (repo / ".claude" / "settings.json").write_text(USER_SETTINGS)
    run("init", "--agent", "claude-code", "--statusline", "--guard")
    data = settings(repo)
    data["env"] = {"FOO": "1"}  # the user edits the file afterwards
    (repo / ".claude" / "settings.json").write_text(json.dumps(data))
    setup.uninstall(repo_mod.find(repo))
    left = settings(repo)
    assert left["env"] == {"FOO": "1"}
    assert left["statusLine"] == json.loads(USER_SETTINGS)["statusLine"]
    assert left["hooks"] == json.loads(USER_SETTINGS)["hooks"]


def test_a_new_statusline_is_removed_by_uninstall(repo: Path) -> None:
    run("init", "--statusline")  # no agent named: Claude Code's settings anyway
    data = settings(repo)
    line = data["statusLine"]
    assert isinstance(line, dict)
    assert 'exec "$c" costlog.integration.statusline' in line["command"]
    hooks = data.get("hooks")
    assert isinstance(hooks, dict) and "UserPromptSubmit" not in hooks
    # the guard added later, on its own
    run("init", "--guard")
    later = settings(repo)
    hooks = later["hooks"]
    assert "statusLine" in later and isinstance(hooks, dict) and "UserPromptSubmit" in hooks
    setup.uninstall(repo_mod.find(repo))
    assert not (repo / ".claude" / "settings.json").exists()
