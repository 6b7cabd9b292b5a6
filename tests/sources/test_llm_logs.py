"""`llm` logs.db: legacy `responses` and 0.32 `turns`, built here with the real schema."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from costlog import sources
from costlog.models import Session, Usage
from costlog.sources.llm_logs import ADAPTER
from tests_support import FIXTURES_DIR

FIXTURES = FIXTURES_DIR / "llm"
#: the real CREATE TABLE statements of llm's logs database
SCHEMA = (FIXTURES / "simonw-llm__docs_logging_schema_responses.sql").read_text()
EXTRA = """
CREATE TABLE [conversations] ([id] TEXT PRIMARY KEY, [name] TEXT, [model] TEXT);
CREATE TABLE "threads" ("id" TEXT PRIMARY KEY, "name" TEXT, "tip_message_hash" TEXT,
  "forked_from" TEXT, "datetime_utc" TEXT);
"""
CONV = "01jm8ec74taftdgj2t4zra9z0j"
DOC_ID = "01jm8ec74wxsdatyn5pq1fp0s5"


def _response(
    rid: str,
    model: str,
    conv: str | None,
    when: str,
    inp: Any,
    out: Any,
    details: Any = None,
    resolved: str | None = None,
) -> tuple[Any, ...]:
    text = details if isinstance(details, str) or details is None else json.dumps(details)
    return (rid, model, conv, when, inp, out, text, resolved)


RESPONSES = [
    # the docs' `llm logs --json` example row
    _response(
        DOC_ID, "anthropic/claude-3-haiku-20240307", CONV, "2025-02-16T22:34:30.374882+00:00", 8, 12
    ),
    _response(
        "r2",
        "gpt-4o-mini",
        CONV,
        "2025-02-16T22:35:00+00:00",
        1500,
        40,
        {"prompt_tokens_details": {"cached_tokens": 1024}},
        resolved="gpt-4o-mini-2024-07-18",
    ),
    _response("r3", "gpt-4", "c2", "2023-07-12T04:36:53.123456", None, None),
    _response(
        "r4",
        "o4-mini",
        "c2",
        "2025-03-01T10:00:00",
        300,
        80,
        {
            "input_tokens_details": {"cached_tokens": 100},
            "output_tokens_details": {"reasoning_tokens": 30},
        },
    ),
    _response(
        "r5",
        "gemini-2.5-flash",
        None,
        "2025-03-02T10:00:00+00:00",
        10500,
        132,
        {"cachedContentTokenCount": 8126, "thoughtsTokenCount": 80},
    ),
    _response(
        "r6",
        "claude-sonnet-4.5",
        "c3",
        "2025-03-03T10:00:00+00:00",
        40,
        60,
        {
            "cache_read_input_tokens": 500,
            "cache_creation_input_tokens": 300,
            "cache_creation": {"ephemeral_1h_input_tokens": 100},
        },
    ),
    _response("r7", "gpt-4o", "c3", "2025-03-03T10:01:00+00:00", -5, 3),
    _response("r8", "gpt-4o", "c3", "2025-03-03T10:02:00+00:00", "abc", 3),
    _response("r9", "gpt-4o", "c3", "2025-03-03T10:03:00+00:00", 10, 1, "{bad"),
    _response(
        "r10",
        "gpt-4o",
        "c3",
        "2025-03-03T10:04:00+00:00",
        10,
        1,
        {"prompt_tokens_details": {"cached_tokens": 11}},
    ),
]


def _build(path: Path, turns: bool = True) -> Path:
    with closing(sqlite3.connect(path)) as db:
        db.executescript(SCHEMA + EXTRA)
        db.executemany(
            "INSERT INTO responses (id, model, conversation_id, datetime_utc, input_tokens, "
            "output_tokens, token_details, resolved_model) VALUES (?,?,?,?,?,?,?,?)",
            RESPONSES,
        )
        if turns:
            db.executemany(
                "INSERT INTO turns (id, thread_id, model, input_tokens, output_tokens, "
                "token_details, datetime_utc) VALUES (?,?,?,?,?,?,?)",
                [
                    (
                        "t1",
                        "th-1",
                        "gpt-5",
                        1000,
                        200,
                        json.dumps({"input_tokens_details": {"cached_tokens": 900}}),
                        "2026-08-10T09:00:00+00:00",
                    ),
                    # a row migrated under the same id as a legacy response: counted once
                    (
                        DOC_ID,
                        CONV,
                        "anthropic/claude-3-haiku-20240307",
                        8,
                        12,
                        None,
                        "2025-02-16T22:34:30.374882+00:00",
                    ),
                ],
            )
        db.commit()
    return path


def _scan(root: Path) -> tuple[dict[str, Session], list[str]]:
    warnings: list[str] = []
    found = {s.session_id: s for s in ADAPTER.scan([root], warn=warnings.append)}
    return found, warnings


def _usages(session: Session) -> list[tuple[str, Usage]]:
    return [(r.model, r.usage) for r in session.requests]


def test_registered_under_llm() -> None:
    assert sources.get("llm") is ADAPTER


def test_every_provider_split(tmp_path: Path) -> None:
    db = _build(tmp_path / "logs.db")
    found, warnings = _scan(db)
    assert set(found) == {CONV, "c2", "r5", "c3", "th-1"}
    assert _usages(found[CONV]) == [
        ("anthropic/claude-3-haiku-20240307", Usage(input=8, output=12)),
        ("gpt-4o-mini-2024-07-18", Usage(input=476, cache_read=1024, output=40)),
    ]
    assert _usages(found["c2"]) == [
        ("o4-mini", Usage(input=200, cache_read=100, output=80, reasoning=30))
    ]
    assert _usages(found["r5"]) == [
        ("gemini-2.5-flash", Usage(input=2374, cache_read=8126, output=132, reasoning=80))
    ]
    assert _usages(found["c3"]) == [
        (
            "claude-sonnet-4.5",
            Usage(input=40, output=60, cache_read=500, cache_write_5m=200, cache_write_1h=100),
        ),
        ("gpt-4o", Usage(input=10, output=1)),
    ]
    assert _usages(found["th-1"]) == [("gpt-5", Usage(input=100, cache_read=900, output=200))]
    assert warnings == [
        f"{db}:responses:r7: input_tokens is negative: -5",
        f"{db}:responses:r8: input_tokens is not an integer: 'abc'",
        f"{db}:responses:r9: bad token_details JSON; counted without a cache split",
        f"{db}:responses:r10: cached tokens (11) exceed input_tokens (10)",
        f"{db}: 1 rows without token counts skipped",
    ]


def test_session_fields(tmp_path: Path) -> None:
    found, _ = _scan(_build(tmp_path / "logs.db"))
    session = found[CONV]
    assert session.agent == "llm"
    assert session.cwd is None
    assert session.started == datetime(2025, 2, 16, 22, 34, 30, 374882, tzinfo=UTC)
    assert session.ended == datetime(2025, 2, 16, 22, 35, tzinfo=UTC)
    assert session.requests[0].request_id == DOC_ID
    assert all(r.source == "actual" for r in session.requests)
    # naive datetime_utc values (older llm) are UTC
    assert found["c2"].started == datetime(2025, 3, 1, 10, 0, tzinfo=UTC)


def test_directory_root_and_legacy_database(tmp_path: Path) -> None:
    legacy = tmp_path / "old"
    legacy.mkdir()
    with closing(sqlite3.connect(legacy / "logs.db")) as db:
        db.executescript(
            "CREATE TABLE responses (id TEXT PRIMARY KEY, model TEXT, "
            "conversation_id TEXT, datetime_utc TEXT, input_tokens INTEGER, "
            "output_tokens INTEGER);"
            "INSERT INTO responses VALUES ('a','gpt-4','c','2024-01-01T00:00:00',"
            "5,6);"
        )
        db.commit()
    found, warnings = _scan(legacy)
    assert warnings == []
    assert _usages(found["c"]) == [("gpt-4", Usage(input=5, output=6))]


def test_database_is_opened_read_only(tmp_path: Path) -> None:
    db = _build(tmp_path / "logs.db")
    db.chmod(0o444)
    before = db.read_bytes()
    found, _ = _scan(db)
    assert len(found) == 5
    assert db.read_bytes() == before


def test_not_a_database(tmp_path: Path) -> None:
    bad = tmp_path / "logs.db"
    bad.write_bytes(b"this is not sqlite at all" * 100)
    found, warnings = _scan(bad)
    assert found == {}
    assert len(warnings) == 1
    assert warnings[0].startswith(f"{bad}: not a readable llm database: ")


def test_since_and_find_session(tmp_path: Path) -> None:
    db = _build(tmp_path / "logs.db")
    since = datetime(2026, 1, 1, tzinfo=UTC)
    assert [s.session_id for s in ADAPTER.scan([db], since=since, warn=lambda _: None)] == ["th-1"]
    hit = ADAPTER.find_session([db], CONV, warn=lambda _: None)
    assert hit is not None and len(hit.requests) == 2
    assert ADAPTER.find_session([db], "nope", warn=lambda _: None) is None


def test_default_roots(monkeypatch: pytest.MonkeyPatch) -> None:
    home = Path("/home/dev")
    assert ADAPTER.default_roots({"LLM_USER_PATH": "/data/llm"}, home) == [
        Path("/data/llm/logs.db")
    ]
    assert ADAPTER.default_roots({}, home) == [
        home / ".config/io.datasette.llm/logs.db",
        home / "Library/Application Support/io.datasette.llm/logs.db",
    ]
    assert ADAPTER.default_roots({"XDG_CONFIG_HOME": "/x"}, home)[0] == Path(
        "/x/io.datasette.llm/logs.db"
    )
