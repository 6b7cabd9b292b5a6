"""Run one piece of work (rendering a repository's template) in a forked child process
with a memory, time and output limit.

The sandbox's caps refuse most oversized operations up front, but a call into C (a huge
`str.center`, an int power) neither sees SIGALRM nor asks before it allocates, and
Python has no way to take memory back from a running frame. A child process can simply
be given an address-space limit and be killed: the parent waits with a deadline, then
SIGKILLs and reaps it. The child sends back its result as data through a pipe, in a tiny
framed format (one kind byte, then UTF-8 text or JSON): nothing from it is unpickled.

The child is a fork of a costlog run that may hold locks, buffered output and atexit
handlers. It never returns into the caller's frames: it runs the work, writes one frame
and leaves through `os._exit`, so no `finally`, atexit handler or buffer flush of the
parent runs twice, and no lock file is touched. Its stdout and stderr are set to None
(a stray warning writes nothing). Where `os.fork` or the `resource` module is missing
(Windows), `available()` is False and the caller renders in-process instead.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import selectors
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from costlog.errors import CostlogError

MiB = 1 << 20
#: frame kinds, the first byte the child sends
_TEXT, _ERROR, _OS_ERROR, _MEMORY, _OUTPUT, _CRASH = b"TEOMLX"
#: what a frame other than text may add to the output cap (an error message as JSON)
_FRAME_SLACK = 64 * 1024
#: the child's exit status when it could not even send a frame
_FAILED = 70


@dataclass(frozen=True)
class Limits:
    #: wall time from fork to the last byte received
    seconds: float
    #: address space the child may add to what it starts with, in bytes
    memory: int
    #: the most UTF-8 bytes of text the child may send back
    output: int


class Stopped(Exception):
    """The child broke a limit or died: `reason` is "time", "memory", "output" or "died"
    (then `detail` says how)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason, detail)
        self.reason, self.detail = reason, detail


def available() -> bool:
    """Whether work can run in a confined child here (POSIX: fork and setrlimit)."""
    if not hasattr(os, "fork"):
        return False
    try:
        import resource  # noqa: F401
    except ImportError:
        return False
    return True


def run(work: Callable[[], str], limits: Limits) -> str:
    """`work()` run in a forked child; its text, or the CostlogError (or OSError) it raised,
    raised again here. Stopped when it broke a limit; nothing is left running."""
    read_end, write_end = os.pipe()
    # no signal handler may run in the child before it is inside its `try`
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals())
    try:
        pid = os.fork()
    except OSError:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        os.close(read_end)
        os.close(write_end)
        raise
    if pid == 0:  # the child: never returns
        status = _FAILED
        try:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
            os.close(read_end)
            _child(work, limits, write_end)
            status = 0
        finally:
            os._exit(status)
    signal.pthread_sigmask(signal.SIG_SETMASK, mask)
    os.close(write_end)
    reaped = False
    try:
        data = _receive(read_end, limits)
        try:
            _, wait_status = os.waitpid(pid, 0)
        except ChildProcessError:  # SIGCHLD ignored: the system reaped it, status unknown
            wait_status = 0
        reaped = True
    finally:
        os.close(read_end)
        if not reaped:
            _kill(pid)
    return _decode(data, wait_status)


def _receive(fd: int, limits: Limits) -> bytes:
    """Everything the child sends, until it exits; Stopped past the deadline or the cap."""
    deadline = time.monotonic() + limits.seconds
    chunks: list[bytes] = []
    received = 0
    most = limits.output + 1 + _FRAME_SLACK
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Stopped("time")
            if not selector.select(left):
                continue
            chunk = os.read(fd, MiB)
            if not chunk:
                return b"".join(chunks)
            received += len(chunk)
            if received > most:
                raise Stopped("output")
            chunks.append(chunk)


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


def _decode(data: bytes, wait_status: int) -> str:
    """The child's frame as a result or an exception; a child that did not exit cleanly
    may have sent part of one, so only its way of dying counts."""
    if os.WIFSIGNALED(wait_status):
        number = os.WTERMSIG(wait_status)
        if number == signal.SIGXCPU:
            raise Stopped("time")
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        raise Stopped("died", f"was killed by {name}")
    code = os.waitstatus_to_exitcode(wait_status)
    if code != 0 or not data:
        raise Stopped("died", f"ended with exit status {code}")
    kind, body = data[0], data[1:]
    if kind == _TEXT:
        return body.decode("utf-8", "surrogatepass")
    if kind == _MEMORY:
        raise Stopped("memory")
    if kind == _OUTPUT:
        raise Stopped("output")
    fields = json.loads(body)
    if kind == _ERROR:
        raise CostlogError(
            fields["message"],
            path=fields["path"],
            line=fields["line"],
            hint=fields["hint"],
            exit_code=fields["exit_code"],
        )
    if kind == _OS_ERROR:
        raise OSError(fields["errno"], fields["strerror"], fields["filename"])
    raise RuntimeError(fields["error"])


def _child(work: Callable[[], str], limits: Limits, fd: int) -> None:
    """In the child: limits first, then the work, then one frame."""
    sys.stdout = sys.stderr = None
    _set_limits(limits)
    try:
        frame = _frame(work, limits)
    except MemoryError:
        frame = bytes([_MEMORY])
    view = memoryview(frame)
    while view:
        view = view[os.write(fd, view) :]


def _frame(work: Callable[[], str], limits: Limits) -> bytes:
    try:
        text = work()
    except CostlogError as exc:
        fields: dict[str, Any] = {
            "message": exc.message,
            "path": None if exc.path is None else str(exc.path),
            "line": exc.line,
            "hint": exc.hint,
            "exit_code": exc.exit_code,
        }
        return bytes([_ERROR]) + json.dumps(fields).encode()
    except OSError as exc:
        fields = {"errno": exc.errno, "strerror": exc.strerror, "filename": _name(exc.filename)}
        return bytes([_OS_ERROR]) + json.dumps(fields).encode()
    except MemoryError:
        raise
    except Exception as exc:  # a bug in costlog: the parent reports it as one
        return bytes([_CRASH]) + json.dumps({"error": f"{type(exc).__name__}: {exc}"}).encode()
    data = text.encode("utf-8", "surrogatepass")
    if len(data) > limits.output:
        return bytes([_OUTPUT])
    return bytes([_TEXT]) + data


def _name(filename: object) -> str | None:
    return None if filename is None else os.fsdecode(filename)  # type: ignore[arg-type]


def _set_limits(limits: Limits) -> None:
    """Address space: what the child has now plus `limits.memory`; CPU: the deadline plus a
    second (so a child whose parent died stops too); no core file."""
    import resource

    size = _address_space()
    if size is not None:
        _lower(resource.RLIMIT_AS, size + limits.memory)
    _lower(resource.RLIMIT_CPU, math.ceil(limits.seconds) + 1)
    _lower(resource.RLIMIT_CORE, 0)


def _lower(which: int, value: int) -> None:
    """Set a soft limit to `value` unless it is already lower (or the hard limit is)."""
    import resource

    soft, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    if soft == resource.RLIM_INFINITY or value < soft:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(which, (value, hard))


def _address_space() -> int | None:
    """This process's virtual size in bytes (Linux's /proc); None where it is unknown
    (macOS does not enforce RLIMIT_AS anyway)."""
    try:
        with open("/proc/self/statm", "rb") as handle:
            pages = int(handle.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pages * os.sysconf("SC_PAGE_SIZE")
