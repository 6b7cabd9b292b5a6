"""After a big cold read the scan cache is written by a forked child while the sessions
are built, and waited for: when the scan returns, the cache is whole and serves the next
scan, exactly as when it is written in the process itself. (`PARALLEL_BYTES` is lowered
so that a small tree counts as big.)"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from claude_logs import FIXTURES, scan

from costlog.sources.cache import FileCache
from costlog.sources.claude import adapter
from costlog.sources.claude.incremental import SCHEMA


def _tree(tmp_path: Path) -> list[Path]:
    project = tmp_path / "claude" / "projects" / "-work-app"
    project.mkdir(parents=True)
    names = ["ccusage__project-alpha_chat.jsonl", "harness-recall__claude_with_tools.jsonl"]
    return [Path(shutil.copy(FIXTURES / name, project / name)) for name in names]


@pytest.mark.parametrize("threshold", [0, 10**12])  # forked, then in this process
def test_the_cache_is_whole_when_the_scan_returns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, threshold: int
) -> None:
    monkeypatch.setattr(adapter, "PARALLEL_BYTES", threshold)
    files = _tree(tmp_path)
    cold, warnings = scan(tmp_path / "claude")
    assert warnings == []
    assert sum(len(s.requests) for s in cold) > 0
    cache = FileCache(adapter.AGENT, SCHEMA)
    for path in files:  # written before the scan returned: every file a hit
        assert cache.lookup(str(path), path.stat())[0] == "hit", path
    warm, _ = scan(tmp_path / "claude")
    assert [(s.session_id, s.requests) for s in warm] == [(s.session_id, s.requests) for s in cold]
    with pytest.raises(ChildProcessError):  # no child left behind
        os.waitpid(-1, os.WNOHANG)
