"""Codex CLI rollouts: the numbers a user sees for each hard case in the format.

Fixtures under tests/fixtures/codex: `real/` holds public sample files (see SOURCES.txt);
`home/` is a CODEX_HOME built in the real line format with one parent session (re-emitted
events, `info: null`, a total-only row, a corrupt, a truncated and two invalid lines, an
apply_patch and a `git commit`), a fork of it that replays its history, a sub-agent it
spawned, and archived copies.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from costlog.models import Session, Usage
from costlog.pricing.requests import price_requests
from costlog.pricing.table import PriceTable
from costlog.sources.codex.adapter import ADAPTER
from tests_support import FIXTURES_DIR

FIXTURES = FIXTURES_DIR / "codex"
HOME = FIXTURES / "home"
REAL = FIXTURES / "real"
A = "019a0001-aaaa-7aaa-8aaa-aaaaaaaaaaaa"  # parent
B = "019a0002-bbbb-7bbb-8bbb-bbbbbbbbbbbb"  # fork of A
C = "019a0003-cccc-7ccc-8ccc-cccccccccccc"  # sub-agent of A
A_FILE = HOME / "sessions/2026/03/05" / f"rollout-2026-03-05T09-00-00-{A}.jsonl"
B_FILE = HOME / "sessions/2026/03/05" / f"rollout-2026-03-05T10-00-00-{B}.jsonl"


def scan(*roots: Path, **kwargs: object) -> tuple[dict[str, Session], list[str]]:
    warnings: list[str] = []
    found = ADAPTER.scan(list(roots), warn=warnings.append, **kwargs)  # type: ignore[arg-type]
    return {s.session_id: s for s in found}, warnings


def total(session: Session, *, subagent: bool | None = None) -> Usage:
    out = Usage()
    for request in session.requests:
        if subagent is None or request.subagent == subagent:
            out.add(request.usage)
    return out


def home_roots() -> list[Path]:
    return ADAPTER.default_roots({"CODEX_HOME": str(HOME)}, Path("/nonexistent"))


# ------------------------------------------------------------------ real samples


def test_real_harness_recall_simple() -> None:
    sessions, warnings = scan(REAL / "harness-recall__codex_simple.jsonl")
    session = sessions["019cbc4c-568c-7b81-9812-3515e63daa70"]
    assert warnings == []
    assert session.cwd == "/Users/dev/project"
    assert session.branch == "main"
    assert session.first_prompt == "Can you fix the auth bug in login.py?"
    assert session.started == datetime(2026, 3, 5, 4, 40, 45, 455000, tzinfo=UTC)
    assert session.ended == datetime(2026, 3, 5, 4, 43, 0, 200000, tzinfo=UTC)
    [request] = session.requests
    assert request.model == "gpt-5.3-codex"
    # 50,000 input of which 40,000 cached; 2,000 output of which 500 reasoning
    assert request.usage == Usage(input=10_000, cache_read=40_000, output=2_000, reasoning=500)


def test_real_harness_recall_with_tools() -> None:
    sessions, warnings = scan(REAL / "harness-recall__codex_with_tools.jsonl")
    session = sessions["019cd000-1111-2222-3333-444444444444"]
    assert warnings == []
    assert session.cwd == "/Users/dev/app"
    assert [r.usage for r in session.requests] == [
        Usage(input=2_000, cache_read=8_000, output=500, reasoning=100)
    ]
    assert session.edited_files == set()  # `ls -la` edits nothing
    assert session.tool_output_refs == set()


def test_real_harness_recall_subagent_without_parent_stands_alone() -> None:
    sessions, warnings = scan(REAL / "harness-recall__codex_subagent.jsonl")
    session = sessions["019d6555-sub1-sub1-sub1-sub1sub1sub1"]
    assert warnings == []
    assert session.requests == []  # the sample has no token_count events
    assert session.first_prompt == "Explore the codebase structure"
    assert session.subagents == 0


def test_real_ccusage_fixture_model_per_event_and_no_session_meta() -> None:
    sessions, warnings = scan(REAL / "ccusage__session-alpha.jsonl")
    session = sessions["ccusage__session-alpha"]  # no session_meta: named after the file
    assert warnings == []
    assert session.cwd is None
    assert [(r.model, r.usage) for r in session.requests] == [
        ("gpt-5.2-codex", Usage(input=750, cache_read=250, output=125, reasoning=75)),
        # `info.model` on the event overrides the last turn_context
        ("gpt-5.3-codex", Usage(input=2_000, cache_read=500, output=300, reasoning=200)),
    ]


def test_real_samples_together() -> None:
    sessions, warnings = scan(REAL)
    assert warnings == []
    assert len(sessions) == 4
    assert sum(len(s.requests) for s in sessions.values()) == 4


# ------------------------------------------------------------------ the built CODEX_HOME


def test_parent_session_counts_each_call_once() -> None:
    sessions, _ = scan(*home_roots())
    parent = sessions[A]
    own = [r for r in parent.requests if not r.subagent]
    # call 1 (re-emitted once: counted once), call 2, and the step of the total-only row;
    # `info: null`, the corrupt, truncated, negative and non-numeric rows count nothing
    assert [r.usage for r in own] == [
        Usage(input=2_000, cache_read=8_000, output=500, reasoning=100),
        Usage(input=2_000, cache_read=10_000, output=800, reasoning=300),
        Usage(input=2_000, cache_read=6_000, output=200, reasoning=50),
    ]
    assert total(parent, subagent=False) == Usage(
        input=6_000, cache_read=24_000, output=1_500, reasoning=450
    )
    # the sum matches the parent's own final running total (30,000 in, 24,000 cached)
    assert all(r.model == "gpt-5.3-codex" for r in own)


def test_bad_lines_are_warned_one_line_each_and_the_rest_counts() -> None:
    _, warnings = scan(A_FILE)
    assert warnings == [
        f"{A_FILE}:13: corrupt line (not JSON: Invalid control character at), skipped",
        f"{A_FILE}:14: invalid input_tokens -5, event not counted",
        f"{A_FILE}:15: invalid input_tokens '100', event not counted",
        f"{A_FILE}:18: truncated last line (not JSON: Expecting ',' delimiter), skipped",
    ]


def test_parent_session_metadata_and_attribution_facts() -> None:
    sessions, _ = scan(*home_roots(), use_cache=False)
    parent = sessions[A]
    assert parent.cwd == "/work/proj"
    assert parent.branch == "feature/WRK-12"
    assert parent.started == datetime(2026, 3, 5, 9, 0, tzinfo=UTC)
    assert parent.ended == datetime(2026, 3, 5, 9, 16, tzinfo=UTC)
    assert parent.first_prompt == "Fix WRK-12: login rejects valid tokens"
    assert parent.edited_files == {"/work/proj/src/login.py", "/work/proj/tests/test_login.py"}
    assert parent.tool_output_refs == {"1a2b3c4", "Fix login token check"}


def test_subagent_rolls_up_into_its_parent() -> None:
    sessions, _ = scan(*home_roots())
    assert C not in sessions
    parent = sessions[A]
    assert parent.subagents == 1
    [sub] = [r for r in parent.requests if r.subagent]
    assert sub.model == "gpt-5.1-codex-mini"
    assert sub.usage == Usage(input=3_000, cache_read=1_000, output=300)
    assert len(parent.requests) == 4
    assert any(p.endswith(f"{C}.jsonl") for p in parent.paths)


def test_fork_counts_only_its_own_calls() -> None:
    sessions, _ = scan(*home_roots(), use_cache=False)
    fork = sessions[B]
    # the replayed parent history (3 calls, a re-emission, tool calls, the prompt) is A's
    assert [r.usage for r in fork.requests] == [
        Usage(input=3_000, cache_read=28_000, output=700, reasoning=200)
    ]
    assert fork.first_prompt == "Now add a regression test"
    assert fork.edited_files == {"/work/proj/tests/test_regress.py"}
    assert fork.tool_output_refs == set()  # the parent's commit stays with the parent
    assert sessions[A].tool_output_refs == {"1a2b3c4", "Fix login token check"}


def test_fork_dedupe_does_not_depend_on_file_order(tmp_path: Path) -> None:
    # the fork's file sorts first (and is read first) here
    day = tmp_path / "sessions" / "2026" / "01" / "01"
    day.mkdir(parents=True)
    shutil.copy(B_FILE, day / "a-fork.jsonl")
    shutil.copy(A_FILE, day / "z-parent.jsonl")
    sessions, _ = scan(tmp_path)
    assert len(sessions[B].requests) == 1
    assert len(sessions[A].requests) == 3


def test_fork_file_alone_finds_its_parent_in_its_codex_home() -> None:
    # a hook hands over just the fork's transcript path: its CODEX_HOME is searched
    sessions, _ = scan(B_FILE)
    assert set(sessions) == {B}
    assert len(sessions[B].requests) == 1


def test_fork_without_its_parent_counts_only_its_own_calls(tmp_path: Path) -> None:
    # outside any CODEX_HOME the parent's file is not there: the replay is known from the
    # fork's own file (its rows written within a second of its session_meta) and is the
    # parent's usage, not the fork's; the fork's own call steps from the replayed total
    alone = tmp_path / B_FILE.name
    shutil.copy(B_FILE, alone)
    sessions, _ = scan(alone)
    assert total(sessions[B]) == Usage(input=3_000, cache_read=28_000, output=700, reasoning=200)


def test_parent_file_alone_still_rolls_up_its_subagent() -> None:
    sessions, _ = scan(A_FILE)
    assert set(sessions) == {A}
    assert sessions[A].subagents == 1


def test_archived_copies_are_not_counted_twice() -> None:
    sessions, _ = scan(*home_roots())
    assert set(sessions) == {A, B}
    # A's archived copy has the same relative path: skipped; B's (other day) is deduped
    assert not any("archived_sessions" in p for p in sessions[A].paths)
    assert len(sessions[B].paths) == 2
    assert len(sessions[B].requests) == 1


def test_history_file_is_not_read_as_a_rollout() -> None:
    _, warnings = scan(HOME)  # CODEX_HOME itself as the root
    assert not any("history.jsonl" in w for w in warnings)


def test_costs_a_user_sees() -> None:
    sessions, _ = scan(*home_roots())
    table = PriceTable.load()
    models, cost, _ = price_requests(sessions[A].requests, table)
    # gpt-5.3-codex $1.75 in / $0.175 cached / $14 out per MTok; mini $0.25 / $0.025 / $2
    assert models["gpt-5.3-codex"].cost_usd == Decimal("0.0357")
    assert models["gpt-5.1-codex-mini"].cost_usd == Decimal("0.001375")
    assert cost == Decimal("0.037075")


def test_missing_model_falls_back_to_gpt5_and_says_so() -> None:
    sessions, _ = scan(FIXTURES / "nomodel")
    [session] = sessions.values()
    assert [r.model for r in session.requests] == ["gpt-5"]
    assert session.methods == {"model": "gpt-5 assumed: the log names no model"}


# ------------------------------------------------------------------ filters and lookup


def test_project_filter() -> None:
    inside, _ = scan(*home_roots(), project=Path("/work/proj"))
    elsewhere, _ = scan(*home_roots(), project=Path("/work/other"))
    assert set(inside) == {A, B}
    assert elsewhere == {}


def test_since_filter_drops_older_sessions() -> None:
    after, _ = scan(*home_roots(), since=datetime(2026, 3, 5, 9, 30, tzinfo=UTC))
    assert set(after) == {B}


def test_find_session_by_id_and_by_subagent_id() -> None:
    roots = home_roots()
    found = ADAPTER.find_session(roots, B, warn=lambda _m: None)
    assert found is not None and len(found.requests) == 1
    parent = ADAPTER.find_session(roots, C, warn=lambda _m: None)
    assert parent is not None and parent.session_id == A
    assert ADAPTER.find_session(roots, "no-such-id", warn=lambda _m: None) is None


def test_default_roots_honour_codex_home(tmp_path: Path) -> None:
    assert ADAPTER.default_roots({}, tmp_path) == [
        tmp_path / ".codex" / "sessions",
        tmp_path / ".codex" / "archived_sessions",
    ]
    assert ADAPTER.default_roots({"CODEX_HOME": "/x"}, tmp_path)[0] == Path("/x/sessions")


# ------------------------------------------------------------------ small rules


def _rollout(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "rollout-2026-01-01T00-00-00-0199aaaa-0000-7000-8000-000000000001.jsonl"
    head = (
        '{"timestamp":"2026-01-01T00:00:00Z","type":"session_meta","payload":'
        '{"id":"s1","cwd":"/w","timestamp":"2026-01-01T00:00:00Z"}}'
    )
    path.write_text("\n".join([head, *lines]) + "\n")
    return path


def _tc(info: str, ts: str = "2026-01-01T00:01:00Z") -> str:
    payload = '{"type":"token_count","info":' + info + "}"
    return json.dumps({"timestamp": ts, "type": "event_msg"})[:-1] + ',"payload":' + payload + "}"


def test_total_only_rows_count_steps(tmp_path: Path) -> None:
    path = _rollout(
        tmp_path,
        _tc('{"total_token_usage":{"input_tokens":14749,"total_tokens":14749}}'),
        _tc('{"total_token_usage":{"input_tokens":14749,"total_tokens":14749}}'),  # again
        _tc(
            '{"total_token_usage":{"input_tokens":34749,"cached_input_tokens":14000,'
            '"output_tokens":300,"total_tokens":35049}}'
        ),
    )
    sessions, warnings = scan(path)
    assert warnings == []
    assert [r.usage for r in sessions["s1"].requests] == [
        Usage(input=14_749),
        Usage(input=6_000, cache_read=14_000, output=300),
    ]


def test_info_null_counts_nothing(tmp_path: Path) -> None:
    sessions, warnings = scan(_rollout(tmp_path, _tc("null")))
    assert warnings == [] and sessions["s1"].requests == []


def test_cache_write_tokens_are_split_out(tmp_path: Path) -> None:
    path = _rollout(
        tmp_path,
        _tc(
            '{"last_token_usage":{"input_tokens":1000,"cached_input_tokens":600,'
            '"cache_write_input_tokens":300,"output_tokens":50}}'
        ),
    )
    sessions, _ = scan(path)
    assert sessions["s1"].requests[0].usage == Usage(
        input=100, cache_read=600, cache_write_5m=300, output=50
    )


@pytest.mark.parametrize("bad", ["1.5", "true", "-1", "null", "100000000000", '"7"'])
def test_bad_counts_are_rejected(tmp_path: Path, bad: str) -> None:
    info = '{"last_token_usage":{"input_tokens":' + bad + ',"output_tokens":1}}'
    path = _rollout(tmp_path, _tc(info))
    sessions, warnings = scan(path)
    assert sessions["s1"].requests == []
    assert len(warnings) == 1 and warnings[0].startswith(f"{path}:2: invalid input_tokens")


def test_other_formats_are_skipped_with_one_warning(tmp_path: Path) -> None:
    exec_json = tmp_path / "exec.jsonl"
    exec_json.write_text(
        '{"type":"thread.started","thread_id":"t1"}\n'
        '{"type":"turn.completed","usage":{"input_tokens":5}}\n'
    )
    sessions, warnings = scan(exec_json)
    assert sessions == {}
    assert warnings == [f"{exec_json}:1: not a Codex rollout file, skipped"]


def test_a_stray_record_inside_a_rollout_is_warned(tmp_path: Path) -> None:
    path = _rollout(
        tmp_path,
        '{"hello":"world"}',
        _tc('{"last_token_usage":{"input_tokens":10,"output_tokens":1}}'),
    )
    sessions, warnings = scan(path)
    assert warnings == [f"{path}:2: not a Codex rollout record, skipped"]
    assert [r.usage for r in sessions["s1"].requests] == [Usage(input=10, output=1)]


# ------------------------------------------------------------------ incremental cache


def test_directory_scans_use_the_cache_without_attribution_facts(tmp_path: Path) -> None:
    home = tmp_path / "codex"
    shutil.copytree(HOME, home)
    first, warnings1 = scan(home / "sessions")
    second, warnings2 = scan(home / "sessions")
    assert warnings1 == warnings2 and len(warnings1) == 4  # re-said from the cache
    for sid in (A, B):
        assert [r.usage for r in first[sid].requests] == [r.usage for r in second[sid].requests]
        assert second[sid].first_prompt is None  # never cached
    assert sessions_by_find(home, B).first_prompt == "Now add a regression test"


def sessions_by_find(home: Path, sid: str) -> Session:
    found = ADAPTER.find_session([home / "sessions"], sid, warn=lambda _m: None)
    assert found is not None
    return found


def test_a_grown_file_is_read_from_where_the_last_scan_stopped(tmp_path: Path) -> None:
    path = _rollout(
        tmp_path,
        _tc(
            '{"last_token_usage":{"input_tokens":10,"output_tokens":1},'
            '"total_token_usage":{"input_tokens":10,"output_tokens":1}}'
        ),
    )
    with path.open("a") as out:  # a line still being written
        out.write(_tc('{"total_token_usage":{"input_tokens":30,"output_tokens":3}}')[:40])
    first, warnings = scan(tmp_path)
    assert [r.usage for r in first["s1"].requests] == [Usage(input=10, output=1)]
    assert warnings == [
        f"{path}:3: truncated last line (not JSON: Unterminated string starting at), skipped"
    ]
    with path.open("a") as out:  # the line is finished, and one more call follows
        out.write(_tc('{"total_token_usage":{"input_tokens":30,"output_tokens":3}}')[40:] + "\n")
        out.write(_tc('{"total_token_usage":{"input_tokens":60,"output_tokens":4}}') + "\n")
    second, warnings = scan(tmp_path)
    assert warnings == []
    assert [r.usage for r in second["s1"].requests] == [
        Usage(input=10, output=1),
        Usage(input=20, output=2),
        Usage(input=30, output=1),
    ]


def test_record_from_a_transcript_path_uses_this_adapter() -> None:
    from costlog import sources
    from costlog.recording import auto as autorecord

    found = autorecord.from_transcript(B_FILE, [sources.get("codex")], None, lambda _m: None)
    assert found.session_id == B and len(found.requests) == 1
    assert found.first_prompt == "Now add a regression test"
