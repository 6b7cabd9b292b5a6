"""Claude Code grouping against ccusage's own Rust unit tests (issue 15, item 2), and the
cases where costlog counts differently from ccusage on purpose, each with its reason.

Fixture lines are rebuilt from ccusage's tests (rust/crates/ccusage/src/main.rs and
adapter/claude/mod.rs, 2026-06-13) in Claude Code's line format.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from claude_logs import assistant, scan, write

from costlog.models import Request, Usage
from costlog.pricing.requests import price_requests
from costlog.pricing.table import PriceTable

#: ccusage's keeps_most_complete_duplicate_usage_entry: a placeholder line and the complete one
PLACEHOLDER = {
    "timestamp": "2025-01-10T10:00:00.000Z",
    "message": {
        "id": "msg_123",
        "model": "claude-opus-4-6",
        "usage": {
            "input_tokens": 100,
            "output_tokens": 25,
            "cache_creation_input_tokens": 10,
            "cache_read_input_tokens": 5,
        },
    },
    "costUSD": 0.001,
}
COMPLETE = {
    "timestamp": "2025-01-10T10:00:01.000Z",
    "message": {
        "id": "msg_123",
        "model": "claude-opus-4-6",
        "usage": {
            "input_tokens": 100,
            "output_tokens": 250,
            "cache_creation_input_tokens": 10,
            "cache_read_input_tokens": 5,
            "speed": "standard",
        },
    },
    "costUSD": 0.01,
}


def only_request(tmp_path: Path, lines: list[dict[str, Any] | str]) -> Request:
    sessions, warnings = scan(write(tmp_path / "p" / "s.jsonl", lines))
    assert warnings == []
    [session] = sessions
    [request] = session.requests
    return request


def test_cost_usd_comes_from_the_complete_line_of_a_response(tmp_path: Path) -> None:
    for with_request_id in (True, False):  # ..._by_message_id_without_request_id as well
        lines = [dict(PLACEHOLDER), dict(COMPLETE)]
        if with_request_id:
            for line in lines:
                line["requestId"] = "req_456"
        request = only_request(tmp_path / str(with_request_id), list(lines))
        assert (request.usage.input, request.usage.output) == (100, 250)
        assert request.logged_cost_usd == Decimal("0.01")  # not the placeholder's 0.001
        _, cost, _ = price_requests([request], PriceTable.load())
        assert cost == Decimal("0.01")


def test_the_complete_line_wins_in_either_order(tmp_path: Path) -> None:
    request = only_request(tmp_path, [dict(COMPLETE), dict(PLACEHOLDER)])
    assert (request.usage.output, request.logged_cost_usd) == (250, Decimal("0.01"))


def test_spaced_json_lines_count(tmp_path: Path) -> None:
    """ccusage's fast path reads `"timestamp":"` without a space and skips a line written
    as `"timestamp": "` (its own test asserts so); it is the same JSON and costlog counts it."""
    spaced = json.dumps(COMPLETE)  # ", " and ": " separators
    assert '"timestamp": "' in spaced
    request = only_request(tmp_path, [spaced])
    assert (request.usage.input, request.usage.output) == (100, 250)


def test_a_sidechain_replay_of_a_message_keeps_the_main_thread_copy(tmp_path: Path) -> None:
    """keeps_parent_usage_when_sidechain_replays_message_with_new_request_id and
    refreshes_dedupe_indexes_when_parent_replaces_sidechain_replay: a `/btw` aside replays a
    message under a new requestId as a sidechain; the main thread's copy is the one billed,
    whichever comes first."""
    parent = assistant("msg-parent", "req-parent", out=10, stop="end_turn")
    parent["message"]["usage"].update(cache_read_input_tokens=20, cache_creation_input_tokens=0)
    parent["message"]["usage"]["cache_creation"] = {}
    replay = json.loads(json.dumps(parent))
    replay.update(requestId="req-sidechain-replay", isSidechain=True)
    replay["message"]["usage"]["cache_read_input_tokens"] = 50_000
    answer = assistant("msg-answer", "req-answer", out=30, stop="end_turn", isSidechain=True)
    answer["message"]["usage"].update(cache_read_input_tokens=700, cache_creation_input_tokens=0)
    answer["message"]["usage"]["cache_creation"] = {}
    for n, order in enumerate([[parent, replay, answer], [replay, parent, answer]]):
        sessions, _ = scan(write(tmp_path / str(n) / "p" / "s.jsonl", order))
        [session] = sessions
        assert sorted(r.usage.cache_read for r in session.requests) == [20, 700]


# ---------------------------------------------------------------- one line, several calls


def step(inp: int, cached: int, out: int, kind: str = "message", **more: Any) -> dict[str, Any]:
    return {
        "type": kind,
        "input_tokens": inp,
        "cache_read_input_tokens": cached,
        "cache_creation_input_tokens": 0,
        "output_tokens": out,
        **more,
    }


def advisor_turn(steps: list[dict[str, Any]], top: dict[str, int]) -> dict[str, Any]:
    return assistant(
        "msg_adv",
        "req_adv",
        out=top["output_tokens"],
        stop="end_turn",
        model="claude-sonnet-4-5",
        usage={
            "input_tokens": top["input_tokens"],
            "cache_read_input_tokens": top["cache_read_input_tokens"],
            "cache_creation_input_tokens": 0,
            "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
            "iterations": steps,
        },
    )


FIRST = step(5, 116_884, 300)  # a prompt of 116,889 tokens
SECOND = step(6, 117_544, 200)  # 117,550
ADVICE = step(900, 40, 310, "advisor_message", model="claude-opus-4-7")
SUM = {"input_tokens": 11, "cache_read_input_tokens": 234_428, "output_tokens": 500}


def test_executor_steps_are_priced_each_as_its_own_request(tmp_path: Path) -> None:
    """The top-level usage sums two executor steps of under 200k prompt tokens each; the
    long-context premium is per model call, so neither step pays it (234k as one request
    would)."""
    sessions, warnings = scan(
        write(tmp_path / "p" / "s.jsonl", [advisor_turn([FIRST, ADVICE, SECOND], SUM)])
    )
    assert warnings == []
    [session] = sessions
    got = [(r.model, r.usage.prompt_tokens, r.usage.output) for r in session.requests]
    assert sorted(got) == [
        ("claude-opus-4-7", 940, 310),
        ("claude-sonnet-4-5", 116_889, 300),
        ("claude-sonnet-4-5", 117_550, 200),
    ]
    assert {r.request_id for r in session.requests} == {"req_adv"}
    table = PriceTable.load()
    models, cost, rules = price_requests(session.requests, table)
    assert not any("long-context" in rule for rule in rules)
    day = date(2026, 11, 20)
    executor = [r for r in session.requests if r.model == "claude-sonnet-4-5"]
    each = sum(table.request_cost("claude-sonnet-4-5", r.usage, day) or 0 for r in executor)
    assert models["claude-sonnet-4-5"].cost_usd == each
    whole = Usage(input=11, cache_read=234_428, output=500)
    as_one = table.price("claude-sonnet-4-5", whole, day)
    assert as_one is not None and as_one[0] > each  # what pricing the sum as one request cost
    assert any("long-context" in rule for rule in as_one[1])
    assert cost is not None and cost > each


def test_steps_that_do_not_add_up_stay_one_request_as_logged(tmp_path: Path) -> None:
    """When the executor steps do not sum to the top-level counts the line says nothing
    reliable about the calls: the top-level counts stay one request, at the whole-request
    rule (Anthropic's: every token of a request over 200k at the premium)."""
    odd = step(6, 117_000, 200)  # 544 cache-read tokens short of the sum
    sessions, _ = scan(write(tmp_path / "p" / "s.jsonl", [advisor_turn([FIRST, odd], SUM)]))
    [session] = sessions
    [request] = session.requests
    assert request.usage.prompt_tokens == 234_439
    _, _, rules = price_requests([request], PriceTable.load())
    assert any("long-context rate (prompt > 200,000 tokens)" in rule for rule in rules)


def test_a_single_executor_step_changes_nothing(tmp_path: Path) -> None:
    one = step(11, 234_428, 500)
    sessions, _ = scan(write(tmp_path / "p" / "s.jsonl", [advisor_turn([one], SUM)]))
    [session] = sessions
    [request] = session.requests
    assert request.usage == Usage(input=11, cache_read=234_428, output=500)


def test_a_placeholder_only_response_is_estimated_not_taken_as_logged(tmp_path: Path) -> None:
    """ccusage bills the placeholder a line written before the stream ended carries (here
    8 output tokens for 1,000 characters of text); costlog takes max(logged, estimate) and
    marks the part above the logged count estimated, because the placeholder is only a
    lower bound of what was billed."""
    text = {"type": "text", "text": "a" * 1000}
    request = only_request(tmp_path, [assistant("m1", "r1", out=8, content=[text])])
    assert request.usage.output > 8
    assert request.estimated_output == request.usage.output - 8


def test_an_otel_event_for_a_split_call_replaces_all_its_steps(tmp_path: Path) -> None:
    """OpenTelemetry logs one api_request per call: its numbers replace the executor steps
    of that call together (never one step, leaving the other to count twice); the
    advisor's own request keeps its numbers."""
    from costlog.sources.claude import enrich
    from costlog.sources.claude.otel import ApiEvent

    sessions, _ = scan(
        write(tmp_path / "p" / "s.jsonl", [advisor_turn([FIRST, ADVICE, SECOND], SUM)])
    )
    [session] = sessions
    whole = Usage(input=11, cache_read=234_428, output=520)
    event = ApiEvent("claude-sonnet-4-5", whole, Decimal("0.85"), "s", "req_adv")
    fixed = enrich.reconcile(session, events=[event]).session
    got = sorted((r.model, r.usage.prompt_tokens, r.usage.output) for r in fixed.requests)
    assert got == [("claude-opus-4-7", 940, 310), ("claude-sonnet-4-5", 234_439, 520)]
    [executor] = [r for r in fixed.requests if r.model == "claude-sonnet-4-5"]
    assert executor.logged_cost_usd == Decimal("0.85")
    assert "1 of 2 transcript requests" in fixed.methods["otel"]  # the advisor: no event
    assert "output +20 tokens" in fixed.methods["otel"]
