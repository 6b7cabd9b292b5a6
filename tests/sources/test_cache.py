"""The incremental scan cache: where it lives and how it answers for one file."""

from __future__ import annotations

from pathlib import Path

import pytest

from costlog.sources.cache import cache_dir


def test_cache_location(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("COSTLOG_CACHE_DIR", str(tmp_path / "c"))
    assert cache_dir() == tmp_path / "c"
    monkeypatch.delenv("COSTLOG_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert cache_dir() == tmp_path / "x" / "costlog"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache_dir({"HOME": "/h"}) == Path("/h/.cache/costlog")


def test_file_cache_statuses(tmp_path: Path) -> None:
    from costlog.sources.cache import FileCache, tail_hash

    log = tmp_path / "a.jsonl"
    log.write_bytes(b"one\n")
    cache = FileCache("test", 1)
    assert cache.lookup(str(log), log.stat()) == ("miss", None)
    with open(log, "rb") as fh:
        cache.put(str(log), log.stat(), 4, tail_hash(fh, 4), {"n": 1})
    cache.save()
    again = FileCache("test", 1)
    status, cached = again.lookup(str(log), log.stat())
    assert status == "hit" and cached is not None and cached.state == {"n": 1}
    with open(log, "ab") as out:
        out.write(b"two\n")
    status, cached = again.lookup(str(log), log.stat())
    assert status == "grown" and cached is not None and cached.offset == 4
    log.write_bytes(b"x\n")  # rewritten smaller
    assert again.lookup(str(log), log.stat()) == ("miss", None)
    again.path.write_text("{not json")  # a damaged cache is ignored, not fatal
    assert FileCache("test", 1).lookup(str(log), log.stat()) == ("miss", None)
