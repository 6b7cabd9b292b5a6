"""The ledger's parse cache: a warm load reads no YAML and validates nothing twice."""

from __future__ import annotations

import contextlib
import os
import pickle
import sys
from pathlib import Path

from costlog import __version__
from costlog.errors import LedgerError
from costlog.ledger.atomic import atomic_write
from costlog.ledger.format import parse_entry
from costlog.models import Entry

#: the parse cache is private, and keyed by the costlog and Python that wrote it
_CACHE_VERSION = f"4/{__version__}/{sys.version_info[0]}.{sys.version_info[1]}"


class ParseCache:
    """Validated entries keyed by their file's (size, mtime, inode): a warm load parses
    nothing and builds no object by hand.

    Lives in the git dir (never committed; only what the ledger itself holds), pickled,
    and keyed by costlog's and Python's versions; anything unreadable is rebuilt from the
    ledger files, which stay the source of truth.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.old: dict[str, tuple[tuple[int, int, int], Entry]] = {}
        self.new: dict[str, tuple[tuple[int, int, int], Entry]] = {}
        self.dirty = False
        try:
            with open(path, "rb") as handle:
                # unpickling runs code: only a cache this user wrote (`report --repo` may
                # point at a repository someone else owns, with a cache planted in it)
                if os.fstat(handle.fileno()).st_uid != os.geteuid():
                    raise PermissionError(path)
                data = pickle.loads(handle.read())
            if data.get("version") == _CACHE_VERSION:
                self.old = data["files"]
        except Exception:  # any damage or an older layout: rebuild from the files
            self.old = {}

    def get(self, path: str, rel: str) -> Entry:
        st = os.stat(path)
        key = (st.st_size, st.st_mtime_ns, st.st_ino)
        hit = self.old.get(rel)
        if hit is not None and hit[0] == key:
            self.new[rel] = hit
            return hit[1]
        try:
            text = Path(path).read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise LedgerError(
                f"not UTF-8 text ({exc.reason} at byte {exc.start})",
                path=rel,
                line=exc.object.count(b"\n", 0, exc.start) + 1,
            ) from None
        entry = parse_entry(text, rel)  # validated, with file and line on error
        self.new[rel] = (key, entry)
        self.dirty = True
        return entry

    def save(self) -> None:
        if not self.dirty and len(self.new) == len(self.old):
            return
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            blob = pickle.dumps(
                {"version": _CACHE_VERSION, "files": self.new}, protocol=pickle.HIGHEST_PROTOCOL
            )
            # temp file in the swept tmp dir, so a reader killed mid-save leaves nothing
            atomic_write(self.path, blob, self.path.parent / "tmp")
