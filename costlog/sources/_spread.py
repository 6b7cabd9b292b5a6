"""Whole-file reads spread over forked processes, the parent reading too.

Why not a process pool: a pool pickles every result through a helper thread in the
parent, and the parent only waits, so on two cores one core did little but unpickle. Here
the parent is one of the readers: `processes - 1` children are forked, and all of them,
parent included, take jobs from one shared queue until it is empty. The queue is a pipe
filled before the fork with 4-byte job-group numbers (a read of 4 bytes from a pipe is
never split, so each group goes to one reader); groups are runs of the jobs in the order
given, cut by bytes, so that a big file is a group of its own and small ones go together
(given biggest first, as Claude Code's reads are, every reader ends at about the same
time; Codex's come in the order its sessions are worked out). A child sends each group's
results as one frame, marshalled (lists, tuples, sets, str, numbers: several times faster
than pickle), without ever blocking on a full pipe while there is work (what the pipe
cannot take yet is kept for the next try); the parent takes in what has arrived after
each of its own groups, so little is left for it once the queue is empty. The children's
progress (files and bytes done) goes through a shared page the parent reads. A job whose
result never arrives (a child that died) is run again in the parent, so a failure there
is reported as in a read without workers. Without `os.fork` (Windows), or while another
thread runs in this process, everything runs in the parent.
"""

from __future__ import annotations

import contextlib
import marshal
import mmap
import os
import signal
import struct
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NoReturn

from costlog.sources.progress import Progress

#: how many groups the jobs are cut into at most (4 bytes each: well within a pipe's buffer)
GROUPS = 512
_SLOT = struct.Struct("qq")  # one child's files and bytes done
_FRAME = struct.Struct("Q")  # the size of one group's marshalled results


def spread(
    sizes: Sequence[int],
    work: Callable[[int], Any],
    take: Callable[[int, Any], None],
    processes: int,
    shown: Progress,
) -> None:
    """Run `work(i)` for every job i on `processes` processes and give each result to
    `take(i, result)` in the parent (`steps`, run to its end)."""
    for _ in steps(sizes, work, take, processes, shown):
        pass


def steps(
    sizes: Sequence[int],
    work: Callable[[int], Any],
    take: Callable[[int, Any], None],
    processes: int,
    shown: Progress,
) -> Iterator[None]:
    """Run `work(i)` for every job i (in `sizes`' order) on `processes` processes and give
    each result to `take(i, result)` in the parent (results of the parent's own jobs at
    once, the children's a group at a time as they arrive). `work` must return what
    marshal stores; `shown` counts every job's size as it is done.

    A generator: it pauses (yields) after each group the parent read and each batch of
    the children's results it took, so the caller can use what has arrived, in between,
    while the children read on; by its end every job was taken (what a child failed to
    deliver is run in the parent). Closing it early stops the children."""
    count = len(sizes)
    done = [False] * count
    # no fork while another thread runs (a lock it holds would stay held in the child)
    alone = hasattr(os, "fork") and threading.active_count() == 1
    children = max(0, processes - 1) if alone and count > 1 else 0

    def run_here(i: int) -> None:
        take(i, work(i))
        done[i] = True
        shown.add(sizes[i])

    if children:
        yield from _run_forked(sizes, work, take, children, shown, done, run_here)
    for i in range(count):  # everything, or what a child failed to deliver
        if not done[i]:
            run_here(i)
            yield


def _groups(sizes: Sequence[int]) -> list[int]:
    """Where each group of jobs starts (and, last, the end): runs of at least 1/GROUPS of
    the bytes, so big files go one by one and small ones together. Every group but the
    last holds at least `target` bytes, so there are at most 2 GROUPS + 1 of them."""
    target = max(1, sum(sizes) // GROUPS)
    bounds = [0]
    held = 0
    for i, size in enumerate(sizes):
        held += size
        if held >= target:
            bounds.append(i + 1)
            held = 0
    if bounds[-1] != len(sizes):
        bounds.append(len(sizes))
    return bounds


def _run_forked(
    sizes: Sequence[int],
    work: Callable[[int], Any],
    take: Callable[[int, Any], None],
    children: int,
    shown: Progress,
    done: list[bool],
    run_here: Callable[[int], None],
) -> Iterator[None]:
    bounds = _groups(sizes)
    queue_r, queue_w = os.pipe()
    try:
        items = struct.pack(f"{len(bounds) - 1}I", *range(len(bounds) - 1))
        os.set_blocking(queue_w, False)  # never wait on a pipe nobody reads yet
        if os.write(queue_w, items) != len(items):  # at most ~4 KiB: never short
            os.close(queue_r)
            return  # everything is read here instead
    except OSError:
        os.close(queue_r)
        return
    finally:
        os.close(queue_w)
    page = mmap.mmap(-1, _SLOT.size * children)  # shared with the children
    kids: list[_Kid] = []
    pids: list[int] = []

    def taken(found: list[tuple[int, Any]]) -> None:
        for i, result in found:
            if 0 <= i < len(done) and not done[i]:
                take(i, result)
                done[i] = True

    try:
        for slot in range(children):
            results_r, results_w = os.pipe()
            _widen(results_w)
            pid = os.fork()
            if pid == 0:  # the child: never returns
                os.close(results_r)
                _child(queue_r, results_w, bounds, sizes, work, page, slot)
            os.close(results_w)
            pids.append(pid)
            kids.append(_Kid(pid, results_r))
        base_files, base_bytes = shown.done_files, shown.done_bytes
        mine_files = mine_bytes = 0
        while (group := _claim(queue_r)) is not None:
            for i in range(bounds[group], bounds[group + 1]):
                run_here(i)
                mine_files += 1
                mine_bytes += sizes[i]
                if shown.on:  # the children's progress too
                    files, nbytes = _theirs(page, children)
                    shown.done_files = base_files + mine_files + files - 1
                    shown.done_bytes = base_bytes + mine_bytes + nbytes - sizes[i]
                    shown.add(sizes[i])
            for kid in kids:  # what the others have sent meanwhile
                taken(kid.ready())
            yield
        for kid in kids:  # the rest, as it arrives
            while (found := kid.more()) is not None:
                taken(found)
                yield
        if shown.on:
            shown.done_files = base_files + sum(done) - 1
            shown.done_bytes = base_bytes + sum(s for s, d in zip(sizes, done, strict=True) if d)
            shown.add(0)
    finally:
        os.close(queue_r)
        page.close()
        for kid in kids:
            with contextlib.suppress(OSError):
                os.close(kid.results)
        for pid in pids:  # after an error here: stop them, never leave them
            with contextlib.suppress(OSError):
                if os.waitpid(pid, os.WNOHANG) == (0, 0):
                    os.kill(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)


#: a results pipe's buffer where it can be set (Linux; 1 MiB is the default most one may)
PIPE_BYTES = 1 << 20


def _widen(pipe: int) -> None:
    """Give a child's results pipe room for many groups' results (Linux: F_SETPIPE_SZ):
    with the default 64 KiB a child can hand over little between two of the parent's
    reads, so most of its results came at the end, and the parent worked them out alone
    while the child had stopped (a tenth of a 500 MB Codex scan). Where it cannot be set
    (another system, a lower limit) the pipe stays as it is: only slower."""
    try:
        import fcntl

        fcntl.fcntl(pipe, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    except (ImportError, AttributeError, OSError):
        pass


def _claim(queue: int) -> int | None:
    """The next group of jobs from the shared queue; None when it is empty."""
    got = os.read(queue, 4)
    while got and len(got) < 4:  # not seen on Linux or macOS: the read is whole
        more = os.read(queue, 4 - len(got))
        if not more:
            return None
        got += more
    return struct.unpack("I", got)[0] if got else None


def _theirs(page: mmap.mmap, children: int) -> tuple[int, int]:
    files = nbytes = 0
    for slot in range(children):
        f, b = _SLOT.unpack_from(page, slot * _SLOT.size)
        files += f
        nbytes += b
    return files, nbytes


def _child(
    queue: int,
    out: int,
    bounds: Sequence[int],
    sizes: Sequence[int],
    work: Callable[[int], Any],
    page: mmap.mmap,
    slot: int,
) -> NoReturn:
    """A forked reader: jobs from the queue until it is empty, then every result at once.
    Leaves by `os._exit`: no atexit handler or buffered output of the parent's runs twice."""
    status = 1
    try:
        files = nbytes = 0
        unsent = bytearray()  # never blocks on a full pipe while there is work to do
        os.set_blocking(out, False)
        while (group := _claim(queue)) is not None:
            results: list[tuple[int, Any]] = []
            for i in range(bounds[group], bounds[group + 1]):
                with contextlib.suppress(Exception):  # the parent runs it again, and raises
                    results.append((i, work(i)))
                files += 1
                nbytes += sizes[i]
                _SLOT.pack_into(page, slot * _SLOT.size, files, nbytes)
            blob = marshal.dumps(results)
            unsent += _FRAME.pack(len(blob))
            unsent += blob
            with contextlib.suppress(BlockingIOError):
                del unsent[: os.write(out, unsent)]
        os.set_blocking(out, True)
        while unsent:
            del unsent[: os.write(out, unsent)]
        status = 0
    finally:
        os._exit(status)


class _Kid:
    """One forked reader as the parent sees it: its results arrive a group at a time (a
    length, then the group's results marshalled), read whenever the parent has a moment."""

    def __init__(self, pid: int, results: int) -> None:
        self.pid = pid
        self.results = results
        self.buffer = bytearray()
        os.set_blocking(results, False)

    def ready(self) -> list[tuple[int, Any]]:
        """The results that have arrived, without waiting."""
        with contextlib.suppress(BlockingIOError, InterruptedError):
            while chunk := os.read(self.results, 1 << 20):
                self.buffer += chunk
        return self._frames()

    def more(self) -> list[tuple[int, Any]] | None:
        """The next results once the reader has nothing left to read, waiting for them;
        None when it has finished (or failed: its jobs not sent whole are then left to the
        parent) and every result it sent was given."""
        if self.pid == 0:
            return None
        os.set_blocking(self.results, True)
        try:
            chunk = os.read(self.results, 1 << 20)
        except OSError:
            chunk = b""
        if chunk:
            self.buffer += chunk
            return self._frames()
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)
        self.pid = 0  # reaped
        return self._frames()  # whole groups only: a cut one is read again by the parent

    def _frames(self) -> list[tuple[int, Any]]:
        found: list[tuple[int, Any]] = []
        buffer, at = self.buffer, 0
        while len(buffer) - at >= _FRAME.size:
            (size,) = _FRAME.unpack_from(buffer, at)
            if len(buffer) - at - _FRAME.size < size:
                break  # the rest of this group is still on its way
            start = at + _FRAME.size
            at = start + size
            try:
                group = marshal.loads(buffer[start:at])
            except (ValueError, EOFError, TypeError):
                continue
            if isinstance(group, list):
                found.extend(group)
        del buffer[:at]
        return found
