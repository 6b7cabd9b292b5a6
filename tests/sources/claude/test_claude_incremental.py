"""Claude Code reader: through the scan cache, and over worker processes."""

from __future__ import annotations

import json
import marshal
from pathlib import Path
from typing import Any

import pytest
from claude_logs import PROJECT, SIG, TEXT_BLOCK, E, assistant, by_id, outputs, scan, write

from costlog.sources.cache import cache_dir
from costlog.sources.claude.transcript import FileReader


def test_cache_holds_no_text_and_gives_the_same_answer(projects: Path) -> None:
    cold = scan(projects)[0]
    assert cold[0].first_prompt is None  # cached scans never carry text
    files = list(cache_dir().glob("claude-code.*.marshal"))
    assert len(files) == 1
    stored = files[0].read_bytes().decode("utf-8", "replace")
    for secret in ("Fix WRK-12", "login", "git commit", "aaaa", SIG[:20], "resumed"):
        assert secret not in stored
    warm = scan(projects)[0]
    assert [(s.session_id, outputs(s), s.cwd, s.branch, s.started, s.ended) for s in warm] == [
        (s.session_id, outputs(s), s.cwd, s.branch, s.started, s.ended) for s in cold
    ]


def test_unchanged_files_are_not_reopened(projects: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scan(projects)

    def boom(*_a: Any, **_k: Any) -> int:
        raise AssertionError("re-read")

    monkeypatch.setattr(FileReader, "read", boom)
    assert [outputs(s) for s in scan(projects)[0]] == [[433, 412, 77, 55], [300]]


def test_grown_file_reads_only_new_bytes(projects: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scan(projects)
    path = projects / PROJECT / "S2.jsonl"
    size = path.stat().st_size
    starts: list[int] = []
    real = FileReader.read

    def spy(self: FileReader, fh: Any, start: int) -> int:
        starts.append(start)
        return real(self, fh, start)

    monkeypatch.setattr(FileReader, "read", spy)
    with open(path, "a", encoding="utf-8") as out:
        out.write(
            json.dumps(
                assistant(
                    "msg_F", "req_F", out=5, content=[TEXT_BLOCK], ts="2026-11-21T10:05:00.000Z"
                )
            )
            + "\n"
        )
    s2 = by_id(scan(projects)[0])["S2"]
    assert starts == [size]
    assert outputs(s2) == [300, 323]
    # a rewritten (not appended) file is read again from the start
    write(path, [E])
    starts.clear()
    assert outputs(by_id(scan(projects)[0])["S2"]) == [300]
    assert starts == [0]


def test_a_cache_of_another_shape_is_read_again(projects: Path) -> None:
    scan(projects)
    path = next(cache_dir().glob("claude-code.*.marshal"))
    data = marshal.loads(path.read_bytes())
    for row in data["files"].values():
        row[5] = [[["not", "a", "group"]], 1, None, None, None, None, None, [], []]
    path.write_bytes(marshal.dumps(data))
    assert [outputs(s) for s in scan(projects)[0]] == [[433, 412, 77, 55], [300]]


def test_worker_processes_give_the_same_answer(
    projects: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    one = [(s.session_id, outputs(s), s.started) for s in scan(projects, use_cache=False)[0]]
    monkeypatch.setenv("COSTLOG_SCAN_WORKERS", "2")
    two = [(s.session_id, outputs(s), s.started) for s in scan(projects)[0]]
    assert one == two == [("S1", [433, 412, 77, 55], one[0][2]), ("S2", [300], one[1][2])]
