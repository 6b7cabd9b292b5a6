"""Issue 12: a Codex scan leaves undecoded the records it does not use (tool output,
reasoning, other events), recognised on their bytes, and parses only the latest of their
times, yet every file reads to exactly what parsing every line gives, and a generated
corpus scans to its truth."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from costlog.sources import _lines
from costlog.sources.codex import reader as codex_reader
from costlog.sources.codex.adapter import ADAPTER
from costlog.sources.codex.reader import Reader
from costlog.sources.codex.rollout import FileData, read_head
from tests_support import FIXTURES_DIR, REPO_ROOT


def _read(path: Path, collect: bool = False) -> tuple[Any, ...]:
    data = FileData(head=read_head(path))
    warnings: list[str] = []
    with open(path, "rb") as fh:
        offset, state = Reader(data, warnings.append, collect).read(fh, 0)
    return offset, state, data.ended, warnings


def _same_both_ways(path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, ...]:
    fast = _read(path)
    with monkeypatch.context() as m:  # every line read on its own and parsed by `json`
        m.setattr(codex_reader, "_unread", lambda _raw: None)
        m.setattr(codex_reader, "loads_fast", _lines.loads)
        m.setattr(_lines, "BLOCK", _lines.MAX_LINE)
        assert _read(path) == fast, path
    return fast


def test_fixtures_read_the_same_with_and_without_the_byte_test(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    files = sorted((FIXTURES_DIR / "codex").rglob("*.jsonl"))
    assert len(files) > 5
    for path in files:
        _same_both_ways(path, monkeypatch)


def test_generated_corpus_reads_the_same_and_scans_to_its_truth(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
    try:
        from gen_codex_corpus import generate
    finally:
        sys.path.remove(str(REPO_ROOT / "benchmarks"))
    truth = generate(tmp_path / "codex", 2, ["/work/a", "/work/b"], [0.5, 0.5], seed=3)
    files = sorted((tmp_path / "codex").rglob("*.jsonl"))
    for path in files:
        _same_both_ways(path, monkeypatch)
    warnings: list[str] = []
    sessions = list(ADAPTER.scan([tmp_path / "codex"], warn=warnings.append))
    requests = [r for s in sessions for r in s.requests]
    assert warnings == []
    assert len(requests) == truth["requests"]
    assert sum(r.usage.output for r in requests) == truth["output_tokens"]
    assert sum(r.usage.cache_read for r in requests) == truth["cached_input_tokens"]
    ends = [s.ended for s in sessions]
    assert all(e is not None for e in ends)


def _record(when: str, kind: str, payload: dict[str, Any]) -> str:
    return json.dumps({"timestamp": when, "type": kind, "payload": payload}, separators=(",", ":"))


def test_odd_times_on_unread_records_are_warned_and_the_latest_ends_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sid = "019a0009-9999-7999-8999-999999999999"
    item = {"type": "function_call_output", "call_id": "c1", "output": "x" * 200}
    lines = [
        _record("2026-03-05T09:00:00.000Z", "session_meta", {"id": sid, "cwd": "/w"}),
        _record("2026-03-05T09:00:01.000Z", "turn_context", {"model": "gpt-5", "cwd": "/w"}),
        _record("2026-03-05T09:00:02.000Z", "response_item", item),
        _record("2026-03-06T23:59:59.999Z", "response_item", item),  # a new day: parsed
        _record("2026-03-06T10:00:00.000Z", "response_item", item),  # earlier: compared
        _record("2026-02-30T10:00:00.000Z", "response_item", item),  # no such day: warned
        _record("2026-03-06T25:00:00.000Z", "response_item", item),  # no such hour: warned
        _record("yesterday", "event_msg", {"type": "agent_reasoning", "text": "t"}),
        _record("2026-03-06T12:00:00+02:00", "response_item", item),  # another form
        _record("2026-03-07T08:00:00.000Z", "event_msg", {"type": "exec_command_end"}),
        '{"timestamp":"2026-03-08T00:00:00.000Z","type":"response_item","payload":{} x}',
        '{"timestamp":"2026-03-08T00:00:01.000Z","type":"turn_context","payload":{"x":NaN}}',
        '{"timestamp":"2026-03-08T00:00:02.000Z","type":"turn_context","payload":{"model":"\\xff"}}',
        "[1, 2]",
    ]
    path = tmp_path / f"rollout-2026-03-05T09-00-00-{sid}.jsonl"
    path.write_bytes(("\n".join(lines) + "\n").encode().replace(b"\\xff", b"\xff"))
    assert b'"\xff"' in path.read_bytes()  # invalid UTF-8 in a record that is read
    offset, _state, ended, warnings = _same_both_ways(path, monkeypatch)
    assert offset == path.stat().st_size
    assert ended is not None and ended.isoformat() == "2026-03-08T00:00:02+00:00"
    assert [w.split(": ", 1)[0].rsplit(":", 1)[1] for w in warnings if "is not a time" in w] == [
        "6",
        "7",
        "8",
    ]
    assert any(w.startswith(f"{path}:11: corrupt line") for w in warnings)


def test_worker_processes_read_to_the_same_sessions_and_warnings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
    try:
        from gen_codex_corpus import generate
    finally:
        sys.path.remove(str(REPO_ROOT / "benchmarks"))
    generate(tmp_path / "codex", 1, ["/work/a"], [1.0], seed=8)
    sick = sorted((tmp_path / "codex").rglob("*.jsonl"))[0]
    with open(sick, "ab") as out:  # a corrupt line, and an unfinished one at the end
        out.write(b'{"timestamp":"2026-10-20T08:30:00.000Z","type":"event_msg" oops\n{"time')
    found: dict[str, Any] = {}
    for workers in ("1", "2"):
        monkeypatch.setenv("COSTLOG_SCAN_WORKERS", workers)
        monkeypatch.setenv("COSTLOG_CACHE_DIR", str(tmp_path / f"cache-{workers}"))
        for run in ("cold", "warm"):
            warnings: list[str] = []
            sessions = list(ADAPTER.scan([tmp_path / "codex"], warn=warnings.append))
            found[workers + run] = (
                [(s.session_id, s.requests, s.ended) for s in sessions],
                warnings,
            )
    assert found["1cold"] == found["2cold"] == found["1warm"] == found["2warm"]
    assert any("corrupt line" in w for w in found["2cold"][1])


def test_a_big_read_afresh_parses_fast_with_the_same_attribution_facts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
    try:
        from gen_codex_corpus import generate
    finally:
        sys.path.remove(str(REPO_ROOT / "benchmarks"))
    generate(tmp_path / "codex", 1, ["/work/a"], [1.0], seed=4)
    files = sorted((tmp_path / "codex").rglob("*.jsonl"))
    files += sorted((FIXTURES_DIR / "codex").rglob("*.jsonl"))
    monkeypatch.setattr(codex_reader, "FAST_AFRESH", 0)  # every read afresh counts as big

    def afresh(path: Path) -> tuple[Any, ...]:
        data = FileData(head=read_head(path))
        warnings: list[str] = []
        with open(path, "rb") as fh:
            offset, state = Reader(data, warnings.append, True).read(fh, 0)
        return offset, state, data.prompts, data.edits, data.refs, warnings

    facts = 0
    for path in files:
        fast = afresh(path)
        with monkeypatch.context() as m:
            m.setattr(codex_reader, "loads_fast", _lines.loads)
            assert afresh(path) == fast, path
        facts += len(fast[2]) + len(fast[3]) + len(fast[4])
    assert facts > 0


def test_reads_afresh_in_worker_processes_give_the_same_facts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
    try:
        from gen_codex_corpus import generate
    finally:
        sys.path.remove(str(REPO_ROOT / "benchmarks"))
    generate(tmp_path / "codex", 1, ["/work/a"], [1.0], seed=9)
    files = sorted((tmp_path / "codex").rglob("*.jsonl"))
    with open(files[0], "ab") as out:  # a corrupt line: its warning is said either way
        out.write(b'{"timestamp":"2026-10-20T08:30:00.000Z","type":"event_msg" oops\n')
    found: dict[str, Any] = {}
    for workers in ("1", "2"):
        monkeypatch.setenv("COSTLOG_SCAN_WORKERS", workers)
        monkeypatch.setenv("COSTLOG_CACHE_DIR", str(tmp_path / f"cache-{workers}"))
        warnings: list[str] = []
        sessions = list(ADAPTER.scan(files, warn=warnings.append))  # files: read afresh
        found[workers] = (
            [
                (s.session_id, s.requests, s.first_prompt, s.edited_files, s.tool_output_refs)
                for s in sessions
            ],
            warnings,
        )
    assert found["1"] == found["2"]
    assert any(s[2] for s in found["2"][0])  # prompts were gathered
    assert any("corrupt line" in w for w in found["2"][1])
