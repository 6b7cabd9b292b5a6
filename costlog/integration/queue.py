"""The queue the agents' SessionEnd hooks append to and the post-commit hook drains.

A SessionEnd hook has about 1.5 s (Claude Code) or is not waited for at all (Gemini), so it
only appends one JSON line to `<state_dir>/queue.jsonl` under an flock and exits. The slow
part (read the log, price, attribute, write the ledger) happens later, in the post-commit
hook or `costlog record`.

Delivery is at least once, and recording is idempotent (a session's ledger file is named
by its id, so recording it again rewrites that one file), so a hook killed at any moment
loses nothing and duplicates nothing:

- `claim` takes the queue by renaming it to `queue.jsonl.<pid>.<n>.claimed` and holds an
  flock on that file for as long as the process lives. Claim files whose flock is free
  belong to a process that died (a pid can be reused, a lock cannot outlive its owner):
  the next `claim` adopts them by renaming them to its own name.
- While it works, the owner appends marks to its claim: `start` before an item, `done`
  (with the ledger file written) once the entry is durably in the ledger. An adopter skips
  items marked done (it still renders and stages their files, which the dead run may not
  have reached) and puts items started but never finished last, so one item that kills
  or hangs its run cannot hold up the others; after MAX_INTERRUPTED such runs it is
  dropped with a line in the hook log.
- `Claim.release` puts the items to retry back into the queue, then deletes the claim
  files. A kill between the two leaves an item in both; `dedupe` merges the copies.

Items are de-duplicated by (agent, session id): a session that ended twice is recorded once.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

QUEUE = "queue.jsonl"
_LOCK = "queue.lock"
_CLAIMED = ".claimed"
#: an item whose runs were killed (or hung and were killed) this often is dropped
MAX_INTERRUPTED = 10
#: what the queue itself adds to an item (autorecord counts `tries`)
_BOOKKEEPING = ("tries", "interrupted")

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

    lines = "".join(json.dumps(item, sort_keys=True, ensure_ascii=False) + "\n" for item in items)
    if not lines:
        return
    with _locked(state_dir), open(state_dir / QUEUE, "a", encoding="utf-8") as handle:
        handle.write(lines)
        handle.flush()
        os.fsync(handle.fileno())


def pending(state_dir: Path) -> bool:
    """True when something is queued or a claim is left over (a stat and a listing of the
    state dir, no lock: for a cheap early exit)."""
    try:
        if (state_dir / QUEUE).stat().st_size > 0:
            return True
    except OSError:
        pass
    try:
        return any(_is_claim(name) for name in os.listdir(state_dir))
    except OSError:
        return False


def _is_claim(name: str) -> bool:
    return name.startswith(QUEUE + ".") and name.endswith(_CLAIMED)


def key(item: Item) -> str:
    """What identifies an item's session: `agent/session-id`."""
    sid = str(item.get("session_id") or "")
    if not sid:  # the item itself, without what the queue adds to it
        import json

        return "?" + json.dumps(
            {k: v for k, v in item.items() if k not in _BOOKKEEPING}, sort_keys=True
        )
    return f"{item.get('agent') or ''}/{sid}"


def token(item: Item) -> str:
    """One queueing of a session: a session queued again after it was recorded (resumed
    and ended again) is a new token, so an old `done` mark does not cover it."""
    return f"{key(item)}@{item.get('queued_at') or ''}"


class Claim:
    """The items one process took from the queue; on disk until `release`."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        #: to record, oldest first; those interrupted before come last
        self.items: list[Item] = []
        #: items a killed run recorded: (token, ledger file) to render and stage again
        self.recorded: list[tuple[str, str]] = []
        #: items dropped because their runs were interrupted MAX_INTERRUPTED times
        self.dropped: list[Item] = []
        self._files: list[tuple[Path, IO[bytes]]] = []

    # ---- building one (under the queue lock)

    def _own(self, source: Path) -> bool:
        """Rename `source` to a claim of this process and lock it; False if it is held."""
        try:
            handle = open(source, "a+b")  # noqa: SIM115 - held until release
        except FileNotFoundError:
            return False
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False  # a live process is working on it
        target = self._new_name()
        try:
            os.replace(source, target)
        except OSError:
            handle.close()
            raise
        self._files.append((target, handle))
        return True

    def _new_name(self) -> Path:
        n = len(self._files)
        while True:
            path = self.state_dir / f"{QUEUE}.{os.getpid()}.{n}{_CLAIMED}"
            if not path.exists():
                return path
            n += 1

    def _load(self) -> None:
        lines: list[Item] = []
        for path, _ in self._files:
            lines += _parse(path.read_text(encoding="utf-8", errors="replace"))
        items = dedupe(line for line in lines if "_mark" not in line)
        marks = [line for line in lines if "_mark" in line]
        done = {
            str(m.get("token")): str(m.get("path") or "") for m in marks if m["_mark"] == "done"
        }
        starts: dict[str, int] = {}
        for mark in marks:
            if mark["_mark"] == "start":
                starts[str(mark.get("token"))] = starts.get(str(mark.get("token")), 0) + 1
        fresh: list[Item] = []
        retried: list[Item] = []
        for item in items:
            tok = token(item)
            if tok in done:
                self.recorded.append((tok, done[tok]))
                continue
            interrupted = _count(item.get("interrupted")) + starts.get(tok, 0)
            if interrupted:
                item = {**item, "interrupted": interrupted}
            if interrupted >= MAX_INTERRUPTED:
                self.dropped.append(item)
            else:
                (retried if interrupted else fresh).append(item)
        self.items = fresh + sorted(retried, key=lambda i: _count(i.get("interrupted")))

    # ---- while working

    def mark(self, what: str, item: Item, path: str | None = None) -> None:
        """Note progress on an item in this claim (no fsync: a kill keeps what was written;
        a power cut that loses a `done` mark only makes the item be recorded again)."""
        if not self._files:
            return
        import json

        record: Item = {"_mark": what, "token": token(item)}
        if path:
            record["path"] = path
        handle = self._files[-1][1]
        handle.write((json.dumps(record, sort_keys=True) + "\n").encode("utf-8"))
        handle.flush()

    def release(self, requeue: Iterable[Item] = ()) -> None:
        """Put `requeue` back in the queue, then delete the claim files (the one holding
        the marks last, so a kill half-way leaves nothing already done pending again)."""
        append(self.state_dir, requeue)
        files, self._files = self._files, []
        for path, handle in files:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            handle.close()

    def __enter__(self) -> Claim:
        return self

    def __exit__(self, *exc: object) -> None:
        # an exception without release: leave the files, unlocked, for the next claim
        for _, handle in self._files:
            handle.close()
        self._files = []


def claim(state_dir: Path) -> Claim:
    """Take every queued item, and adopt the claims of processes that died."""
    taken = Claim(state_dir)
    if not pending(state_dir):
        return taken
    with _locked(state_dir):
        # oldest first, the queue last: of two copies of an item, the later one is newer
        for path in sorted(
            (state_dir / n for n in os.listdir(state_dir) if _is_claim(n)), key=_mtime
        ):
            taken._own(path)
        if (state_dir / QUEUE).exists():
            taken._own(state_dir / QUEUE)
    try:
        taken._load()
    except BaseException:
        taken.__exit__()
        raise
    return taken


def drain(state_dir: Path) -> list[Item]:
    """Take every queued item out of the queue at once, once per session, oldest first.

    The items leave the disk here: a caller that records them should use `claim`, which
    keeps each on disk until its entry is written."""
    taken = claim(state_dir)
    items = taken.items
    taken.release()
    return items


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


def _count(value: object) -> int:
    try:
        return max(0, int(str(value or 0)))
    except ValueError:
        return 0


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
    """One item per (agent, session id), in first-seen order; the one queued last wins
    (by `queued_at`, else the later line: a retry's try count is newer than its claim's)."""
    order: dict[tuple[str, str], Item] = {}
    anonymous: list[Item] = []
    for item in items:
        sid = str(item.get("session_id") or "")
        if not sid:
            if item not in anonymous:  # the same line twice: a kill during `release`
                anonymous.append(item)
            continue
        key = (str(item.get("agent") or ""), sid)
        old = order.get(key, {})
        newer = _count(item.get("queued_at")) >= _count(old.get("queued_at"))
        order[key] = {**old, **item} if newer else {**item, **old}
    return [*order.values(), *anonymous]


# ---------------------------------------------------------------- health (costlog doctor)


@dataclass
class Health:
    """What `costlog doctor` reports about the queue: nothing here changes it."""

    #: sessions waiting in the queue for the next post-commit hook
    queued: int = 0
    #: claim files whose process died (their lock is free): the next claim adopts them
    dead_claims: list[Path] = field(default_factory=list)
    #: claim files a live process is working on
    live_claims: int = 0
    #: queued or claimed items that failed or were interrupted before: (item, times)
    retried: list[tuple[Item, int]] = field(default_factory=list)
    #: the earliest `queued_at` of what is waiting (epoch seconds), if known
    oldest: int | None = None
    #: the waiting sessions' `agent/session-id` keys
    keys: set[str] = field(default_factory=set)


def health(state_dir: Path) -> Health:
    """A look at the queue and its claims under the queue lock (so no claim is being taken
    while it looks); a claim's own lock is only tested, never kept."""
    out = Health()
    if not pending(state_dir):
        return out
    lines: list[Item] = []
    with _locked(state_dir):
        with contextlib.suppress(OSError):
            lines += _parse((state_dir / QUEUE).read_text(encoding="utf-8", errors="replace"))
        for name in sorted(n for n in os.listdir(state_dir) if _is_claim(n)):
            path = state_dir / name
            if _held(path):
                out.live_claims += 1
                continue
            out.dead_claims.append(path)
            with contextlib.suppress(OSError):
                lines += _parse(path.read_text(encoding="utf-8", errors="replace"))
    items = dedupe(line for line in lines if "_mark" not in line)
    starts: dict[str, int] = {}
    for mark in (line for line in lines if line.get("_mark") == "start"):
        starts[str(mark.get("token"))] = starts.get(str(mark.get("token")), 0) + 1
    out.queued = len(items)
    out.keys = {key(item) for item in items}
    for item in items:
        times = _count(item.get("tries")) + _count(item.get("interrupted"))
        times += starts.get(token(item), 0)
        if times:
            out.retried.append((item, times))
        when = _count(item.get("queued_at"))
        if when and (out.oldest is None or when < out.oldest):
            out.oldest = when
    return out


def _held(path: Path) -> bool:
    """Whether a live process holds this claim's lock."""
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed below
    except OSError:
        return True  # gone meanwhile: not stuck
    try:
        fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        handle.close()  # closing drops the test lock
    return False
