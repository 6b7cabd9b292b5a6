"""OpenCode: opencode.db (built here with the real table shapes) and legacy JSON storage."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from costlog import sources
from costlog.models import Session, Usage
from costlog.sources.opencode import ADAPTER, opencode_usage
from tests_support import FIXTURES_DIR

FIXTURES = FIXTURES_DIR / "opencode"
T0 = 1763629200000  # 2025-11-20T09:00:00Z in ms, as OpenCode stores times
PROJ = "/home/dev/proj"


def _tokens(
    inp: int, out: int, reasoning: int = 0, read: int = 0, write: int = 0, total: int | None = None
) -> dict[str, Any]:
    tokens: dict[str, Any] = {
        "input": inp,
        "output": out,
        "reasoning": reasoning,
        "cache": {"read": read, "write": write},
    }
    if total is not None:
        tokens["total"] = total
    return tokens


def _assistant(
    model: str,
    tokens: dict[str, Any],
    cost: float,
    minute: int,
    cwd: str = PROJ,
    provider: str = "anthropic",
) -> dict[str, Any]:
    """MessageV2.Assistant as stored in `message.data` (id and sessionID left out)."""
    return {
        "role": "assistant",
        "time": {"created": T0 + minute * 60000, "completed": T0 + minute * 60000 + 5000},
        "parentID": "msg_user",
        "modelID": model,
        "providerID": provider,
        "mode": "build",
        "agent": "build",
        "path": {"cwd": cwd, "root": cwd},
        "cost": cost,
        "tokens": tokens,
        "finish": "stop",
    }


def _step(tokens: dict[str, Any], cost: float) -> dict[str, Any]:
    return {
        "type": "step-finish",
        "reason": "tool-calls",
        "snapshot": "4b825dc",
        "cost": cost,
        "tokens": tokens,
    }


SESSIONS = [("ses_A", None, PROJ), ("ses_B", "ses_A", PROJ), ("ses_C", None, "/home/dev/other")]
MESSAGES: list[tuple[str, str, Any]] = [
    (
        "msg_u1",
        "ses_A",
        {
            "role": "user",
            "time": {"created": T0},
            "agent": "build",
            "model": {"providerID": "anthropic", "modelID": "claude-sonnet-4-5"},
        },
    ),
    # two steps: the message keeps only the LAST step's tokens but the SUM of the costs
    (
        "msg_a1",
        "ses_A",
        _assistant("claude-sonnet-4-5", _tokens(50, 300, read=20000, write=500), 0.09, 1),
    ),
    # newer OpenCode: output excludes reasoning, total says so
    (
        "msg_a2",
        "ses_A",
        _assistant(
            "gpt-5", _tokens(2000, 700, 300, read=9000, total=12000), 0.0125, 2, provider="openai"
        ),
    ),
    # older OpenCode: output already holds reasoning (total - prompt == output)
    (
        "msg_a3",
        "ses_A",
        _assistant(
            "gpt-5", _tokens(2000, 700, 300, read=9000, total=11700), 0, 3, provider="openai"
        ),
    ),
    ("msg_a4", "ses_A", _assistant("gpt-5", _tokens(0, 0), 0, 4)),  # aborted: no usage
    ("msg_b1", "ses_B", _assistant("claude-haiku-4-5", _tokens(100, 20), 0.0002, 5)),
    ("msg_bad", "ses_A", "{not json"),
    ("msg_neg", "ses_A", _assistant("gpt-5", _tokens(-1, 3), 0.0, 6)),
    ("msg_c1", "ses_C", _assistant("qwen3-coder", _tokens(10, 5, 2), 0, 7, cwd="/home/dev/other")),
]
PARTS: list[tuple[str, str, Any]] = [
    ("prt_1", "msg_a1", {"type": "step-start", "snapshot": "4b825dc"}),
    ("prt_2", "msg_a1", _step(_tokens(1200, 150, write=18000), 0.07)),
    ("prt_3", "msg_a1", {"type": "text", "text": "done: step-finish later"}),
    ("prt_4", "msg_a1", _step(_tokens(50, 300, read=20000, write=500), 0.02)),
    ("prt_5", "msg_c1", '{"type":"step-finish", broken'),
]


def _build(
    path: Path,
    sessions: list[tuple[str, str | None, str]] | None = None,
    messages: list[tuple[str, str, Any]] | None = None,
    parts: list[tuple[str, str, Any]] | None = None,
) -> Path:
    def text(data: Any) -> str:
        return data if isinstance(data, str) else json.dumps(data)

    sessions = SESSIONS if sessions is None else sessions
    messages = MESSAGES if messages is None else messages
    parts = PARTS if parts is None else parts
    owner = {mid: sid for mid, sid, _ in messages}
    with closing(sqlite3.connect(path)) as db:
        db.executescript((FIXTURES / "schema.sql").read_text())
        db.execute("INSERT INTO project VALUES ('prj', ?, ?, ?)", (PROJ, T0, T0))
        db.executemany(
            "INSERT INTO session (id, project_id, parent_id, slug, directory, title, version,"
            " time_created, time_updated) VALUES (?, 'prj', ?, 'slug', ?, 't', '1.0.0', ?, ?)",
            [(sid, parent, cwd, T0, T0) for sid, parent, cwd in sessions],
        )
        db.executemany(
            "INSERT INTO message VALUES (?, ?, ?, ?, ?)",
            [(mid, sid, T0, T0, text(d)) for mid, sid, d in messages],
        )
        db.executemany(
            "INSERT INTO part VALUES (?, ?, ?, ?, ?, ?)",
            [(pid, mid, owner[mid], T0, T0, text(d)) for pid, mid, d in parts],
        )
        db.commit()
    return path


def _scan(root: Path) -> tuple[dict[str, Session], list[str]]:
    warnings: list[str] = []
    found = {s.session_id: s for s in ADAPTER.scan([root], warn=warnings.append)}
    return found, warnings


def _rows(session: Session) -> list[tuple[str | None, str, Usage, Decimal | None, bool]]:
    return [
        (r.request_id, r.model, r.usage, r.logged_cost_usd, r.subagent) for r in session.requests
    ]


def test_registered_under_opencode() -> None:
    assert sources.get("opencode") is ADAPTER


def test_database_every_rule(tmp_path: Path) -> None:
    data = tmp_path / "opencode"
    data.mkdir()
    db = _build(data / "opencode.db")
    found, warnings = _scan(data)
    assert set(found) == {"ses_A", "ses_C"}
    a = found["ses_A"]
    assert _rows(a) == [
        (
            "prt_2",
            "claude-sonnet-4-5",
            Usage(input=1200, output=150, cache_write_5m=18000),
            Decimal("0.07"),
            False,
        ),
        (
            "prt_4",
            "claude-sonnet-4-5",
            Usage(input=50, output=300, cache_read=20000, cache_write_5m=500),
            Decimal("0.02"),
            False,
        ),
        (
            "msg_a2",
            "gpt-5",
            Usage(input=2000, output=1000, reasoning=300, cache_read=9000),
            Decimal("0.0125"),
            False,
        ),
        (
            "msg_a3",
            "gpt-5",
            Usage(input=2000, output=700, reasoning=300, cache_read=9000),
            None,
            False,
        ),
        ("msg_b1", "claude-haiku-4-5", Usage(input=100, output=20), Decimal("0.0002"), True),
    ]
    assert a.subagents == 1
    assert a.cwd == PROJ
    assert a.agent == "opencode"
    assert a.started == datetime(2025, 11, 20, 9, 1, tzinfo=UTC)
    assert a.ended == datetime(2025, 11, 20, 9, 5, tzinfo=UTC)
    assert a.paths == [str(db)]
    assert all(r.source == "actual" for r in a.requests)
    assert _rows(found["ses_C"]) == [
        ("msg_c1", "qwen3-coder", Usage(input=10, output=7, reasoning=2), None, False)
    ]
    assert found["ses_C"].cwd == "/home/dev/other"
    assert warnings == [
        f"{db}:message:msg_bad: bad JSON",
        f"{db}:part:prt_5: bad JSON",
        f"{db}:message:msg_neg: input is negative: -1",
    ]


def test_database_file_root_and_read_only(tmp_path: Path) -> None:
    db = _build(tmp_path / "opencode.db")
    db.chmod(0o444)
    before = db.read_bytes()
    found, _ = _scan(db)
    assert set(found) == {"ses_A", "ses_C"}
    assert db.read_bytes() == before


def test_orphan_child_session_stands_alone(tmp_path: Path) -> None:
    db = _build(
        tmp_path / "opencode.db",
        sessions=[("ses_B", "ses_gone", PROJ)],
        messages=[("m1", "ses_B", _assistant("gpt-5", _tokens(1, 2), 0, 1))],
        parts=[],
    )
    found, _ = _scan(db)
    assert list(found) == ["ses_B"] and found["ses_B"].subagents == 0


def _write(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else json.dumps(data))


def test_legacy_json_storage_and_db_dedupe(tmp_path: Path) -> None:
    data = tmp_path / "opencode"
    storage = data / "storage"
    _write(
        storage / "session" / "prj" / "ses_L.json",
        {
            "id": "ses_L",
            "projectID": "prj",
            "directory": "/home/dev/legacy",
            "title": "t",
            "version": "0.5.1",
            "time": {"created": T0, "updated": T0},
        },
    )
    message = _assistant(
        "claude-sonnet-4", _tokens(3, 400, read=5000, write=100), 0.0151, 0, cwd="/home/dev/legacy"
    )
    _write(
        storage / "message" / "ses_L" / "msg_l1.json",
        {"id": "msg_l1", "sessionID": "ses_L", **message},
    )
    _write(
        storage / "part" / "msg_l1" / "prt_l1.json",
        {
            "id": "prt_l1",
            "messageID": "msg_l1",
            "sessionID": "ses_L",
            **_step(_tokens(3, 400, read=5000, write=100), 0.0151),
        },
    )
    _write(storage / "message" / "ses_L" / "msg_l2.json", "{truncated")
    # the same message also in the database: counted once
    _build(
        data / "opencode.db",
        sessions=[("ses_L", None, "/home/dev/legacy")],
        messages=[("msg_l1", "ses_L", message)],
        parts=[],
    )
    found, warnings = _scan(data)
    assert warnings == [f"{storage / 'message' / 'ses_L' / 'msg_l2.json'}: bad JSON"]
    session = found["ses_L"]
    assert _rows(session) == [
        (
            "prt_l1",
            "claude-sonnet-4",
            Usage(input=3, output=400, cache_read=5000, cache_write_5m=100),
            Decimal("0.0151"),
            False,
        )
    ]


def test_legacy_storage_alone(tmp_path: Path) -> None:
    storage = tmp_path / "storage"
    _write(
        storage / "message" / "ses_X" / "msg_1.json",
        {
            "id": "msg_1",
            "sessionID": "ses_X",
            **_assistant("gpt-4.1", _tokens(7, 8), 0.001, 0, cwd="/w"),
        },
    )
    _write(
        storage / "part" / "msg_1" / "prt_1.json",
        {"id": "prt_1", "messageID": "msg_1", "sessionID": "ses_X", **_step(_tokens(7, 8), 0.001)},
    )
    found, warnings = _scan(tmp_path)
    assert warnings == []
    assert _rows(found["ses_X"]) == [
        ("prt_1", "gpt-4.1", Usage(input=7, output=8), Decimal("0.001"), False)
    ]
    assert found["ses_X"].cwd == "/w"
    # a `storage` directory given directly works too
    assert set(_scan(storage)[0]) == {"ses_X"}


def test_not_a_database(tmp_path: Path) -> None:
    bad = tmp_path / "opencode.db"
    bad.write_bytes(b"garbage" * 500)
    found, warnings = _scan(tmp_path)
    assert found == {}
    assert len(warnings) == 1 and warnings[0].startswith(f"{bad}: not a readable OpenCode")


def test_since_and_find_session(tmp_path: Path) -> None:
    db = _build(tmp_path / "opencode.db")
    later = datetime(2025, 11, 20, 9, 6, tzinfo=UTC)
    assert [s.session_id for s in ADAPTER.scan([db], since=later, warn=lambda _: None)] == ["ses_C"]
    hit = ADAPTER.find_session([db], "ses_A", warn=lambda _: None)
    assert hit is not None and len(hit.requests) == 5
    assert ADAPTER.find_session([db], "nope", warn=lambda _: None) is None


@pytest.mark.parametrize(
    ("tokens", "expected"),
    [
        (_tokens(1, 10, 4), Usage(input=1, output=14, reasoning=4)),
        (_tokens(1, 10, 4, total=15), Usage(input=1, output=14, reasoning=4)),
        (_tokens(1, 10, 4, total=11), Usage(input=1, output=10, reasoning=4)),
        (
            _tokens(1, 10, 4, read=5, write=6, total=22),
            Usage(input=1, output=10, reasoning=4, cache_read=5, cache_write_5m=6),
        ),
    ],
)
def test_output_and_reasoning_rule(tokens: dict[str, Any], expected: Usage) -> None:
    assert opencode_usage(tokens) == expected


def test_default_roots() -> None:
    home = Path("/home/dev")
    assert ADAPTER.default_roots({}, home) == [home / ".local/share/opencode"]
    assert ADAPTER.default_roots({"XDG_DATA_HOME": "/d"}, home) == [Path("/d/opencode")]
    assert ADAPTER.default_roots({"OPENCODE_DATA_DIR": "/o"}, home) == [Path("/o")]
