"""Claude Code reader: one transcript's lines, their counts and what a bad line costs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from claude_logs import REAL, TEXT_BLOCK, THINK, C, D, assistant, expand, outputs, scan, user, write

from costlog.sources import _lines


def test_output_rules_per_version_shape(tmp_path: Path) -> None:
    """>= 2.1.97 repeats the final usage on every line: never summed, taken once.
    Opus 4.7 and later use the new-tokenizer weights for placeholder estimates."""
    final = [
        assistant("m1", "r1", out=135, stop="tool_use", content=[b])
        for b in (
            THINK,
            TEXT_BLOCK,
            {"type": "tool_use", "id": "t", "name": "Read", "input": {"file_path": "/a"}},
        )
    ]
    details = assistant(
        "m2", "r2", out=200, usage={"output_tokens_details": {"thinking_tokens": 49}}
    )
    placeholder47 = assistant(
        "m3", "r3", out=3, model="claude-opus-4-7", content=[THINK, TEXT_BLOCK]
    )
    logged_wins = assistant("m4", "r4", out=900, content=[{"type": "text", "text": "hi"}])
    path = write(tmp_path / "p" / "x.jsonl", [*final, details, placeholder47, logged_wins])
    session = scan(path)[0][0]
    assert outputs(session) == [135, 200, 590, 900]
    assert [r.usage.reasoning for r in session.requests] == [0, 49, 0, 0]
    assert [r.estimated_output for r in session.requests] == [0, 0, 587, 0]
    assert session.methods["output"].startswith("2 of 4 responses")


def test_a_later_line_with_a_larger_count_still_wins(tmp_path: Path) -> None:
    """Lines after a final one are skipped unparsed only when they cannot change anything."""
    lines = [
        assistant("m1", "r1", out=100, stop="tool_use", content=[TEXT_BLOCK]),
        assistant("m1", "r1", out=100, stop="tool_use", content=[TEXT_BLOCK]),
        assistant("m1", "r1", out=150, stop="tool_use", content=[TEXT_BLOCK]),
        assistant("m1", "r1", out=150, stop="tool_use", usage={"speed": "fast"}),
    ]
    session = scan(write(tmp_path / "p" / "x.jsonl", lines))[0][0]
    assert outputs(session) == [150]
    assert session.requests[0].speed == "fast"


def test_advisor_iterations_are_requests_of_their_own(tmp_path: Path) -> None:
    step = {"type": "message", "input_tokens": 5, "output_tokens": 120}
    advice = {
        "type": "advisor_message",
        "model": "claude-opus-4-7",
        "input_tokens": 900,
        "output_tokens": 310,
        "cache_read_input_tokens": 40,
        "cache_creation_input_tokens": 0,
    }
    lines = [
        assistant(
            "m1",
            "r1",
            out=120,
            stop="tool_use",
            content=[TEXT_BLOCK],
            usage={"iterations": [step, advice]},
        ),
        assistant(
            "m1",
            "r1",
            out=120,
            stop="tool_use",
            content=[TEXT_BLOCK],
            usage={"iterations": [step, advice]},
        ),
    ]
    session = scan(write(tmp_path / "p" / "x.jsonl", lines))[0][0]
    assert [
        (r.model, r.usage.input, r.usage.output, r.usage.cache_read, r.request_id)
        for r in session.requests
    ] == [("claude-sonnet-4-6", 5, 120, 20000, "r1"), ("claude-opus-4-7", 900, 310, 40, "r1")]


def test_corrupt_and_truncated_lines_cost_only_themselves(tmp_path: Path) -> None:
    path = tmp_path / "p" / "bad.jsonl"
    write(path, [C, '{"message": {"usage": {"input_tokens": 1, "output', D, '["usage"]'])
    with open(path, "a", encoding="utf-8") as out:
        out.write('{"type":"assistant","message":{"usage":{"input_tok')  # being written
    session, warnings = scan(path)
    assert outputs(session[0]) == [77, 55]
    assert len(warnings) == 3
    assert warnings[0].startswith(f"{path}:2: corrupt line")
    assert warnings[1] == f"{path}:4: not a JSON object"
    assert warnings[2] == f"{path}:5: truncated last line (no newline), skipped"


@pytest.mark.parametrize(
    ("usage", "reason"),
    [
        ({"output_tokens": -5}, "output_tokens=-5 is out of range"),
        ({"input_tokens": 10**12}, "input_tokens=1000000000000 is out of range"),
        ({"cache_read_input_tokens": "12"}, "cache_read_input_tokens is a str, not a token count"),
        ({"output_tokens": 1.5}, "output_tokens is a float, not a token count"),
        (
            {"cache_creation": {"ephemeral_1h_input_tokens": -1}},
            "ephemeral_1h_input_tokens=-1 is out of range",
        ),
    ],
)
def test_bad_token_counts_are_rejected(tmp_path: Path, usage: dict[str, Any], reason: str) -> None:
    bad = assistant("m9", "r9", out=10, stop="end_turn", usage=usage)
    path = write(tmp_path / "p" / "x.jsonl", [bad, C])
    sessions, warnings = scan(path)
    assert outputs(sessions[0]) == [77]
    assert warnings == [f"{path}:1: rejected usage: {reason}"]


def test_an_over_long_line_is_skipped_unread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_lines, "MAX_LINE", 1000)
    big = user("x" * 5000)
    path = write(tmp_path / "p" / "x.jsonl", [C, big, D])
    sessions, warnings = scan(path)
    assert outputs(sessions[0]) == [77, 55]
    size = len(json.dumps(big, separators=(",", ":"))) + 1
    assert warnings == [f"{path}:2: line of {size:,} bytes is too long to hold usage, skipped"]


@pytest.mark.parametrize(
    ("name", "expected", "estimated"),
    [
        # 2.1.119: every line carries the final usage -> taken once per response, never summed
        (
            "ElixirTrials_rune__2.1.119__full.jsonl.excerpt.jsonl",
            [298, 630, 8049, 226, 2034, 2363],
            [0, 0, 0, 0, 0, 0],
        ),
        # 2.1.39: no response has a final count -> all estimated from content
        (
            "FSM1_cipher-box__2.1.39__full.jsonl.excerpt.jsonl",
            [710, 395, 332, 1374, 2652, 474],
            [700, 387, 324, 1366, 2627, 473],
        ),
        # 2.1.220 sub-agent transcript: final on the last line
        (
            "bg002h_bitcoin_tax__2.1.220__CONSULT-architect-fable.md.excerpt.jsonl",
            [81, 157, 708, 199, 317, 171],
            [0, 0, 0, 0, 0, 0],
        ),
    ],
)
def test_real_excerpts(
    tmp_path: Path, name: str, expected: list[int], estimated: list[int]
) -> None:
    session = scan(expand(REAL / name, tmp_path / "p" / name))[0][0]
    assert outputs(session) == expected
    assert [r.estimated_output for r in session.requests] == estimated
