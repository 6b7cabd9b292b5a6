"""Transcript lines and trees for the Claude Code reader's tests.

Lines are built the way Claude Code writes them (one per content block of a response,
each with a copy of its usage); `make_projects` lays out two sessions of one project, the
second resuming the first, with a sub-agent, a `/btw` replay and an API-error line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from costlog.models import Session
from costlog.sources.claude.adapter import ADAPTER
from tests_support import FIXTURES_DIR, REPO_ROOT

FIXTURES = FIXTURES_DIR / "claude-code"
REAL = FIXTURES / "real"
BENCH = REPO_ROOT / "benchmarks"
PROJECT = "-work-app"
SIG = "S" * 500
TEXT = "a" * 1000


def assistant(
    mid: str,
    rid: str | None,
    *,
    out: int = 8,
    stop: str | None = None,
    model: str = "claude-sonnet-4-6",
    content: list[dict[str, Any]] | None = None,
    ts: str = "2026-11-20T09:00:05.000Z",
    usage: dict[str, Any] | None = None,
    **top: Any,
) -> dict[str, Any]:
    base_usage: dict[str, Any] = {
        "input_tokens": 5,
        "cache_creation_input_tokens": 5000,
        "cache_read_input_tokens": 20000,
        "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 5000},
        "output_tokens": out,
        "service_tier": "standard",
    }
    base_usage.update(usage or {})
    line: dict[str, Any] = {
        "parentUuid": None,
        "isSidechain": False,
        "userType": "external",
        "cwd": "/work/app",
        "sessionId": "s",
        "version": "2.1.90",
        "gitBranch": "main",
        "type": "assistant",
        "uuid": f"u-{mid}-{out}",
        "timestamp": ts,
        "message": {
            "model": model,
            "id": mid,
            "type": "message",
            "role": "assistant",
            "content": content if content is not None else [],
            "stop_reason": stop,
            "stop_sequence": None,
            "usage": base_usage,
        },
    }
    if rid is not None:
        line["requestId"] = rid
    line.update(top)
    return line


def user(content: Any, ts: str = "2026-11-20T09:00:00.000Z", **top: Any) -> dict[str, Any]:
    return {
        "parentUuid": None,
        "isSidechain": False,
        "type": "user",
        "cwd": "/work/app",
        "gitBranch": "main",
        "version": "2.1.90",
        "timestamp": ts,
        "uuid": "u",
        "message": {"role": "user", "content": content},
        **top,
    }


def write(path: Path, lines: Iterable[dict[str, Any] | str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as out:
        for line in lines:
            out.write(line if isinstance(line, str) else json.dumps(line, separators=(",", ":")))
            out.write("\n")
    return path


def scan(*roots: Path, **kw: Any) -> tuple[list[Session], list[str]]:
    warnings: list[str] = []
    sessions = list(ADAPTER.scan(list(roots), warn=warnings.append, **kw))
    return sessions, warnings


def by_id(sessions: Iterable[Session]) -> dict[str, Session]:
    return {s.session_id: s for s in sessions}


def outputs(session: Session) -> list[int]:
    return [r.usage.output for r in session.requests]


THINK = {"type": "thinking", "thinking": "", "signature": SIG}


TEXT_BLOCK = {"type": "text", "text": TEXT}


A1 = assistant("msg_A", "req_A", content=[THINK], ts="2026-11-20T09:00:02.000Z")


A2 = assistant("msg_A", "req_A", content=[TEXT_BLOCK], ts="2026-11-20T09:00:03.000Z")


FINAL_USAGE = {"server_tool_use": {"web_search_requests": 0}, "iterations": [], "speed": "standard"}


B = [
    assistant("msg_B", "req_B", out=9, content=[TEXT_BLOCK], ts="2026-11-20T09:01:00.000Z"),
    assistant(
        "msg_B",
        "req_B",
        out=9,
        content=[{"type": "tool_use", "id": "t1", "name": "Bash", "input": {"command": "ls"}}],
        ts="2026-11-20T09:01:01.000Z",
    ),
    assistant(
        "msg_B",
        "req_B",
        out=412,
        stop="tool_use",
        usage=FINAL_USAGE,
        content=[
            {
                "type": "tool_use",
                "id": "t2",
                "name": "Bash",
                "input": {"command": "git commit -m 'Fix login bug'"},
            }
        ],
        ts="2026-11-20T09:01:02.000Z",
    ),
]


COMMIT_RESULT = user(
    [
        {
            "type": "tool_result",
            "tool_use_id": "t2",
            "content": "[main 1a2b3c4] Fix login bug\n 1 file changed",
        }
    ],
    ts="2026-11-20T09:01:05.000Z",
)


C = assistant(
    "msg_C",
    "req_C",
    out=77,
    stop="end_turn",
    model="claude-opus-4-6",
    usage={
        "speed": "fast",
        "cache_creation": {"ephemeral_5m_input_tokens": 5000, "ephemeral_1h_input_tokens": 0},
    },
    content=[
        {
            "type": "tool_use",
            "id": "t3",
            "name": "Edit",
            "input": {"file_path": "/work/app/src/login.py", "old_string": "x", "new_string": "y"},
        }
    ],
    ts="2026-11-20T09:02:00.000Z",
    gitBranch="fix/WRK-12",
)


SYNTHETIC = assistant(
    "msg_err",
    "req_err",
    out=0,
    model="<synthetic>",
    stop="stop_sequence",
    isApiErrorMessage=True,
    ts="2026-11-20T09:02:30.000Z",
    gitBranch="fix/WRK-12",
)


D = assistant(
    "msg_D",
    "req_D",
    out=55,
    stop="end_turn",
    model="claude-haiku-4-5",
    isSidechain=True,
    agentId="abc123",
    ts="2026-11-20T09:03:00.000Z",
    content=[{"type": "text", "text": "done"}],
)


PROGRESS = {
    "type": "progress",
    "timestamp": "2026-11-20T09:03:00.500Z",
    "cwd": "/work/app",
    "data": {"message": D},
}


BTW = assistant(
    "msg_B",
    "req_B_btw",
    out=412,
    stop="tool_use",
    isSidechain=True,
    ts="2026-11-20T09:04:00.000Z",
    gitBranch="fix/WRK-12",
)


E = assistant(
    "msg_E",
    "req_E",
    out=300,
    stop="end_turn",
    ts="2026-11-21T10:00:05.000Z",
    content=[{"type": "text", "text": "resumed"}],
)


PROMPT = user("Fix WRK-12: the login bug")


_MARKER = re.compile(r"\.\.\.\[\+(\d+) chars\]")


def expand(src: Path, dest: Path) -> Path:
    """The excerpts shorten long strings to `...[+N chars]`; restore their lengths."""
    text = _MARKER.sub(lambda m: "x" * int(m.group(1)), src.read_text(encoding="utf-8"))
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(text, encoding="utf-8")
    return dest


def make_projects(tmp_path: Path) -> Path:
    """Two sessions of one project: S1 (with a sub-agent) and S2, which resumed S1."""
    root = tmp_path / "claude" / "projects"
    write(
        root / PROJECT / "S1.jsonl",
        [
            {
                "type": "queue-operation",
                "operation": "enqueue",
                "timestamp": "2026-11-20T09:00:00.000Z",
                "content": "queued",
            },
            PROMPT,
            A1,
            A2,
            *B,
            COMMIT_RESULT,
            C,
            SYNTHETIC,
            PROGRESS,
            BTW,
        ],
    )
    write(root / PROJECT / "S1" / "subagents" / "agent-abc123.jsonl", [D])
    write(
        root / PROJECT / "S2.jsonl",
        [PROMPT, A1, A2, *B, COMMIT_RESULT, user("go on", ts="2026-11-21T10:00:00.000Z"), E],
    )
    return root
