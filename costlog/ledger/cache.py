"""The ledger's parse cache: a warm load reads no YAML and validates nothing twice."""

from __future__ import annotations

import contextlib
import copyreg
import dataclasses
import io
import os
import pickle
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from costlog import __version__, models
from costlog.errors import LedgerError
from costlog.ledger.atomic import atomic_write
from costlog.ledger.format import parse_entry
from costlog.models import Commit, Entry, ModelUsage, Usage

_RECORDS = [
    cls for cls in vars(models).values() if isinstance(cls, type) and dataclasses.is_dataclass(cls)
]
#: the parse cache is private, and keyed by the costlog and Python that wrote it, and by
#: the fields of the records it holds (an entry pickled before a field was added would
#: come back without it: an AttributeError far from here)
_FIELDS = "|".join(
    f"{cls.__name__}:{','.join(f.name for f in dataclasses.fields(cls))}" for cls in _RECORDS
)
_CACHE_VERSION = f"5/{__version__}/{sys.version_info[0]}.{sys.version_info[1]}/{_FIELDS}"


def _positional(cls: type) -> Callable[[Any], tuple[Any, ...]] | None:
    """Pickle a record as `cls(*its field values)`: one call per object when loading,
    where pickle's default sets each slot by name (100,000 entries load in 40% less
    time). Only for a record whose every field is an __init__ argument, in order."""
    names = tuple(f.name for f in dataclasses.fields(cls))
    if names != getattr(cls, "__slots__", None) or not all(
        f.init and not f.kw_only for f in dataclasses.fields(cls)
    ):
        return None
    return lambda obj: (cls, tuple(getattr(obj, name) for name in names))


_DISPATCH: dict[type, Any] = dict(copyreg.dispatch_table)
for _cls in (Entry, ModelUsage, Usage, Commit):
    _reduce = _positional(_cls)
    if _reduce is not None:
        _DISPATCH[_cls] = _reduce


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
                data = pickle.load(handle)  # streamed: no second copy of the file in memory
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
        entry = _shared(parse_entry(text, rel))  # validated, with file and line on error
        self.new[rel] = (key, entry)
        self.dirty = True
        return entry

    def save(self) -> None:
        if not self.dirty and len(self.new) == len(self.old):
            return
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            out = io.BytesIO()
            pickler = pickle.Pickler(out, protocol=pickle.HIGHEST_PROTOCOL)
            pickler.dispatch_table = _DISPATCH
            pickler.dump({"version": _CACHE_VERSION, "files": self.new})
            blob = out.getvalue()
            # temp file in the swept tmp dir, so a reader killed mid-save leaves nothing
            atomic_write(self.path, blob, self.path.parent / "tmp")


#: the few names every entry repeats (agents, models, sources, tables, branches): one
#: string object each, so 100,000 entries hold, pickle and load each name once
_NAMES: dict[str, str] = {}


def _name(value: str) -> str:
    return _NAMES.setdefault(value, value) if len(_NAMES) < 100_000 else value


def _shared(entry: Entry) -> Entry:
    """The entry with its repeated names and its one-model cost made shared objects
    (equal values, so nothing read from it changes; Decimals are immutable)."""
    entry.agent = _name(entry.agent)
    entry.source = _name(entry.source)
    for attr in ("pricing_table", "cwd", "branch", "author", "machine"):
        value = getattr(entry, attr)
        if isinstance(value, str):
            setattr(entry, attr, _name(value))
    entry.models = {_name(model): mu for model, mu in entry.models.items()}
    for mu in entry.models.values():
        mu.source = _name(mu.source)
        total = entry.cost_usd
        if (
            isinstance(mu.cost_usd, Decimal)
            and isinstance(total, Decimal)
            and mu.cost_usd.as_tuple() == total.as_tuple()  # same digits, same exponent
        ):
            mu.cost_usd = total  # one model: the same amount twice
    for commit in entry.commits:
        commit.evidence = _name(commit.evidence)
    return entry
