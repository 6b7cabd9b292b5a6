"""OpenCode (issue 16): its bash tool parts are commit evidence, its edit tools name the
files edited, its first prompt is read (kept only by the `work_item_prefixes` rule), and
`$OPENCODE_DB` is where its database is.

The database is built with OpenCode's real table shapes (tests/fixtures/opencode/
schema.sql) and part records as OpenCode 1.x stores them; the commits are made here, in a
real repo, and the bash part's output is what `git commit` printed for them.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from costlog import gitrepo as repo_mod
from costlog.ledger.store import Ledger
from costlog.models import Entry
from costlog.sources.opencode import ADAPTER
from tests_support import FIXTURES_DIR, git, run

START = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
MS = int(START.timestamp() * 1000)


def commit_at(root: Path, when: datetime, message: str) -> tuple[str, str]:
    """A real commit; returns its sha and what `git commit` printed."""
    env = {
        **os.environ,
        "GIT_AUTHOR_DATE": when.isoformat(),
        "GIT_COMMITTER_DATE": when.isoformat(),
    }
    done = subprocess.run(
        ["git", "commit", "--allow-empty", "-m", message],
        cwd=root,
        check=True,
        env=env,
        capture_output=True,
        text=True,
    )
    return git(root, "rev-parse", "HEAD").stdout.strip(), done.stdout


def _assistant(cwd: str, second: int) -> dict[str, Any]:
    created = MS + second * 1000
    return {
        "role": "assistant",
        "time": {"created": created, "completed": created + 500},
        "modelID": "claude-sonnet-4-5",
        "providerID": "anthropic",
        "path": {"cwd": cwd, "root": cwd},
        "cost": 0.01,
        "tokens": {"input": 100, "output": 20, "reasoning": 0, "cache": {"read": 0, "write": 0}},
    }


def _bash(command: str, output: str, status: str = "completed") -> dict[str, Any]:
    """A ToolPart of OpenCode's bash tool, as stored in `part.data`."""
    return {
        "type": "tool",
        "callID": "toolu_1",
        "tool": "bash",
        "state": {
            "status": status,
            "input": {"command": command, "description": "Commit"},
            "output": output,
            "title": command,
            "metadata": {"output": output, "exit": 0, "description": "Commit"},
            "time": {"start": MS, "end": MS + 100},
        },
    }


def build(
    path: Path, repo: Path, messages: list[tuple[str, str, Any]], parts: list[tuple[str, str, Any]]
) -> Path:
    cwd = str(repo)
    with closing(sqlite3.connect(path)) as db:
        db.executescript((FIXTURES_DIR / "opencode" / "schema.sql").read_text())
        db.execute("INSERT INTO project VALUES ('prj', ?, ?, ?)", (cwd, MS, MS))
        db.executemany(
            "INSERT INTO session (id, project_id, parent_id, slug, directory, title, version,"
            " time_created, time_updated) VALUES (?, 'prj', ?, 's', ?, 't', '1.18.33', ?, ?)",
            [
                ("ses_A", None, cwd, MS, MS),
                ("ses_A_child", "ses_A", cwd, MS, MS),
                ("ses_B", None, cwd, MS, MS),
            ],
        )
        owner = {mid: sid for mid, sid, _ in messages}
        db.executemany(
            "INSERT INTO message VALUES (?, ?, ?, ?, ?)",
            [(mid, sid, MS, MS, _compact(data)) for mid, sid, data in messages],
        )
        db.executemany(
            "INSERT INTO part VALUES (?, ?, ?, ?, ?, ?)",
            [(pid, mid, owner[mid], MS, MS, _compact(data)) for pid, mid, data in parts],
        )
        db.commit()
    return path


def _compact(data: Any) -> str:
    """As OpenCode stores a record: JSON.stringify, no spaces."""
    return json.dumps(data, separators=(",", ":"))


def entries(repo: Path) -> dict[str, Entry]:
    return {e.id: e for e in Ledger(repo_mod.find(repo), ".costlog/sessions").load_all()}


@pytest.fixture
def two_sessions(repo: Path, tmp_path: Path) -> tuple[Path, Path, dict[str, str]]:
    """Session A commits (once itself, once through its sub-agent), session B once, in the
    same minutes; the user commits too. The database is where `$OPENCODE_DB` says."""
    git(repo, "checkout", "-q", "-b", "feature/WRK-237-x")
    a1, a1_out = commit_at(repo, START + timedelta(seconds=5), "step 1 WRK-237")
    b1, b1_out = commit_at(repo, START + timedelta(seconds=8), "other session's step")
    a2, a2_out = commit_at(repo, START + timedelta(seconds=12), "step 2 WRK-237")
    mine, _ = commit_at(repo, START + timedelta(seconds=20), "the user's own commit")
    cwd = str(repo)
    messages: list[tuple[str, str, Any]] = [
        ("msg_01", "ses_A", {"role": "user", "time": {"created": MS}}),
        ("msg_02", "ses_A", _assistant(cwd, 4)),
        ("msg_03", "ses_A_child", _assistant(cwd, 10)),
        ("msg_04", "ses_B", {"role": "user", "time": {"created": MS + 1000}}),
        ("msg_05", "ses_B", _assistant(cwd, 7)),
        ("msg_06", "ses_A", _assistant(cwd, 30)),
    ]
    parts: list[tuple[str, str, Any]] = [
        ("prt_01", "msg_01", {"type": "text", "text": "Do step 1 and 2 of PROJ-12 for WRK-237"}),
        ("prt_02", "msg_01", {"type": "text", "text": "<file HUNTER-1>", "synthetic": True}),
        ("prt_03", "msg_02", _bash('git commit --allow-empty -m "step 1 WRK-237"', a1_out)),
        (
            "prt_04",
            "msg_02",
            {
                "type": "tool",
                "tool": "edit",
                "callID": "t2",
                "state": {
                    "status": "completed",
                    "input": {"filePath": f"{cwd}/greet.py"},
                    "output": "",
                },
            },
        ),
        ("prt_05", "msg_03", _bash('git commit --allow-empty -m "step 2 WRK-237"', a2_out)),
        ("prt_06", "msg_05", _bash("git commit --allow-empty -m x", b1_out)),
        # a failed commit made nothing, whatever its output says
        (
            "prt_07",
            "msg_06",
            _bash("git commit -m y", f"[feature/WRK-237-x {mine[:7]}] y", "error"),
        ),
    ]
    (tmp_path / "elsewhere").mkdir()
    db = build(tmp_path / "elsewhere" / "opencode.db", repo, messages, parts)
    return repo, db, {"a1": a1, "a2": a2, "b1": b1, "mine": mine}


def test_bash_parts_link_each_sessions_own_commits(
    two_sessions: tuple[Path, Path, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, db, shas = two_sessions
    monkeypatch.setenv("OPENCODE_DB", str(db))  # nothing in the default data dir
    assert "recorded 2 new sessions" in run("backfill", "--agent", "opencode")
    found = entries(repo)
    a, b = found["opencode/ses_A"], found["opencode/ses_B"]
    assert [(c.sha, c.evidence) for c in a.commits] == [
        (shas["a1"][:12], "tool-output"),
        (shas["a2"][:12], "tool-output"),  # its sub-agent's commit is the session's
    ]
    assert [(c.sha, c.evidence) for c in b.commits] == [(shas["b1"][:12], "tool-output")]
    assert shas["mine"][:12] not in {c.sha for e in found.values() for c in e.commits}
    assert a.work_items == ["WRK-237"]  # a prompt key only with a configured prefix
    assert run("check").startswith("ok:")


def test_first_prompt_and_edited_files(two_sessions: tuple[Path, Path, dict[str, str]]) -> None:
    repo, db, _ = two_sessions
    sessions = {s.session_id: s for s in ADAPTER.scan([db], warn=lambda _m: None)}
    a = sessions["ses_A"]
    assert a.first_prompt == "Do step 1 and 2 of PROJ-12 for WRK-237"  # not the synthetic part
    assert a.edited_files == {f"{repo}/greet.py"}
    assert sessions["ses_B"].first_prompt is None


def test_a_prompt_key_is_kept_with_its_prefix(
    two_sessions: tuple[Path, Path, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, db, _ = two_sessions
    (repo / ".costlog").mkdir()
    (repo / ".costlog" / "config.yaml").write_text("work_item_prefixes: [PROJ]\n")
    monkeypatch.setenv("OPENCODE_DB", str(db))
    run("record", "--agent", "opencode", "--session", "ses_A")
    assert entries(repo)["opencode/ses_A"].work_items == ["WRK-237", "PROJ-12"]


def test_opencode_db_names_the_database(tmp_path: Path) -> None:
    home = Path("/home/dev")
    data = home / ".local/share/opencode"
    assert ADAPTER.default_roots({"OPENCODE_DB": "/srv/oc.db"}, home) == [Path("/srv/oc.db"), data]
    # a relative name is inside the data dir, as OpenCode resolves it
    assert ADAPTER.default_roots({"OPENCODE_DB": "test.db"}, home) == [data / "test.db", data]
    assert ADAPTER.default_roots({"OPENCODE_DB": ":memory:"}, home) == [data]


def test_a_database_reached_twice_is_read_once(
    two_sessions: tuple[Path, Path, dict[str, str]],
) -> None:
    _, db, _ = two_sessions
    sessions = list(ADAPTER.scan([db, db.parent], warn=lambda _m: None))
    assert sorted(s.session_id for s in sessions) == ["ses_A", "ses_B"]
    assert [len(s.requests) for s in sorted(sessions, key=lambda s: s.session_id)] == [3, 1]
