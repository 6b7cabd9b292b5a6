"""`record --from-json` as exact as the main path (issue 16): the 5m/1h cache split from
`modelUsage`, the run's real times, and the cost to the micro-dollar.

The result is what `claude -p --output-format json` printed for the real Claude Code 2.1.332
run whose transcript is tests/fixtures/claude-code/real-2.1.332 (its numbers are the
transcript's cost-state totals: 4,026 / 8,052 tokens written to the 5m / 1h cache).
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from costlog import gitrepo as repo_mod
from costlog.ledger.store import Ledger
from costlog.models import Entry
from tests_support import FIXTURES_DIR, run

SID = "74bd4e93-bcd3-44cf-9b4c-8e2113b8c318"
TRANSCRIPT = FIXTURES_DIR / "claude-code" / "real-2.1.332" / f"{SID}.jsonl"
RESULT = {
    "type": "result",
    "subtype": "success",
    "is_error": False,
    "duration_ms": 1414,
    "duration_api_ms": 218,
    "num_turns": 4,
    "session_id": SID,
    "total_cost_usd": 0.11766599999999999,  # a float, as Claude Code prints it
    "usage": {"input_tokens": 19, "output_tokens": 156},
    "modelUsage": {
        "claude-opus-5-5": {
            "inputTokens": 70,
            "outputTokens": 582,
            "cacheReadInputTokens": 106_000,
            "cacheCreationInputTokens": 12_078,
            "cacheCreationEphemeral5mInputTokens": 4_026,
            "cacheCreationEphemeral1hInputTokens": 8_052,
            "webSearchRequests": 0,
            "costUSD": 0.11766599999999999,
        }
    },
}
WRITTEN = datetime(2026, 12, 1, 21, 7, 8, tzinfo=UTC)  # when the result file was written


def _result_file(tmp_path: Path) -> Path:
    path = tmp_path / "result.json"
    path.write_text(json.dumps(RESULT))
    os.utime(path, (WRITTEN.timestamp(), WRITTEN.timestamp()))
    return path


def _entry(repo: Path) -> Entry:
    [entry] = Ledger(repo_mod.find(repo), ".costlog/sessions").load_all()
    return entry


def test_the_cache_split_and_the_exact_cost_are_kept(repo: Path, tmp_path: Path) -> None:
    run("record", "--from-json", str(_result_file(tmp_path)), "--no-stage")
    entry = _entry(repo)
    usage = entry.models["claude-opus-5-5"].usage
    assert (usage.cache_write_5m, usage.cache_write_1h) == (4_026, 8_052)  # not 12,078 / 0
    assert (usage.input, usage.output, usage.cache_read) == (70, 582, 106_000)
    assert entry.cost_usd == Decimal("0.117666")
    assert entry.models["claude-opus-5-5"].cost_usd == Decimal("0.117666")
    run("check")


def test_without_the_transcript_the_times_come_from_the_result_file(
    repo: Path, tmp_path: Path
) -> None:
    # recorded long after the run (as in CI, a later step): the run keeps its own times
    run("record", "--from-json", str(_result_file(tmp_path)), "--no-stage")
    entry = _entry(repo)
    assert entry.ended == WRITTEN
    assert entry.started == datetime(2026, 12, 1, 21, 7, 6, tzinfo=UTC)  # 1.414 s before
    assert "when the result file was written" in entry.methods["times"]
    assert "duration_ms" in entry.methods["times"]


def test_with_the_transcript_here_the_times_are_the_sessions(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "claude"
    project = config / "projects" / "-tmp-ccreal-repo"
    project.mkdir(parents=True)
    shutil.copy(TRANSCRIPT, project / TRANSCRIPT.name)
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(config))
    run("record", "--from-json", str(_result_file(tmp_path)), "--no-stage")
    entry = _entry(repo)
    # the first and last requests of the real run, not the file time or "now"
    assert entry.started == datetime(2026, 12, 1, 21, 7, 6, tzinfo=UTC)
    assert entry.ended == datetime(2026, 12, 1, 21, 7, 7, tzinfo=UTC)
    assert "from the session's transcript" in entry.methods["times"]
