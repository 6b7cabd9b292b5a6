"""Gemini CLI chat recordings: the numbers a user sees for each hard case in the format.

Fixtures under tests/fixtures/gemini: `real/` holds the public sample (recorded API
responses, not a chat file: see SOURCES.txt); `home/.gemini` is built in the chat-recording
format of gemini-cli's chatRecordingService: a slug project with `.project_root`, one main
session (a message re-appended with its tokens, a rewind, a `$set` carrying the message
list, a corrupt, a truncated and an invalid record, tool calls incl. `git commit`), its
sub-agent, and a legacy sha256-named project with a `.json` chat and its `.jsonl` migration.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from costlog.models import Session, Usage
from costlog.pricing.requests import price_requests
from costlog.pricing.table import PriceTable
from costlog.sources.gemini.adapter import ADAPTER
from costlog.sources.gemini.chat import message_usage
from tests_support import FIXTURES_DIR

FIXTURES = FIXTURES_DIR / "gemini"
HOME = FIXTURES / "home"
TMP = HOME / ".gemini" / "tmp"
S = "aaaa1111-2222-4333-8444-555566667777"
SUB = "bbbb2222-3333-4444-8555-666677778888"
LEGACY = "cccc3333-4444-4555-8666-777788889999"
MAIN_FILE = TMP / "proj" / "chats" / "session-2026-08-21T10-00-aaaa1111.jsonl"
SAMPLE = FIXTURES / "real" / "gemini-cli__sdk_test-data_agent-resume-session.jsonl"


def scan(*roots: Path, **kwargs: object) -> tuple[dict[str, Session], list[str]]:
    warnings: list[str] = []
    found = ADAPTER.scan(list(roots), warn=warnings.append, **kwargs)  # type: ignore[arg-type]
    return {s.session_id: s for s in found}, warnings


def roots() -> list[Path]:
    return ADAPTER.default_roots({}, HOME)


def own(session: Session) -> list[tuple[str, Usage]]:
    return [(r.model, r.usage) for r in session.requests if not r.subagent]


# ------------------------------------------------------------------ the real sample


def test_real_sample_is_api_responses_not_a_chat_file() -> None:
    # The only public Gemini sample is recorded generateContentStream responses: the chat
    # adapter must not invent a session from it, and says why, once for the file (a file
    # with no chat record at all is another kind of log, not a chat with bad lines).
    sessions, warnings = scan(SAMPLE)
    assert sessions == {}
    assert warnings == [
        f"{SAMPLE}:1: not a Gemini CLI chat file (2 lines of another kind from here on), skipped",
    ]


def test_real_usage_numbers_map_like_the_api() -> None:
    # usageMetadata from the sample's final chunk, as recordMessageTokens stores it
    usage = message_usage(
        {"input": 7168, "output": 3, "cached": 0, "thoughts": 0, "tool": 0, "total": 7171},
        "x",
        lambda _m: None,
    )
    assert usage == Usage(input=7_168, output=3)
    # a recorded usageMetadata (cached and thoughts)
    usage = message_usage(
        {"input": 10491, "output": 52, "cached": 8126, "thoughts": 80, "total": 10623},
        "x",
        lambda _m: None,
    )
    assert usage == Usage(input=2_365, cache_read=8_126, output=132, reasoning=80)


# ------------------------------------------------------------------ the main session


def test_each_gemini_message_is_one_request_last_record_wins() -> None:
    sessions, _ = scan(*roots())
    session = sessions[S]
    assert own(session) == [
        # m2: written without tokens, re-appended with them (and again inside a $set)
        ("gemini-2.5-pro", Usage(input=2_365, cache_read=8_126, output=132, reasoning=80)),
        # m3: tool-use prompt tokens (50) are input
        ("gemini-2.5-pro", Usage(input=12_050, output=200)),
        # m5: rewound away, but it was billed
        ("gemini-2.5-flash", Usage(input=1_000, cache_read=12_000, output=120, reasoning=20)),
        ("gemini-2.5-pro", Usage(input=7_168, output=3)),
    ]
    assert [r.request_id for r in session.requests if not r.subagent] == ["m2", "m3", "m5", "m8"]


def test_bad_records_are_warned_one_line_each_and_the_rest_counts() -> None:
    _, warnings = scan(MAIN_FILE)
    assert sorted(warnings) == sorted(
        [
            f"{MAIN_FILE}:12: invalid tokens.input -3, message not counted",
            f"{MAIN_FILE}:13: corrupt line (not JSON: Invalid control character at), skipped",
            f"{MAIN_FILE}:16: truncated last line (not JSON: Expecting ',' delimiter), skipped",
        ]
    )


def test_session_metadata_and_attribution_facts() -> None:
    sessions, _ = scan(*roots())
    session = sessions[S]
    assert session.cwd == "/work/proj"  # from tmp/proj/.project_root
    assert session.branch is None  # not logged by Gemini CLI
    assert session.started == datetime(2026, 8, 21, 10, 0, tzinfo=UTC)
    assert session.ended == datetime(2026, 8, 21, 10, 2, 40, tzinfo=UTC)
    assert session.first_prompt == "Fix WRK-7: the flaky checkout test"
    # the failed replace is not an edit; a relative path is taken from the project root
    assert session.edited_files == {"/work/proj/src/app.py", "/work/proj/src/util.py"}
    assert session.tool_output_refs == {"9f8e7d6", "Fix flaky test"}


def test_subagent_rolls_up_into_its_parent() -> None:
    sessions, _ = scan(*roots())
    assert SUB not in sessions
    session = sessions[S]
    assert session.subagents == 1
    [sub] = [r for r in session.requests if r.subagent]
    assert (sub.model, sub.usage) == (
        "gemini-2.5-flash",
        Usage(input=2_000, cache_read=1_000, output=500, reasoning=100),
    )


def test_costs_a_user_sees() -> None:
    sessions, _ = scan(*roots())
    models, cost, _ = price_requests(sessions[S].requests, PriceTable.load())
    # gemini-2.5-pro $1.25 in / $0.125 cached / $10 out (thinking billed as output)
    assert models["gemini-2.5-pro"].requests == 3
    assert models["gemini-2.5-pro"].cost_usd == Decimal("0.0313445")
    assert models["gemini-2.5-flash"].requests == 2
    assert cost == Decimal("0.0341845")


# ------------------------------------------------------------------ legacy files


def test_legacy_json_and_its_jsonl_migration_count_each_message_once() -> None:
    sessions, _ = scan(*roots())
    session = sessions[LEGACY]
    assert own(session) == [
        ("gemini-2.5-pro", Usage(input=5_000, output=100)),
        ("gemini-2.5-pro", Usage(input=2_000, cache_read=4_000, output=50)),
    ]
    assert len(session.paths) == 2
    # the directory is named sha256("/work/other"): recovered through projects.json
    assert session.cwd == "/work/other"
    assert session.first_prompt == "Summarise the README"


def test_hash_directory_is_recovered_from_the_scanned_project(tmp_path: Path) -> None:
    project = tmp_path / "repo"
    digest = hashlib.sha256(str(project).encode()).hexdigest()
    chats = tmp_path / "gemini" / "tmp" / digest / "chats"
    chats.mkdir(parents=True)
    (chats / "session-2026-01-01T00-00-deadbeef.jsonl").write_text(
        f'{{"sessionId":"deadbeef-0","projectHash":"{digest}","startTime":"2026-01-01T00:00:00Z"}}\n'
        '{"id":"g1","timestamp":"2026-01-01T00:00:01Z","type":"gemini","model":"gemini-2.5-pro",'
        '"tokens":{"input":10,"output":2,"cached":0,"thoughts":0,"tool":0,"total":12}}\n'
    )
    sessions, _ = scan(tmp_path / "gemini", project=project)
    assert sessions["deadbeef-0"].cwd == str(project)
    assert len(sessions["deadbeef-0"].requests) == 1


# ------------------------------------------------------------------ filters and lookup


def test_project_filter() -> None:
    inside, _ = scan(*roots(), project=Path("/work/proj"))
    assert set(inside) == {S}
    other, _ = scan(*roots(), project=Path("/work/other"))
    assert set(other) == {LEGACY}


def test_since_filter() -> None:
    later, _ = scan(*roots(), since=datetime(2026, 8, 1, tzinfo=UTC))
    assert set(later) == {S}


def test_find_session() -> None:
    found = ADAPTER.find_session(roots(), S, warn=lambda _m: None)
    assert found is not None and len(found.requests) == 5
    parent = ADAPTER.find_session(roots(), SUB, warn=lambda _m: None)
    assert parent is not None and parent.session_id == S
    assert ADAPTER.find_session(roots(), "00000000-none", warn=lambda _m: None) is None


def test_default_roots(tmp_path: Path) -> None:
    assert ADAPTER.default_roots({}, tmp_path) == [tmp_path / ".gemini" / "tmp"]
    assert ADAPTER.default_roots({"GEMINI_DATA_DIR": "/d"}, tmp_path) == [Path("/d")]
    assert ADAPTER.default_roots({"GEMINI_CLI_HOME": "/h"}, tmp_path) == [Path("/h/.gemini/tmp")]


def test_bad_token_counts_are_rejected() -> None:
    seen: list[str] = []
    for bad in (-1, 1.5, "3", True, 10**12):
        assert message_usage({"input": bad, "output": 1, "cached": 0}, "f:1", seen.append) is None
    assert len(seen) == 5 and all(w.startswith("f:1: invalid tokens.input") for w in seen)
    assert message_usage(None, "f:1", seen.append) is None  # not yet known: silent
    assert len(seen) == 5


def test_session_file_alone_brings_its_subagents() -> None:
    # a hook hands over just the transcript path
    sessions, warnings = scan(MAIN_FILE)
    assert set(sessions) == {S}
    assert sessions[S].subagents == 1
    assert sessions[S].cwd == "/work/proj"
    assert len(warnings) == 3


def test_record_from_a_transcript_path_uses_this_adapter() -> None:
    from costlog import sources
    from costlog.recording import auto as autorecord

    adapters = [sources.get("codex"), sources.get("gemini")]
    found = autorecord.from_transcript(MAIN_FILE, adapters, None, lambda _m: None)
    assert found.agent == "gemini" and found.session_id == S
    assert len(found.requests) == 5 and found.subagents == 1
