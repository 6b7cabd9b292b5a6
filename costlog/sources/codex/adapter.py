"""The Codex CLI adapter: rollout files through the incremental cache, one family of
related files (forks, parents, sub-agents) at a time."""

from __future__ import annotations

import os
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, cast

from costlog.models import Session
from costlog.safefs import open_log
from costlog.sources import Warn, cwd_inside, in_scope, modified_since
from costlog.sources.cache import FileCache, tail_hash
from costlog.sources.codex.discovery import named_files
from costlog.sources.codex.reader import Reader
from costlog.sources.codex.rollout import (
    AGENT,
    SCHEMA,
    FileData,
    Head,
    compact,
    head_of,
    read_head,
)
from costlog.sources.codex.sessions import families, sessions_of
from costlog.sources.progress import Progress
from costlog.sources.workers import readers

if TYPE_CHECKING:
    from concurrent.futures import Executor, Future


class _Files:
    """Per-file state through the incremental cache (`costlog.sources.cache`)."""

    def __init__(self, warn: Warn, use_cache: bool) -> None:
        self.warn = warn
        self.cache = FileCache(AGENT, SCHEMA, enabled=use_cache) if use_cache else None
        self.hits: dict[Path, FileData] = {}
        #: unchanged files' cached states, made into their FileData only when read (`read`):
        #: a large history's calls are never all in memory as objects at once
        self.states: dict[Path, dict[str, Any]] = {}
        #: files read afresh ahead (`prefetch`), with their attribution facts
        self.fresh: dict[Path, FileData] = {}
        #: worker processes' reads not yet taken by `read` (`prefetch`)
        self.pending: dict[Path, Future[Any]] = {}
        self.pool: Executor | None = None
        #: files handed to forked readers (`_spread`) whose results have not been taken yet
        self.spreading: set[Path] = set()

    def head(self, path: Path) -> Head:
        """A file's head: from the cache when the file is unchanged, else its first lines."""
        if self.cache is not None:
            try:
                status, cached = self.cache.lookup(str(path), path.stat())
            except OSError:
                status, cached = "miss", None
            # a hit with a partial last line is re-read from there (it may be whole now)
            if status == "hit" and cached is not None and cached.offset == cached.size:
                self.states[path] = cached.state
                return head_of(path, cached.state)
        return read_head(path)

    def missing(self, path: Path) -> bool:
        """Not in the cache at all (backfill reads such a file with its facts)."""
        try:
            return self.cache is not None and self.cache.lookup(str(path), path.stat())[0] == "miss"
        except OSError:
            return False

    def read(self, head: Head, collect: bool) -> FileData:
        self._arrived(head.path)
        hit = self.fresh.pop(head.path, None) if collect else self.hits.get(head.path)
        if hit is None and not collect and head.path in self.states:
            hit = FileData.from_json(head.path, self.states.pop(head.path))
        if hit is not None:
            for message in hit.warnings:
                self.warn(message)
            return hit
        try:
            with open_log(head.path) as fh:
                st = os.fstat(fh.fileno())  # the file read, not what the name points to now
                data, offset, state = self._read_from(fh, head, st, collect)
                tail = tail_hash(fh, offset)
        except OSError as exc:
            self.warn(f"{head.path}: cannot read: {exc.strerror or exc}")
            return FileData(head=head)
        if self.cache is not None:
            self.cache.put(str(head.path), st, offset, tail, compact(state))
        return data

    def _read_from(
        self, fh: BinaryIO, head: Head, st: Any, collect: bool
    ) -> tuple[FileData, int, dict[str, Any]]:
        status, cached = (
            self.cache.lookup(str(head.path), st)
            if self.cache is not None and not collect
            else ("miss", None)
        )
        if (
            status in ("hit", "grown")
            and cached is not None
            and tail_hash(fh, cached.offset) == cached.tail
        ):
            data = FileData.from_json(head.path, cached.state)
            for message in data.warnings:
                self.warn(message)
            offset, state = Reader(data, self.warn, collect).read(fh, cached.offset)
            return data, offset, state
        data = FileData(head=head)
        offset, state = Reader(data, self.warn, collect).read(fh, 0)
        return data, offset, state

    def save(self) -> None:
        if self.cache is not None:
            self.cache.save()

    def prefetch(self, jobs: Sequence[tuple[Head, bool]]) -> Generator[None]:
        """Start reading the files of `jobs` that must be read whole (no usable cache
        entry), and those to read afresh (`True`: with the attribution facts), in worker
        processes, when there is enough to read to pay for them (a cold scan of a large
        history, a backfill). They are read in the order given, the order `read` asks for
        them, which takes each result as it takes a cache hit: the sessions of the first
        families are worked out while the workers read on. `close` stops the workers.

        A scan's reads (`_spread`) are made in steps, this process reading too: the steps
        returned are to be taken (`next`) while a file wanted is still `awaited`; nothing
        is left to take for other reads."""
        if self.cache is None:
            return _no_steps()
        todo: list[tuple[Head, int, bool]] = []
        for head, collect in jobs:
            if (head.path in self.hits or head.path in self.states) and not collect:
                continue
            try:
                st = head.path.stat()
            except OSError:
                continue  # `read` says why
            if collect or self.cache.lookup(str(head.path), st)[0] == "miss":
                todo.append((head, st.st_size, collect))
        workers = readers(sum(size for _, size, _ in todo), len(todo))
        if workers < 2:
            return _no_steps()
        if not any(collect for _, _, collect in todo):
            return self._spread(todo, workers)
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
        context = multiprocessing.get_context(method)
        self.pool = ProcessPoolExecutor(workers, mp_context=context)
        for head, _, collect in todo:
            self.pending[head.path] = self.pool.submit(_cold_read, head, collect)
        return _no_steps()

    def _spread(self, todo: list[tuple[Head, int, bool]], workers: int) -> Generator[None]:
        """A scan's cold reads (no attribution facts) on `workers` processes of which this
        is one (`sources._spread`), in the order `read` asks for them: each result is a
        marshalled state, taken into `states` as a cache hit would be, so `read` builds
        each file's data in family order and says its warnings then, as in one process.
        Between its own reads this process works out the sessions of the families whose
        files have all arrived (`awaited`), while the others read on."""
        heads = [head for head, _, _ in todo]
        self.spreading.update(head.path for head in heads)  # `awaited` from now on
        return self._steps(heads, [size for _, size, _ in todo], workers)

    def _steps(self, heads: list[Head], sizes: list[int], workers: int) -> Generator[None]:
        from costlog.sources._spread import steps  # not on the hooks' path

        shown = Progress(len(heads), sum(sizes), "reading Codex logs")
        try:
            yield from steps(
                sizes,
                lambda i: _spread_read(heads[i]),
                lambda i, result: self._landed(heads[i].path, result),
                workers,
                shown,
            )
        finally:
            shown.close()
            self.spreading.clear()

    def awaited(self, family: Sequence[Head]) -> bool:
        """A file of `family` is still being read by `_spread`."""
        return bool(self.spreading) and any(h.path in self.spreading for h in family)

    def _landed(self, path: Path, result: _Spread | None) -> None:
        """One file's cold read from `_spread_read` (None: it could not be read; `read`
        tries again and says why)."""
        self.spreading.discard(path)
        if result is None or self.cache is None:
            return
        (size, mtime_ns, inode), offset, tail, state = result
        self.cache.put(
            str(path), cast(os.stat_result, _Seen(size, mtime_ns, inode)), offset, tail, state
        )
        if offset == size:  # else `read` reads the unfinished last line
            self.states[path] = state

    def _arrived(self, path: Path) -> None:
        """Take a worker's read of `path`, if one was started (waiting for it)."""
        future = self.pending.pop(path, None)
        result = future.result() if future is not None else None
        if result is None or self.cache is None:
            return  # not started, or `read` tries again and says why it cannot
        st, offset, tail, state, data = result
        self.cache.put(str(path), st, offset, tail, state)
        if data is not None:
            self.fresh[path] = data
        elif offset == st.st_size:  # else `read` reads the unfinished last line
            self.states[path] = state

    def close(self) -> None:
        """Stop the worker processes (a read not taken yet is dropped)."""
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None
        self.pending.clear()


def _cold_read(
    head: Head, collect: bool = False
) -> tuple[os.stat_result, int, str, dict[str, Any], FileData | None] | None:
    """One whole file read (in a worker process): what stat said, the offset read to, the
    tail hash, the cacheable state and, read afresh (`collect`), the file's data with its
    attribution facts; None when it cannot be read."""
    data = FileData(head=head, rows=None if collect else [])  # without: only its state
    try:
        with open_log(head.path) as fh:
            st = os.fstat(fh.fileno())
            offset, state = Reader(data, _quiet, collect).read(fh, 0)
            tail = tail_hash(fh, offset)
    except OSError:
        return None
    return st, offset, tail, compact(state), data if collect else None


#: what `_spread_read` hands over: (size, mtime_ns, inode) as fstat gave them, the offset
#: read to, the tail hash and the compact cacheable state; all of it marshals
_Spread = tuple[tuple[int, int, int], int, str, dict[str, Any]]


@dataclass(frozen=True, slots=True)
class _Seen:
    """The stat fields the read cache keys a file by (`FileCache.put`), as a forked
    reader's fstat gave them: a marshalled result carries no `os.stat_result`."""

    st_size: int
    st_mtime_ns: int
    st_ino: int


def _spread_read(head: Head) -> _Spread | None:
    """`_cold_read` for `_spread`: the stat fields as a tuple, so the result marshals."""
    result = _cold_read(head)
    if result is None:
        return None
    st, offset, tail, state, _ = result
    return (st.st_size, st.st_mtime_ns, st.st_ino), offset, tail, state


def _quiet(_message: str) -> None:
    """The warnings of a worker's read travel in its state, and are said by `read`."""


def _sessions(
    files: _Files, heads: Sequence[Head], wanted: set[Path], fresh: set[Path]
) -> Iterator[Session]:
    """Sessions holding a wanted file, read one family of related files at a time. A family
    with a `fresh` file is read in full, with the attribution facts, bypassing the cache."""
    groups = [f for f in families(heads) if any(h.path in wanted for h in f)]
    read_afresh = [any(h.path in fresh for h in f) for f in groups]
    reading = files.prefetch([(h, c) for f, c in zip(groups, read_afresh, strict=True) for h in f])
    try:
        for family in groups:
            while files.awaited(family) and next(reading, _DONE) is not _DONE:
                pass  # read on (here and in the other readers) until its files are in
            collect = any(h.path in fresh for h in family)
            for session in sessions_of([files.read(h, collect) for h in family]):
                if wanted.intersection(Path(p) for p in session.paths):
                    yield session
    finally:
        reading.close()  # stops the other readers when the caller stopped early
        files.close()
    files.save()


#: what `next` gives once the reading steps are over
_DONE = object()


def _no_steps() -> Generator[None]:
    """The steps of a read made otherwise (a pool, or in `read`): none."""
    yield from ()


class CodexAdapter:
    name = AGENT

    def default_roots(self, env: Mapping[str, str], home: Path) -> list[Path]:
        base = Path(env["CODEX_HOME"]).expanduser() if env.get("CODEX_HOME") else home / ".codex"
        return [base / "sessions", base / "archived_sessions"]

    def scan(
        self,
        roots: Sequence[Path],
        *,
        project: Path | None = None,
        since: datetime | None = None,
        warn: Warn,
        use_cache: bool = True,
        attribution: bool | Callable[[Path, datetime | None], bool] = False,
    ) -> Iterator[Session]:
        """Every session under `roots`. Files given as roots are read afresh, with the
        attribution fields; directories go through the incremental cache (no attribution
        fields) unless `use_cache` is False. `attribution` (backfill): a wanted file not in
        the cache at all is read with the attribution fields (its family too), still cached;
        given as a test of (path, start), only where it says the facts are worth that
        slower read."""
        named, context = named_files(roots, warn)
        # the rest of a named file's CODEX_HOME is read for its family only: its own bad
        # lines are not the user's to hear about (they did not name those files)
        unnamed = tuple(str(p) for p in context)
        files = _Files(lambda line: None if line.startswith(unnamed) else warn(line), use_cache)
        heads = [files.head(p) for p in [*named, *context]]
        given = set(named)
        wanted = {
            h.path
            for h in heads
            if h.path in given and cwd_inside(h.cwd, project) and modified_since(h.path, since)
        }
        fresh = {p for p in named if p in roots} if use_cache else given
        if attribution:  # it has to be read whole anyway: one read, with the facts
            worth = attribution if callable(attribution) else None
            fresh |= {
                h.path
                for h in heads
                if h.path in wanted
                and h.path not in files.hits
                and files.missing(h.path)
                and (worth is None or worth(h.path, h.started))
            }
        for session in _sessions(files, heads, wanted, fresh):
            if in_scope(session, project, since):
                yield session

    def find_session(self, roots: Sequence[Path], session_id: str, *, warn: Warn) -> Session | None:
        """The session read afresh with its attribution fields (a sub-agent's id finds the
        parent session it was rolled into)."""
        files = _Files(warn, use_cache=True)
        named, context = named_files(roots, warn)
        heads = [files.head(p) for p in [*named, *context]]
        wanted = {h.path for h in heads if h.session_id == session_id}
        for session in _sessions(files, heads, wanted, wanted):
            return session
        return None


ADAPTER = CodexAdapter()
