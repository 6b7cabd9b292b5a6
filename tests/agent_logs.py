"""Writers of agent logs in the real line formats, shared by tests of several packages."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any


def claude_session(
    base: Path,
    sid: str,
    cwd: Path,
    start: str,
    responses: int,
    *,
    model: str = "claude-sonnet-4-6",
    prompt: str = "Tidy up the README",
    tool_output: str = "ok",
) -> Path:
    """A Claude Code transcript: a prompt, then `responses` final assistant responses."""
    folder = base / "projects" / str(cwd).replace("/", "-").replace("_", "-").replace(".", "-")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{sid}.jsonl"
    common = {
        "isSidechain": False,
        "userType": "external",
        "cwd": str(cwd),
        "sessionId": sid,
        "version": "2.1.90",
        "gitBranch": "main",
    }
    lines: list[dict[str, Any]] = [
        {
            **common,
            "type": "user",
            "uuid": f"{sid}-u0",
            "timestamp": f"{start}:00.000Z",
            "message": {"role": "user", "content": prompt},
        }
    ]
    for n in range(responses):
        lines += claude_response(common, sid, n, f"{start}:{10 + n:02d}.000Z", model, tool_output)
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def claude_response(
    common: dict[str, Any], sid: str, n: int, when: str, model: str, tool_output: str
) -> list[dict[str, Any]]:
    usage = {
        "input_tokens": 100,
        "output_tokens": 200,
        "cache_read_input_tokens": 1000,
        "cache_creation_input_tokens": 0,
        "service_tier": "standard",
    }
    return [
        {
            **common,
            "type": "assistant",
            "uuid": f"{sid}-a{n}",
            "timestamp": when,
            "requestId": f"req_{sid}_{n}",
            "message": {
                "model": model,
                "id": f"msg_{sid}_{n}",
                "type": "message",
                "role": "assistant",
                "content": [{"type": "text", "text": "Done."}],
                "stop_reason": "end_turn",
                "stop_sequence": None,
                "usage": usage,
            },
        },
        {
            **common,
            "type": "user",
            "uuid": f"{sid}-r{n}",
            "timestamp": when,
            "message": {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": f"t{n}", "content": tool_output}
                ],
            },
        },
    ]


def codex_session(
    home: Path, sid: str, cwd: Path, start: str, calls: int, model: str = "gpt-5.2-codex"
) -> Path:
    """A Codex rollout: session_meta, turn_context, a prompt, `calls` token_count events."""
    day = start[:10].replace("-", "/")
    folder = home / "sessions" / day
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"rollout-{start[:10]}T{start[11:13]}-00-00-{sid}.jsonl"
    total = {
        "input_tokens": 0,
        "cached_input_tokens": 0,
        "output_tokens": 0,
        "reasoning_output_tokens": 0,
        "total_tokens": 0,
    }
    last = {
        "input_tokens": 5000,
        "cached_input_tokens": 4000,
        "output_tokens": 300,
        "reasoning_output_tokens": 100,
        "total_tokens": 5300,
    }
    lines: list[dict[str, Any]] = [
        {
            "timestamp": f"{start}:00.000Z",
            "type": "session_meta",
            "payload": {
                "id": sid,
                "timestamp": f"{start}:00.000Z",
                "cwd": str(cwd),
                "originator": "codex_cli_rs",
                "cli_version": "0.108.0",
                "git": {"branch": "main"},
            },
        },
        {"timestamp": f"{start}:01.000Z", "type": "turn_context", "payload": {"model": model}},
        {
            "timestamp": f"{start}:02.000Z",
            "type": "event_msg",
            "payload": {"type": "user_message", "message": "Fix the parser"},
        },
    ]
    for n in range(calls):
        total = {k: total[k] + last[k] for k in total}
        lines.append(
            {
                "timestamp": f"{start}:{10 + n:02d}.000Z",
                "type": "event_msg",
                "payload": {
                    "type": "token_count",
                    "info": {"total_token_usage": dict(total), "last_token_usage": dict(last)},
                },
            }
        )
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


SESSION = "7d1e2f30-4b5c-4d6e-8f90-a1b2c3d4e5f6"


def claude_line(session: str, **fields: object) -> str:
    base = {
        "isSidechain": False,
        "userType": "external",
        "sessionId": session,
        "version": "2.1.80",
        "gitBranch": "feature/WRK-1-x",
    }
    return json.dumps({**base, **fields})


def transcript(
    cwd: Path,
    model: str,
    prompts: list[int],
    *,
    session: str = SESSION,
    prompt: str = "Add the invoice export",
    output: int = 40_000,
) -> str:
    """A Claude Code transcript (the real line format): one response per entry of
    `prompts`, each reading that many cache-read tokens, with final output counts."""
    start = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    lines = [
        claude_line(
            session,
            type="user",
            uuid="u0",
            parentUuid=None,
            cwd=str(cwd),
            timestamp=start.isoformat().replace("+00:00", "Z"),
            message={"role": "user", "content": prompt},
        )
    ]
    for n, cache_read in enumerate(prompts, 1):
        when = (start + timedelta(minutes=n)).isoformat().replace("+00:00", "Z")
        usage = {
            "input_tokens": 100,
            "cache_creation_input_tokens": 20_000,
            "cache_read_input_tokens": cache_read,
            "output_tokens": output,
            "cache_creation": {"ephemeral_5m_input_tokens": 20_000, "ephemeral_1h_input_tokens": 0},
        }
        lines.append(
            claude_line(
                session,
                type="assistant",
                uuid=f"a{n}",
                parentUuid=f"u{n - 1}",
                cwd=str(cwd),
                timestamp=when,
                requestId=f"req_{n}",
                message={
                    "model": model,
                    "id": f"msg_{n}",
                    "type": "message",
                    "role": "assistant",
                    "stop_reason": "end_turn",
                    "usage": usage,
                    "content": [{"type": "text", "text": "Done."}],
                },
            )
        )
        lines.append(
            claude_line(
                session,
                type="user",
                uuid=f"u{n}",
                parentUuid=f"a{n}",
                cwd=str(cwd),
                timestamp=when,
                message={"role": "user", "content": "next"},
            )
        )
    return "\n".join(lines) + "\n"
