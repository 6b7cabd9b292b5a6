"""Reading Claude Code's OpenTelemetry exports and `~/.claude.json` (issue 3)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from costlog.models import Usage
from costlog.sources.claude.otel import ApiEvent, read_events
from costlog.sources.claude.state import find_state, last_session, state_paths
from tests_support import FIXTURES_DIR

FIXTURES = FIXTURES_DIR / "claude-otel"
SID = "sess-otel-1"


def read(path: Path, sessions: set[str] | None = None) -> tuple[list[ApiEvent], list[str]]:
    warnings: list[str] = []
    return list(read_events(path, warnings.append, sessions=sessions)), warnings


# ---------------------------------------------------------------- OpenTelemetry


def test_otlp_file_exporter_lines_give_api_requests_only() -> None:
    events, warnings = read(FIXTURES / "otlp.jsonl")
    assert warnings == []
    assert [e.request_id for e in events] == [
        "req_T1",
        "req_A",
        "req_B",
        "req_X",
        "req_C",
        "req_T2",
    ]
    first = events[1]
    assert first.model == "claude-sonnet-4-6" and first.session_id == SID
    assert first.usage == Usage(input=5, output=412, cache_read=20000, cache_write_5m=5000)
    assert first.cost_usd == Decimal("0.042195")
    assert first.timestamp == datetime(2026, 11, 20, 9, 0, 9, tzinfo=UTC)
    assert first.query_source == "repl_main_thread" and first.speed == "normal"
    assert first.where.endswith("otlp.jsonl:1")


def test_the_session_filter_keeps_that_session_and_events_without_one() -> None:
    events, _ = read(FIXTURES / "otlp.jsonl", sessions={SID})
    assert "req_X" not in {e.request_id for e in events}
    assert len(events) == 5


def test_prompt_text_of_other_events_is_never_kept() -> None:
    events, _ = read(FIXTURES / "otlp.jsonl")
    assert "SECRET" not in repr(events)


def test_plain_lines_and_corrupt_lines_warn_with_file_and_line() -> None:
    path = FIXTURES / "plain.jsonl"
    events, warnings = read(path)
    assert [e.usage.output for e in events] == [412, 1290, 233, 60]
    assert all(e.request_id is None for e in events)
    assert events[3].model == "claude-haiku-4-5-20251001" and events[3].query_source == "compact"
    assert len(warnings) == 2
    assert warnings[0].startswith(f"{path}:2: not JSON")
    assert warnings[1] == f"{path}:4: input_tokens is out of range: -4"


def test_lines_that_do_not_mention_api_request_are_not_parsed(tmp_path: Path) -> None:
    path = tmp_path / "otel.jsonl"
    path.write_text(
        "garbage {{{\n\n"
        + json.dumps({"body": "claude_code.user_prompt", "attributes": {"prompt": "x"}})
        + "\n"
    )
    assert read(path) == ([], [])


def test_one_bad_event_costs_one_warning_and_the_rest_of_the_line_counts(tmp_path: Path) -> None:
    good = {"event.name": "api_request", "model": "m", "input_tokens": 1, "output_tokens": 2}
    bad = {"event.name": "api_request", "model": "m", "output_tokens": "lots"}
    doc = {
        "resourceLogs": [
            {
                "scopeLogs": [
                    {
                        "logRecords": [
                            {
                                "attributes": [
                                    {"key": k, "value": {"stringValue": str(v)}}
                                    for k, v in a.items()
                                ]
                            }
                            for a in (bad, good, bad)
                        ]
                    }
                ]
            }
        ]
    }
    path = tmp_path / "otel.jsonl"
    path.write_text(json.dumps(doc) + "\n")
    events, warnings = read(path)
    assert [e.usage.output for e in events] == [2]
    assert warnings == [f"{path}:1: output_tokens is not a count: 'lots' (and 1 more events)"]


def test_cost_in_micros_and_the_record_time_are_used_when_the_rest_is_absent(
    tmp_path: Path,
) -> None:
    record = {
        "timeUnixNano": "1795165200000000000",
        "eventName": "claude_code.api_request",
        "attributes": [
            {"key": "model", "value": {"stringValue": "m"}},
            {"key": "cost_usd_micros", "value": {"intValue": "1250"}},
            {"key": "output_tokens", "value": {"intValue": 7}},
        ],
    }
    path = tmp_path / "otel.jsonl"
    path.write_text(json.dumps({"resourceLogs": [{"scopeLogs": [{"logRecords": [record]}]}]}))
    (event,), warnings = read(path)
    assert warnings == []
    assert event.cost_usd == Decimal("0.00125")
    assert event.timestamp == datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    assert event.usage.output == 7 and event.session_id is None


def test_a_missing_file_is_one_warning(tmp_path: Path) -> None:
    events, warnings = read(tmp_path / "nope.jsonl")
    assert events == [] and len(warnings) == 1 and "cannot read" in warnings[0]


# ---------------------------------------------------------------- ~/.claude.json


def test_state_file_is_in_home_or_in_claude_config_dir(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert state_paths({}, home) == [home / ".claude.json", home / ".claude" / ".config.json"]
    assert state_paths({"CLAUDE_CONFIG_DIR": "/cfg"}, home) == [
        Path("/cfg/.claude.json"),
        Path("/cfg/.config.json"),
    ]
    assert state_paths({"CLAUDE_CONFIG_DIR": "~/alt"}, home)[0] == home / "alt" / ".claude.json"


def test_the_legacy_file_is_used_only_when_the_new_one_is_absent(tmp_path: Path) -> None:
    legacy = tmp_path / ".claude" / ".config.json"
    legacy.parent.mkdir()
    legacy.write_text("{}")
    assert find_state({}, tmp_path) == legacy
    (tmp_path / ".claude.json").write_text("{}")
    assert find_state({}, tmp_path) == tmp_path / ".claude.json"


def test_last_session_reads_the_project_numbers() -> None:
    warnings: list[str] = []
    state = last_session(FIXTURES / "claude.json", "/work/app", warnings.append)
    assert warnings == [] and state is not None
    assert state.session_id == SID and state.cost_usd == Decimal("0.09013")
    assert state.api_duration_ms == 25200
    assert state.usage == Usage(input=1845, output=2009, cache_read=71200, cache_write_5m=7000)
    sonnet = state.models["claude-sonnet-4-6"]
    assert sonnet.usage.output == 1935 and sonnet.cost_usd == Decimal("0.08793")
    assert "dev@example.com" not in repr(state)
    assert last_session(FIXTURES / "claude.json", "/work/none", warnings.append) is None


def test_a_broken_state_file_is_one_warning(tmp_path: Path) -> None:
    path = tmp_path / ".claude.json"
    path.write_text("{not json")
    warnings: list[str] = []
    assert last_session(path, "/work/app", warnings.append) is None
    assert len(warnings) == 1 and warnings[0].startswith(str(path))
