"""The ledger's parse cache: a warm load reads no YAML and validates nothing twice.

A warm load of 100,000 sessions is dominated by making Python objects, so the cache is
laid out for that: the entries as columns (one list per field) that `map` turns back into
records without a Python frame per field, the file names as one string and the files'
stat signatures as four machine-int arrays. The key is one walk of the ledger (`Scan`):
each folder listed once and every entry in it stat-ed by name, in the order the folder
lists them. When no ledger file changed (the usual case) that listing and signature are
compared with the cached ones in a few C-speed equality tests, nothing is sorted, and
the entries come back in their sorted order. What is left is the stat of every file
(the kernel's time, most of a warm load's) and making the entries.

The header also keeps what the layout before `Scan` keyed on (the sorted names, their
signature in that order, the order), unchanged: a costlog of that layout reads this
cache as its own, and a cache it wrote is kept here entry by entry, parsing no file.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import os
import pickle
import stat
import sys
from array import array
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from operator import attrgetter
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
#: a ledger folder, opened to stat its files by name: never through a link
_FOLDER_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC

Signature = tuple[Sequence[int], Sequence[int], Sequence[int], Sequence[int]]


class Scan:
    """The ledger's files as one walk found them, and their signature, in the order the
    directories list them: the cache's key, compared with the cached one as a whole.

    Each folder is listed once and each of its entries stat-ed by name, relative to the
    folder opened without following a link: that is both the listing (the mode says what
    an entry is) and the signature, with no path walked from the root per file and no
    per-name test in Python for a folder of ledger files alone. Nothing is sorted: when
    the listing and the signature are the cached ones, so is the sorted listing.

    The files: each name ending in `.yaml` that is not a dot-file, in any folder below
    the ledger dir. A symbolic link anywhere below it is refused (UnsafePath), as is such
    a `.yaml` that is neither a regular file nor a folder (a FIFO would hang the read).
    """

    def __init__(self, prefix: str) -> None:
        #: the repo root and a separator: each folder below is relative to it
        self.prefix = prefix
        #: (folder, every entry's name joined by NUL) of each folder walked, in walk order
        self.key: list[tuple[str, str]] = []
        #: (folder and a separator, or "" for the root; its ledger files' names), in the
        #: order of `sig`
        self.files: list[tuple[str, list[str]]] = []
        self.sig: Signature = _new_signature()
        self.count = 0
        #: the folder `walk` took in; None: none was walked (there is no ledger folder)
        self.top: str | None = None
        #: whether `key` and `files` were let go (`release`)
        self.released = False

    def walk(self, top: str) -> None:
        """Take in the folder `top` (relative to `prefix`; "" for `prefix` itself) and
        every folder below it."""
        self.top = top
        stack = [top]
        while stack:
            stack += reversed(self._folder(stack.pop()))

    def _folder(self, folder: str) -> list[str]:
        """Take in the ledger files of `folder`; return its subfolders."""
        try:
            fd = os.open(self.prefix + folder, _FOLDER_FLAGS)
        except OSError as exc:  # a link since its parent was listed: refused, not followed
            if exc.errno == errno.ELOOP or os.path.islink(self.prefix + folder):
                raise UnsafePath(_LINK, path=folder) from None
            raise
        head = f"{folder}{os.sep}" if folder else ""
        try:
            names = os.listdir(fd)
            joined = "\0".join(names)
            self.key.append((folder, joined))
            # every name a `.yaml` (a `.yaml\0` after each but the last) and none a
            # dot-file: the usual folder, whose entries need no test one by one
            plain = (
                joined.count(".yaml\0") == len(names) - 1
                and joined.endswith(".yaml")
                and joined[:1] != "."
                and "\0." not in joined
            )  # (tested in place: no copy of a string of 100,000 names)
            files: list[str] = []
            subfolders: list[str] = []
            stat_ = os.stat
            for at in range(0, len(names), _STAT_CHUNK):  # bounded: 4096 stats at once
                part = names[at : at + _STAT_CHUNK]
                chunk = [stat_(name, dir_fd=fd, follow_symlinks=False) for name in part]
                if plain and all(map(stat.S_ISREG, map(_MODE, chunk))):
                    files += part
                    self._add(chunk)
                else:
                    self._sort_out(head, part, chunk, files, subfolders)
        finally:
            os.close(fd)
        self.files.append((head, files))
        return subfolders

    def _sort_out(
        self,
        head: str,
        names: list[str],
        stats: list[os.stat_result],
        files: list[str],
        subfolders: list[str],
    ) -> None:
        """One by one: each entry a ledger file (kept), a folder, a link or FIFO (refused)
        or anything else (skipped). `head`: the folder and a separator."""
        for name, st in zip(names, stats, strict=True):
            rel = head + name
            if stat.S_ISLNK(st.st_mode):  # never read (nor skipped): the ledger holds no links
                raise UnsafePath(_LINK, path=rel)
            if stat.S_ISDIR(st.st_mode):
                subfolders.append(rel)
            elif name.endswith(".yaml") and name[:1] != ".":
                if not stat.S_ISREG(st.st_mode):  # a FIFO would hang the read
                    raise UnsafePath("is not a regular file", path=rel)
                files.append(name)
                self._add([st])

    def _add(self, chunk: list[os.stat_result]) -> None:
        """Append these files' (size, mtime_ns, inode, ctime_ns) to `sig`."""
        try:
            for column, field in zip(self.sig, _SIG_FIELDS, strict=True):
                column.extend(map(field, chunk))  # type: ignore[attr-defined]  # array, list
        except OverflowError:  # a number beyond 64 bits (some odd file system): plain ints
            # (an array may have taken part of the chunk before it overflowed)
            self.sig = tuple(list(column)[: self.count] for column in self.sig)  # type: ignore[assignment]
            for column, field in zip(self.sig, _SIG_FIELDS, strict=True):
                column.extend(map(field, chunk))  # type: ignore[attr-defined]
        self.count += len(chunk)

    def release(self) -> None:
        """Let go of the files' names: a walk that matched the cached one needs only its
        count while the entries are made, and 100,000 small strings freed first make
        room for them (8 MB less at the peak of a load of 100,000, by tracemalloc)."""
        self.files, self.released = [], True

    def again(self) -> Scan:
        """The same walk made anew (after `release`, for a cache found damaged inside): of
        nothing when none was made (a ledger folder not there then is not walked now, and
        never the repo root in its place)."""
        scan = Scan(self.prefix)
        if self.top is not None:
            scan.walk(self.top)
        return scan

    def raw(self) -> list[str]:
        """The files' names (repo-relative), in the order of `sig`."""
        return [head + name for head, names in self.files for name in names]

    def sorted(self) -> tuple[list[str], Signature]:
        """The files' names (repo-relative) sorted, and their signature in that order."""
        raw = self.raw()
        order = sorted(range(len(raw)), key=raw.__getitem__)
        return list(map(raw.__getitem__, order)), _permuted(self.sig, order)


_MODE = attrgetter("st_mode")
#: a file's signature: a changed file always differs in one of these (see _SIG_KINDS)
_SIG_FIELDS = tuple(map(attrgetter, ("st_size", "st_mtime_ns", "st_ino", "st_ctime_ns")))
#: what a link in the ledger is told (as costlog.safefs.check_repo_path tells it)
_LINK = "is a symbolic link; costlog does not follow links in a repository"


def _new_signature() -> Signature:
    return tuple(array(kind) for kind in _SIG_KINDS)  # type: ignore[return-value]  # four


def _permuted(sig: Signature, order: Sequence[int]) -> Signature:
    """Each column of `sig` in the order `order` (arrays stay arrays of their kind)."""
    out = []
    for column in sig:
        moved = column[:0]  # an empty array of the same kind, or []
        moved.extend(map(column.__getitem__, order))  # type: ignore[attr-defined]
        out.append(moved)
    return tuple(out)  # type: ignore[return-value]  # four, as sig


def _is_order(order: Any, n: int) -> bool:
    """Whether `order` is a permutation of range(n): n distinct places in 0..n-1."""
    return (
        isinstance(order, list)
        and len(order) == n
        and (n == 0 or (len(set(order)) == n and min(order) >= 0 and max(order) < n))
    )


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
        self.scan = Scan("")
        #: the signature of the files in sorted order, after a `load` that missed
        self.sig: Signature = _new_signature()
        try:
            self.data = read_file(path)
        except Exception:  # any damage or an older layout: rebuild from the files
            self.data = {}

    def load(self, scan: Scan) -> tuple[list[Entry], list[int] | None, str]:
        """The entries of the files `scan` found, in the order of their sorted names, the
        order that sorts them by (started, id) when nothing changed since the cache was
        written (None otherwise: the caller sorts, then `save`s), and the sorted names
        joined by NUL (which no name holds). Reads and validates only the files whose
        signature changed."""
        self.scan = scan
        data, self.data = self.data, {}  # what is not rebuilt into entries is freed here
        cached: list[Entry] = []
        same = False
        with contextlib.suppress(Exception):
            same = data.get("key") == scan.key and data.get("walk_sig") == scan.sig
        if same:
            scan.release()
        with contextlib.suppress(Exception):  # damaged inside: read the files
            cached = _rebuild(data.pop("columns"))
            n = scan.count
            joined = data["names"]
            if (
                same
                and len(cached) == n
                and isinstance(joined, str)
                and joined.count("\0") == max(n - 1, 0)
                and _is_order(data["order"], n)
            ):
                return cached, data["order"], joined
        # something changed: keep each cached entry whose file's signature is the same
        if scan.released:  # the walk was the cached one, the cache is damaged inside
            scan = self.scan = scan.again()
        rels, sig = scan.sorted()
        self.sig = sig
        where: dict[str, int] = {}
        was = sig
        with contextlib.suppress(Exception):
            if cached and len(data["sig"]) == len(sig):
                listed = data["names"].split("\0")
                if len(listed) == len(cached) and all(len(a) == len(cached) for a in data["sig"]):
                    where, was = dict(zip(listed, range(len(listed)), strict=True)), data["sig"]
        del data
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
                entry = _read(scan.prefix, rel)
            if entry.id in seen:  # the first bad file is named, whichever way it is bad
                raise in_two_files(entry.id, seen[entry.id], rel)
            seen[entry.id] = rel
            entries.append(entry)
        return entries, None, "\0".join(rels)

    def save(self, joined: str, entries: Sequence[Entry], order: list[int]) -> None:
        """Keep these entries (in the order of their sorted names, `joined`) for the next
        load, with their sorted order and the key of the `load` before."""
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            scan = self.scan
            # "names", "sig" (in sorted order) and "order" as the layout before Scan wrote
            # them, so that a costlog of that layout reads this cache as its own
            data = {
                "names": joined,
                "sig": self.sig,
                "order": order,
                "key": scan.key,
                "walk_sig": scan.sig,
            }
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
    one_each = len(names) == len(counts) == counts.count(1)  # the usual: one model each
    if one_each:
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
    if one_each:
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
