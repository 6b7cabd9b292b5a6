"""Reading transcripts through the incremental scan cache (`costlog.sources.cache`).

Per file the cache keeps the FileState's flat form, keyed by path, size, mtime and inode:
an unchanged file is not opened, and a file that only grew is read from where the last scan
stopped. A file read afresh (its attribution fields are wanted) bypasses the cache. Big cold
reads (>= 64 MB to read) are spread over up to 4 processes, this one reading too
(`sources._spread`; `COSTLOG_SCAN_WORKERS=N` readers in all, 1 turns it off). A cold
read's warnings come in the same order however many read: biggest file first (files the
cache serves warn in listing order, as before).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import Any

from costlog.safefs import open_log
from costlog.sources.cache import FileCache, tail_hash
from costlog.sources.claude.coststate import note_unmarked, tail_unmarked
from costlog.sources.claude.discovery import LogFile
from costlog.sources.claude.filestate import FileState
from costlog.sources.claude.transcript import FileReader, load_fast
from costlog.sources.progress import Progress
from costlog.sources.workers import readers

Warn = Callable[[str], None]

#: bump when the cached per-file state changes shape or meaning (2: responses as named
#: fields, flattened in a new order; 3: a response's costUSD from its most complete line,
#: and its executor steps)
SCHEMA = 3

#: a file to read whole, with what `stat` said of it
Job = tuple[LogFile, os.stat_result]


def read_file(
    log: LogFile,
    warn: Warn,
    cache: FileCache | None,
    collect: bool,
    defer: list[Job] | None = None,
    afresh: list[Job] | None = None,
) -> FileState | None:
    """One file's state: from the cache when unchanged, else (re-)read. A file that must be
    read whole is appended to `defer` instead (and None returned) when `defer` is given; a
    file to read afresh (`collect`), to `afresh` when that is given."""
    path = log.path
    name = str(path)
    try:
        st = path.stat()
    except OSError as exc:
        warn(f"{name}: cannot read ({exc.strerror})")
        return FileState()
    status, cached = cache.lookup(name, st) if cache is not None and not collect else ("miss", None)
    restored = FileState.from_json(cached.state) if cached is not None else None
    if restored is None:
        status = "miss"
    if status == "hit" and restored is not None:
        for message in restored.warnings:
            warn(message)
        return restored
    if status == "miss" and defer is not None and not collect:
        defer.append((log, st))
        return None
    if collect and afresh is not None:
        afresh.append((log, st))
        return None
    try:
        with open_log(path) as fh:  # a regular file only, read within a time bound
            start = 0
            state = FileState()
            if (
                status == "grown"
                and cached is not None
                and restored is not None
                and tail_hash(fh, cached.offset) == cached.tail
            ):
                state = restored
                for message in state.warnings:
                    warn(message)
                start = cached.offset
            offset = FileReader(path, state, warn, collect).read(fh, start)
            tail = tail_hash(fh, offset)
    except OSError as exc:
        warn(f"{name}: cannot read ({exc.strerror})")
        return FileState()
    if cache is not None:
        cache.put(name, st, offset, tail, state.to_json())
    return state


def read_many(
    jobs: Sequence[Job],
    warn_for: Callable[[Path], Warn],
    cache: FileCache,
    afresh: Sequence[Job] = (),
    facts_too: Collection[Path] = (),
) -> dict[Path, FileState]:
    """Whole-file reads, spread over processes when there is a lot to read: `jobs` through
    the cache, `afresh` with the attribution fields and not cached. The `jobs` whose path is
    in `facts_too` are read with the attribution fields as well, and still cached."""
    both = [(job, job[0].path in facts_too) for job in jobs] + [(job, True) for job in afresh]
    both.sort(key=lambda item: -item[0][1].st_size)  # biggest first: better balance
    order = [job for job, _ in both]
    paths = [str(log.path) for log, _ in order]
    fresh = [collect for _, collect in both]
    size = sum(st.st_size for _, st in order)
    workers = readers(size, len(order))
    shown = Progress(len(order), size, "reading Claude Code logs")
    out: dict[Path, FileState] = {}
    said: list[tuple[Path, list[str]]] = []  # warned after the progress line is gone
    rank = {log.path: n for n, (log, _) in enumerate(order)}

    def take(job: Job, result: _Read | str) -> None:
        """One file's result, as it arrives (while the workers read on)."""
        log, st = job
        if isinstance(result, str):
            said.append((log.path, [result]))
            out[log.path] = FileState()
        else:
            data, offset, tail, messages, facts, unmarked = result
            if unmarked is not None:
                note_unmarked(str(log.path), unmarked)
            said.append((log.path, messages))
            state = FileState.from_json(data) or FileState()
            if facts is None or log.path in facts_too:  # the facts are never cached
                cache.put(str(log.path), st, offset, tail, data)
            if facts is not None:
                state.first_prompt, state.refs, state.edited = facts
            out[log.path] = state

    try:
        if workers > 1:
            from costlog.sources._spread import spread  # not on the hooks' path

            load_fast()  # imported once here, not once per forked reader
            spread(
                [st.st_size for _, st in order],
                lambda i: _cold_read(paths[i], fresh[i]),
                lambda i, result: take(order[i], result),
                workers,
                shown,
            )
        else:
            for job, path, collect in zip(order, paths, fresh, strict=True):
                take(job, _cold_read(path, collect))
                shown.add(job[1].st_size)
    finally:
        shown.close()
    said.sort(key=lambda item: rank[item[0]])  # as read without workers: biggest file first
    for where, messages in said:
        warn = warn_for(where)
        for message in messages:
            warn(message)
    return out


#: a whole-file read: (cached form of its state, offset, tail hash, warnings, for a read
#: afresh its attribution fields: first prompt, commit refs, edited files, and the file's
#: (size, mtime_ns, inode) when its tail has no cost-state marker)
_Read = tuple[
    list[Any],
    int,
    str,
    list[str],
    tuple[str | None, set[str], set[str]] | None,
    tuple[int, int, int] | None,
]


def _cold_read(path: str, collect: bool = False) -> _Read | str:
    """Read one whole file (may run in a worker process), or say why it could not be."""
    messages: list[str] = []
    state = FileState()
    try:
        with open_log(path) as fh:
            offset = FileReader(Path(path), state, messages.append, collect).read(fh, 0)
            tail = tail_hash(fh, offset)
            unmarked = tail_unmarked(fh.fileno())  # the scan's cost-state test, done here
    except OSError as exc:
        return f"{path}: cannot read ({exc.strerror})"
    facts = (state.first_prompt, state.refs, state.edited) if collect else None
    return state.to_json(), offset, tail, messages, facts, unmarked
