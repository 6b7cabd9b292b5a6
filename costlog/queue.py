"""The queue the agents' SessionEnd hooks append to and the post-commit hook drains.

A SessionEnd hook has about 1.5 s (Claude Code) or is not waited for at all (Gemini), so it
only appends one JSON line to `<state_dir>/queue.jsonl` under an flock and exits. The slow
part (read the log, price, attribute, write the ledger) happens later, in the post-commit
hook or `costlog record`.

`drain` claims the whole file by an atomic rename, so two hooks draining at once never get
the same item, and an item appended while draining lands in a fresh file for next time.
Items are de-duplicated by (agent, session id): a session that ended twice is recorded once.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

QUEUE = "queue.jsonl"
_LOCK = "queue.lock"

Item = dict[str, Any]


@contextlib.contextmanager
def _locked(state_dir: Path) -> Iterator[None]:
    state_dir.mkdir(parents=True, exist_ok=True)
    with open(state_dir / _LOCK, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def enqueue(state_dir: Path, item: Item) -> None:
    """Append one item (a JSON object on one line)."""
    append(state_dir, [item])


def append(state_dir: Path, items: Iterable[Item]) -> None:
    import json

    lines = "".join(json.dumps(item, sort_keys=True, ensure_ascii=False) + "\n"
                    for item in items)
    if not lines:
        return
    with _locked(state_dir), open(state_dir / QUEUE, "a", encoding="utf-8") as handle:
        handle.write(lines)
        handle.flush()
        os.fsync(handle.fileno())


def pending(state_dir: Path) -> bool:
    """True when something is queued (a stat, no lock: for a cheap early exit)."""
    try:
        return (state_dir / QUEUE).stat().st_size > 0
    except OSError:
        return False


def drain(state_dir: Path) -> list[Item]:
    """Claim and return every queued item, once per session, oldest first."""
    if not pending(state_dir):
        return []
    claimed = state_dir / f"{QUEUE}.{os.getpid()}.claimed"
    with _locked(state_dir):
        try:
            os.replace(state_dir / QUEUE, claimed)
        except FileNotFoundError:
            return []
    try:
        text = claimed.read_text(encoding="utf-8", errors="replace")
    finally:
        with contextlib.suppress(OSError):
            claimed.unlink()
    return dedupe(_parse(text))


def _parse(text: str) -> list[Item]:
    import json

    items = []
    for line in text.splitlines():
        try:
            item = json.loads(line)
        except ValueError:
            continue  # a torn line from a killed writer
        if isinstance(item, dict):
            items.append(item)
    return items


def dedupe(items: Iterable[Item]) -> list[Item]:
    """One item per (agent, session id); the last one queued wins, in first-seen order."""
    order: dict[tuple[str, str], Item] = {}
    anonymous: list[Item] = []
    for item in items:
        sid = str(item.get("session_id") or "")
        if not sid:
            anonymous.append(item)
            continue
        key = (str(item.get("agent") or ""), sid)
        order[key] = {**order.get(key, {}), **item}
    return [*order.values(), *anonymous]
