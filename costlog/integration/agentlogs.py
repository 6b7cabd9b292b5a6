"""The post-commit hook's look at agents that have no SessionEnd hook of their own: aider.

aider writes `.aider.chat.history.md` in the repo root and commits its edits itself, so
its commits run costlog's post-commit hook (the shim starts Python when the history is
newer than its last look: `watched`). On each run this compares the history's size and
mtime with what it saw last (`<state_dir>/agent-logs-seen.json`) and, when it changed,
queues it like a SessionEnd hook queues a transcript: the queue's processing records the
newest session in it (`record --transcript` on an aider history). A commit aider is making
right now is named in the history (`> Commit sha`) only after git returns, so that link
is made by the next record of the session: aider's next commit, or yours.

Kept light, as the hook path must be: a stat and a small JSON file, no adapter import.
OpenCode needs nothing here: its plugin (agentsetup) queues its sessions itself.
"""

from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path

from costlog.gitrepo import Repo
from costlog.integration import queue

HISTORY_NAME = ".aider.chat.history.md"  # = costlog.sources.aider.HISTORY_NAME
SEEN = "agent-logs-seen.json"


def queue_changed(repo: Repo) -> bool:
    """Queue aider's history when it changed since the last look; True when queued."""
    path = repo.root / HISTORY_NAME
    try:
        info = os.lstat(path)
    except OSError:
        return False
    if not stat.S_ISREG(info.st_mode):
        return False  # a link or a FIFO: the reader refuses it, so there is nothing to queue
    mark = [info.st_size, info.st_mtime_ns]
    seen_path = repo.state_dir / SEEN
    seen = _load(seen_path)
    if seen.get(HISTORY_NAME) == mark:
        return False
    queue.enqueue(
        repo.state_dir,
        {"agent": "aider", "transcript_path": str(path), "queued_at": int(time.time())},
    )
    seen[HISTORY_NAME] = mark
    _save(seen_path, seen)
    return True


def watched(repo: Repo) -> list[str]:
    """The files whose change the post-commit shim must not skip (see `watch`): aider's
    history, named even before it exists, since the shim compares it at commit time: the
    first aider run in a repo creates it, and is then newer than the shim's last look."""
    name = str(repo.root / HISTORY_NAME)
    return [name] if "\n" not in name and "\r" not in name else []


def _load(path: Path) -> dict[str, object]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _save(path: Path, data: dict[str, object]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(data), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        return
