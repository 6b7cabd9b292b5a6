"""Issue 15 review, item 19: `costlog doctor` counts this repo's sessions in the agents' logs
that are neither recorded nor queued, and says that `costlog backfill` records them."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from agent_logs import codex_session

from tests_support import invoke, run

A = "019b0001-aaaa-7aaa-8aaa-aaaaaaaaaaaa"
B = "019b0002-bbbb-7bbb-8bbb-bbbbbbbbbbbb"
ELSEWHERE = "019b0003-cccc-7ccc-8ccc-cccccccccccc"


def _unrecorded(lines: str) -> list[str]:
    return [line for line in lines.splitlines() if " unrecorded: " in line]


def test_doctor_counts_unrecorded_codex_sessions_leaving_out_queued_ones(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "codex"
    monkeypatch.setenv("CODEX_HOME", str(home))
    old = time.time() - 3 * 86400  # finished days ago, not still being written
    other = tmp_path / "other-project"
    other.mkdir()
    for sid, cwd, start in (
        (A, repo, "2026-11-18T09:00"),
        (B, repo, "2026-11-18T11:00"),
        (ELSEWHERE, other, "2026-11-18T13:00"),
    ):
        os.utime(codex_session(home, sid, cwd, start, 2), (old, old))
    run("init", "--agent", "codex")
    result = invoke(["doctor"])
    assert _unrecorded(result.output) == [
        "warn  unrecorded: 2 sessions of this repo in the agents' logs are not in the ledger "
        "nor queued (codex 2): `costlog backfill` records them"
    ], result.output
    assert result.exit_code == 1

    # the SessionEnd hook queues one: the next commit records it, so it is not counted
    queued = invoke(
        ["hook", "session-end", "--agent", "codex"],
        input=json.dumps({"session_id": A, "cwd": str(repo), "hook_event_name": "SessionEnd"}),
    )
    assert queued.exit_code == 0, queued.output
    assert _unrecorded(invoke(["doctor"]).output) == [
        "warn  unrecorded: 1 session of this repo in the agents' logs is not in the ledger "
        "nor queued (codex 1): `costlog backfill` records them"
    ]

    run("backfill")
    assert _unrecorded(invoke(["doctor"]).output) == [
        "ok    unrecorded: every session of this repo in the agents' logs is recorded or queued"
    ]
