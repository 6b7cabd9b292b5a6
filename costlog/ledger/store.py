"""The ledger: one small YAML file per session, the source of truth, committed in the repo.

One file per session means two branches that each record sessions add different files, so
a plain `git merge` (or GitHub's merge button, which runs no merge driver) never conflicts.
Writes are atomic (temp file + fsync + rename) and serialised by an flock in the git dir,
which the kernel releases when a process dies, so a killed run never leaves a stale lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from costlog import gitrepo, yamlfile
from costlog.errors import CostlogError, LedgerError
from costlog.gitrepo import Repo
from costlog.ledger.atomic import atomic_write, sweep_temp_files
from costlog.ledger.cache import ParseCache, Scan, in_two_files
from costlog.ledger.format import entry_to_dict, parse_entry
from costlog.ledger.names import dir_name, file_names_for, legacy_name
from costlog.models import Entry
from costlog.safefs import UnsafePath, check_repo_path, read_repo_text

if TYPE_CHECKING:
    from costlog import forked

#: from what size of its parse cache (~380 bytes a session: ~20,000 sessions) a ledger's
#: walk is made in a forked child while the cache is read (`Ledger._walk_aside`)
WALK_ASIDE_BYTES = 8 << 20


class Ledger:
    """The ledger folder of one repo: where each session's file is, and reading and
    writing those files under the ledger lock."""

    def __init__(self, repo: Repo, ledger_dir: str) -> None:
        self.repo = repo
        self.dir = repo.root / ledger_dir
        #: per agent folder: its file names, exactly and case-folded (see path_for)
        self._names: dict[str, tuple[set[str], set[str]]] = {}
        #: after load_all: the ids in listing order and their files' names, "\0"-joined
        #: (one string, not 100,000: `homes` is asked for by `check` alone)
        self._listing: tuple[list[str], str] = ([], "")
        self._homes: dict[str, str] | None = {}

    @property
    def listing(self) -> tuple[list[str], str]:
        """After load_all: the ids in the order of their files, and the files' names
        (repo-relative), joined by NUL (which no file name holds)."""
        return self._listing

    @property
    def homes(self) -> dict[str, str]:
        """After load_all: each id and the file (repo-relative) holding it."""
        if self._homes is None:
            ids, names = self._listing
            self._homes = dict(zip(ids, names.split("\0") if ids else [], strict=True))
        return self._homes

    @property
    def tmp_dir(self) -> Path:
        return self.repo.state_dir / "tmp"

    def path_for(self, entry_id: str) -> Path:
        """The one file of the session with this id (`<agent>/<session>`), existing or not.

        A plain id keeps its own name, so existing files keep their paths; any other id
        gets `hashed_name` (costlog check reports a file elsewhere). The plain name also
        yields to the hashed one when a file whose name differs only in case already
        holds another session (`ABC.yaml` and `abc.yaml` are one file on macOS and
        Windows), or when the hashed file already exists.
        """
        names = file_names_for(entry_id)
        if len(names) == 1:
            return self._legacy(entry_id, self.dir / names[0])
        plain, hashed = names
        folder, name = plain.split("/", 1)
        exact, folded = self._folder_names(folder)
        other = hashed.split("/", 1)[1]
        if name not in exact and (other in exact or name.casefold() in folded):
            plain, name = hashed, other
        exact.add(name)  # this process may be about to write it: a later case twin yields
        folded.add(name.casefold())
        return self.dir / plain

    def _legacy(self, entry_id: str, path: Path) -> Path:
        """`path`, or the file costlog 0.1 wrote this id to (every character outside
        [A-Za-z0-9._-] made `_`) while it is still there and holds this id: recording the
        session again then updates that file instead of adding a second one for the same
        id. `costlog check` asks for it to be renamed."""
        agent, _, session = yamlfile.clean_text(entry_id).partition("/")
        old = self.dir / dir_name(agent) / legacy_name(session)
        if old.name.startswith(".") or not os.path.lexists(old) or os.path.lexists(path):
            return path  # a dot-file the loader skips is left for check to report
        try:
            text = read_repo_text(self.repo.root, old)
            held = None if text is None else parse_entry(text, self.rel(old)).id
        except CostlogError:
            return path
        return old if held == yamlfile.clean_text(entry_id) else path

    def _folder_names(self, folder: str) -> tuple[set[str], set[str]]:
        known = self._names.get(folder)
        if known is None:
            try:
                exact = {n for n in os.listdir(self.dir / folder) if n.endswith(".yaml")}
            except OSError:  # not there yet (or unreadable: the write says so)
                exact = set()
            known = self._names[folder] = (exact, {n.casefold() for n in exact})
        return known

    def rel(self, path: Path) -> str:
        return os.path.relpath(path, self.repo.root)

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        self.repo.state_dir.mkdir(parents=True, exist_ok=True)
        with open(self.repo.state_dir / "ledger.lock", "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                sweep_temp_files(self.tmp_dir)
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def get(self, entry_id: str) -> Entry | None:
        """The stored entry, or None; a ledger file reached through a symlink is refused."""
        path = self.path_for(entry_id)
        try:
            text = read_repo_text(self.repo.root, path)
        except UnsafePath:
            raise
        except CostlogError as exc:
            raise LedgerError(exc.message, path=self.rel(path), line=exc.line) from None
        if text is None:
            return None
        entry = parse_entry(text, self.rel(path))
        if entry.id != yamlfile.clean_text(entry_id):  # a file named by costlog 0.1 (`a b`
            # and `a_b` both went to a_b.yaml): never merge one session into another
            raise LedgerError(
                f"holds session {entry.id!r}, not {entry_id!r}",
                path=self.rel(path),
                hint="`costlog check` says where it belongs",
            )
        return entry

    def write(self, entry: Entry, at: Path | None = None) -> tuple[Path, bool]:
        """Write one entry atomically; returns (path, changed). Call under `lock()`.
        `at`: the ledger file it was read from, to be changed in place (moving commit
        links), instead of the one its id names (`path_for`, which lists the folder).

        Refuses (UnsafePath) a file or directory on the way that is a symlink, before
        anything is written."""
        path = self.path_for(entry.id) if at is None else at
        text = yamlfile.dump(entry_to_dict(entry))
        try:
            old = read_repo_text(self.repo.root, path)
        except UnsafePath:
            raise
        except CostlogError:  # unreadable or not UTF-8: replaced by the new entry
            old = None
        if old == text:
            return path, False
        atomic_write(path, text, self.tmp_dir, root=self.repo.root)
        return path, True

    def files(self) -> list[Path]:
        return [Path(name) for name in self.file_names()]

    def file_names(self, *, relative: bool = False) -> list[str]:
        """The ledger's files as sorted path strings (cheaper than Paths for 100k files),
        absolute or (`relative`) relative to the repo's root."""
        root = self.repo.root
        cut = len(str(root)) + 1 if relative else 0
        check_repo_path(root, self.dir)  # the ledger dir, .costlog/ and the dirs above it
        if not self.dir.is_dir():
            return []
        found: list[str] = []
        stack = [str(self.dir)]
        while stack:
            with os.scandir(stack.pop()) as it:
                for item in it:
                    name = item.name  # the common case first: one test, from d_type
                    if (
                        name.endswith(".yaml")
                        and name[:1] != "."
                        and item.is_file(follow_symlinks=False)
                    ):
                        found.append(item.path[cut:])
                        continue
                    if item.is_symlink():  # never read (nor skipped): the ledger holds no links
                        check_repo_path(root, Path(item.path))
                    if item.is_dir(follow_symlinks=False):
                        stack.append(item.path)
                    elif item.name.endswith(".yaml") and not item.name.startswith("."):
                        if not item.is_file(follow_symlinks=False):  # a FIFO would hang
                            raise UnsafePath(
                                "is not a regular file", path=item.path[len(str(root)) + 1 :]
                            )
                        found.append(item.path[cut:])
        return sorted(found)

    def _walk_aside(self, cache: Path) -> forked.Child[Scan] | None:
        """The walk of a large ledger (its parse cache WALK_ASIDE_BYTES or more) in a
        forked child while this process reads the cache: the two take about as long (0.2 s
        each at 100,000 sessions), and the child, forked before any entry is made, costs
        a few milliseconds. None otherwise, or when no child can be started; a child that
        fails (a link in the ledger, an unreadable folder) gives None, and the walk made
        here says why, as without a child."""
        try:
            if os.stat(cache).st_size < WALK_ASIDE_BYTES:
                return None
        except OSError:
            return None
        from costlog import forked  # only for a large ledger: never on a hook's usual path

        return forked.start(self._scan)

    def _scan(self) -> Scan:
        """The ledger's files and their signature, from one walk that stats each entry as
        it lists it (cache.Scan): the files `file_names` lists, by the same rules."""
        root = self.repo.root
        check_repo_path(root, self.dir)  # the ledger dir, .costlog/ and the dirs above it
        scan = Scan(f"{root}{os.sep}")
        if self.dir.is_dir():
            scan.walk(str(self.dir)[len(str(root)) + 1 :])  # "" when the ledger is the root
        return scan

    def load_all(self) -> list[Entry]:
        """Every entry, sorted by start time; LedgerError names the first bad file.

        100,000 entries are as many small objects: the program that loads them pauses the
        cyclic garbage collector (costlog.gcpause), which would otherwise double the time."""
        path = self.repo.state_dir / "ledger-cache.pickle"
        walking: forked.Child[Scan] | None = None
        try:
            walking = self._walk_aside(path)
            cache = ParseCache(path)
            scan = walking.result() if walking is not None else None
        finally:  # an interrupt while the cache is read: the child is stopped, not left
            if walking is not None:
                walking.stop()
        entries, order, joined = cache.load(scan if scan is not None else self._scan())
        ids = [entry.id for entry in entries]
        if len(set(ids)) != len(ids):  # some id is in two files: name the second one
            seen: dict[str, str] = {}
            for entry_id, rel in zip(ids, joined.split("\0"), strict=True):
                if entry_id in seen:
                    raise in_two_files(entry_id, seen[entry_id], rel)
                seen[entry_id] = rel
        self._listing, self._homes = (ids, joined), None
        if order is None:  # something changed: sort, and keep that for the next load
            # by (started, id) as two stable sorts: no key tuple per entry (2.5x faster)
            order = sorted(range(len(entries)), key=ids.__getitem__)
            order.sort(key=[e.started for e in entries].__getitem__)
            cache.save(joined, entries, order)
        return list(map(entries.__getitem__, order))


def changed_at(root: Path, ledger_dir: str, since: str, rev: str, kinds: str) -> list[str]:
    """Ledger files the commit `rev` added (kinds "A") or changed ("M") since `since`."""
    names = gitrepo.diff_names(root, since, rev, ledger_dir, kinds=kinds)
    return [name for name in names if name.endswith(".yaml")]


def entries_at(root: Path, rev: str, paths: Sequence[str]) -> list[Entry]:
    """These ledger files as committed at `rev` (another branch, a merge base), not as
    they are in the work tree."""
    return [parse_entry(gitrepo.show_file(root, rev, p), f"{rev}:{p}") for p in paths]
