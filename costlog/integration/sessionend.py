"""An agent's SessionEnd hook: queue the ending session for the next post-commit hook.

Claude Code gives this hook about 1.5 s and Gemini does not wait for it at all, so it only
finds the repository and appends one line to the queue; reading the log comes later.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from costlog import gitrepo
from costlog.errors import CostlogError
from costlog.integration import queue


def session_end(args: Sequence[str], stdin: IO[str]) -> int:
    """Queue the ending session for the next post-commit hook; nothing slow here."""
    agent = args[args.index("--agent") + 1] if "--agent" in args else "claude-code"
    payload = read_payload(stdin)
    cwd = str(payload.get("cwd") or os.environ.get("CLAUDE_PROJECT_DIR") or os.getcwd())
    try:
        repo = gitrepo.find(Path(cwd))
    except (CostlogError, OSError):
        return 0  # a session outside any git repo: nothing to record here
    item = {
        key: payload[key]
        for key in ("session_id", "transcript_path", "cwd", "reason", "hook_event_name")
        if payload.get(key)
    }
    item["agent"] = agent
    item["queued_at"] = int(time.time())
    queue.enqueue(repo.state_dir, item)
    return 0


def read_payload(stdin: IO[str]) -> dict[str, object]:
    """The hook's JSON input; {} for a terminal, empty or invalid input (never blocks)."""
    import json

    if stdin.isatty():
        return {}
    try:
        data = json.loads(stdin.read() or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
