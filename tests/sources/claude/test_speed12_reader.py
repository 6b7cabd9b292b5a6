"""Issue 12: the fast transcript read (block search for `"usage"`, typed msgspec decode)
gives exactly what the line-by-line JSON read gives, on the benchmark corpus, the real
fixtures and the awkward cases, and the scan of a generated corpus equals its truth."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from claude_logs import BENCH, FIXTURES, assistant

from costlog.sources import _lines
from costlog.sources.claude import transcript
from costlog.sources.claude.adapter import ADAPTER
from costlog.sources.claude.filestate import FileState
from costlog.sources.claude.transcript import FileReader


def _generate(root: Path, size_mb: float, seed: int) -> dict[str, Any]:
    sys.path.insert(0, str(BENCH))
    try:
        from gen_claude_corpus import generate
    finally:
        sys.path.remove(str(BENCH))
    result: dict[str, Any] = generate(root, size_mb, seed=seed)
    return result


def _read(path: Path, start: int = 0, state: FileState | None = None) -> tuple[Any, ...]:
    state = state or FileState()
    warnings: list[str] = []
    with open(path, "rb") as fh:
        offset = FileReader(path, state, warnings.append, False).read(fh, start)
    return offset, state.to_json(), warnings


def _line_by_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """The reference read: every line visited, every usage line parsed by `json`."""
    monkeypatch.setattr(_lines, "BLOCK", _lines.MAX_LINE)  # MAX_LINE < 8 BLOCK: line loop
    monkeypatch.setattr(transcript, "_decode_fast", lambda _raw: None)


def _both(path: Path, monkeypatch: pytest.MonkeyPatch, start: int = 0) -> None:
    fast = _read(path, start)
    with monkeypatch.context() as m:
        _line_by_line(m)
        slow = _read(path, start)
    assert fast == slow, path


def test_generated_corpus_reads_the_same_both_ways_and_scans_to_its_truth(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    truth = _generate(tmp_path / "claude", 3, seed=23)
    files = sorted((tmp_path / "claude").rglob("*.jsonl"))
    assert any("subagents" in f.parts for f in files)
    for path in files:
        _both(path, monkeypatch)
    sessions = list(ADAPTER.scan([tmp_path / "claude"], warn=pytest.fail))
    requests = [r for s in sessions for r in s.requests]
    assert len(requests) == truth["requests"]
    assert sum(r.usage.input for r in requests) == truth["input"]
    assert sum(r.usage.output for r in requests) == truth["output"]
    assert sum(r.usage.cache_read for r in requests) == truth["cache_read"]
    assert sum(r.usage.cache_write_5m for r in requests) == truth["cache_write_5m"]
    assert sum(r.usage.cache_write_1h for r in requests) == truth["cache_write_1h"]


def test_real_fixtures_read_the_same_both_ways(monkeypatch: pytest.MonkeyPatch) -> None:
    files = sorted(FIXTURES.rglob("*.jsonl"))
    assert len(files) > 10
    for path in files:
        _both(path, monkeypatch)


def _awkward(path: Path) -> None:
    """Every kind of line the fast read treats specially, some inside small blocks."""
    lines = [
        '{"type":"summary","summary":"no time yet"}',
        "",
        json.dumps({"type": "user", "cwd": "/w", "timestamp": "2026-11-20T09:00:00.000Z"}),
        json.dumps(assistant("m1", "r1", out=3)),
        json.dumps(assistant("m1", "r1", out=40, stop="end_turn")),
        json.dumps(assistant("m1", "r1", out=40, stop="end_turn")),  # a repeat
        '{"type":"assistant","message":"usage", "x": 1}',  # a message of another shape
        '{"type":"assistant","message":{"usage":{"input_tokens":1}} broken',
        '["usage"]',
        '{"type":"user","message":{"content":"a \\"usage\\" word"}}',
        json.dumps(
            {
                "type": "progress",
                "timestamp": "2026-11-20T09:01:00.000Z",
                "data": {"message": assistant("m2", "r2", out=9, isSidechain=True)},
            }
        ),
        json.dumps({**assistant("m3", "r3", out=5), "timestamp": "not a time"}),
        json.dumps(assistant("m4", "r4", out=5, model="")),
        json.dumps(assistant("m5", "r5", out=-1)),
        '{"type":"user","toolUseResult":"' + "x" * 3000 + '"}',  # over-long when lowered
        json.dumps(assistant("m6", "r6", out=7, content=[{"type": "text", "text": "é" * 50}])),
    ]
    raw = "\n".join(lines).encode() + b"\n"
    raw = raw.replace(b'"x": 1', b'"x": 1, "y": "\xff"')  # invalid UTF-8 on a fallback line
    path.write_bytes(raw + json.dumps(assistant("m7", "r7", out=2)).encode()[:-5])


@pytest.mark.parametrize("block", [64, 1 << 20])
def test_awkward_lines_read_the_same_both_ways(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block: int
) -> None:
    path = tmp_path / "s.jsonl"
    _awkward(path)
    monkeypatch.setattr(_lines, "MAX_LINE", 2048)
    monkeypatch.setattr(_lines, "BLOCK", block)
    if 8 * block > 2048:  # the fast decode alone, lines visited one by one
        monkeypatch.setattr(_lines, "MAX_LINE", 8 * block)
    offset, state, warnings = _read(path)
    with monkeypatch.context() as m:
        m.setattr(transcript, "_decode_fast", lambda _raw: None)
        m.setattr(_lines, "BLOCK", _lines.MAX_LINE)
        assert _read(path) == (offset, state, warnings)
    assert offset < path.stat().st_size  # the unfinished last line is read again next time
    rows = FileState.from_json(state)
    assert rows is not None
    by_id = {r.message_id: r for r in rows.all_responses()}
    assert by_id["m1"].output == 40
    assert by_id["m2"].sidechain and by_id["m2"].output == 9
    assert by_id["m6"].text_chars == 50
    assert set(by_id) == {"m1", "m2", "m3", "m6"}  # m7: cut short, not whole JSON yet
    assert any("truncated last line" in w for w in warnings)
    assert any("usage without a model name" in w for w in warnings)
    assert any("output_tokens=-1 is out of range" in w for w in warnings)


def test_a_grown_file_is_read_on_from_its_offset_the_same_both_ways(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _generate(tmp_path / "claude", 0.6, seed=5)
    path = max((tmp_path / "claude").rglob("*.jsonl"), key=lambda p: p.stat().st_size)
    data = path.read_bytes()
    cut = data.index(b"\n", len(data) // 2) + 1
    path.write_bytes(data[:cut])
    first = _read(path)
    path.write_bytes(data)
    state = FileState.from_json(first[1])
    assert state is not None
    grown = _read(path, first[0], state)
    with monkeypatch.context() as m:
        _line_by_line(m)
        again = FileState.from_json(first[1])
        assert again is not None
        assert _read(path, first[0], again) == grown
    assert grown[1] == _read(path)[1]  # on from the offset == read whole


def _afresh(path: Path) -> tuple[Any, ...]:
    state = FileState()
    warnings: list[str] = []
    with open(path, "rb") as fh:
        offset = FileReader(path, state, warnings.append, True).read(fh, 0)
    facts = (state.first_prompt, sorted(state.refs), sorted(state.edited))
    return offset, state.to_json(), facts, warnings


def test_a_big_read_afresh_decodes_fast_with_the_same_attribution_facts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _generate(tmp_path / "claude", 1, seed=31)
    files = sorted((tmp_path / "claude").rglob("*.jsonl")) + sorted(FIXTURES.rglob("*.jsonl"))
    monkeypatch.setattr(transcript, "FAST_AFRESH", 0)  # every read afresh counts as big
    edited = 0
    for path in files:
        fast = _afresh(path)
        with monkeypatch.context() as m:
            m.setattr(transcript, "_decode_fast", lambda _raw: None)
            assert _afresh(path) == fast, path
        edited += len(fast[2][2])
    assert edited > 0  # the corpus's Write and Edit calls were seen


def test_reads_afresh_in_worker_processes_give_the_same_sessions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _generate(tmp_path / "claude", 1.5, seed=15)
    mains = sorted(p for p in (tmp_path / "claude").rglob("*.jsonl") if "subagents" not in p.parts)
    with open(mains[0], "ab") as out:  # a corrupt line: its warning is said either way
        out.write(b'{"type":"assistant","message":{"usage":{"input_tokens":1}} x\n')
    found = {}
    for workers in ("1", "2"):
        monkeypatch.setenv("COSTLOG_SCAN_WORKERS", workers)
        warnings: list[str] = []
        sessions = list(ADAPTER.scan(mains, warn=warnings.append))
        found[workers] = (
            [
                (s.session_id, s.requests, s.first_prompt, s.tool_output_refs, s.edited_files)
                for s in sessions
            ],
            sorted(warnings),
        )
    assert found["1"] == found["2"]
    assert any(s[4] for s in found["2"][0])  # edited files were gathered
    assert any("corrupt line" in w for w in found["2"][1])
