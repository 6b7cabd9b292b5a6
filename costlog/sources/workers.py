"""How many processes a cold read of agent logs is spread over (`sources._spread`, or a
process pool): the Claude Code and Codex readers decide it alike."""

from __future__ import annotations

import os

#: cold reads of at least this many bytes are spread over worker processes
PARALLEL_BYTES = 64_000_000


def readers(size: int, files: int) -> int:
    """Processes for a cold read of `size` bytes in `files` files, this one included: one
    below PARALLEL_BYTES, else one per core this process may run on, at most 4, and
    never more than files (`COSTLOG_SCAN_WORKERS=N` chooses; 1 turns them off)."""
    configured = os.environ.get("COSTLOG_SCAN_WORKERS", "")
    if configured.isdigit():
        wanted = int(configured)
    elif size < PARALLEL_BYTES:
        return 1
    else:
        from costlog.forked import cores  # only for a big read: not on the hooks' path

        wanted = min(4, cores())
    return max(1, min(wanted, files))
