"""Run a function in a forked child while the parent works on, and get its result back.

Why: on two cores, work the parent would do before something else can as well be done by
a copy of the process at the same time (`costlog check` verifies every cost in a child
while the parent renders COST_LOG.md). A forked child shares the parent's memory, so it
needs nothing sent to it: the function and everything it reads are already there.

What comes back is only ever the function's own result, pickled through a pipe, or None
when that was not possible: no `os.fork` (Windows), threads running (a fork copies none
of them, and a lock one held stays locked in the child), the fork failed, the function
raised, the child died or was killed, or what it sent is cut short or does not unpickle.
A caller then runs the function itself, so a failure of the machinery is never a silent
pass, and an exception is raised (and its traceback shown) in the parent as without a
child. A function whose errors are results (a check that fails) catches them and returns
them.

The child leaves by `os._exit`: the parent's atexit handlers and buffered output are
never run or flushed twice, and it never writes to stdout or stderr.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import struct
import threading
from collections.abc import Callable
from typing import Generic, NoReturn, TypeVar

T = TypeVar("T")

_SIZE = struct.Struct("Q")  # the length of the pickled result, sent before it


class Child(Generic[T]):
    """A forked child running one function; `result` waits for it, `stop` ends it.

    Use it as a context manager: leaving the block (also by an exception) stops and reaps
    the child, so none is ever left running or unreaped."""

    def __init__(self, pid: int, pipe: int) -> None:
        self._pid = pid
        self._pipe = pipe

    def result(self) -> T | None:
        """The function's result, waiting for it; None when it did not arrive whole (see
        the module's docstring). Reaps the child and closes the pipe."""
        try:
            data = _read_all(self._pipe)
        except OSError:
            data = bytearray()
        with contextlib.suppress(OSError):
            os.close(self._pipe)
        self._pipe = -1
        status = self._reap()
        if status is None or not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
            return None
        if len(data) < _SIZE.size or _SIZE.unpack_from(data)[0] != len(data) - _SIZE.size:
            return None
        try:  # a view: no copy of what may be megabytes (a large ledger's walk)
            found: T = pickle.loads(memoryview(data)[_SIZE.size :])
        except Exception:  # garbled: the caller runs the function itself
            return None
        return found

    def stop(self) -> None:
        """Kill the child unless it has been reaped, and reap it; close the pipe."""
        if self._pipe >= 0:
            with contextlib.suppress(OSError):
                os.close(self._pipe)
            self._pipe = -1
        if self._pid:
            with contextlib.suppress(OSError):
                os.kill(self._pid, signal.SIGKILL)
            self._reap()

    def _reap(self) -> int | None:
        """Wait for the child (once); its wait status, None if it could not be had."""
        pid, self._pid = self._pid, 0
        if not pid:
            return None
        while True:
            try:
                return os.waitpid(pid, 0)[1]
            except InterruptedError:  # pragma: no cover - retried by Python itself
                continue
            except ChildProcessError:
                return None

    def __enter__(self) -> Child[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def cores() -> int:
    """How many cores this process may run on: a child only saves time with two."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def start(work: Callable[[], T]) -> Child[T] | None:
    """Run `work()` in a forked child; None when no child could be started (no fork,
    threads running, fork or pipe failed) or none would help (one core: it would only take
    turns with this process): the caller then runs `work` itself."""
    if not hasattr(os, "fork") or threading.active_count() != 1 or cores() < 2:
        return None
    try:
        read, write = os.pipe()
    except OSError:
        return None
    try:
        pid = os.fork()
    except OSError:
        os.close(read)
        os.close(write)
        return None
    if pid == 0:  # the child: never returns
        os.close(read)
        _child(work, write)
    os.close(write)
    return Child(pid, read)


def _child(work: Callable[[], T], out: int) -> NoReturn:
    """Run `work`, send its result pickled (its length first), leave by os._exit: 0 when
    all of it was sent, else 1 (an exception, or a result that does not pickle)."""
    status = 1
    try:
        blob = pickle.dumps(work(), protocol=pickle.HIGHEST_PROTOCOL)
        data = memoryview(_SIZE.pack(len(blob)) + blob)
        while data:
            data = data[os.write(out, data) :]
        status = 0
    except BaseException:  # the parent runs `work` itself, and shows what it raises
        pass
    finally:
        os._exit(status)


def _read_all(pipe: int) -> bytearray:
    """Everything the child writes, until it closes its end (it exits): in one buffer that
    grows, never held twice (as chunks and their join)."""
    data = bytearray()
    while chunk := os.read(pipe, 1 << 20):
        data += chunk
    return data
