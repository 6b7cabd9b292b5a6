"""The generic raw-API JSONL adapter: every provider shape, streams, sessions, bad lines."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from costlog import sources
from costlog.models import Session, Usage
from costlog.sources.api_jsonl import ADAPTER
from tests_support import FIXTURES_DIR

FIXTURES = FIXTURES_DIR / "api"


def _read(path: Path) -> tuple[list[Session], list[str]]:
    warnings: list[str] = []
    return list(ADAPTER.scan([path], warn=warnings.append)), warnings


def _one(path: Path) -> Session:
    found, warnings = _read(path)
    assert warnings == []
    assert len(found) == 1
    return found[0]


def test_registered_under_api() -> None:
    assert sources.get("api") is ADAPTER
    assert ADAPTER.default_roots({}, Path("/home/x")) == []


def test_real_openai_chat_usage_object() -> None:
    session = _one(FIXTURES / "real" / "openai_chat_completions.usage.json")
    assert session.session_id == "openai_chat_completions.usage"
    [request] = session.requests
    assert request.usage == Usage(input=54, output=20)
    assert request.model == "unknown"
    assert request.source == "actual"


def test_real_openai_responses_usage_object() -> None:
    [request] = _one(FIXTURES / "real" / "openai_responses.usage.json").requests
    assert request.usage == Usage(input=11, output=5)


def test_real_anthropic_bare_start_and_delta_make_one_request() -> None:
    [request] = _one(FIXTURES / "real" / "anthropic_messages_stream.usage.jsonl").requests
    assert request.usage == Usage(input=17, output=10)
    assert request.speed == "standard"


def test_real_gemini_usage_metadata_lines_are_separate_requests() -> None:
    requests = _one(FIXTURES / "real" / "gemini_generateContent.usageMetadata.jsonl").requests
    assert [r.usage for r in requests] == [
        Usage(input=10491, output=96, reasoning=80),
        Usage(input=10491, output=132, reasoning=80),
        Usage(input=2365, cache_read=8126, output=132, reasoning=80),
    ]


def test_anthropic_stream_events_combine_never_sum() -> None:
    session = _one(FIXTURES / "anthropic_stream.jsonl")
    first, second = session.requests
    assert first.model == "claude-3-5-haiku-latest"
    assert first.request_id == "msg_01XFDUDYJgAACzvnptvVoYEL"
    assert first.usage == Usage(input=17, output=10)
    assert second.usage == Usage(
        input=12, output=450, cache_read=20000, cache_write_5m=1000, cache_write_1h=2000
    )
    assert second.speed == "priority"


def test_openai_chat_cached_and_reasoning() -> None:
    session = _one(FIXTURES / "openai_chat.jsonl")
    assert [(r.model, r.usage) for r in session.requests] == [
        ("gpt-4o-mini-2024-07-18", Usage(input=54, output=20)),
        ("o3-mini", Usage(input=904, cache_read=4096, output=900, reasoning=640)),
        ("gpt-4o", Usage(input=100, output=7)),
    ]
    assert session.requests[0].timestamp == datetime(2025, 11, 23, 12, 0, tzinfo=UTC)
    assert session.requests[0].speed == "standard"
    assert session.started == datetime(2025, 11, 23, 12, 0, tzinfo=UTC)
    assert session.ended == datetime(2025, 11, 23, 12, 1, 40, tzinfo=UTC)


def test_openai_responses_stream_and_whole() -> None:
    session = _one(FIXTURES / "openai_responses.jsonl")
    assert [(r.request_id, r.model, r.usage) for r in session.requests] == [
        ("resp_1", "gpt-5-2025-08-07", Usage(input=11, output=5)),
        ("resp_2", "gpt-5-codex", Usage(input=2000, cache_read=28000, output=1200, reasoning=800)),
    ]


def test_gemini_chunks_with_one_response_id_are_one_request() -> None:
    session = _one(FIXTURES / "gemini_stream.jsonl")
    assert [(r.request_id, r.usage) for r in session.requests] == [
        ("r-1", Usage(input=10491, output=132, reasoning=80)),
        ("r-2", Usage(input=2374, cache_read=8126, output=132, reasoning=80)),
    ]
    assert session.requests[0].model == "gemini-2.5-flash"


def test_session_field_and_cwd_split_a_file() -> None:
    found, warnings = _read(FIXTURES / "sessions.jsonl")
    assert warnings == []
    by_id = {s.session_id: s for s in found}
    assert set(by_id) == {"s-one", "s-two"}
    one = by_id["s-one"]
    assert one.cwd == "/work/proj"
    assert [r.usage for r in one.requests] == [
        Usage(input=800, cache_read=200, output=50),
        Usage(input=10, output=5),
    ]
    assert one.started == datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    assert one.ended == datetime(2026, 11, 20, 10, 5, tzinfo=UTC)
    [two] = by_id["s-two"].requests
    assert two.usage == Usage(input=40, output=60, cache_read=500, cache_write_5m=100)


def test_corrupt_lines_warn_once_each_and_the_rest_counts() -> None:
    path = FIXTURES / "corrupt.jsonl"
    [session], warnings = _read(path)
    assert [(r.request_id, r.usage) for r in session.requests] == [
        ("ok1", Usage(input=10, output=2)),
        ("m2", Usage(input=7, output=1)),
        ("ok2", Usage(input=20, output=3)),
    ]
    assert warnings == [
        f"{path}:2: corrupt line (not JSON: Expecting value), skipped",
        f"{path}:3: not a JSON object, skipped",
        f"{path}:4: prompt_tokens is negative: -5",
        f"{path}:5: prompt_tokens is not an integer: '12'",
        f"{path}:6: prompt_tokens is not an integer: 12.5",
        f"{path}:7: prompt_tokens is absurd: 999999999999",
        f"{path}:8: cached tokens (11) exceed prompt_tokens (10)",
        f"{path}:9: message_delta without a message_start",
        f"{path}:11: output_tokens is negative: -3",
        f"{path}:14: truncated last line (not JSON: Unterminated string starting at), skipped",
        f"{path}:12: message_start without message_delta: output_tokens is only the placeholder",
    ]


def test_directory_root_reads_every_jsonl(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.jsonl").write_text(
        '{"id":"1","model":"gpt-4o","usage":{"prompt_tokens":3,"completion_tokens":4}}\n'
    )
    (tmp_path / "notes.txt").write_text("ignored\n")
    found, _ = _read(tmp_path)
    assert [s.session_id for s in found] == ["x"]


def test_since_and_find_session() -> None:
    roots = [FIXTURES / "sessions.jsonl"]
    later = datetime(2026, 11, 20, 10, 30, tzinfo=UTC)
    found = list(ADAPTER.scan(roots, since=later, warn=lambda _: None))
    assert [s.session_id for s in found] == ["s-two"]
    hit = ADAPTER.find_session(roots, "s-one", warn=lambda _: None)
    assert hit is not None and len(hit.requests) == 2
    assert ADAPTER.find_session(roots, "nope", warn=lambda _: None) is None


def test_missing_file_is_skipped(tmp_path: Path) -> None:
    found, warnings = _read(tmp_path / "gone.jsonl")
    assert found == [] and warnings == []


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('{"usage":{"input_tokens":5,"output_tokens":6}}', Usage(input=5, output=6)),
        (
            '{"usage":{"input_tokens":5,"output_tokens":6,'
            '"output_tokens_details":{"thinking_tokens":4}}}',
            Usage(input=5, output=6, reasoning=4),
        ),
        (
            '{"usage":{"input_tokens":1,"output_tokens":2,"cache_creation":'
            '{"ephemeral_5m_input_tokens":3,"ephemeral_1h_input_tokens":4}}}',
            Usage(input=1, output=2, cache_write_5m=3, cache_write_1h=4),
        ),
        (
            '{"object":"response","usage":{"input_tokens":9,"output_tokens":1}}',
            Usage(input=9, output=1),
        ),
    ],
)
def test_anthropic_and_responses_variants(tmp_path: Path, line: str, expected: Usage) -> None:
    path = tmp_path / "one.jsonl"
    path.write_text(line + "\n")
    [request] = _one(path).requests
    assert request.usage == expected
