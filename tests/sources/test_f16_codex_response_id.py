"""Codex 0.171's `token_usage_record.response_id` names each call (issue 16 review). A fork
of that version copies nothing and its running total continues from its parent's, so its
first call can carry the very total of a call its parent made after the fork (same size):
by the total alone, the fork's call would be taken for the parent's and dropped.

The parent is the real Codex 0.171.0 code-mode rollout (tests/fixtures/codex/real-0.171.0);
the fork, started between its third and fourth responses, makes one call the size of the
parent's fourth, in the line shapes that version writes.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from costlog.models import Session, Usage
from costlog.sources.codex.adapter import ADAPTER
from tests_support import FIXTURES_DIR

PARENT_FILE = FIXTURES_DIR / "codex" / "real-0.171.0" / "code-mode.rollout.jsonl"
PARENT = "01a2336d-ce09-7df1-8e13-1fc282cb8d39"
FORK = "01a2336d-ffff-7df1-8e13-1fc282cb8d39"
FOURTH = {  # the parent's fourth response (resp_mock_004)
    "input_tokens": 19876,
    "cached_input_tokens": 15360,
    "cache_write_input_tokens": 0,
    "output_tokens": 234,
    "reasoning_output_tokens": 32,
    "total_tokens": 20110,
}
FINAL_TOTAL = {  # the parent's running total after it
    "input_tokens": 64664,
    "cached_input_tokens": 44032,
    "cache_write_input_tokens": 3072,
    "output_tokens": 1688,
    "reasoning_output_tokens": 480,
    "total_tokens": 66352,
}


def _fork_lines() -> list[dict[str, Any]]:
    meta = {
        "id": FORK,
        "session_id": FORK,
        "timestamp": "2026-12-01T21:06:06.950Z",
        "cwd": "/tmp/costlog-kit/cxreal/out/B/repo",
        "cli_version": "0.171.0",
        "forked_from_id": PARENT,
        "forked_from_ordinal_exclusive": 30,
        "history_base": {"thread_id": PARENT, "ordinal": 30},
    }
    return [
        {"timestamp": "2026-12-01T21:06:06.950Z", "type": "session_meta", "payload": meta},
        {
            "timestamp": "2026-12-01T21:06:07.500Z",
            "type": "turn_context",
            "payload": {"model": "gpt-5.6-sol", "cwd": meta["cwd"]},
        },
        {
            "timestamp": "2026-12-01T21:06:07.600Z",
            "type": "token_usage_record",
            "payload": {"session_id": FORK, "response_id": "resp_fork_001", "usage": FOURTH},
        },
        {
            "timestamp": "2026-12-01T21:06:07.601Z",
            "type": "event_msg",
            "payload": {
                "type": "token_count",
                "info": {"total_token_usage": FINAL_TOTAL, "last_token_usage": FOURTH},
            },
        },
    ]


def _write(path: Path, lines: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))


def _scan(folder: Path) -> dict[str, Session]:
    return {s.session_id: s for s in ADAPTER.scan([folder], warn=lambda _m: None)}


def _sum(session: Session) -> Usage:
    out = Usage()
    for request in session.requests:
        out.add(request.usage)
    return out


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "sessions"
    folder.mkdir()
    shutil.copy(PARENT_FILE, folder / f"rollout-2026-12-01T21-06-03-{PARENT}.jsonl")
    return folder


def test_a_fork_call_the_size_of_a_later_parent_call_is_counted(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    alone = _sum(_scan(folder)[PARENT])
    _write(folder / f"rollout-2026-12-01T21-06-06-{FORK}.jsonl", _fork_lines())
    found = _scan(folder)
    assert len(found[PARENT].requests) == 4
    assert _sum(found[PARENT]) == alone  # the parent's own, unchanged
    [call] = found[FORK].requests  # not dropped as the parent's fourth
    assert call.usage == Usage(input=19876 - 15360, cache_read=15360, output=234, reasoning=32)


def test_the_id_holds_when_its_token_count_is_written_after_a_scan(tmp_path: Path) -> None:
    """A scan between the record and its token_count: the per-file cache keeps the id."""
    folder = _folder(tmp_path)
    fork = folder / f"rollout-2026-12-01T21-06-06-{FORK}.jsonl"
    lines = _fork_lines()
    _write(fork, lines[:-1])
    assert _scan(folder)[FORK].requests == []
    _write(fork, lines)  # the file grew: read on from where the cache stopped
    found = _scan(folder)
    assert len(found[FORK].requests) == 1
    assert len(found[PARENT].requests) == 4
