"""Automatic recording for OpenCode and aider (issue 16): `costlog init --agent opencode`
installs a plugin that queues a session when it goes idle, and `/end-session`;
`init --agent aider` needs nothing, since aider's own commits run the post-commit hook,
which records the newest session of its history. Real repos, the real installed hooks
(run by real `git commit`s), and for the plugin the real JavaScript run by node.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

from costlog import gitrepo as repo_mod
from costlog.integration import queue
from costlog.ledger.store import Ledger
from costlog.models import Entry
from tests_support import FIXTURES_DIR, git, invoke, run

REAL_AIDER = FIXTURES_DIR / "aider" / "real-0.86.2" / "aider.chat.history.md"


def entries(repo: Path) -> dict[str, Entry]:
    return {e.id: e for e in Ledger(repo_mod.find(repo), ".costlog/sessions").load_all()}


def commit(repo: Path, message: str) -> str:
    done = subprocess.run(
        ["git", "commit", "-q", "--allow-empty", "-m", message],
        cwd=repo,
        capture_output=True,
        text=True,
        env=os.environ.copy(),
    )
    assert done.returncode == 0, done.stderr
    return done.stderr


def test_init_opencode_writes_command_and_plugin_and_uninstall_removes_them(repo: Path) -> None:
    out = run("init", "--agent", "opencode")
    command = repo / ".opencode" / "command" / "end-session.md"
    plugin = repo / ".opencode" / "plugin" / "costlog.js"
    assert ".opencode/plugin/costlog.js" in out
    # committed files: no machine's path; the runner finds this clone's costlog
    assert "sh .costlog/bin/costlog record --agent opencode" in command.read_text()
    assert json.dumps(["sh", ".costlog/bin/costlog"]) in plugin.read_text()
    assert sys.executable not in command.read_text() + plugin.read_text()
    doctor = invoke(["doctor"]).output.splitlines()
    assert any(line.startswith("ok    opencode: ") for line in doctor), doctor
    run("uninstall")
    assert not command.exists() and not plugin.exists()


def test_init_aider_is_accepted_and_says_how_it_records(repo: Path) -> None:
    out = run("init", "--agent", "aider")
    assert "aider: nothing to install" in out
    assert not (repo / ".aider").exists()


def _opencode_db(path: Path, repo: Path) -> None:
    """One OpenCode session in the real table shapes, with one priced call."""
    with closing(sqlite3.connect(path)) as db:
        db.executescript((FIXTURES_DIR / "opencode" / "schema.sql").read_text())
        db.execute("INSERT INTO project VALUES ('prj', ?, 1, 1)", (str(repo),))
        db.execute(
            "INSERT INTO session (id, project_id, slug, directory, title, version, time_created,"
            " time_updated) VALUES ('ses_dcc6a1', 'prj', 's', ?, 't', '1.18.33', 1, 1)",
            (str(repo),),
        )
        data = {
            "role": "assistant",
            "time": {"created": 1796159164000},
            "modelID": "claude-sonnet-4-5",
            "path": {"cwd": str(repo)},
            "cost": 0.001,
            "tokens": {
                "input": 100,
                "output": 20,
                "reasoning": 0,
                "cache": {"read": 0, "write": 0},
            },
        }
        db.execute(
            "INSERT INTO message VALUES ('msg_1', 'ses_dcc6a1', 1, 1, ?)",
            (json.dumps(data, separators=(",", ":")),),
        )
        db.commit()


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_opencode_plugin_queues_each_idle_and_the_next_commit_records_once(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run("init", "--agent", "opencode")
    db = tmp_path / "oc" / "opencode.db"
    db.parent.mkdir()
    _opencode_db(db, repo)
    monkeypatch.setenv("OPENCODE_DB", str(db))
    # OpenCode's plugin loader, in short: import the module, call it, hand it events
    script = tmp_path / "drive.mjs"
    shutil.copy(repo / ".opencode" / "plugin" / "costlog.js", tmp_path / "plugin.mjs")
    script.write_text(
        'import { Costlog } from "./plugin.mjs"\n'
        f"const hooks = await Costlog({{ directory: {json.dumps(str(repo))} }})\n"
        'const idle = { type: "session.idle", properties: { sessionID: "ses_dcc6a1" } }\n'
        "await hooks.event({ event: idle })\n"
        "await hooks.event({ event: idle })  // after the next turn: queued again\n"
        'await hooks.event({ event: { type: "message.updated", properties: {} } })\n'
        "await new Promise((done) => setTimeout(done, 3000))\n"
    )
    done = subprocess.run(["node", str(script)], cwd=repo, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    state = repo_mod.find(repo).state_dir
    items = [json.loads(line) for line in (state / queue.QUEUE).read_text().splitlines()]
    assert [(i["agent"], i["session_id"]) for i in items] == [("opencode", "ses_dcc6a1")] * 2

    err = commit(repo, "work")
    assert list(entries(repo)) == ["opencode/ses_dcc6a1"]
    assert err.count("recorded") == 1, err  # queued twice, recorded once
    assert not queue.pending(state)  # nothing left queued


def test_aiders_commit_records_its_newest_session(repo: Path) -> None:
    run("init", "--agent", "aider")
    git(repo, "add", "-A")
    commit(repo, "Set up costlog")
    (repo / ".aider.chat.history.md").write_text(REAL_AIDER.read_text())
    err = commit(repo, "feat: greet with Hi there (WRK-237)")  # as aider's auto-commit
    assert "recorded" in err, err
    assert list(entries(repo)) == ["aider/aider-20261201T214959"]
    err = commit(repo, "unrelated")  # the history did not change: nothing queued
    assert "recorded" not in err, err
    assert run("check").startswith("ok:")
