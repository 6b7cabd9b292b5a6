"""Issue 12: the forked readers of a cold read (`sources._spread`) are not forked while
another thread runs in this process (a worker pool's, as when `backfill` reads the next
agent's logs ahead): a fork copies only the calling thread, so a lock another thread
held would stay held in the child. The read is then made in this process alone, with
the same results."""

from __future__ import annotations

import os
import threading

import pytest

from costlog.sources import _spread
from costlog.sources.progress import Progress


def _read_all(monkeypatch: pytest.MonkeyPatch) -> tuple[dict[int, int], int]:
    forks: list[int] = []
    real_fork = os.fork

    def counted() -> int:
        forks.append(1)
        return real_fork()

    monkeypatch.setattr(os, "fork", counted)
    got: dict[int, int] = {}
    sizes = [1_000 * (n + 1) for n in range(40)]
    _spread.spread(
        sizes, lambda i: i * i, got.__setitem__, 2, Progress(len(sizes), sum(sizes), "x")
    )
    return got, len(forks)


def test_no_reader_is_forked_while_another_thread_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    alone, forked = _read_all(monkeypatch)
    assert forked == 1 and alone == {i: i * i for i in range(40)}
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        with_thread, forked = _read_all(monkeypatch)
    finally:
        stop.set()
        other.join()
    assert forked == 0
    assert with_thread == alone
