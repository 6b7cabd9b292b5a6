"""aider: chat-history usage lines (parsed) and the analytics JSONL (aider's estimates)."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from costlog import sources
from costlog.models import Session, Usage
from costlog.sources.aider import ADAPTER, parse_tokens
from tests_support import FIXTURES_DIR

FIXTURES = FIXTURES_DIR / "aider"
REAL = FIXTURES / "aider__tests_fixtures_chat-history.excerpt.md"


@pytest.fixture(autouse=True)
def utc_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """aider's header times are naive local time: pin the zone."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def _scan(*roots: Path) -> tuple[list[Session], list[str]]:
    warnings: list[str] = []
    return list(ADAPTER.scan(list(roots), warn=warnings.append)), warnings


def _rows(session: Session) -> list[tuple[str, Usage]]:
    """Each request's model and tokens; aider's own (rounded) cost is never the request's
    cost: it is priced from the table, with aider's figure kept in methods.logged_cost."""
    assert all(r.logged_cost_usd is None for r in session.requests)
    return [(r.model, r.usage) for r in session.requests]


def test_registered_under_aider() -> None:
    assert sources.get("aider") is ADAPTER


def test_real_history_excerpt_every_variant() -> None:
    found, warnings = _scan(REAL)
    assert warnings == []
    assert [s.session_id for s in found] == [
        "aider-20240805T203959",
        "aider-20240819T134654",
        "aider-20240819T135438",
        "aider-20240819T135509",
        "aider-20240819T135645",
        "aider-20240819T135657",
    ]
    haiku = "anthropic/claude-3-haiku-20240307"
    assert [_rows(s) for s in found] == [
        # older "request" wording, comma thousands
        [("gpt-4o-mini", Usage(input=12566, output=84))],
        # DeepSeek: sent includes the cache hit
        [("deepseek/deepseek-coder", Usage(input=7571, cache_read=13952, output=9))],
        # aider 0.50 + Anthropic: sent (194) is the uncached input alone
        [(haiku, Usage(input=194, cache_write_5m=9474, output=7))],
        [(haiku, Usage(input=194, cache_read=9474, output=7))],
        [(haiku, Usage(input=194, cache_read=9474, output=7))],
        # both cache parts: the Cost part sits alone on the next, unquoted line
        [(haiku, Usage(input=502, cache_write_5m=11191, cache_read=1270, output=105))],
    ]
    first = found[0]
    assert first.started == datetime(2024, 8, 5, 20, 39, 59, tzinfo=UTC)
    assert first.cwd == str(FIXTURES.resolve())
    assert first.first_prompt == "hi"
    assert all(r.source == "parsed" for s in found for r in s.requests)
    assert first.paths == [str(REAL)]


def test_modern_history_k_suffixes_model_switch_and_bad_lines() -> None:
    path = FIXTURES / "modern.chat.history.md"
    found, warnings = _scan(path)
    assert warnings == [
        f"{path}:28: unrecognised aider usage line",
        f"{path}:37: token count is absurd: 999999M",
    ]
    assert [s.session_id for s in found] == ["aider-20261120T091502", "aider-20261120T091502-2"]
    main, second = found
    assert _rows(main) == [
        (
            "anthropic/claude-sonnet-4-5-20250929",
            Usage(input=1500, cache_write_5m=2100, cache_read=8400, output=1200),
        ),
        ("gpt-4.1", Usage(input=7800, output=155)),
        ("gpt-4.1", Usage(input=2200, cache_read=1000, output=999)),
    ]
    assert main.first_prompt == "fix the PROJ-42 login bug"
    assert _rows(second) == [("gpt-4.1", Usage(input=1500000, output=2))]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("999", 999),
        ("12,566", 12566),
        ("4.1k", 4100),
        ("12k", 12000),
        ("1.2M", 1200000),
    ],
)
def test_token_number_forms(text: str, value: int) -> None:
    assert parse_tokens(text) == value


def test_analytics_log_is_aiders_estimate_and_split_at_launch() -> None:
    path = FIXTURES / "analytics.jsonl"
    found, warnings = _scan(path)
    assert warnings == [
        f"{path}:5: prompt_tokens is negative: -3",
        f"{path}:10: corrupt line (not JSON: Expecting ',' delimiter), skipped",
    ]
    assert [s.session_id for s in found] == [
        "aider-20251120T090000",
        "aider-20251121T090000",
    ]
    first, second = found
    assert _rows(first) == [
        ("anthropic/claude-sonnet-4-5-20250929", Usage(input=10500, output=1200)),
        ("gpt-4.1", Usage(input=7800, output=155)),
    ]
    assert first.started == datetime(2025, 11, 20, 9, 0, tzinfo=UTC)
    assert first.ended == datetime(2025, 11, 20, 9, 3, 20, tzinfo=UTC)  # its last event
    assert first.cwd is None
    # aider's own tokenizer counts, said so: never `actual`; its cost is a cross-check only
    assert all(r.source == "estimated" for r in first.requests)
    assert "tokenizer" in first.methods["tokens"]
    assert first.methods["logged_cost"].startswith("aider logged $0.04834 ")
    assert _rows(second) == [("gpt-4.1", Usage(input=100, output=10))]


def test_directory_root_and_default_roots(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copy(REAL, tmp_path / ".aider.chat.history.md")
    found, _ = _scan(tmp_path)
    assert len(found) == 6 and found[0].cwd == str(tmp_path.resolve())
    monkeypatch.chdir(tmp_path)
    assert ADAPTER.default_roots({}, tmp_path) == [tmp_path / ".aider.chat.history.md"]
    env = {"AIDER_CHAT_HISTORY_FILE": "logs/chat.md"}
    assert ADAPTER.default_roots(env, tmp_path) == [
        tmp_path / "logs" / "chat.md",
        tmp_path / ".aider.chat.history.md",
    ]


def test_since_and_find_session() -> None:
    since = datetime(2024, 8, 19, 13, 55, tzinfo=UTC)
    found = list(ADAPTER.scan([REAL], since=since, warn=lambda _: None))
    assert [s.session_id for s in found] == [
        "aider-20240819T135509",
        "aider-20240819T135645",
        "aider-20240819T135657",
    ]
    hit = ADAPTER.find_session([REAL], "aider-20240819T134654", warn=lambda _: None)
    assert hit is not None and hit.requests[0].usage.cache_read == 13952
    assert ADAPTER.find_session([REAL], "aider-nope", warn=lambda _: None) is None


def test_preamble_before_any_header(tmp_path: Path) -> None:
    path = tmp_path / "h.md"
    path.write_text("> Model: gpt-4o\n> Tokens: 10 sent, 2 received.\n")
    [session], warnings = _scan(path)
    assert warnings == []
    assert session.session_id == "aider-unknown-start"
    assert _rows(session) == [("gpt-4o", Usage(input=10, output=2))]
