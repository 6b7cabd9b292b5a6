"""Issue 12, Codex cold scan: worker processes read while the parent works out the sessions
of the files already read, the read cache keeps each file's calls as one blob, and a block
of lines has its skipped records' times checked at once. None of it may change a session,
a count, an end time or a warning, or their order: each is checked here against reading in
one process and against parsing every line on its own."""

from __future__ import annotations

import json
import marshal
import multiprocessing
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from costlog.sources import _lines
from costlog.sources.cache import FileCache
from costlog.sources.codex import adapter as codex_adapter
from costlog.sources.codex import reader as codex_reader
from costlog.sources.codex.adapter import ADAPTER
from costlog.sources.codex.reader import Reader
from costlog.sources.codex.rollout import AGENT, SCHEMA, FileData, read_head
from tests_support import FIXTURES_DIR, REPO_ROOT, read_rollout


def _generate(root: Path, size_mb: float, seed: int) -> dict[str, Any]:
    sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
    try:
        from gen_codex_corpus import generate
    finally:
        sys.path.remove(str(REPO_ROOT / "benchmarks"))
    truth: dict[str, Any] = generate(root, size_mb, ["/work/a", "/work/b"], [0.5, 0.5], seed=seed)
    return truth


def _home(tmp_path: Path) -> Path:
    """A CODEX_HOME with a generated history, the fixture home's fork and sub-agent family
    (so families span files), and damage in several files: a corrupt tool-output line, a
    count that is not a number, and a last line still being written."""
    home = tmp_path / "codex"
    _generate(home, 3, seed=21)
    fixture = FIXTURES_DIR / "codex" / "home" / "sessions"
    shutil.copytree(fixture, home / "sessions", dirs_exist_ok=True)
    files = sorted((home / "sessions").rglob("rollout-2026-10-*.jsonl"))
    assert len(files) >= 4
    stamp = "2026-10-20T08:30:00.000Z"
    with open(files[0], "ab") as out:
        corrupt = '{"timestamp":"' + stamp + '","type":"response_item","payload":{} x}\n'
        out.write(corrupt.encode())
    with open(files[1], "ab") as out:
        info = {"last_token_usage": {"input_tokens": "7", "output_tokens": 1}}
        payload = {"type": "token_count", "info": info}
        line = {"timestamp": stamp, "type": "event_msg", "payload": payload}
        out.write(json.dumps(line).encode() + b"\n")
    with open(files[-1], "ab") as out:
        out.write(b'{"timestamp":"2026-10-20T08:30:00.000Z","type":"event_msg","payl')
    return home


def _scan(home: Path) -> tuple[list[Any], list[str]]:
    warnings: list[str] = []
    sessions = list(ADAPTER.scan([home / "sessions"], warn=warnings.append))
    found = [(s.session_id, s.requests, s.ended, s.paths, s.subagents) for s in sessions]
    return found, warnings


def test_a_cold_scan_in_workers_reads_as_one_process_does_warnings_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = _home(tmp_path)
    found: dict[str, Any] = {}
    for workers in ("1", "2"):
        monkeypatch.setenv("COSTLOG_SCAN_WORKERS", workers)
        monkeypatch.setenv("COSTLOG_CACHE_DIR", str(tmp_path / f"cache-{workers}"))
        for run in ("cold", "warm"):
            found[workers + run] = _scan(home)
    assert found["1cold"] == found["2cold"] == found["1warm"] == found["2warm"]
    sessions, warnings = found["2cold"]
    assert len(sessions) > 5
    assert sum(len(s[1]) for s in sessions) > 100
    said = [w.split(": ", 1)[1] for w in warnings]
    assert any(w.startswith("corrupt line") for w in said)
    assert any(w.startswith("invalid input_tokens '7'") for w in said)
    assert any(w.startswith("truncated last line") for w in said)
    assert multiprocessing.active_children() == []  # the workers are gone


def test_the_read_cache_keeps_each_files_calls_as_one_blob_that_reads_back_exactly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "codex"
    _generate(home, 2, seed=5)
    monkeypatch.setenv("COSTLOG_SCAN_WORKERS", "2")
    monkeypatch.setenv("COSTLOG_CACHE_DIR", str(tmp_path / "cache"))
    cold = _scan(home)
    files = FileCache(AGENT, SCHEMA, env={"COSTLOG_CACHE_DIR": str(tmp_path / "cache")})
    rows = marshal.loads(files.path.read_bytes())["files"]
    assert len(rows) == len(list(home.rglob("*.jsonl")))
    for name, row in rows.items():
        state = row[-1]
        assert type(state["calls"]) is bytes  # not a list of lists per call
        path = Path(name)
        fresh = FileData(head=read_head(path))
        with open(path, "rb") as fh:
            Reader(fresh, lambda _m: None, False).read(fh, 0)
        assert FileData.from_json(path, state).calls == fresh.calls
    assert _scan(home) == cold  # warm, from the blobs
    monkeypatch.setenv("COSTLOG_NO_SCAN_MEMO", "1")
    assert _scan(home) == cold


def test_find_session_stops_the_workers_it_no_longer_needs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "codex"
    _generate(home, 2, seed=9)
    monkeypatch.setenv("COSTLOG_SCAN_WORKERS", "2")
    monkeypatch.setenv("COSTLOG_CACHE_DIR", str(tmp_path / "cache"))
    first = sorted(home.rglob("*.jsonl"))[0]
    wanted = read_head(first).session_id
    session = ADAPTER.find_session([home / "sessions"], wanted, warn=lambda _m: None)
    assert session is not None and session.session_id == wanted and session.requests
    assert multiprocessing.active_children() == []


def _same_as_each_line_parsed(path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, ...]:
    fast = read_rollout(path)
    with monkeypatch.context() as m:  # no block read: every line on its own, by `json`
        m.setattr(Reader, "_block", lambda _self, _block: False)
        m.setattr(codex_reader, "_unread", lambda _raw: None)
        m.setattr(codex_reader, "loads_fast", _lines.loads)
        assert read_rollout(path) == fast, path
    return fast


def _batched(path: Path, monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each block's skipped times were folded in at once (`Reader._stamps`)."""
    seen: list[bool] = []
    stamps = Reader._stamps

    def spy(self: Reader, records: list[Any], used: list[int]) -> bool:
        seen.append(stamps(self, records, used))
        return seen[-1]

    with monkeypatch.context() as m:
        m.setattr(Reader, "_stamps", spy)
        read_rollout(path)
    return seen


def _line(when: str, kind: str, payload: dict[str, Any]) -> str:
    return json.dumps({"timestamp": when, "type": kind, "payload": payload}, separators=(",", ":"))


SID = "019a0012-1212-7212-8212-121212121212"
ITEM = {"type": "function_call_output", "call_id": "c1", "output": "x" * 100}
USAGE = {"input_tokens": 100, "cached_input_tokens": 40, "output_tokens": 9}
COUNT = {"type": "token_count", "info": {"last_token_usage": USAGE}}


def _write(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / f"rollout-2026-03-05T09-00-00-{SID}.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def _start() -> list[str]:
    return [
        _line("2026-03-05T09:00:00.000Z", "session_meta", {"id": SID, "cwd": "/w"}),
        _line("2026-03-05T09:00:01.000Z", "turn_context", {"model": "gpt-5", "cwd": "/w"}),
    ]


def test_a_block_whose_skipped_times_are_all_plain_ends_at_the_latest_even_out_of_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = [
        *_start(),
        _line("2026-03-07T10:00:00.000Z", "response_item", ITEM),  # the latest, early on
        _line("2026-03-06T10:00:00.000Z", "event_msg", COUNT),
        _line("2026-03-06T23:59:59.999Z", "response_item", ITEM),  # a new day mid-block
        _line("2026-03-06T11:00:00.000Z", "event_msg", {"type": "agent_message", "message": "m"}),
    ]
    path = _write(tmp_path, lines)
    assert _batched(path, monkeypatch) == [True]  # the times were taken in one go
    _offset, state, ended, warnings = _same_as_each_line_parsed(path, monkeypatch)
    assert warnings == []
    assert ended is not None and ended.isoformat() == "2026-03-07T10:00:00+00:00"
    assert len(state["calls"]) == 1


@pytest.mark.parametrize(
    "odd",
    [
        ["2026-03-05T09:60:00.000Z"],  # no such minute
        ["2026-03-05T09:00:61.000Z"],  # no such second
        ["2026-03-05T24:00:00.000Z"],  # no such hour
        ["2026-02-30T09:00:00.000Z"],  # no such day
        # two times in one, or split across two, that look like plain ones side by side
        ["2026-03-05T09:00:00.000Z2026-03-05T09:00:00.000Z"],
        ["2026-03-05T09:00:00.000", "Z2026-03-05T09:00:00.000Z"],
        ["2026-03-05T09:00:00.000+00:00"],
        ["2026-03-05 09:00:00.000Z"],
    ],
)
def test_a_block_with_an_odd_skipped_time_reads_and_warns_as_each_line_parsed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, odd: list[str]
) -> None:
    lines = [*_start(), _line("2026-03-05T09:10:00.000Z", "response_item", ITEM)]
    lines += [_line(when, "response_item", ITEM) for when in odd]
    lines += [_line("2026-03-05T09:20:00.000Z", "event_msg", COUNT)]
    path = _write(tmp_path, lines)
    assert _batched(path, monkeypatch) == [False]  # each time seen on its own line
    _offset, state, ended, _warnings = _same_as_each_line_parsed(path, monkeypatch)
    assert ended is not None and len(state["calls"]) == 1


def test_blank_lines_and_two_records_on_one_line_read_as_each_line_parsed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    two = _line("2026-03-05T09:11:00.000Z", "response_item", ITEM)
    lines = [
        *_start(),
        _line("2026-03-05T09:10:00.000Z", "event_msg", COUNT),
        "",
        two + " " + two,
        "   ",
        _line("2026-03-05T09:12:00.000Z", "response_item", ITEM),
    ]
    path = _write(tmp_path, lines)
    offset, _state, _ended, warnings = _same_as_each_line_parsed(path, monkeypatch)
    assert offset == path.stat().st_size
    assert [w.split(": ", 1)[0] for w in warnings] == [f"{path}:5"]  # the two on one line


def test_a_grown_file_after_a_cold_scan_in_workers_reads_on_to_what_a_cold_scan_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "codex"
    _generate(home, 2, seed=13)
    monkeypatch.setenv("COSTLOG_SCAN_WORKERS", "2")
    monkeypatch.setenv("COSTLOG_NO_SCAN_MEMO", "1")
    monkeypatch.setenv("COSTLOG_CACHE_DIR", str(tmp_path / "cache"))
    before, _ = _scan(home)
    grown = sorted(home.rglob("*.jsonl"))[-1]
    usage = {"input_tokens": 700, "cached_input_tokens": 100, "output_tokens": 70}
    event = {"type": "token_count", "info": {"last_token_usage": usage}}
    with open(grown, "a") as out:
        out.write(_line("2026-12-01T08:00:00.000Z", "event_msg", event) + "\n")
    after, warnings = _scan(home)
    monkeypatch.setenv("COSTLOG_CACHE_DIR", str(tmp_path / "fresh-cache"))
    assert (after, warnings) == _scan(home)
    assert sum(len(s[1]) for s in after) == sum(len(s[1]) for s in before) + 1


def test_a_forked_reader_that_dies_costs_no_file_nor_changes_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A scan's cold reads are spread over forked readers, this process reading too: one
    killed half way (out of memory, a signal) leaves its files to the parent, so the scan
    has every session, count and warning, in the order one process gives them."""
    home = _home(tmp_path)
    monkeypatch.setenv("COSTLOG_SCAN_WORKERS", "1")
    monkeypatch.setenv("COSTLOG_CACHE_DIR", str(tmp_path / "one"))
    alone = _scan(home)
    parent = os.getpid()
    real = codex_adapter._spread_read
    died = tmp_path / "died"

    def dies_in_a_child(head: Any) -> Any:
        if os.getpid() != parent:  # the forked reader dies on the first file it takes
            died.write_text(str(head.path))
            os._exit(9)
        return real(head)

    monkeypatch.setattr(codex_adapter, "_spread_read", dies_in_a_child)
    monkeypatch.setenv("COSTLOG_SCAN_WORKERS", "2")
    monkeypatch.setenv("COSTLOG_CACHE_DIR", str(tmp_path / "two"))
    assert _scan(home) == alone
    assert died.exists(), "no reader was forked, or it read nothing: the test proves nothing"
    monkeypatch.setattr(codex_adapter, "_spread_read", real)
    assert _scan(home) == alone  # and the parent's reads were cached as one process caches
