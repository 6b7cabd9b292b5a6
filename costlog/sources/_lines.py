"""Reading agent logs line by line: the one JSON-lines reader and the one long-line skipper.

Agent logs are JSON lines that the agent may still be writing, that a crash may have cut
short, and that now and then hold one enormous line (a pasted file, a base64 image). Every
adapter reads them the same way, so a corrupt line costs only itself and memory stays
bounded whatever the file holds:

* Files are opened through `costlog.safefs.open_log`: a regular file only, so a FIFO named
  like a log cannot hang a scan.
* Lines are read as bytes and end only at `\\n` (a stray `\\r` inside a line ends nothing).
* A line longer than `MAX_LINE` bytes is never held whole: it is skipped in small reads and
  reported by its size. No usage line comes near that size.
* A UTF-8 byte-order mark before the first line is not part of it; invalid UTF-8 inside a
  string becomes U+FFFD instead of costing the line its usage (in a number it still makes
  the line bad JSON).
* Warnings say `path:line: reason`, line numbers counting every line from 1.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from costlog.safefs import open_log
from costlog.sources import Warn

#: a line longer than this (bytes) is skipped unread; read at call time, so a test may
#: lower it
MAX_LINE = 64 << 20
#: how much of an over-long line is read at a time while skipping it
_SKIP_CHUNK = 1 << 20


class Unfinished(int):
    """The bytes read so far of an over-long last line that has no newline yet: the agent
    may still be writing it, so a reader that resumes from an offset reads it again."""


def _skip_rest(fh: IO[bytes], size: int) -> tuple[int, bool]:
    """Consume the rest of an over-long line of which `size` bytes were read: (its size so
    far, whether its newline was reached). Small reads, so skipping holds no second
    MAX_LINE in memory."""
    readline = fh.readline
    while True:
        chunk = readline(_SKIP_CHUNK)
        size += len(chunk)
        if chunk.endswith(b"\n"):
            return size, True
        if not chunk:
            return size, False


def bounded_lines(fh: IO[bytes]) -> Iterator[bytes | int]:
    """The lines of `fh` from where it stands, each at most MAX_LINE bytes held.

    A line comes as its bytes (the last one may lack its newline: cut short, or still being
    written). A line over MAX_LINE comes as its size in bytes (an int), unread; when the file
    ends inside it, as `Unfinished` (an int too) and the iteration stops.
    """
    limit = MAX_LINE
    readline = fh.readline
    while raw := readline(limit):
        if len(raw) < limit or raw.endswith(b"\n"):
            yield raw
            continue
        size, raw = len(raw), b""  # freed before reading on
        size, ended = _skip_rest(fh, size)
        if not ended:
            yield Unfinished(size)
            return
        yield size


#: how much `line_blocks` reads at a time
BLOCK = 1 << 20


def line_blocks(fh: IO[bytes]) -> Iterator[bytes | int]:
    """The lines of `fh` from where it stands, in blocks of whole lines: for a reader that
    looks for a few lines by a byte search instead of visiting every line in Python.

    A block (bytes) ends with a newline, except a last line cut short or still being
    written, which comes as a block of its own. A line over MAX_LINE comes, as from
    `bounded_lines`, as its size (an int), unread; `Unfinished` when the file ends inside it.
    Only for MAX_LINE well above BLOCK (a test that lowers MAX_LINE reads by lines).
    """
    limit = MAX_LINE
    read, readline = fh.read, fh.readline
    while block := read(BLOCK):
        if block.endswith(b"\n"):
            yield block
            continue
        cut = block.rfind(b"\n") + 1
        if cut:
            yield block[:cut]
        line = block[cut:]
        line += readline(limit - len(line))  # the rest of the line the block ends inside
        if line.endswith(b"\n") or len(line) < limit:
            yield line
            continue
        size, line = len(line), b""  # freed before reading on
        size, ended = _skip_rest(fh, size)
        if not ended:
            yield Unfinished(size)
            return
        yield size


def too_long(size: int) -> str:
    """The reason given for a line skipped for its length."""
    return f"line of {size:,} bytes is too long to hold usage, skipped"


def loads(raw: bytes) -> Any:
    """The JSON value of one line; ValueError or RecursionError (deep nesting) when it is
    not JSON. Invalid UTF-8 is replaced rather than refused: see the module docstring."""
    try:
        return json.loads(raw)  # a leading UTF-8 BOM is recognised and dropped
    except UnicodeDecodeError:
        return json.loads(raw.decode("utf-8-sig", "replace"))


_FAST_DECODE: Any = None
_FAST_ERRORS: tuple[type[Exception], ...] = ()


def loads_fast(raw: bytes) -> Any:
    """`loads`, by msgspec where it reads the line the same way (3x faster); anything it
    refuses (NaN, a byte-order mark, invalid UTF-8, a lone surrogate, bad JSON) goes to
    `loads`, so the value, or the error and its message, is what `loads` gives. msgspec is
    imported on first use: callers on the hook path use `loads`."""
    global _FAST_DECODE, _FAST_ERRORS
    if _FAST_DECODE is None:
        import msgspec

        _FAST_DECODE = msgspec.json.Decoder().decode
        _FAST_ERRORS = (msgspec.DecodeError, msgspec.ValidationError, ValueError, RecursionError)
    try:
        return _FAST_DECODE(raw)
    except _FAST_ERRORS:
        return loads(raw)


def not_json(exc: Exception, last: bool) -> str:
    """The reason given for a line that is not JSON; `last`: it has no newline (the last
    line, cut short or still being written)."""
    what = "truncated last line" if last else "corrupt line"
    if isinstance(exc, json.JSONDecodeError):
        detail = f": {exc.msg}"
    elif isinstance(exc, RecursionError):
        detail = ": nested too deep"
    else:
        detail = ""
    return f"{what} (not JSON{detail}), skipped"


NOT_OBJECT = "not a JSON object, skipped"


def parse_line(raw: bytes) -> dict[str, Any] | str:
    """One line's JSON object, or the reason it is skipped (a str)."""
    try:
        value = loads(raw)
    except (ValueError, RecursionError) as exc:
        return not_json(exc, last=not raw.endswith(b"\n"))
    return value if isinstance(value, dict) else NOT_OBJECT


def iter_json_lines(path: Path, warn: Warn) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each JSON-object line of `path`, streaming.

    Blank lines are passed over; a line that is too long, not JSON or not an object is
    warned as `path:line: reason` and skipped; a file that cannot be opened (or is not a
    regular file) is one warning and no lines.
    """
    try:
        handle = open_log(path)
    except OSError as exc:
        warn(f"{path}: cannot read: {exc.strerror or exc}")
        return
    with handle:
        for number, raw in enumerate(bounded_lines(handle), 1):
            if isinstance(raw, int):
                warn(f"{path}:{number}: {too_long(raw)}")
                continue
            if not raw.strip():
                continue
            value = parse_line(raw)
            if isinstance(value, str):
                warn(f"{path}:{number}: {value}")
                continue
            yield number, value
