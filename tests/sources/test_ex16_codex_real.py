"""Codex 0.171.0's rollouts (issue 16): tokens exact in both tool modes, and a fork that
no longer copies its parent's lines counts every call of its own, once.

The files are the real ones Codex 0.171.0 wrote against a mock whose usage was known; each
response's usage is also in the file's `token_usage_record` lines (by `response_id`), which
is the truth the session is checked against here.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from costlog.models import Usage
from costlog.sources.codex.adapter import ADAPTER
from tests_support import FIXTURES_DIR

REAL = FIXTURES_DIR / "codex" / "real-0.171.0"
PARENT = "01a2336d-ce09-7df1-8e13-1fc282cb8d39"
FORK = "01a2336e-0000-7000-8000-000000000001"


def _truth(path: Path) -> list[Usage]:
    """Each response's usage from its token_usage_record, as costlog counts kinds."""
    out = []
    for line in path.read_text().splitlines():
        record = json.loads(line)
        if record.get("type") != "token_usage_record":
            continue
        u = record["payload"]["usage"]
        cached, written = u["cached_input_tokens"], u["cache_write_input_tokens"]
        out.append(
            Usage(
                input=u["input_tokens"] - cached - written,
                output=u["output_tokens"],
                cache_read=cached,
                cache_write_5m=written,
                reasoning=u["reasoning_output_tokens"],
            )
        )
    return out


@pytest.mark.parametrize(
    ("name", "model"),
    [
        ("code-mode.rollout.jsonl", "gpt-5.6-sol"),
        ("exec_command-mode.rollout.jsonl", "gpt-5.3-codex"),
    ],
)
def test_both_tool_modes_count_every_response_exactly_once(name: str, model: str) -> None:
    warnings: list[str] = []
    [session] = ADAPTER.scan([REAL / name], warn=warnings.append)
    assert warnings == []
    truth = _truth(REAL / name)
    assert len(truth) == 4
    assert [r.usage for r in session.requests] == truth
    assert {r.model for r in session.requests} == {model}


def _token_count(when: str, last: dict[str, int], total: dict[str, int]) -> dict[str, Any]:
    keys = ("input_tokens", "cached_input_tokens", "cache_write_input_tokens", "output_tokens")
    info = {
        "total_token_usage": {k: total.get(k, 0) for k in keys},
        "last_token_usage": {k: last.get(k, 0) for k in keys},
        "last_usage_includes_reasoning": True,
    }
    return {
        "timestamp": when,
        "type": "event_msg",
        "payload": {"type": "token_count", "info": info},
    }


def _fork_dir(tmp_path: Path) -> Path:
    """The real parent, and a fork as Codex 0.171 writes one: a session_meta naming the
    parent's history (not a copy of it), then its own calls, whose running totals start from
    the parent's total at the fork point. Its first call comes 0.4 s after the fork."""
    day = tmp_path / "sessions" / "2026" / "12" / "01"
    day.mkdir(parents=True)
    shutil.copy(
        REAL / "code-mode.rollout.jsonl", day / f"rollout-2026-12-01T21-06-03-{PARENT}.jsonl"
    )
    meta = json.loads((REAL / "code-mode.rollout.jsonl").read_text().splitlines()[0])
    meta["timestamp"] = "2026-12-01T21:07:00.000Z"
    meta["payload"].update(
        id=FORK,
        session_id=FORK,
        timestamp="2026-12-01T21:07:00.000Z",
        forked_from_id=PARENT,
        forked_from_ordinal_exclusive=23,
        history_base={"thread_id": PARENT, "ordinal_exclusive": 23},
    )
    base = {"input_tokens": 27_777, "cached_input_tokens": 15_360, "output_tokens": 999}
    first = {"input_tokens": 1_000, "cached_input_tokens": 500, "output_tokens": 50}
    second = {"input_tokens": 2_000, "cached_input_tokens": 1_000, "output_tokens": 60}
    after_first = {k: base[k] + first[k] for k in base}
    after_second = {k: after_first[k] + second[k] for k in base}
    lines = [
        meta,
        _token_count("2026-12-01T21:07:00.400Z", first, after_first),
        _token_count("2026-12-01T21:07:05.000Z", second, after_second),
    ]
    fork = day / f"rollout-2026-12-01T21-07-00-{FORK}.jsonl"
    fork.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return tmp_path / "sessions"


def test_a_fork_that_copies_nothing_counts_its_own_calls_once(tmp_path: Path) -> None:
    root = _fork_dir(tmp_path)
    for _ in range(2):  # read fresh, then from the read cache: the same
        sessions = {s.session_id: s for s in ADAPTER.scan([root], warn=lambda _m: None)}
        assert [r.usage for r in sessions[PARENT].requests] == _truth(
            REAL / "code-mode.rollout.jsonl"
        )
        # its own two calls, from last_token_usage: not the parent's running total
        assert [
            (r.usage.input, r.usage.cache_read, r.usage.output) for r in sessions[FORK].requests
        ] == [
            (500, 500, 50),
            (1_000, 1_000, 60),
        ]
