"""Issue 12, Codex cold scan: this process works out the sessions of the families already
read while the forked reader reads on. A caller that stops early must leave no reader
behind, and a full scan gives what one process gives (`test_s2_codex_scan`)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest

from costlog.sources.codex import adapter as codex_adapter
from costlog.sources.codex.adapter import ADAPTER
from tests_support import REPO_ROOT, no_child_left


def _generate(root: Path) -> None:
    sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
    try:
        from gen_codex_corpus import generate
    finally:
        sys.path.remove(str(REPO_ROOT / "benchmarks"))
    generate(root, 8, ["/work/a", "/work/b"], [0.5, 0.5], seed=33)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="readers are forked only where fork exists")
def test_a_scan_stopped_after_its_first_session_leaves_no_reader_running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "codex"
    _generate(home)
    monkeypatch.setenv("COSTLOG_SCAN_WORKERS", "2")
    monkeypatch.setenv("COSTLOG_CACHE_DIR", str(tmp_path / "cache"))
    assert no_child_left()
    kept: list[Any] = []  # the reading steps, kept alive: only an explicit close stops them
    prefetch = codex_adapter._Files.prefetch

    def keeping(self: Any, jobs: Any) -> Any:
        kept.append(prefetch(self, jobs))
        return kept[-1]

    monkeypatch.setattr(codex_adapter._Files, "prefetch", keeping)
    sessions = ADAPTER.scan([home / "sessions"], warn=lambda _m: None)
    first = next(sessions)
    assert first.requests
    sessions.close()  # as a caller that found what it wanted does
    assert kept, "the scan read nothing in steps: the test proves nothing"
    assert no_child_left(), "a forked reader outlived the scan"
    # and the interrupted scan left nothing half-kept: a new one reads every session
    whole = list(ADAPTER.scan([home / "sessions"], warn=lambda _m: None))
    monkeypatch.setenv("COSTLOG_SCAN_WORKERS", "1")
    monkeypatch.setenv("COSTLOG_CACHE_DIR", str(tmp_path / "cache-one"))
    alone = list(ADAPTER.scan([home / "sessions"], warn=lambda _m: None))
    assert len(whole) > 2
    assert [(s.session_id, s.requests) for s in whole] == [
        (s.session_id, s.requests) for s in alone
    ]
