"""Claude Code reader: every response counted once, in the session that made it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from claude_logs import BENCH, PROJECT, by_id, outputs, scan, write

from costlog.sources.claude.adapter import ADAPTER
from tests_support import invoke


def test_every_hard_case_counted_once(projects: Path) -> None:
    sessions, warnings = scan(projects)
    assert warnings == []
    s1, s2 = by_id(sessions)["S1"], by_id(sessions)["S2"]
    # A: placeholder on every line -> content estimate; B: final on its last line;
    # C: fast mode; D: sub-agent, read from its file and its progress copy once;
    # the /btw replay of B and the <synthetic> error line are not billed.
    assert [r.request_id for r in s1.requests] == ["req_A", "req_B", "req_C", "req_D"]
    assert outputs(s1) == [433, 412, 77, 55]
    a = s1.requests[0]
    assert (a.usage.input, a.usage.cache_read, a.usage.cache_write_1h) == (5, 20000, 5000)
    assert (a.estimated_output, a.source) == (425, "actual")
    assert [r.estimated_output for r in s1.requests[1:]] == [0, 0, 0]
    c = s1.requests[2]
    assert (c.speed, c.model, c.usage.cache_write_5m, c.usage.cache_write_1h) == (
        "fast",
        "claude-opus-4-6",
        5000,
        0,
    )
    assert [r.subagent for r in s1.requests] == [False, False, False, True]
    assert s1.subagents == 1
    assert s1.methods["output"] == (
        "1 of 4 responses logged only a placeholder output count; used max(logged, estimate "
        "from the characters of text, tool input and thinking signatures)"
    )
    # S2 resumed S1: the replayed calls stay with S1, S2 keeps only its new one
    assert [r.request_id for r in s2.requests] == ["req_E"]
    assert s2.started is not None and s2.started.isoformat() == "2026-11-21T10:00:05+00:00"
    assert "output" not in s2.methods


def test_session_metadata(projects: Path) -> None:
    s1 = by_id(scan(projects)[0])["S1"]
    assert s1.cwd == "/work/app"
    assert s1.branch == "fix/WRK-12"
    assert s1.started is not None and s1.ended is not None
    assert s1.started.isoformat() == "2026-11-20T09:00:00+00:00"
    assert s1.ended.isoformat() == "2026-11-20T09:04:00+00:00"
    assert sorted(Path(p).name for p in s1.paths) == ["S1.jsonl", "agent-abc123.jsonl"]


def test_attribution_fields_when_read_fresh(projects: Path) -> None:
    s1 = ADAPTER.find_session([projects], "S1", warn=pytest.fail)
    assert s1 is not None
    assert s1.first_prompt == "Fix WRK-12: the login bug"
    assert s1.tool_output_refs == {"1a2b3c4", "Fix login bug"}
    assert s1.edited_files == {"/work/app/src/login.py"}
    assert outputs(s1) == [433, 412, 77, 55]
    # a resumed session read on its own still leaves S1's calls to S1
    s2 = ADAPTER.find_session([projects], "S2", warn=pytest.fail)
    assert s2 is not None and [r.request_id for r in s2.requests] == ["req_E"]
    assert ADAPTER.find_session([projects], "nope", warn=pytest.fail) is None
    fresh = by_id(scan(projects, use_cache=False)[0])["S1"]
    assert fresh.edited_files == {"/work/app/src/login.py"}


def test_a_resumed_transcript_read_alone_keeps_only_its_own_calls(projects: Path) -> None:
    # a sibling transcript's problems are not this transcript's
    write(projects / PROJECT / "noise.jsonl", ['{"usage": corrupt'])
    sessions, warnings = scan(projects / PROJECT / "S2.jsonl")
    assert [s.session_id for s in sessions] == ["S2"]
    assert [r.request_id for r in sessions[0].requests] == ["req_E"]
    assert sessions[0].first_prompt == "Fix WRK-12: the login bug"
    assert warnings == []


def test_generated_corpus_matches_its_truth(tmp_path: Path) -> None:
    """The benchmark corpus generator (seed 15 at this size writes both version shapes, a
    resumed session, /btw replays, a <synthetic> line and a sub-agent with progress
    copies) and the reader agree exactly, cold and from the cache."""
    sys.path.insert(0, str(BENCH))
    try:
        from gen_claude_corpus import generate
    finally:
        sys.path.remove(str(BENCH))
    truth = generate(tmp_path / "claude", 1.5, seed=15)
    for _ in range(2):  # cold, then from the cache
        sessions, warnings = scan(tmp_path / "claude")
        got = {
            "input": 0,
            "output": 0,
            "cache_read": 0,
            "cache_write_5m": 0,
            "cache_write_1h": 0,
            "requests": 0,
        }
        for session in sessions:
            for request in session.requests:
                for key, value in request.usage.as_dict().items():
                    if key in got:
                        got[key] += value
                got["requests"] += 1
        assert warnings == []
        assert got == {k: truth[k] for k in got}
        assert len(sessions) == truth["sessions"]


def test_costlog_scan_command(projects: Path, monkeypatch: pytest.MonkeyPatch) -> None:

    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(projects.parent))
    result = invoke(["scan", "--agent", "claude-code", "--json", "--by", "session"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    rows = {row["session"]: row for row in data["rows"]}
    assert sorted(rows) == ["claude-code/S1", "claude-code/S2"]
    assert [
        rows["claude-code/S1"][k]
        for k in (
            "requests",
            "output_tokens",
            "input_tokens",
            "cache_write_5m_tokens",
            "cache_write_1h_tokens",
            "estimated_output_tokens",
        )
    ] == [4, 433 + 412 + 77 + 55, 20, 5000, 15000, 425]
    assert data["totals"]["unpriced_requests"] == 0
