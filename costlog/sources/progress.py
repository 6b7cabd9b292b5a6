"""A progress line on stderr while a big cold read of agent logs runs.

Shown only where a person watches: when a command has allowed it (`scan`, `backfill`: see
`allowed`), stderr is a terminal, and the read has taken more than a second. Hooks and
pipes never allow it, so they see nothing extra. One line, rewritten in place (files and
bytes done, rate, time left) and erased at the end, so the output proper stays clean.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator
from typing import TextIO

#: seconds of work before the line first appears
DELAY = 1.0
#: seconds between rewrites
EVERY = 0.2
_allowed = False
_quiet = False


@contextlib.contextmanager
def allowed() -> Iterator[None]:
    """Within this block, big reads may show progress (when stderr is a terminal)."""
    global _allowed
    before, _allowed = _allowed, True
    try:
        yield
    finally:
        _allowed = before


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Within this block no progress line is drawn, even where allowed: a read started
    ahead of its turn (`backfill`) shows its line only once its turn has come."""
    global _quiet
    before, _quiet = _quiet, True
    try:
        yield
    finally:
        _quiet = before


class Progress:
    """Counts files and bytes done against a known total; silent unless allowed."""

    def __init__(self, files: int, size: int, what: str, stream: TextIO | None = None) -> None:
        self.stream = sys.stderr if stream is None else stream
        self.files, self.size, self.what = files, size, what
        self.done_files = self.done_bytes = 0
        self.start = time.monotonic()
        self._next = self.start + DELAY
        self._shown = 0  # width of the line on screen
        try:
            tty = self.stream.isatty()
        except (AttributeError, ValueError):
            tty = False
        self.on = _allowed and tty

    def add(self, size: int) -> None:
        """One more file of `size` bytes done."""
        self.done_files += 1
        self.done_bytes += size
        if not self.on or _quiet:
            return
        now = time.monotonic()
        if now < self._next:
            return
        self._next = now + EVERY
        self._write(self.line(now - self.start))

    def line(self, elapsed: float) -> str:
        mb, total = self.done_bytes / 1e6, self.size / 1e6
        rate = mb / elapsed if elapsed > 0 else 0.0
        left = (total - mb) / rate if rate > 0 else 0.0
        return (
            f"{self.what}: {self.done_files:,}/{self.files:,} files, "
            f"{mb:,.0f}/{total:,.0f} MB, {rate:,.0f} MB/s, about {left:,.0f} s left"
        )

    def close(self) -> None:
        """Erase the line, if one was shown."""
        if self._shown:
            self._write("")
            self._shown = 0

    def _write(self, text: str) -> None:
        pad = max(0, self._shown - len(text))
        try:
            self.stream.write("\r" + text + " " * pad + ("\r" if not text else ""))
            self.stream.flush()
        except (OSError, ValueError):
            self.on = False
            return
        self._shown = len(text)
