"""Issue 12, cold scan: the readers forked by `sources._spread` (the parent reading too),
the typed usage decode and the row keys of `scan.run` give exactly what one process, the
plain JSON read and a per-request grouping give."""

from __future__ import annotations

import io
import json
import os
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from claude_logs import BENCH, FIXTURES, assistant, write

from costlog.commands import scan
from costlog.models import Request, Session, Usage
from costlog.pricing.table import PriceTable
from costlog.sources import _lines, progress
from costlog.sources.claude import incremental, linestruct, transcript
from costlog.sources.claude.adapter import ADAPTER
from costlog.sources.claude.filestate import FileState
from costlog.sources.claude.transcript import FileReader
from costlog.timeutil import zone


def _generate(root: Path, size_mb: float, seed: int) -> dict[str, Any]:
    sys.path.insert(0, str(BENCH))
    try:
        from gen_claude_corpus import generate
    finally:
        sys.path.remove(str(BENCH))
    result: dict[str, Any] = generate(root, size_mb, seed=seed)
    return result


def _scan(root: Path) -> tuple[list[Any], list[str]]:
    warnings: list[str] = []
    sessions = list(ADAPTER.scan([root], warn=warnings.append))
    shown = [
        (s.session_id, s.started, s.ended, s.cwd, s.branch, s.subagents, s.methods, s.requests)
        for s in sessions
    ]
    return shown, warnings


def _corrupt(root: Path) -> None:
    """A corrupt line in some files, so the warnings and their order are compared too."""
    for n, path in enumerate(sorted(root.rglob("*.jsonl"))):
        if n % 3 == 0:
            with open(path, "ab") as out:
                out.write(b'{"type":"assistant","message":{"usage":{"input_tokens":1}} x\n')


# ---------------------------------------------------------------- forked readers


@pytest.mark.parametrize("workers", ["2", "3"])
def test_forked_readers_give_what_one_process_gives_warnings_in_the_same_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: str
) -> None:
    root = tmp_path / "claude"
    truth = _generate(root, 2, seed=41)
    _corrupt(root)
    monkeypatch.setenv("COSTLOG_CACHE_DIR", str(tmp_path / "one"))
    monkeypatch.setenv("COSTLOG_SCAN_WORKERS", "1")
    alone = _scan(root)
    monkeypatch.setenv("COSTLOG_CACHE_DIR", str(tmp_path / "many"))
    monkeypatch.setenv("COSTLOG_SCAN_WORKERS", workers)
    spread = _scan(root)
    assert spread == alone
    assert sum(len(s[7]) for s in spread[0]) == truth["requests"]
    assert sum("corrupt line" in w for w in spread[1]) >= 3
    # what the forked readers cached answers the next scan the same way, unopened (the
    # cached warnings are said in the order the files were found, as they always were)
    monkeypatch.setattr(transcript.FileReader, "read", _never)
    again = _scan(root)
    assert again[0] == alone[0]
    assert sorted(again[1]) == sorted(alone[1])


def _never(*_args: Any) -> int:
    raise AssertionError("an unchanged file was read again")


def test_a_reader_that_dies_costs_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A forked reader killed half way (out of memory, a signal): the parent reads the
    files it took on, so the scan still has every session."""
    root = tmp_path / "claude"
    _generate(root, 6, seed=43)
    assert len(list(root.rglob("*.jsonl"))) >= 8  # enough files for the reader to take some
    monkeypatch.setenv("COSTLOG_CACHE_DIR", str(tmp_path / "one"))
    monkeypatch.setenv("COSTLOG_SCAN_WORKERS", "1")
    alone = _scan(root)
    parent = os.getpid()
    real = incremental._cold_read
    died = tmp_path / "died"

    def dies_in_a_child(path: str, collect: bool = False) -> Any:
        if os.getpid() != parent:  # the forked reader dies on the first file it takes
            died.write_text(path)
            os._exit(9)
        return real(path, collect)

    monkeypatch.setattr(incremental, "_cold_read", dies_in_a_child)
    monkeypatch.setenv("COSTLOG_CACHE_DIR", str(tmp_path / "many"))
    monkeypatch.setenv("COSTLOG_SCAN_WORKERS", "2")
    assert _scan(root) == alone
    assert died.exists(), "no reader was forked, or it read nothing: the test proves nothing"


# ---------------------------------------------------------------- the typed usage


def _read(path: Path) -> tuple[Any, ...]:
    state = FileState()
    warnings: list[str] = []
    with open(path, "rb") as fh:
        offset = FileReader(path, state, warnings.append, False).read(fh, 0)
    return offset, state.to_json(), warnings


def _odd(n: int, usage: dict[str, Any], **kw: Any) -> dict[str, Any]:
    line = assistant(f"m{n}", f"r{n}", **kw)
    line["message"]["usage"] = usage
    return line


ODD_USAGES: list[dict[str, Any]] = [
    {"input_tokens": 3.0, "output_tokens": 4},  # a float count
    {"input_tokens": "3", "output_tokens": 4},  # text
    {"input_tokens": True, "output_tokens": 4},  # a bool is no count
    {"input_tokens": None, "output_tokens": None},  # nulls count 0
    {"cache_read_input_tokens": 9},  # neither input nor output
    {"input_tokens": 1, "output_tokens": 2, "cache_creation": [1]},
    {"input_tokens": 1, "cache_creation_input_tokens": 7, "cache_creation": {}},
    {"input_tokens": 1, "cache_creation": {"ephemeral_5m_input_tokens": 6}},
    {"input_tokens": 1, "cache_creation": {"ephemeral_1h_input_tokens": None}},
    {"input_tokens": 1, "cache_creation": {"ephemeral_5m_input_tokens": 1.5}},
    {"input_tokens": 1, "output_tokens_details": None},  # present: a final count
    {"input_tokens": 1, "output_tokens_details": 5},
    {"input_tokens": 1, "output_tokens_details": {"thinking_tokens": 3}},
    {"input_tokens": 1, "output_tokens_details": {"thinking_tokens": "3"}},
    {"input_tokens": 1, "speed": "fast"},
    {"input_tokens": 1, "speed": "warp"},
    {"input_tokens": 1, "speed": None},
    {"input_tokens": 1, "server_tool_use": None},
    {"input_tokens": -1, "output_tokens": 2},
    {"input_tokens": 10**30, "output_tokens": 2},
    {"input_tokens": 1, "output_tokens": 2, "input_tokens ": 5, "iterations": "x"},
    {
        "input_tokens": 10,
        "output_tokens": 30,
        "iterations": [
            {"type": "message", "input_tokens": 4, "output_tokens": 10},
            {"type": "message", "input_tokens": 6, "output_tokens": 20},
            {"type": "advisor_message", "model": "claude-opus-4-6", "input_tokens": 9},
        ],
    },
]


def test_usages_of_every_shape_read_as_the_plain_json_read_reads_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines: list[dict[str, Any] | str] = [_odd(n, u) for n, u in enumerate(ODD_USAGES)]
    lines += [_odd(n + 100, u, stop="end_turn") for n, u in enumerate(ODD_USAGES)]
    lines.append(assistant("m-dup", "r-dup", out=3))  # duplicate keys: the last one counts
    lines.append(
        json.dumps(assistant("m-dup", "r-dup", out=5), separators=(",", ":")).replace(
            '"output_tokens":5', '"output_tokens":5,"output_tokens":50'
        )
    )
    path = write(tmp_path / "s.jsonl", lines)
    fast = _read(path)
    with monkeypatch.context() as m:  # the reference: line by line, every line by `json`
        m.setattr(_lines, "BLOCK", _lines.MAX_LINE)
        m.setattr(transcript, "_decode_fast", lambda _raw: None)
        assert _read(path) == fast
    state = FileState.from_json(fast[1])
    assert state is not None
    found = {r.message_id: r for r in state.all_responses()}
    assert found["m-dup"].output == 50
    assert found["m12"].reasoning == 3 and found["m12"].final
    assert found["m14"].speed == 2  # "fast"
    assert any("input_tokens is a float, not a token count" in w for w in fast[2])
    assert any("input_tokens=-1 is out of range" in w for w in fast[2])
    # the usual shape does take the typed decode
    plain = json.dumps(assistant("m", "r")).encode()
    assert isinstance(linestruct.TYPED.decode(plain).message.usage, linestruct.Usage)


def test_the_real_fixtures_read_the_same_with_and_without_the_typed_decode(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    files = sorted(FIXTURES.rglob("*.jsonl"))
    assert len(files) > 10
    fast = [_read(p) for p in files]
    monkeypatch.setattr(linestruct, "TYPED", linestruct.DECODER)  # the untyped line only
    monkeypatch.setattr(transcript, "_DECODER", None)  # loaded again from `linestruct`
    monkeypatch.setattr(transcript, "_TYPED", None)
    assert [_read(p) for p in files] == fast


def test_line_numbers_of_warnings_count_every_line_of_a_big_block(tmp_path: Path) -> None:
    """Between two usage lines the reader counts lines without visiting them: a corrupt
    line after thousands of others, long and short, is still named by its number."""
    lines: list[dict[str, Any] | str] = []
    for n in range(3000):
        lines.append({"type": "user", "toolUseResult": "y" * (n % 7 * 900)})
        if n % 500 == 0:
            lines.append(assistant(f"m{n}", f"r{n}", ts="2026-11-20T09:00:05.000Z"))
    lines.append('{"type":"assistant","message":{"usage":{"input_tokens":1}} x')
    path = write(tmp_path / "s.jsonl", lines)
    _offset, _state, warnings = _read(path)
    assert warnings == [f"{path}:{len(lines)}: " + warnings[0].split(": ", 1)[1]]
    assert "corrupt line" in warnings[0]


# ---------------------------------------------------------------- the row keys


@pytest.mark.parametrize("by", ["day", "week", "month"])
def test_day_week_and_month_rows_are_the_local_dates_of_each_request(by: str) -> None:
    """Rows keyed once per quarter hour hold exactly the requests whose local date is
    theirs, across a change of offset (New York, first Sunday of November) and the turn of
    a month."""
    start = datetime(2026, 10, 31, 20, 0, tzinfo=UTC)
    times = [start + timedelta(minutes=7 * i) for i in range(600)]
    session = Session(
        "claude-code",
        "s1",
        requests=[
            Request("claude-sonnet-4-6", Usage(input=1000 + i), t) for i, t in enumerate(times)
        ],
    )
    tz = zone("America/New_York")
    result = scan.run(scan.Options(by=by, tz=tz), PriceTable.load(), [session])
    want: dict[str, int] = {}
    for r in session.requests:
        assert r.timestamp is not None
        day = r.timestamp.astimezone(tz).date()
        if by == "day":
            key = day.isoformat()
        elif by == "week":
            key = f"{(day - timedelta(days=day.weekday())).isoformat()} (week)"
        else:
            key = day.strftime("%Y-%m")
        want[key] = want.get(key, 0) + r.usage.input
    assert {k: b.input_tokens for k, b in result.rows.items()} == want
    assert len(want) > 1


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_of_forked_readers_counts_every_file_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a terminal the progress line counts the files the other readers did too, and
    ends at all of them, never more."""
    root = tmp_path / "claude"
    _generate(root, 1, seed=47)
    count = sum(1 for _ in root.rglob("*.jsonl"))
    monkeypatch.setenv("COSTLOG_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("COSTLOG_SCAN_WORKERS", "2")
    monkeypatch.setattr(progress, "DELAY", 0.0)
    monkeypatch.setattr(progress, "EVERY", 0.0)
    screen = _Terminal()
    monkeypatch.setattr(sys, "stderr", screen)
    with progress.allowed():
        list(ADAPTER.scan([root], warn=pytest.fail))
    done = [int(m) for m in re.findall(r"(\d+)/" + str(count) + " files", screen.getvalue())]
    assert done and max(done) == count
    assert all(0 < n <= count for n in done)


def test_thousands_of_small_transcripts_spread_over_readers_as_read_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Many small files (a long history of short sessions): the readers share them in
    groups, nothing waits on a full pipe, and every session is there once."""
    project = tmp_path / "claude" / "projects" / "-work-app"
    for n in range(2500):
        write(project / f"s{n:04d}.jsonl", [assistant(f"m{n}", f"r{n}", out=n % 50 + 1)])
    monkeypatch.setenv("COSTLOG_CACHE_DIR", str(tmp_path / "one"))
    monkeypatch.setenv("COSTLOG_SCAN_WORKERS", "1")
    alone = _scan(tmp_path / "claude")
    monkeypatch.setenv("COSTLOG_CACHE_DIR", str(tmp_path / "many"))
    monkeypatch.setenv("COSTLOG_SCAN_WORKERS", "3")
    assert _scan(tmp_path / "claude") == alone
    assert len(alone[0]) == 2500
