"""Codex dedupe against the cases ccusage's own Rust unit tests assert (issue 15, item 2).

Each fixture is rebuilt from a test of ccusage's Codex loader (rust/crates/ccusage/src/
adapter/codex/loader.rs, 2026-06-13), in the rollout line format; the numbers asserted
are the ones that test asserts. costlog's `Usage.input` leaves out cached input, which
ccusage's `input_tokens` includes: "input with cache" below is `input + cache_read`.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from costlog.models import Session, Usage
from costlog.pricing.requests import price_requests
from costlog.pricing.table import PriceTable
from costlog.sources.codex.adapter import ADAPTER


def write(path: Path, *records: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def counts(i: int, c: int, o: int, r: int = 0) -> dict[str, int]:
    return {
        "input_tokens": i,
        "cached_input_tokens": c,
        "output_tokens": o,
        "reasoning_output_tokens": r,
        "total_tokens": i + o,
    }


def tokens(
    when: str,
    total: dict[str, int] | None = None,
    last: dict[str, int] | None = None,
    model: str | None = None,
) -> dict[str, Any]:
    info: dict[str, Any] = {}
    if last is not None:
        info["last_token_usage"] = last
    if total is not None:
        info["total_token_usage"] = total
    if model is not None:
        info["model"] = model
    return {
        "timestamp": when,
        "type": "event_msg",
        "payload": {"type": "token_count", "info": info},
    }


def turn(when: str, model: str) -> dict[str, Any]:
    return {"timestamp": when, "type": "turn_context", "payload": {"model": model}}


def meta(when: str, sid: str, parent: str | None = None) -> dict[str, Any]:
    payload: dict[str, Any] = {"id": sid}
    if parent is not None:
        payload["source"] = {"subagent": {"thread_spawn": {"parent_thread_id": parent}}}
    return {"timestamp": when, "type": "session_meta", "payload": payload}


def scan(root: Path) -> dict[str, Session]:
    warnings: list[str] = []
    found = {s.session_id: s for s in ADAPTER.scan([root], warn=warnings.append)}
    assert warnings == []
    return found


def with_cache(session: Session) -> list[tuple[int, int]]:
    """(input with cache, output) of each request, as ccusage counts them."""
    return [(r.usage.input + r.usage.cache_read, r.usage.output) for r in session.requests]


def subagent_file(path: Path, created: str, own: str, own_input: int, sid: str) -> Path:
    """A thread_spawn sub-agent: its session_meta, the parent's replayed session_meta and
    token rows (all at its creation time), then one call of its own."""
    return write(
        path,
        meta(created, sid, parent="parent"),
        meta(created, "parent"),
        tokens(created, total=counts(700, 70, 140), last=counts(700, 70, 140)),
        tokens(created, total=counts(1_000, 100, 200), last=counts(300, 30, 60)),
        tokens(own, total=counts(own_input, 0, 10), last=counts(own_input, 0, 10), model="gpt-5.2"),
    )


def test_thread_spawn_replay_is_skipped_when_the_parent_file_is_not_found(
    tmp_path: Path,
) -> None:
    """skips_replayed_parent_token_history_in_thread_spawn_subagent_files: the parent's file
    is there, but under another id than the sub-agent names, so only the sub-agent file's
    own structure shows the replay."""
    write(
        tmp_path / "2026-05-12T08-00-00-parent.jsonl",
        turn("2026-05-12T08:00:00.000Z", "gpt-5.2"),
        tokens("2026-05-12T08:01:00.000Z", counts(1_000, 100, 200), counts(1_000, 100, 200)),
        tokens("2026-05-12T08:02:00.000Z", counts(1_500, 150, 300), counts(500, 50, 100)),
    )
    write(
        tmp_path / "2026-05-12T08-03-00-subagent.jsonl",
        meta("2026-05-12T08:03:00.000Z", "subagent-abc", parent="parent-xyz"),
        meta("2026-05-12T08:03:00.000Z", "parent-xyz"),
        tokens("2026-05-12T08:03:00.000Z", counts(1_000, 100, 200), counts(1_000, 100, 200)),
        tokens("2026-05-12T08:03:00.000Z", counts(1_500, 150, 300), counts(500, 50, 100)),
        tokens(
            "2026-05-12T08:04:00.000Z", counts(100, 10, 20), counts(100, 10, 20), model="gpt-5.2"
        ),
        tokens("2026-05-12T08:05:00.000Z", counts(150, 15, 30), counts(50, 5, 10)),
    )
    sessions = scan(tmp_path)
    assert with_cache(sessions["2026-05-12T08-00-00-parent"]) == [(1_000, 200), (500, 100)]
    sub = sessions["subagent-abc"]
    assert with_cache(sub) == [(100, 20), (50, 10)]
    assert sub.requests[0].usage == Usage(input=90, cache_read=10, output=20)


def test_a_total_only_replay_still_sets_the_baseline(tmp_path: Path) -> None:
    """keeps_cumulative_baseline_when_skipping_subagent_replay: 100 input with cache, not
    the 1,600 of the running total."""
    write(
        tmp_path / "2026-05-12T08-03-00-subagent.jsonl",
        meta("2026-05-12T08:03:00.000Z", "subagent-abc", parent="parent-xyz"),
        tokens("2026-05-12T08:03:00.000Z", counts(1_000, 100, 200)),
        tokens("2026-05-12T08:03:00.000Z", counts(1_500, 150, 300)),
        tokens("2026-05-12T08:04:00.000Z", counts(1_600, 160, 320), model="gpt-5.2"),
    )
    [session] = scan(tmp_path).values()
    assert with_cache(session) == [(100, 20)]
    assert session.requests[0].usage == Usage(input=90, cache_read=10, output=20)


def test_several_sub_agents_each_skip_the_replay(tmp_path: Path) -> None:
    """skips_replayed_history_across_multiple_subagent_files: 1,150 input in all (1,000 of
    the parent and 50 + 75 + 25 of the sub-agents), not 3,150."""
    write(
        tmp_path / "2026-05-12T08-01-00-parent.jsonl",
        tokens(
            "2026-05-12T08:01:00.000Z",
            counts(1_000, 100, 200),
            counts(1_000, 100, 200),
            model="gpt-5.2",
        ),
    )
    for name, created, own, size in [
        ("a", "2026-05-12T08:02:00.000Z", "2026-05-12T08:04:00.000Z", 50),
        ("b", "2026-05-12T08:06:00.000Z", "2026-05-12T08:08:00.000Z", 75),
        ("c", "2026-05-12T08:10:00.000Z", "2026-05-12T08:12:00.000Z", 25),
    ]:
        subagent_file(
            tmp_path / f"2026-05-12T{created[11:13]}-sub-{name}.jsonl",
            created,
            own,
            size,
            "subagent",
        )
    sessions = scan(tmp_path)
    pairs = [pair for s in sessions.values() for pair in with_cache(s)]
    assert sorted(pairs) == [(25, 10), (50, 10), (75, 10), (1_000, 200)]
    assert sum(i for i, _ in pairs) == 1_150


def test_copied_branch_history_counts_once(tmp_path: Path) -> None:
    """dedupes_copied_branch_history_across_session_files: a branch file that begins with
    the parent's lines as they were (same times) counts only what it added."""
    parent = [
        turn("2026-05-12T08:00:00.000Z", "gpt-5.2"),
        tokens("2026-05-12T08:01:00.000Z", counts(1_000, 100, 200, 20)),
    ]
    write(tmp_path / "2026-05-12T08-00-00-parent.jsonl", *parent)
    write(
        tmp_path / "2026-05-12T08-02-00-branch.jsonl",
        *parent,
        tokens("2026-05-12T08:02:00.000Z", counts(1_600, 300, 450, 40)),
    )
    sessions = scan(tmp_path)
    [first] = sessions["2026-05-12T08-00-00-parent"].requests
    assert first.usage == Usage(input=900, cache_read=100, output=200, reasoning=20)
    [added] = sessions["2026-05-12T08-02-00-branch"].requests
    # ccusage: 600 input with cache (200 cached), 250 output, 20 reasoning
    assert added.usage == Usage(input=400, cache_read=200, output=250, reasoning=20)


def test_identical_events_in_two_files_count_once(tmp_path: Path) -> None:
    """dedupes_matching_codex_usage_events_from_distinct_sessions: 1,000 tokens, not 2,000;
    the event stays with the first session."""
    lines = [
        turn("2026-01-02T00:00:00.000Z", "gpt-5"),
        tokens("2026-01-02T00:00:00.000Z", counts(100, 10, 50), counts(100, 10, 50)),
    ]
    for name in ("session-a", "session-b"):
        write(tmp_path / f"{name}.jsonl", *lines)
    sessions = scan(tmp_path)
    assert with_cache(sessions["session-a"]) == [(100, 50)]
    assert sessions["session-b"].requests == []


def test_a_replay_with_last_usage_of_a_total_only_parent_is_the_parents(
    tmp_path: Path,
) -> None:
    """A parent whose rows carry only `total_token_usage`, and a fork whose replay of them
    also carries `last_token_usage` (written late, so only the numbers tell): one event."""
    write(
        tmp_path / "parent.jsonl",
        meta("2026-05-12T08:00:00.000Z", "p"),
        turn("2026-05-12T08:00:01.000Z", "gpt-5.2"),
        tokens("2026-05-12T08:01:00.000Z", counts(1_000, 100, 200)),
        tokens("2026-05-12T08:02:00.000Z", counts(1_500, 150, 300)),
    )
    fork = meta("2026-05-12T09:00:00.000Z", "f")
    fork["payload"]["forked_from_id"] = "p"
    write(
        tmp_path / "fork.jsonl",
        fork,
        turn("2026-05-12T09:00:05.000Z", "gpt-5.2"),
        tokens("2026-05-12T09:00:05.000Z", counts(1_000, 100, 200), counts(1_000, 100, 200)),
        tokens("2026-05-12T09:00:05.000Z", counts(1_500, 150, 300), counts(500, 50, 100)),
        tokens("2026-05-12T09:05:00.000Z", counts(1_700, 170, 340), counts(200, 20, 40)),
    )
    sessions = scan(tmp_path)
    assert with_cache(sessions["p"]) == [(1_000, 200), (500, 100)]
    assert with_cache(sessions["f"]) == [(200, 40)]


def test_an_event_without_a_model_takes_the_last_named_one(tmp_path: Path) -> None:
    """No turn_context: the second event is gpt-5.2's, as the first said, not gpt-5's."""
    write(
        tmp_path / "run.jsonl",
        meta("2026-05-12T08:00:00.000Z", "m"),
        tokens("2026-05-12T08:01:00.000Z", counts(100, 0, 10), model="gpt-5.2"),
        tokens("2026-05-12T08:02:00.000Z", counts(300, 0, 30)),
    )
    session = scan(tmp_path)["m"]
    assert [r.model for r in session.requests] == ["gpt-5.2", "gpt-5.2"]
    assert "model" not in session.methods  # nothing assumed


@pytest.mark.parametrize(
    ("day", "served_by"),
    [
        ("2025-12-11", "gpt-5.2-codex"),
        ("2026-02-05", "gpt-5.3-codex"),
        ("2026-03-05", "gpt-5.4"),
        ("2026-04-23", "gpt-5.5"),
        ("2026-11-30", "gpt-5.5"),
    ],
)
def test_codex_auto_review_is_priced_as_the_model_serving_it_that_day(
    tmp_path: Path, day: str, served_by: str
) -> None:
    """resolves_codex_auto_review_to_latest_model_for_event_date / ..._turn_context_for_each_
    event_date: priced, at the rates of the model serving it on the event's date."""
    write(
        tmp_path / "review.jsonl",
        meta(f"{day}T00:00:00.000Z", "r"),
        turn(f"{day}T00:00:00.000Z", "codex-auto-review"),
        tokens(f"{day}T00:01:00.000Z", last=counts(20_000, 5_000, 1_000)),
    )
    [request] = scan(tmp_path)["r"].requests
    assert request.model == "codex-auto-review"
    table = PriceTable.load()
    models, cost, _ = price_requests([request], table)
    assert cost is not None and cost > 0
    assert cost == table.request_cost(served_by, request.usage, date.fromisoformat(day))
    assert set(models) == {"codex-auto-review"}
