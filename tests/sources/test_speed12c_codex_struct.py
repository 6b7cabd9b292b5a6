"""Issue 12, second pass: a Codex scan reads token counts and turn contexts from the
fields its block decode already holds (`linestruct.Kind`), and parses a time on a day it has
seen by `datetime.fromisoformat`. Every file must still read to exactly what parsing each
line as a dict gives: the same calls, model, cwd, end time, rate limits and warnings."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from costlog.sources.codex.adapter import ADAPTER
from costlog.sources.codex.reader import Reader
from costlog.sources.codex.rollout import FileData, read_head
from tests_support import FIXTURES_DIR, REPO_ROOT, codex_lines_as_dicts


def _read(path: Path) -> tuple[Any, ...]:
    data = FileData(head=read_head(path))
    warnings: list[str] = []
    with open(path, "rb") as fh:
        offset, state = Reader(data, warnings.append, False).read(fh, 0)
    return offset, state, data.ended, data.model, data.cwd, warnings


def _same_as_dict_parse(path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, ...]:
    fast = _read(path)
    with codex_lines_as_dicts(monkeypatch):
        slow = _read(path)
    assert fast == slow, path
    return fast


def _record(when: str, kind: str, payload: Any) -> str:
    return json.dumps({"timestamp": when, "type": kind, "payload": payload}, separators=(",", ":"))


def _usage(total: int, output: int) -> dict[str, int]:
    return {
        "input_tokens": total,
        "cached_input_tokens": total // 2,
        "output_tokens": output,
        "reasoning_output_tokens": output // 3,
        "total_tokens": total + output,
    }


def test_fixtures_read_the_same_as_a_dict_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    files = sorted((FIXTURES_DIR / "codex").rglob("*.jsonl"))
    assert len(files) > 5
    for path in files:
        _same_as_dict_parse(path, monkeypatch)


def test_generated_corpus_reads_the_same_and_scans_to_its_truth(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
    try:
        from gen_codex_corpus import generate
    finally:
        sys.path.remove(str(REPO_ROOT / "benchmarks"))
    truth = generate(tmp_path / "codex", 2, ["/work/a", "/work/b"], [0.5, 0.5], seed=5)
    for path in sorted((tmp_path / "codex").rglob("*.jsonl")):
        _same_as_dict_parse(path, monkeypatch)
    warnings: list[str] = []
    sessions = list(ADAPTER.scan([tmp_path / "codex"], warn=warnings.append))
    requests = [r for s in sessions for r in s.requests]
    assert warnings == []
    assert len(requests) == truth["requests"]
    assert sum(r.usage.output for r in requests) == truth["output_tokens"]
    assert sum(r.usage.reasoning for r in requests) == truth["reasoning_output_tokens"]
    assert sum(r.usage.cache_read for r in requests) == truth["cached_input_tokens"]


def test_odd_token_counts_and_turn_contexts_read_the_same_as_a_dict_parse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sid = "019a0010-1111-7111-8111-111111111111"
    limits = {"primary": {"used_percent": 12.5, "window_minutes": 300, "resets_in_seconds": 60}}
    lines = [
        _record("2026-03-05T09:00:00.000Z", "session_meta", {"id": sid, "cwd": "/w"}),
        _record("2026-03-05T09:00:01.000Z", "turn_context", {"model": "gpt-5", "cwd": "/w"}),
        _record(
            "2026-03-05T09:00:02.000Z",
            "event_msg",
            {"type": "token_count", "info": {"total_token_usage": _usage(100, 10)}},
        ),
        # the model named in `info`, then on the payload; rate limits with and without info
        _record(
            "2026-03-05T09:00:03.000Z",
            "event_msg",
            {
                "type": "token_count",
                "info": {"total_token_usage": _usage(300, 30), "model": "gpt-5.1-codex"},
                "rate_limits": limits,
            },
        ),
        _record("2026-03-05T09:00:04.000Z", "event_msg", {"type": "token_count", "info": None}),
        _record(
            "2026-03-05T09:00:05.000Z",
            "event_msg",
            {"type": "token_count", "info": None, "rate_limits": {"primary": "odd"}},
        ),
        _record(
            "2026-03-05T09:00:06.000Z",
            "event_msg",
            {
                "type": "token_count",
                "model": "gpt-5.2",
                "info": {
                    "total_token_usage": _usage(500, 50),
                    "last_token_usage": _usage(200, 20),
                },
            },
        ),
        # bad counts: warned, not counted
        _record(
            "2026-03-05T09:00:07.000Z",
            "event_msg",
            {"type": "token_count", "info": {"total_token_usage": {"input_tokens": True}}},
        ),
        _record(
            "2026-03-05T09:00:08.000Z",
            "event_msg",
            {"type": "token_count", "info": {"last_token_usage": {"output_tokens": -1}}},
        ),
        _record(
            "2026-03-05T09:00:09.000Z",
            "event_msg",
            {"type": "token_count", "info": {"total_token_usage": [1, 2]}},
        ),
        # turn contexts: model_name only, a model that is not a string, no cwd, odd cwd
        _record("2026-03-06T10:00:00.000Z", "turn_context", {"model_name": "o3", "cwd": 7}),
        _record("2026-03-06T10:00:01.000Z", "turn_context", {"model": 5, "cwd": "/w/sub"}),
        # a bad time on a read record: warned, the record still read
        _record(
            "2026-02-30T10:00:00.000Z",
            "event_msg",
            {"type": "token_count", "info": {"total_token_usage": _usage(900, 90)}},
        ),
        _record("2026-03-06T25:00:00.000Z", "turn_context", {"model": "gpt-5-mini"}),
        _record("2026-03-06T12:00:00+02:00", "turn_context", {"model": "gpt-5-nano"}),
        _record("2026-03-06T10:00:02.000Z", "compacted", {"message": "summary"}),
        # Codex >= 0.171 names the next call's response (read line by line, as a dict)
        _record(
            "2026-03-07T08:00:01.000Z",
            "token_usage_record",
            {"response_id": "resp_1", "usage": _usage(600, 60)},
        ),
        _record(
            "2026-03-07T08:00:02.000Z",
            "event_msg",
            {"type": "token_count", "info": {"total_token_usage": _usage(1500, 150)}},
        ),
    ]
    path = tmp_path / f"rollout-2026-03-05T09-00-00-{sid}.jsonl"
    path.write_text("\n".join(lines) + "\n")
    blocks: list[bool] = []
    read_block = Reader._block

    def spy(self: Reader, block: bytes) -> bool:
        blocks.append(read_block(self, block))
        return blocks[-1]

    with monkeypatch.context() as m:
        m.setattr(Reader, "_block", spy)
        _read(path)
    assert True in blocks  # the struct path was taken, not the per-line fallback
    offset, state, ended, model, cwd, warnings = _same_as_dict_parse(path, monkeypatch)
    assert offset == path.stat().st_size
    assert ended is not None and ended.isoformat() == "2026-03-07T08:00:02+00:00"
    assert (model, cwd) == ("gpt-5-nano", "/w/sub")
    assert any(w.startswith(f"{path}:8: ") and "event not counted" in w for w in warnings)
    assert any(w.startswith(f"{path}:13: ") and "is not a time" in w for w in warnings)
    assert ("response", "resp_1") in [tuple(call[0]) for call in state["calls"]]
    [session] = list(ADAPTER.scan([tmp_path], warn=lambda _line: None))
    # 100, +200 (300), last 200 (500), 900 is a step of 400, then 1500 is a step of 600
    assert [r.usage.output for r in session.requests] == [10, 20, 20, 40, 60]
    models = ["gpt-5", "gpt-5.1-codex", "gpt-5.2", "o3", "gpt-5-nano"]
    assert [r.model for r in session.requests] == models


def test_records_the_struct_does_not_fit_still_read_line_by_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sid = "019a0011-2222-7222-8222-222222222222"
    lines = [
        _record("2026-03-05T09:00:00.000Z", "session_meta", {"id": sid, "cwd": "/w"}),
        _record("2026-03-05T09:00:01.000Z", "turn_context", {"model": "gpt-5", "cwd": "/w"}),
        _record("2026-03-07T08:00:00.000Z", "turn_context", []),  # payload not an object
        _record("2026-03-07T08:00:01.000Z", "event_msg", None),  # payload null
        _record(
            "2026-03-07T08:00:02.000Z",
            "event_msg",
            {"type": "token_count", "info": {"total_token_usage": _usage(1500, 150)}},
        ),
    ]
    path = tmp_path / f"rollout-2026-03-05T09-00-00-{sid}.jsonl"
    path.write_text("\n".join(lines) + "\n")
    _offset, _state, ended, _model, _cwd, warnings = _same_as_dict_parse(path, monkeypatch)
    assert ended is not None and ended.isoformat() == "2026-03-07T08:00:02+00:00"
    assert [w.split(": ", 1)[0] for w in warnings if "not a Codex rollout record" in w] == [
        f"{path}:3",
        f"{path}:4",
    ]
