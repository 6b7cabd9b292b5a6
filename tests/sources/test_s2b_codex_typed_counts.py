"""Issue 12, Codex cold scan round 2b: a scan decodes a token_count's `info` and its usage
objects as typed structs (`linestruct.Info`, `linestruct.Counts`) instead of dicts, checks
the common case in one go, and reads into one reused buffer (`_scan_blocks`). Whatever
the counts hold, a file must read to exactly what parsing each line as a dict gives (calls,
model, end time, warnings and their order), with the struct path still taken."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from costlog.sources import _lines
from costlog.sources._usage import MAX_TOKENS, MAX_TOTAL_TOKENS
from costlog.sources.codex import reader as codex_reader
from costlog.sources.codex.adapter import ADAPTER
from costlog.sources.codex.reader import Reader
from costlog.sources.codex.rollout import FileData, read_head
from tests_support import codex_lines_as_dicts

SID = "019a0b2b-3333-7333-8333-333333333333"


def _read(path: Path) -> tuple[Any, ...]:
    data = FileData(head=read_head(path))
    warnings: list[str] = []
    with open(path, "rb") as fh:
        offset, state = Reader(data, warnings.append, False).read(fh, 0)
    return offset, state, data.ended, data.model, warnings


def _as_dicts(path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, ...]:
    """The file read with no struct decode at all: every line parsed as a dict."""
    with codex_lines_as_dicts(monkeypatch):
        return _read(path)


def _with_blocks(path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[tuple[Any, ...], bool]:
    """The file read as a scan reads it, and whether the struct path read all but its first
    line (which shows the file is a rollout; the file is one block)."""
    taken: list[bool] = []
    read_block = Reader._block

    def spy(self: Reader, block: bytes) -> bool:
        taken.append(read_block(self, block))
        return taken[-1]

    with monkeypatch.context() as m:
        m.setattr(Reader, "_block", spy)
        result = _read(path)
    return result, bool(taken) and taken[-1] and not any(taken[:-1])


def _record(when: str, kind: str, payload: Any) -> str:
    return json.dumps({"timestamp": when, "type": kind, "payload": payload}, separators=(",", ":"))


def _usage(given: Any, output: Any = 10, **more: Any) -> dict[str, Any]:
    return {"input_tokens": given, "cached_input_tokens": 0, "output_tokens": output, **more}


def _file(tmp_path: Path, events: list[Any]) -> Path:
    lines = [
        _record("2026-04-01T09:00:00.000Z", "session_meta", {"id": SID, "cwd": "/w"}),
        _record("2026-04-01T09:00:01.000Z", "turn_context", {"model": "gpt-5", "cwd": "/w"}),
    ]
    for n, info in enumerate(events):
        when = f"2026-04-01T09:{n // 60 + 1:02d}:{n % 60:02d}.500Z"
        lines.append(_record(when, "response_item", {"type": "reasoning", "summary": []}))
        lines.append(_record(when, "event_msg", {"type": "token_count", "info": info}))
    path = tmp_path / f"rollout-2026-04-01T09-00-00-{SID}.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


ODD_INFOS: list[Any] = [
    {"total_token_usage": _usage(100), "last_token_usage": _usage(100)},
    {"total_token_usage": _usage(True)},  # a bool is not a count
    {"total_token_usage": _usage(300), "last_token_usage": _usage(1.0)},  # nor a float
    {"total_token_usage": _usage(None)},  # nor null
    {"last_token_usage": _usage(-1)},
    {"last_token_usage": _usage(MAX_TOKENS + 1)},  # absurd for one call
    {"total_token_usage": _usage(MAX_TOTAL_TOKENS + 1)},
    {"total_token_usage": _usage(400, "7")},  # a string
    {"total_token_usage": [1, 2]},  # not an object
    {"total_token_usage": "lots", "last_token_usage": _usage(5)},
    {"total_token_usage": 12, "last_token_usage": None},
    {"total_token_usage": _usage(500), "last_token_usage": {"output_tokens": 3}},
    {"total_token_usage": _usage(600), "last_token_usage": _usage(100, True)},  # bad 2nd
    "not an info",
    [1, 2],
    7,
    None,  # a rate-limit update only
    {},
    {"total_token_usage": _usage(700, 20, reasoning_output_tokens=30)},  # over output
    {"total_token_usage": _usage(800, 20, cached_input_tokens=900)},  # clamped, warned
    {"total_token_usage": _usage(900), "model": "gpt-5.2-codex"},  # the info names a model
    {"total_token_usage": _usage(1000), "last_token_usage": _usage(100), "model": 5},
]


def test_odd_counts_read_as_a_dict_parse_reads_them_without_leaving_the_struct_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _file(tmp_path, ODD_INFOS)
    fast, every_block = _with_blocks(path, monkeypatch)
    assert every_block  # odd counts cost their event, not the block's struct decode
    assert fast == _as_dicts(path, monkeypatch)
    _offset, state, _ended, model, warnings = fast
    assert model == "gpt-5.2-codex"
    not_counted = [w.split(": ", 1)[0].rsplit(":", 1)[1] for w in warnings if "not counted" in w]
    # one warning per bad event, in line order, naming its line (two lines per event)
    assert not_counted == [str(4 + 2 * n) for n in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12)]
    assert any("input_tokens True" in w for w in warnings)
    assert any("clamped" in w for w in warnings)
    # events 0, 11 (its last: 3 out), 18-21 (steps from the running total) are calls
    assert len(state["calls"]) == 6


def test_a_scan_of_odd_counts_gives_the_dict_parse_sessions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _file(tmp_path, ODD_INFOS)
    monkeypatch.setenv("COSTLOG_CACHE_DIR", str(tmp_path / "cache"))
    warnings: list[str] = []
    [fast] = list(ADAPTER.scan([tmp_path], warn=warnings.append))
    with codex_lines_as_dicts(monkeypatch) as m:
        m.setenv("COSTLOG_CACHE_DIR", str(tmp_path / "cache-dicts"))
        slow_warnings: list[str] = []
        [slow] = list(ADAPTER.scan([tmp_path], warn=slow_warnings.append))
    assert warnings == slow_warnings
    assert [(r.model, r.usage, r.timestamp) for r in fast.requests] == [
        (r.model, r.usage, r.timestamp) for r in slow.requests
    ]
    assert [(r.usage.output, r.model) for r in fast.requests] == [
        (10, "gpt-5"),
        (3, "gpt-5"),
        (10, "gpt-5"),  # 700 - 500: reasoning 30 held to the output's 10
        (20, "gpt-5"),  # cached above input: the counter restarted, clamped
        (10, "gpt-5.2-codex"),  # the model its info names
        (10, "gpt-5.2-codex"),  # a model that is not a string is not taken
    ]
    assert fast.requests[2].usage.reasoning == 10
    # warm: the cached calls read back the same
    warm_warnings: list[str] = []
    [warm] = list(ADAPTER.scan([tmp_path], warn=warm_warnings.append))
    assert warm_warnings == warnings
    assert [(r.usage, r.timestamp) for r in warm.requests] == [
        (r.usage, r.timestamp) for r in fast.requests
    ]


def test_calls_sharing_a_time_keep_it_through_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = [
        _record("2026-04-01T09:00:00.000Z", "session_meta", {"id": SID, "cwd": "/w"}),
        _record("2026-04-01T09:00:01.000Z", "turn_context", {"model": "gpt-5", "cwd": "/w"}),
    ]
    times = ["2026-04-01T09:00:02.000Z", "2026-04-01T09:00:02.000Z", "2026-04-01T09:00:03.250Z"]
    for n, when in enumerate(times, 1):
        info = {"total_token_usage": _usage(100 * n), "last_token_usage": _usage(100)}
        lines.append(_record(when, "event_msg", {"type": "token_count", "info": info}))
    lines.append(_record("2026-04-01T09:00:04.000Z", "event_msg", {"type": "token_count"}))
    path = tmp_path / f"rollout-2026-04-01T09-00-00-{SID}.jsonl"
    path.write_text("\n".join(lines) + "\n")
    monkeypatch.setenv("COSTLOG_CACHE_DIR", str(tmp_path / "cache"))
    for _run in ("cold", "warm"):
        [session] = list(ADAPTER.scan([tmp_path], warn=lambda _line: None))
        stamps = [r.timestamp.isoformat() if r.timestamp else None for r in session.requests]
        assert stamps == [
            "2026-04-01T09:00:02+00:00",
            "2026-04-01T09:00:02+00:00",
            "2026-04-01T09:00:03.250000+00:00",
        ]
        assert session.ended is not None
        assert session.ended.isoformat() == "2026-04-01T09:00:04+00:00"


def test_a_scan_reads_through_its_reused_buffer_as_line_blocks_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a small buffer, so lines cross refills, one outgrows the buffer and one MAX_LINE
    monkeypatch.setattr(_lines, "BLOCK", 4096)
    monkeypatch.setattr(_lines, "MAX_LINE", 8 * 4096)
    lines = [
        _record("2026-04-01T09:00:00.000Z", "session_meta", {"id": SID, "cwd": "/w"}),
        _record("2026-04-01T09:00:01.000Z", "turn_context", {"model": "gpt-5", "cwd": "/w"}),
    ]
    for n in range(1, 60):
        when = f"2026-04-01T09:{n:02d}:00.000Z"
        size = {20: 6000, 40: 40_000}.get(n, 300 + 37 * n)  # 6000 > buffer, 40000 > MAX_LINE
        item = {"type": "function_call_output", "call_id": f"c{n}", "output": "x" * size}
        lines.append(_record(when, "response_item", item))
        info = {"total_token_usage": _usage(100 * n), "last_token_usage": _usage(100)}
        lines.append(_record(when, "event_msg", {"type": "token_count", "info": info}))
    whole = ("\n".join(lines) + "\n").encode()
    path = tmp_path / f"rollout-2026-04-01T09-00-00-{SID}.jsonl"
    path.write_bytes(whole + b'{"timestamp":"2026-04-01T10:00:00.000Z","type":"event')
    scanned = _read(path)
    with monkeypatch.context() as m:
        m.setattr(codex_reader, "_scan_blocks", _lines.line_blocks)
        assert _read(path) == scanned
    offset, state, ended, _model, warnings = scanned
    assert offset == len(whole)  # the unfinished last line is read again next time
    assert len(state["calls"]) == 59
    assert ended is not None and ended.isoformat() == "2026-04-01T09:59:00+00:00"
    assert [w for w in warnings if "too long" in w] == [
        f"{path}:81: line of {len(lines[80]) + 1:,} bytes is too long to hold usage, skipped"
    ]
