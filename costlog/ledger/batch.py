"""Writing many ledger files at once (backfill), as safely as `Ledger.write` writes one,
for a fraction of the waiting.

One file at a time costs two fsyncs each (the file, then its directory), and on a busy
disk each one takes milliseconds: hundreds of sessions waited seconds for them. Here every
file is still written to a fresh temp file, made durable, and renamed over its target, so
a reader or a crash sees the old file or the new one, never a torn one; but the temp files
are flushed together (on threads: a journaling file system commits them as one group) and
each directory is flushed once, at the end. A crash part way leaves some files new and
some old, as stopping between two single writes would. Call under the ledger lock.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Mapping
from pathlib import Path

from costlog.errors import CostlogError
from costlog.ledger.atomic import atomic_write
from costlog.safefs import UnsafePath, check_repo_path, read_repo_text

#: threads waiting on fsync at once (they wait on the disk, not on the CPU)
_SYNC_THREADS = 8
_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


class Staged:
    """Ledger files to write, by path; the last text staged for a path wins (an entry
    recorded, then giving up a commit to a later one, is written once)."""

    def __init__(self, root: Path, tmp_dir: Path) -> None:
        self.root, self.tmp_dir = root, tmp_dir
        self.texts: dict[Path, str] = {}

    def put(self, path: Path, text: str) -> None:
        self.texts[path] = text

    def write(self) -> None:
        """Write every staged file whose text is not already the file's. A symlink on the
        way to any of them is refused (UnsafePath) before anything is written."""
        texts, self.texts = self.texts, {}
        changed = {}
        for path, text in texts.items():
            try:
                old = read_repo_text(self.root, path)
            except UnsafePath:
                raise
            except CostlogError:  # unreadable or not UTF-8: replaced by the new entry
                old = None
            if old != text:
                changed[path] = text
        write_all(self.root, self.tmp_dir, changed)


def write_all(root: Path, tmp_dir: Path, texts: Mapping[Path, str]) -> None:
    """Write each path's text atomically and durably (see the module docstring)."""
    if not texts:
        return
    for path in texts:
        check_repo_path(root, path)
    with contextlib.suppress(OSError):
        tmp_dir.mkdir(parents=True, exist_ok=True)
    shared = tmp_dir.is_dir()
    pid = os.getpid()
    temps: dict[Path, Path] = {}
    current: Path | None = None
    try:
        opened: list[tuple[Path, int]] = []
        try:
            for n, (path, text) in enumerate(texts.items()):
                current = path
                path.parent.mkdir(parents=True, exist_ok=True)
                # `n`: two agents' files may share a name; the sweep reads the pid before .tmp
                tmp = (tmp_dir if shared else path.parent) / f".{path.name}.{n}.{pid}.tmp"
                with contextlib.suppress(FileNotFoundError):
                    tmp.unlink()  # a stale one of a reused pid, or a link planted there
                temps[path] = tmp
                opened.append((path, os.open(tmp, _FLAGS, 0o666)))
                _write_fully(opened[-1][1], text.encode("utf-8"))
            current = None
            _sync_all(opened)
        finally:
            for _path, fd in opened:
                with contextlib.suppress(OSError):
                    os.close(fd)
        for path, tmp in temps.items():
            current = path
            try:
                os.replace(tmp, path)
            except OSError as exc:
                if exc.errno != errno.EXDEV or tmp.parent == path.parent:
                    raise
                atomic_write(path, texts[path])  # another file system: written beside it
        current = None
    except OSError as exc:
        if exc.filename is None and current is not None:  # a full disk names no file
            exc.filename = str(current)
        raise
    finally:
        for tmp in temps.values():
            with contextlib.suppress(OSError):
                tmp.unlink()  # gone after its rename
    for folder in dict.fromkeys(path.parent for path in texts):
        _sync_dir(folder)


def _write_fully(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _sync_all(opened: list[tuple[Path, int]]) -> None:
    """fsync every temp file, several at once; a failure names its target."""

    def sync(item: tuple[Path, int]) -> None:
        path, fd = item
        try:
            os.fsync(fd)
        except OSError as exc:
            if exc.filename is None:
                exc.filename = str(path)
            raise

    if len(opened) < 2:
        for item in opened:
            sync(item)
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(min(_SYNC_THREADS, len(opened))) as pool:
        for _ in pool.map(sync, opened):  # re-raises the first failure
            pass


def _sync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
