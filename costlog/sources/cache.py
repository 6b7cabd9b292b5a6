"""Incremental scan cache: per-log-file summaries, so an unchanged history re-scans fast.

Generic: an adapter stores whatever JSON-able *state* it derives from one file, together with
how many bytes of the file that state covers. On the next scan, per file:

* `hit`: size, mtime and inode unchanged: use the state as is, do not open the file;
* `grown`: same inode, the file is larger and the bytes just before the covered offset still
  hash the same (agents append to their logs): resume reading at the offset with the state;
* `miss`: anything else: read the whole file again.

Where it lives: `$COSTLOG_CACHE_DIR`, else `$XDG_CACHE_HOME/costlog`, else `~/.cache/costlog`
(never inside a repository). What it holds is up to the adapter; costlog's adapters store
only counts, ids, model names, timestamps, cwd and branch, never prompt text, tool output or
file contents. The boundary check stores a hash of the covered tail, not the bytes. A cache
that cannot be read is ignored and rebuilt; one that cannot be written only costs speed.

Use (see `costlog.sources.claude.incremental.read_file`)::

    cache = FileCache("my-agent", SCHEMA)           # bump SCHEMA when `state` changes shape
    status, cached = cache.lookup(str(path), path.stat())
    # "hit": use cached.state; "grown": if tail_hash(fh, cached.offset) == cached.tail,
    # continue from cached.offset with cached.state; else read all, then:
    cache.put(str(path), st, offset, tail_hash(fh, offset), state)
    cache.save()                                    # once, after the scan
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
import os
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Literal

from costlog.safefs import read_regular

#: bytes before the covered offset that must still match for the append-only fast path
TAIL_BYTES = 4096

Status = Literal["hit", "grown", "miss"]


def cache_dir(env: Mapping[str, str] | None = None) -> Path:
    environ = os.environ if env is None else env
    explicit = environ.get("COSTLOG_CACHE_DIR")
    if explicit:
        return Path(explicit)
    xdg = environ.get("XDG_CACHE_HOME")
    if xdg:
        return Path(xdg) / "costlog"
    home = environ.get("HOME")
    return (Path(home) if home else Path.home()) / ".cache" / "costlog"


@dataclass(slots=True)
class Cached:
    """What the cache knows about one file."""

    size: int
    mtime_ns: int
    inode: int
    #: bytes of the file the state covers (end of the last complete line)
    offset: int
    #: hash of up to TAIL_BYTES bytes before `offset`
    tail: str
    state: Any


def tail_hash(fh: BinaryIO, offset: int) -> str:
    """Hash of the TAIL_BYTES bytes before `offset` (the file position moves)."""
    start = max(0, offset - TAIL_BYTES)
    fh.seek(start)
    return hashlib.blake2b(fh.read(offset - start), digest_size=16).hexdigest()


class FileCache:
    """One file per adapter and schema version, loaded once, saved when changed.

    marshal-encoded (twice as fast to load as JSON; the file is private to this machine
    and named after the Python version that wrote it); unreadable means empty.
    """

    def __init__(
        self, name: str, version: int, *, env: Mapping[str, str] | None = None, enabled: bool = True
    ) -> None:
        self.enabled = enabled
        py = f"{sys.version_info[0]}{sys.version_info[1]}"
        self.path = cache_dir(env) / f"{name}.v{version}.py{py}.marshal"
        self._files: dict[str, list[Any]] = {}
        self._dirty = False
        self._seen: set[str] = set()
        if enabled:
            self._files = self._load()

    def _load(self) -> dict[str, list[Any]]:
        try:  # a regular file only (a FIFO put there would hang every scan)
            data = marshal.loads(read_regular(self.path))
        except (OSError, ValueError, EOFError, TypeError):
            return {}
        files = data.get("files") if isinstance(data, dict) else None
        return files if isinstance(files, dict) else {}

    def lookup(self, path: str, st: os.stat_result) -> tuple[Status, Cached | None]:
        """How the cached state for `path` relates to the file as it is now."""
        self._seen.add(path)
        row = self._files.get(path)
        if row is None or len(row) != 6:
            return "miss", None
        cached = Cached(*row)
        if (
            cached.size == st.st_size
            and cached.mtime_ns == st.st_mtime_ns
            and cached.inode == st.st_ino
        ):
            return "hit", cached
        if cached.inode == st.st_ino and st.st_size > cached.size >= cached.offset:
            return "grown", cached
        return "miss", None

    def put(self, path: str, st: os.stat_result, offset: int, tail: str, state: Any) -> None:
        if not self.enabled:
            return
        self._seen.add(path)
        self._files[path] = [st.st_size, st.st_mtime_ns, st.st_ino, offset, tail, state]
        self._dirty = True

    def save(self) -> None:
        """Write the cache if anything changed; drop files that no longer exist."""
        if not self.enabled or not self._dirty:
            return
        for path in [p for p in self._files if p not in self._seen]:
            if not os.path.exists(path):
                del self._files[path]
        try:
            blob = marshal.dumps({"files": self._files})
        except ValueError:  # a value marshal cannot hold: keep no cache rather than fail
            return
        if write_private(self.path, blob):
            self._dirty = False


def write_private(path: Path, data: bytes) -> bool:
    """Replace a private cache file (outside any repo) in one step, or leave it as it was:
    a full disk or a read-only cache dir costs the next run its cache, never a failure."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=path.name, dir=path.parent)
    except OSError:
        return False
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        return False
    return True
