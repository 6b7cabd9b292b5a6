"""`export` fills its `plan` column (issue 14's schema, issue 13's plans): a session on a
configured plan names it, and a pay-as-you-go one stays null."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from agent_logs import claude_session

from tests_support import run

SID = "14141414-0000-4000-8000-000000000014"


def test_export_names_the_plan_a_session_ran_on(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    logs = tmp_path / "claude"
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(logs))
    run("init")
    (repo / ".costlog" / "config.yaml").write_text(
        "plans:\n  - {plan: claude-max-5x, agent: claude-code, from: 2026-11-15}\n"
    )
    claude_session(logs, SID, repo, "2026-11-19T10:00", 2)  # on the plan
    claude_session(logs, SID[:-2] + "15", repo, "2026-11-10T10:00", 2)  # before it
    run("backfill")
    out = tmp_path / "rows.jsonl"
    run("export", "--format", "jsonl", "--output", str(out))
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    plans = {row["session_id"]: row["plan"] for row in rows}
    assert plans == {SID: "claude-max-5x", SID[:-2] + "15": None}
