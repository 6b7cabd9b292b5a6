"""Secrecy (issue 7): a transcript full of secrets is recorded, rendered, scanned and
backfilled, and none of its text appears in any file costlog writes: the ledger,
COST_LOG.md, the private state in the git dir (caches, queue, logs) and the user cache.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests_support import git

SECRETS = [
    "sk-ant-api03-Zq9xVv0LrT4mN2bWc8dE1fG7hJ3kP5sQ6uY0aB2cD4eF6gH8iJ0kL2mN4oP6qR8s",
    "hunter2-Pa55w0rd!-do-not-leak",
    "AKIAIOSFODNN7EXAMPLE",
    "def proprietary_pricing_algorithm(x): return x * 42  # trade secret",
    "ghp_16C7e42F292c6912E7710c838347Ae178B4a",
]
SESSION = "5f0c2a9e-1111-4c3b-9a55-0123456789ab"


def _line(**fields: object) -> str:
    base = {
        "isSidechain": False,
        "userType": "external",
        "sessionId": SESSION,
        "version": "2.1.80",
        "gitBranch": "feature/WRK-237-secret",
    }
    return json.dumps({**base, **fields})


def _transcript(repo: Path) -> list[str]:
    cwd = str(repo)
    t = "2026-11-20T09:0{}:00.000Z"
    usage = {
        "input_tokens": 12,
        "cache_creation_input_tokens": 3000,
        "cache_read_input_tokens": 20000,
        "output_tokens": 150,
        "cache_creation": {"ephemeral_5m_input_tokens": 3000, "ephemeral_1h_input_tokens": 0},
    }
    return [
        _line(
            type="user",
            uuid="u1",
            parentUuid=None,
            cwd=cwd,
            timestamp=t.format(0),
            message={
                "role": "user",
                "content": f"WRK-237: deploy with key {SECRETS[0]} and password {SECRETS[1]}",
            },
        ),
        _line(
            type="assistant",
            uuid="a1",
            parentUuid="u1",
            cwd=cwd,
            timestamp=t.format(1),
            requestId="req_1",
            message={
                "model": "claude-sonnet-4-6",
                "id": "msg_1",
                "type": "message",
                "role": "assistant",
                "stop_reason": "tool_use",
                "usage": usage,
                "content": [
                    {"type": "text", "text": f"Using {SECRETS[2]} now."},
                    {
                        "type": "tool_use",
                        "id": "toolu_1",
                        "name": "Write",
                        "input": {"file_path": f"{cwd}/secret.py", "content": SECRETS[3]},
                    },
                ],
            },
        ),
        _line(
            type="user",
            uuid="u2",
            parentUuid="a1",
            cwd=cwd,
            timestamp=t.format(2),
            message={
                "role": "user",
                "content": [
                    {
                        "tool_use_id": "toolu_1",
                        "type": "tool_result",
                        "content": f"wrote file; token {SECRETS[4]}; {SECRETS[1]}",
                    }
                ],
            },
        ),
        _line(
            type="assistant",
            uuid="a2",
            parentUuid="u2",
            cwd=cwd,
            timestamp=t.format(3),
            requestId="req_2",
            message={
                "model": "claude-sonnet-4-6",
                "id": "msg_2",
                "type": "message",
                "role": "assistant",
                "stop_reason": "end_turn",
                "usage": usage,
                "content": [{"type": "text", "text": f"Done. Key was {SECRETS[0]}"}],
            },
        ),
    ]


def _written_files(*roots: Path) -> list[Path]:
    out = []
    for root in roots:
        if root.exists():
            out += [p for p in root.rglob("*") if p.is_file()]
    return out


@pytest.fixture
def claude_dir(repo: Path, isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    config = isolated_home / "claude"
    project = config / "projects" / "".join(c if c.isalnum() else "-" for c in str(repo))
    project.mkdir(parents=True)
    (project / f"{SESSION}.jsonl").write_text("\n".join(_transcript(repo)) + "\n")
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(config))
    return config


def costlog(repo: Path, *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "costlog", *args],
        cwd=repo,
        input=stdin,
        capture_output=True,
        text=True,
        env=os.environ.copy(),
    )
    assert done.returncode == 0, done.stderr
    return done.stdout + done.stderr


def test_no_transcript_text_reaches_any_file_costlog_writes(
    repo: Path, claude_dir: Path, isolated_home: Path
) -> None:
    git(repo, "checkout", "-q", "-b", "feature/WRK-237-secret")
    costlog(repo, "init")
    printed = costlog(repo, "record", "--session", SESSION)
    printed += costlog(repo, "scan", "--json", "--by", "session")
    printed += costlog(repo, "render")
    printed += costlog(repo, "report", "--json")
    entry = next((repo / ".costlog" / "sessions").rglob("*.yaml")).read_text()
    assert "claude-sonnet-4-6" in entry and "WRK-237" in entry  # it did record the session
    written = [
        *_written_files(repo / ".costlog", repo / ".git" / "costlog", isolated_home / ".cache"),
        repo / "COST_LOG.md",
    ]
    assert written
    assert any(".git/costlog" in str(p) for p in written), written
    for path in written:
        data = path.read_bytes()
        for secret in SECRETS:
            for piece in (secret, secret[:16]):
                assert piece.encode() not in data, f"{piece!r} leaked into {path}"
    for secret in SECRETS:
        assert secret[:16] not in printed
