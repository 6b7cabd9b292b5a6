"""`costlog doctor`: a real repo after `costlog init`, a Claude Code config dir of its own
(CLAUDE_CONFIG_DIR) with real-format transcripts of this repo, some recorded and some not,
and what a user sees: one line per finding, exit 1 while anything is wrong."""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path

import pytest
from agent_logs import claude_session

from tests_support import invoke, run

DAY = 86400
RECORDED = "aaaaaaaa-0000-4000-8000-000000000001"
FRESH = "cccccccc-0000-4000-8000-000000000003"  # written an hour ago: due in ~10 days
FOUR_DAYS = "dddddddd-0000-4000-8000-000000000004"  # due in 6 days
NINE_DAYS = "eeeeeeee-0000-4000-8000-000000000005"  # due tomorrow
ACTIVE = "ffffffff-0000-4000-8000-000000000006"  # still being written
SIBLING = "11111111-0000-4000-8000-000000000007"  # ../repo-other: same name prefix
ELSEWHERE = "22222222-0000-4000-8000-000000000008"


def aged(path: Path, days: float) -> Path:
    when = time.time() - days * DAY
    os.utime(path, (when, when))
    return path


@pytest.fixture
def claude(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Claude Code's config dir, keeping transcripts 10 days; `costlog` on PATH as a
    pipx or venv install puts it."""
    folder = tmp_path / "claude"
    folder.mkdir()
    (folder / "settings.json").write_text(json.dumps({"cleanupPeriodDays": 10, "theme": "dark"}))
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(folder))
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    return folder


@pytest.fixture
def history(repo: Path, claude: Path, tmp_path: Path) -> Path:
    """After `costlog init`: one session recorded, three not (one of them fresh), one still
    running, and two of other directories that must not count."""
    aged(claude_session(claude, RECORDED, repo, "2026-11-10T10:00", 2), 8)
    run("init")
    run("backfill")
    aged(claude_session(claude, FRESH, repo, "2026-11-19T10:00", 1), 1 / 24)
    aged(claude_session(claude, FOUR_DAYS, repo / "src", "2026-11-15T10:00", 2), 4)
    aged(claude_session(claude, NINE_DAYS, repo, "2026-11-11T10:00", 1), 9)
    claude_session(claude, ACTIVE, repo, "2026-11-20T10:00", 1)
    for sid, where in ((SIBLING, "repo-other"), (ELSEWHERE, "elsewhere")):
        (tmp_path / where).mkdir()
        aged(claude_session(claude, sid, tmp_path / where, "2026-11-12T10:00", 1), 9)
    return repo


def doctor() -> tuple[int, list[str]]:
    result = invoke(["doctor"])
    return result.exit_code, result.output.splitlines()


def lines_of(lines: list[str], level: str) -> list[str]:
    return [line for line in lines if line.split(" ", 1)[0] == level]


def test_warns_of_unrecorded_sessions_then_is_ok_after_backfill(
    history: Path, claude: Path
) -> None:
    code, lines = doctor()
    assert code == 1
    warned = lines_of(lines, "warn")
    assert warned == [
        "warn  retention: 3 Claude Code sessions of this repo are not recorded yet and "
        "Claude Code deletes transcripts after 10 days (cleanupPeriodDays in "
        f"{claude / 'settings.json'}), 2 of them within 7 days: run `costlog backfill` to keep "
        "them",
        "warn  unrecorded: 3 sessions of this repo in the agents' logs are not in the ledger "
        "nor queued (claude-code 3): `costlog backfill` records them",
    ], lines
    assert not lines_of(lines, "error"), lines
    assert any(line.startswith("ok    git hooks: post-commit, post-rewrite") for line in lines)

    result = invoke(["backfill"])
    assert result.exit_code == 0, result.output
    assert "not recorded yet" not in result.output  # nothing is left after it ran

    code, lines = doctor()
    assert code == 0, lines
    assert lines_of(lines, "ok") == lines
    assert any(
        line.startswith("ok    retention: all 5 Claude Code sessions of this repo on disk are")
        for line in lines
    ), lines


def test_default_retention_is_30_days(history: Path, claude: Path) -> None:
    (claude / "settings.json").write_text(json.dumps({"theme": "dark"}))
    code, lines = doctor()
    assert code == 1
    assert (
        "warn  retention: 3 Claude Code sessions of this repo are not recorded yet and Claude "
        "Code deletes transcripts after 30 days (cleanupPeriodDays): run `costlog backfill` to "
        "keep them"
    ) in lines


def test_a_broken_settings_file_is_named_and_the_default_applies(
    history: Path, claude: Path
) -> None:
    (claude / "settings.json").write_text("{not json")
    code, lines = doctor()
    assert code == 1
    assert (
        f"warn  retention: {claude / 'settings.json'}: not valid JSON, so its cleanupPeriodDays "
        "is unknown"
    ) in lines
    assert any("after 30 days (cleanupPeriodDays)" in line for line in lines)


def test_a_missing_hook_is_reported(repo: Path, claude: Path) -> None:
    run("init")
    assert doctor()[0] == 0
    (repo / ".git" / "hooks" / "post-merge").unlink()
    code, lines = doctor()
    assert code == 1
    assert "error git hooks: .git/hooks/post-merge is missing: run `costlog init`" in lines


def test_a_hook_naming_a_python_that_is_gone(repo: Path, claude: Path) -> None:
    run("init")
    hook = repo / ".git" / "hooks" / "post-commit"
    text = hook.read_text()
    hook.write_text(text.replace(f"py={sys.executable}", "py=/nowhere/bin/python3"))
    code, lines = doctor()
    assert code == 1
    assert any(
        line.startswith("warn  git hooks: .git/hooks/post-commit names /nowhere/bin/python3, ")
        for line in lines
    ), lines


def test_a_stuck_queue_claim_is_reported(repo: Path, claude: Path) -> None:
    run("init")
    state = repo / ".git" / "costlog"
    item = {"agent": "claude-code", "session_id": FRESH, "queued_at": int(time.time())}
    (state / "queue.jsonl.99999.0.claimed").write_text(
        json.dumps(item) + "\n" + json.dumps({"_mark": "start", "token": "x"}) + "\n"
    )
    retried = {"agent": "claude-code", "session_id": NINE_DAYS, "tries": 2, "queued_at": 1}
    (state / "queue.jsonl").write_text(json.dumps(retried) + "\n")
    code, lines = doctor()
    assert code == 1
    queue = [line for line in lines if " queue: " in line]
    assert queue[0].startswith(
        "warn  queue: 1 claim left by a process that died (queue.jsonl.99999.0.claimed)"
    ), queue
    assert queue[1].startswith("warn  queue: 1 queued session failed or was interrupted"), queue
    assert "queued for " in queue[2] and "post-commit hook has not drained it" in queue[2]
    assert (state / "queue.jsonl.99999.0.claimed").exists()  # looked at, not taken


def test_hooks_name_the_interpreter_so_costlog_off_path_is_fine(
    repo: Path, claude: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    run("init")
    bare = tmp_path / "bin"  # git, but no costlog: a .venv install the agent cannot see
    bare.mkdir()
    (bare / "git").symlink_to(shutil.which("git") or "/usr/bin/git")
    monkeypatch.setenv("PATH", str(bare))
    _, lines = doctor()
    assert (
        f"ok    agent hooks: the agents' hooks run costlog with {sys.executable} "
        "(.git/costlog/bin/costlog)"
    ) in lines
    assert not any("PATH" in line for line in lines), lines


def test_a_bare_costlog_hook_of_an_older_init_off_path_is_a_warning(
    repo: Path, claude: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    run("init")
    settings = repo / ".claude" / "settings.json"
    data = json.loads(settings.read_text())
    # as costlog init wrote it before it named the interpreter
    data["hooks"]["SessionEnd"][0]["hooks"][0]["command"] = (
        "costlog hook session-end --agent claude-code"
    )
    settings.write_text(json.dumps(data))
    bare = tmp_path / "bin"
    bare.mkdir()
    (bare / "git").symlink_to(shutil.which("git") or "/usr/bin/git")
    monkeypatch.setenv("PATH", str(bare))
    code, lines = doctor()
    assert code == 1
    assert any(
        line.startswith("warn  PATH: the agents' SessionEnd hooks and /end-session call `costlog`")
        and "run `costlog init` again" in line
        for line in lines
    ), lines


def test_a_launcher_naming_a_python_that_is_gone_is_said_once(repo: Path, claude: Path) -> None:
    run("init")
    launcher = repo / ".git" / "costlog" / "bin" / "costlog"
    launcher.write_text(launcher.read_text().replace(sys.executable, "/gone/bin/python3"))
    code, lines = doctor()
    assert code == 1
    hooks = [line for line in lines if " agent hooks: " in line]
    assert hooks == [
        "warn  agent hooks: .git/costlog/bin/costlog names /gone/bin/python3, which is gone; "
        f"the hooks fall back to {shutil.which('costlog')} on PATH: run `costlog init` in "
        "this clone"
    ], lines


def test_a_missing_end_session_command_is_reported(repo: Path, claude: Path) -> None:
    run("init")
    (repo / ".claude" / "commands" / "end-session.md").unlink()
    code, lines = doctor()
    assert code == 1
    assert (
        "error claude-code: .claude/commands/end-session.md (/end-session) is missing: run "
        "`costlog init --agent claude-code`"
    ) in lines


def test_init_prints_the_warning_when_it_applies(repo: Path, claude: Path) -> None:
    aged(claude_session(claude, NINE_DAYS, repo, "2026-11-11T10:00", 1), 9)
    out = run("init")
    assert out.splitlines()[-1] == (
        "warning: 1 Claude Code session of this repo is not recorded yet and Claude Code "
        f"deletes transcripts after 10 days (cleanupPeriodDays in {claude / 'settings.json'}), "
        "due within 7 days: run `costlog backfill` to keep them"
    )
    run("backfill")
    assert "warning" not in run("init")


def test_nothing_said_without_claude_logs(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    run("init", "--agent", "codex")
    code, lines = doctor()
    assert code == 0, lines
    assert not any("retention" in line for line in lines)


# ---------------------------------------------------------------- Gemini CLI


def gemini_chat(home: Path, project: Path, sid: str, days_ago: float) -> Path:
    """A Gemini CLI chat (chatRecordingService's JSON lines) last updated `days_ago`."""
    from datetime import UTC, datetime, timedelta

    folder = home / ".gemini" / "tmp" / project.name
    (folder / "chats").mkdir(parents=True, exist_ok=True)
    (folder / ".project_root").write_text(str(project))
    when = datetime.now(UTC) - timedelta(days=days_ago)
    stamp = when.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    path = folder / "chats" / f"session-{when:%Y-%m-%dT%H-%M}-{sid[:8]}.jsonl"
    lines = [
        {"sessionId": sid, "startTime": stamp, "lastUpdated": stamp},
        {
            "id": f"u-{sid[:8]}",
            "timestamp": stamp,
            "type": "user",
            "content": "Summarise the README",
        },
        {
            "id": f"g-{sid[:8]}",
            "timestamp": stamp,
            "type": "gemini",
            "content": "A demo.",
            "model": "gemini-2.5-pro",
            "tokens": {"input": 5000, "output": 100, "cached": 0, "thoughts": 0, "total": 5100},
        },
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def test_gemini_retention_from_its_settings(
    repo: Path, isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    settings = isolated_home / ".gemini" / "settings.json"
    gemini_chat(isolated_home, repo, "9a9a9a9a-0000-4000-8000-000000000001", 10)  # due in 4 days
    gemini_chat(isolated_home, repo, "9b9b9b9b-0000-4000-8000-000000000002", 1)
    settings.write_text(json.dumps({"general": {"sessionRetention": {"maxAge": "14d"}}}))
    run("init", "--agent", "gemini")
    code, lines = doctor()
    assert code == 1
    assert lines_of(lines, "warn") == [
        "warn  retention: 2 Gemini CLI sessions of this repo are not recorded yet and Gemini CLI "
        f"deletes chats after 14 days (general.sessionRetention in {settings}), 1 of them within "
        "7 days: run `costlog backfill` to keep them"
    ], lines
    run("backfill")
    assert doctor()[0] == 0

    gemini_chat(isolated_home, repo, "9c9c9c9c-0000-4000-8000-000000000003", 2)
    settings.write_text(json.dumps({"general": {"sessionRetention": {"enabled": False}}}))
    code, lines = doctor()
    assert code == 0, lines  # it keeps its chats: nothing to warn about
    assert not any("Gemini CLI" in line for line in lines)


def test_backfill_warns_of_what_it_left_unrecorded(history: Path) -> None:
    result = invoke(["backfill", "--agent", "codex"])  # Claude Code's sessions stay out
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1].startswith(
        "costlog: warning: 3 Claude Code sessions of this repo are not recorded yet"
    )
