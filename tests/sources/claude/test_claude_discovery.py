"""Claude Code reader: where the transcripts are and which session each belongs to."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from claude_logs import FIXTURES, PROJECT, PROMPT, C, D, assistant, by_id, outputs, scan, write

from costlog.sources.claude.paths import default_roots


def test_default_roots_follow_claude_config_dir(tmp_path: Path) -> None:
    home = tmp_path
    env = {"CLAUDE_CONFIG_DIR": "/a/claude, ~/alt/projects ,,/b"}
    assert default_roots(env, home) == [
        Path("/a/claude/projects"),
        home / "alt" / "projects",
        Path("/b/projects"),
    ]
    assert default_roots({}, home) == [
        home / ".config" / "claude" / "projects",
        home / ".claude" / "projects",
    ]
    assert default_roots({"XDG_CONFIG_HOME": "/x"}, home)[0] == Path("/x/claude/projects")


def test_session_ids_from_layout(tmp_path: Path) -> None:
    root = tmp_path / "projects"
    write(root / "-p" / "main-id.jsonl", [C])
    write(root / "-p" / "main-id" / "subagents" / "agent-abc123.jsonl", [D])
    write(
        root / "-p" / "main-id" / "subagents" / "workflows" / "w" / "agent-x2.jsonl",
        [
            assistant(
                "msg_W",
                "req_W",
                out=5,
                stop="end_turn",
                isSidechain=True,
                ts="2026-11-20T09:05:00.000Z",
            )
        ],
    )
    # ccusage's own fixture layout: projects/<project>/<session>/chat.jsonl
    (root / "project-alpha" / "session-alpha").mkdir(parents=True)
    (root / "project-alpha" / "session-alpha" / "chat.jsonl").write_bytes(
        (FIXTURES / "ccusage__project-alpha_chat.jsonl").read_bytes()
    )
    sessions = by_id(scan(tmp_path)[0])  # the config dir: its projects/ is used
    assert sorted(sessions) == ["main-id", "session-alpha"]
    main = sessions["main-id"]
    assert [r.usage.output for r in main.requests] == [77, 55, 5]
    assert [r.subagent for r in main.requests] == [False, True, True]
    assert main.subagents == 2
    alpha = sessions["session-alpha"]
    assert [r.usage.input for r in alpha.requests] == [100, 200, 300]
    assert [str(r.logged_cost_usd) for r in alpha.requests] == ["0.12", "0.34", "0.56"]
    assert [r.speed for r in alpha.requests] == [None, "fast", None]


def test_project_and_since_narrow_the_files(projects: Path) -> None:
    write(projects / "-elsewhere" / "S9.jsonl", [C])
    assert sorted(s.session_id for s in scan(projects)[0]) == ["S1", "S2", "S9"]
    assert sorted(s.session_id for s in scan(projects, project=Path("/work/app"))[0]) == [
        "S1",
        "S2",
    ]
    old = projects / "-elsewhere" / "S9.jsonl"
    os.utime(old, (1_000_000_000, 1_000_000_000))
    since = datetime(2026, 1, 1, tzinfo=UTC)
    assert sorted(s.session_id for s in scan(projects, since=since)[0]) == ["S1", "S2"]


def test_a_transcript_path_brings_its_subagents(projects: Path) -> None:
    sessions, _ = scan(projects / PROJECT / "S1.jsonl")
    assert [r.request_id for r in sessions[0].requests] == ["req_A", "req_B", "req_C", "req_D"]
    assert sessions[0].first_prompt == "Fix WRK-12: the login bug"


def test_old_layout_inline_sidechain_is_counted(tmp_path: Path) -> None:
    """Before `subagents/` files, Task sub-agents wrote sidechain lines into the session
    file itself: they are billed calls, not replays."""
    inline = assistant(
        "msg_T",
        "req_T",
        out=40,
        stop="end_turn",
        isSidechain=True,
        version="1.0.111",
        ts="2026-11-20T09:03:00.000Z",
    )
    path = write(tmp_path / "projects" / PROJECT / "old.jsonl", [PROMPT, C, inline])
    session = scan(tmp_path / "projects")[0][0]
    assert outputs(session) == [77, 40]
    assert [r.subagent for r in session.requests] == [False, True]
    assert session.paths == [str(path)]
