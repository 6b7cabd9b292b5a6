"""`init --statusline --guard` writes commands that name no machine's path (they find this
clone's launcher as the SessionEnd handler does), an empty wrapped status line adds no
separator, and naming only another agent says that Claude Code was set up too."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests_support import run

EMPTY = '{"statusLine": {"type": "command", "command": "true"}}\n'


def shell(command: str, stdin: dict[str, object], repo: Path, env: dict[str, str]) -> str:
    done = subprocess.run(
        ["sh", "-c", command],
        input=json.dumps(stdin),
        capture_output=True,
        text=True,
        cwd=repo,
        env=env,
        timeout=60,
        check=True,
    )
    return done.stdout


def test_committed_settings_name_no_interpreter_and_run_through_the_launcher(
    repo: Path, tmp_path: Path
) -> None:
    (repo / ".claude").mkdir()
    (repo / ".claude" / "settings.json").write_text(EMPTY)
    run("init", "--agent", "claude-code", "--statusline", "--guard")
    text = (repo / ".claude" / "settings.json").read_text()
    assert sys.executable not in text and str(Path(sys.executable).parent) not in text
    assert str(repo) not in text and str(tmp_path) not in text
    data = json.loads(text)
    hooks = data["hooks"]
    guard = hooks["UserPromptSubmit"][0]["hooks"][0]["command"]
    assert "/costlog/bin/costlog" in guard and "costlog.integration.guard" in guard
    env = {**os.environ, "COSTLOG_STATE_DIR": str(tmp_path / "state")}
    # the user's status line printed nothing: ours alone, no leading separator
    shown = shell(
        data["statusLine"]["command"], {"workspace": {"project_dir": str(repo)}}, repo, env
    )
    assert shown.startswith("$0.00 today"), shown
    # run from a sub-directory, as after a `cd` in the session: the launcher is still found
    (repo / "src").mkdir()
    shown = shell(data["statusLine"]["command"], {}, repo / "src", env)
    assert "today" in shown and not shown.startswith(" ")
    # a clone where init never ran (no launcher) and no costlog on PATH: a short line
    launcher = repo / ".git" / "costlog" / "bin" / "costlog"
    assert launcher.is_file()
    launcher.unlink()
    bare = {**env, "PATH": "/usr/bin:/bin"}
    assert shell(data["statusLine"]["command"], {}, repo, bare).strip() == "costlog: n/a"
    assert shell(guard, {"hook_event_name": "UserPromptSubmit"}, repo, bare) == ""


def test_statusline_for_another_agent_says_claude_code_was_set_up(repo: Path) -> None:
    out = run("init", "--agent", "codex", "--statusline", "--guard")
    assert "claude-code set up too: --statusline and --guard work in Claude Code only" in out
    assert (repo / ".claude" / "settings.json").is_file()
