"""The ledger's parse cache: a warm load reads no YAML and validates nothing twice.

A warm load of 100,000 sessions is dominated by making Python objects, so the cache is
laid out for that: the entries as columns (one list per field) that `map` turns back into
records without a Python frame per field, the file names as one string and the files'
stat signatures as four machine-int arrays. When no ledger file changed (the usual case)
the whole listing is compared with the cached one in a few C-speed equality tests, and
the entries come back in their sorted order without sorting.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import pickle
import stat
import sys
from array import array
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from itertools import islice
from pathlib import Path
from typing import Any

from costlog import __version__, models
from costlog.errors import LedgerError
from costlog.ledger.atomic import atomic_write
from costlog.ledger.format import parse_entry
from costlog.models import Commit, Entry, ModelUsage, Usage
from costlog.safefs import UnsafePath

_RECORDS = [
    cls for cls in vars(models).values() if isinstance(cls, type) and dataclasses.is_dataclass(cls)
]
#: the parse cache is private, and keyed by the costlog and Python that wrote it, and by
#: the fields of the records it holds (an entry pickled before a field was added would
#: come back without it: an AttributeError far from here)
_FIELDS = "|".join(
    f"{cls.__name__}:{','.join(f.name for f in dataclasses.fields(cls))}" for cls in _RECORDS
)
_CACHE_VERSION = f"6/{__version__}/{sys.version_info[0]}.{sys.version_info[1]}/{_FIELDS}"


def _names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls))


#: the columns kept per record: an entry's models and commits are flattened into columns
#: of their own, with a count per entry
_ENTRY = _names(Entry)
_ENTRY_COLS = tuple(n for n in _ENTRY if n not in ("models", "commits"))
#: ModelUsage's __init__ arguments in order; its usage comes from the usage columns
_MODEL_ARGS = _names(ModelUsage)
_MODEL = tuple(n for n in _MODEL_ARGS if n != "usage")
_USAGE = _names(Usage)
_COMMIT = _names(Commit)
#: signature of a file: a changed file always differs in one of these (a rewrite in
#: place changes mtime and ctime, a replace the inode; ctime cannot be set back by hand)
_SIG_KINDS = ("q", "q", "Q", "q")  # size, mtime_ns, inode, ctime_ns
_STAT_CHUNK = 4096

Signature = tuple[Sequence[int], Sequence[int], Sequence[int], Sequence[int]]


def signature(prefix: str, rels: Sequence[str]) -> Signature:
    """(size, mtime_ns, inode, ctime_ns) of each file, as four arrays. lstat, so a link put
    in place of a file after the listing is refused (UnsafePath), as is anything that is
    not a regular file (a FIFO would hang the read)."""
    try:
        return _signature(prefix, rels, array)
    except OverflowError:  # a number beyond 64 bits (some odd file system): plain ints
        return _signature(prefix, rels, lambda _kind: [])


def _signature(prefix: str, rels: Sequence[str], make: Any) -> Signature:
    sizes, mtimes, inodes, ctimes = (make(kind) for kind in _SIG_KINDS)
    done = 0
    it = map(prefix.__add__, rels)
    while chunk := list(map(os.lstat, islice(it, _STAT_CHUNK))):  # bounded: 4096 stats
        modes = [st.st_mode for st in chunk]
        if not all(map(stat.S_ISREG, modes)):
            bad = next(i for i, mode in enumerate(modes) if not stat.S_ISREG(mode))
            raise UnsafePath("is not a regular file", path=rels[done + bad])
        sizes.extend([st.st_size for st in chunk])
        mtimes.extend([st.st_mtime_ns for st in chunk])
        inodes.extend([st.st_ino for st in chunk])
        ctimes.extend([st.st_ctime_ns for st in chunk])
        done += len(chunk)
    return sizes, mtimes, inodes, ctimes


class ParseCache:
    """Validated entries keyed by their files' (size, mtime, inode, ctime): a warm load
    parses nothing and builds no object by hand.

    Lives in the git dir (never committed; only what the ledger itself holds), pickled,
    and keyed by costlog's and Python's versions; anything unreadable is rebuilt from the
    ledger files, which stay the source of truth.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.data: dict[str, Any] = {}
        self.sig: Signature = signature("", ())
        try:
            self.data = read_file(path)
        except Exception:  # any damage or an older layout: rebuild from the files
            self.data = {}

    def load(
        self, root: str, rels: Sequence[str], joined: str
    ) -> tuple[list[Entry], list[int] | None]:
        """The entries of these files (relative to `root`; `joined`: their names joined by
        NUL, which no name holds) in listing order, and the order
        that sorts them by (started, id) when nothing changed since the cache was written
        (None otherwise: the caller sorts, then `save`s). Reads and validates only the
        files whose signature changed."""
        prefix = root + os.sep
        sig = self.sig = signature(prefix, rels)
        data, self.data = self.data, {}  # what is not rebuilt into entries is freed here
        cached: list[Entry] = []
        names = ""
        order = None
        with contextlib.suppress(Exception):  # damaged inside: read the files
            cached = _rebuild(data.pop("columns"))
            names, order = data["names"], data["order"]
            n = len(rels)
            same = names == joined and data["sig"] == sig and len(cached) == n
            # and the order a permutation of the entries: n distinct places in 0..n-1
            places = set(order)
            if same and len(order) == len(places) == n and places <= set(range(n)):
                return cached, order
        # something changed: keep each cached entry whose file's signature is the same
        where: dict[str, int] = {}
        was = sig
        with contextlib.suppress(Exception):
            if cached and len(data["sig"]) == len(sig):
                listed = names.split("\0")
                if len(listed) == len(cached) and all(len(a) == len(cached) for a in data["sig"]):
                    where, was = dict(zip(listed, range(len(listed)), strict=True)), data["sig"]
        del names, data
        size, mtime, inode, ctime = sig
        old_size, old_mtime, old_inode, old_ctime = was
        entries = []
        seen: dict[str, str] = {}
        for i, rel in enumerate(rels):
            j = where.get(rel)
            if (
                j is not None
                and size[i] == old_size[j]
                and mtime[i] == old_mtime[j]
                and inode[i] == old_inode[j]
                and ctime[i] == old_ctime[j]
            ):
                entry = cached[j]
            else:
                entry = _read(prefix, rel)
            if entry.id in seen:  # the first bad file is named, whichever way it is bad
                raise in_two_files(entry.id, seen[entry.id], rel)
            seen[entry.id] = rel
            entries.append(entry)
        return entries, None

    def save(self, joined: str, entries: Sequence[Entry], order: list[int]) -> None:
        """Keep these entries (listing order) for the next load, with their sorted order."""
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            data = {"names": joined, "sig": self.sig, "order": order}
            write_file(self.path, data, _columns(entries))


def read_file(path: Path) -> dict[str, Any]:
    """The cache: its header, and its columns under "columns"; {} for another version's.

    Unpickling runs code: only a file this user owns is read (`report --repo` may point
    at a repository someone else owns, with a cache planted in it)."""
    with open(path, "rb") as handle:
        if os.fstat(handle.fileno()).st_uid != os.geteuid():
            raise PermissionError(path)
        data = pickle.load(handle)  # streamed: no second copy of the file in memory
        if not isinstance(data, dict) or data.get("version") != _CACHE_VERSION:
            return {}
        data["columns"] = {name: pickle.load(handle) for name in data["columns"]}
    return dict(data)


def write_file(
    path: Path, data: dict[str, Any], columns: Iterable[tuple[str, Any]] | dict[str, Any]
) -> None:
    """The header, then one pickle per column: each column's objects are shared within
    it, and pickling 100,000 entries never holds a memo of every object at once, nor
    every column."""
    names: list[str] = []
    chunks = [b""]  # the header, once the columns are known
    for name, column in columns.items() if isinstance(columns, dict) else columns:
        names.append(name)
        chunks.append(pickle.dumps(column, protocol=pickle.HIGHEST_PROTOCOL))
        del column
    header = {"version": _CACHE_VERSION, **data, "columns": names}
    chunks[0] = pickle.dumps(header, protocol=pickle.HIGHEST_PROTOCOL)
    # temp file in the swept tmp dir, so a reader killed mid-save leaves nothing
    atomic_write(path, chunks, path.parent / "tmp")


def in_two_files(entry_id: str, first: str, second: str) -> LedgerError:
    return LedgerError(
        f"session id {entry_id!r} is in two files: {first} and {second}",
        path=second,
        line=1,
        hint="keep one of them and git rm the other",
    )


def _read(prefix: str, rel: str) -> Entry:
    try:
        text = Path(prefix + rel).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise LedgerError(
            f"not UTF-8 text ({exc.reason} at byte {exc.start})",
            path=rel,
            line=exc.object.count(b"\n", 0, exc.start) + 1,
        ) from None
    return _shared(parse_entry(text, rel))  # validated, with file and line on error


# ---------------------------------------------------------------- entries <-> columns


def _columns(entries: Sequence[Entry]) -> Iterator[tuple[str, list[Any] | bytes]]:
    """The entries as one list per field, made one at a time (so a save of 100,000
    entries holds one column, not all of them)."""
    for name in _ENTRY_COLS:
        yield name, [getattr(e, name) for e in entries]
    mus = [mu for e in entries for mu in e.models.values()]
    yield "models.count", [len(e.models) for e in entries]
    yield "models.name", [name for e in entries for name in e.models]
    # a model's cost that is its entry's total object (one model) is kept once, as the total
    totals = [e.cost_usd for e in entries for _ in e.models]
    same = [mu.cost_usd is total for mu, total in zip(mus, totals, strict=True)]
    del totals
    yield "models.cost_is_total", bytes(same)
    for name in _MODEL:
        if name == "cost_usd":
            values = [mu.cost_usd for mu in mus]
            yield (
                "models.cost_usd",
                [None if is_total else cost for cost, is_total in zip(values, same, strict=True)],
            )
        else:
            yield f"models.{name}", [getattr(mu, name) for mu in mus]
    for name in _USAGE:
        yield f"usage.{name}", [getattr(mu.usage, name) for mu in mus]
    del mus, same
    commits = [c for e in entries for c in e.commits]
    yield "commits.count", [len(e.commits) for e in entries]
    for name in _COMMIT:
        yield f"commits.{name}", [getattr(c, name) for c in commits]


def _rebuild(cols: dict[str, Any]) -> list[Entry]:
    """The entries back from `_columns`: each record made by `map` over its columns, each
    column let go once used (a warm load of 100,000 entries peaks lower)."""
    names = cols.pop("models.name")
    counts = cols.pop("models.count")
    usage = [cols.pop(f"usage.{n}") for n in _USAGE]
    model = {n: cols.pop(f"models.{n}") for n in _MODEL}
    if len(names) == len(counts) and all(n == 1 for n in counts):
        totals = cols["cost_usd"]
    else:
        totals = [
            total for total, n in zip(cols["cost_usd"], counts, strict=True) for _ in range(n)
        ]
    flags = cols.pop("models.cost_is_total")
    if len(flags) != len(totals):
        raise ValueError("model columns differ in length")
    if flags.count(0) == 0:  # the usual: every model's cost is its entry's total
        model["cost_usd"] = totals
    else:
        model["cost_usd"] = [
            total if is_total else cost
            for cost, is_total, total in zip(model["cost_usd"], flags, totals, strict=True)
        ]
    del totals, flags
    if any(len(c) != len(names) for c in (*usage, *model.values())):
        raise ValueError("model columns differ in length")
    model["usage"] = list(map(Usage, *usage))
    del usage
    mus = list(map(ModelUsage, *(model.pop(n) for n in _MODEL_ARGS)))
    if len(names) == len(counts) and all(n == 1 for n in counts):  # the usual: one model
        by_entry = [{name: mu} for name, mu in zip(names, mus, strict=True)]
    else:
        by_entry = []
        at = 0
        for n in counts:
            by_entry.append(dict(zip(names[at : at + n], mus[at : at + n], strict=True)))
            at += n
        if at != len(mus):
            raise ValueError("models do not add up")
    del names, mus
    commit = [cols.pop(f"commits.{n}") for n in _COMMIT]
    if any(len(c) != len(commit[0]) for c in commit):
        raise ValueError("commit columns differ in length")
    made = list(map(Commit, *commit))
    del commit
    commits = []
    at = 0
    for n in cols.pop("commits.count"):
        commits.append(made[at : at + n])
        at += n
    if at != len(made):
        raise ValueError("commits do not add up")
    del made
    cols["models"], cols["commits"] = by_entry, commits
    args = [cols.pop(n) for n in _ENTRY]
    if any(len(a) != len(by_entry) for a in args):
        raise ValueError("columns differ in length")
    del by_entry, commits
    return list(map(Entry, *args))


# ---------------------------------------------------------------- shared objects


#: the few names every entry repeats (agents, models, sources, tables, branches, work
#: items, task types): one string object each, so 100,000 entries hold, pickle and load
#: each name once
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
    entry.work_items = [_name(key) for key in entry.work_items]
    entry.task_types = {_name(kind): n for kind, n in entry.task_types.items()}
    entry.methods = {_name(key): _name(text) for key, text in entry.methods.items()}
    return entry
