"""Issue 12: a big cold read shows files, bytes, rate and time left on a terminal's
stderr, and nothing at all when stderr is a pipe or the command did not allow it."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

from costlog.sources import progress
from costlog.sources.progress import Progress
from tests_support import FIXTURES_DIR, invoke


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_sees_files_bytes_rate_and_time_left_then_a_clean_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(progress, "DELAY", 0.0)
    monkeypatch.setattr(progress, "EVERY", 0.0)
    screen = Terminal()
    with progress.allowed():
        shown = Progress(4, 40_000_000, "reading logs", screen)
        shown.add(10_000_000)
        shown.add(10_000_000)
        shown.close()
    text = screen.getvalue()
    assert "reading logs: 2/4 files, 20/40 MB," in text
    assert "MB/s, about " in text and " s left" in text
    last = text.rsplit("\r", 2)
    assert last[-1] == "" and last[-2].strip() == ""  # erased at the end


def test_nothing_is_shown_on_a_pipe_outside_a_command_or_before_a_second(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(progress, "EVERY", 0.0)
    pipe = io.StringIO()
    with progress.allowed():
        quiet = Progress(1, 10, "x", pipe)
        quiet.add(10)
        quiet.close()
    assert pipe.getvalue() == ""
    screen = Terminal()
    hook = Progress(1, 10, "x", screen)  # not allowed: a hook or a library call
    monkeypatch.setattr(progress, "DELAY", 0.0)
    hook.add(10)
    hook.close()
    assert screen.getvalue() == ""
    monkeypatch.setattr(progress, "DELAY", 60.0)
    with progress.allowed():
        quick = Progress(1, 10, "x", screen)
        quick.add(10)
        quick.close()
    assert screen.getvalue() == ""


def test_a_piped_scan_prints_no_progress(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress, "DELAY", 0.0)
    project = tmp_path / "claude" / "projects" / "-w"
    project.mkdir(parents=True)
    for n, path in enumerate(sorted((FIXTURES_DIR / "claude-code").rglob("*.jsonl"))):
        shutil.copy(path, project / f"s{n}.jsonl")
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "claude"))
    monkeypatch.setenv("COSTLOG_SCAN_WORKERS", "1")
    result = invoke(["scan", "--agent", "claude-code", "--json"])
    assert result.exit_code == 0
    assert "reading Claude Code logs" not in result.stderr
    assert "\r" not in result.stderr


def test_a_read_started_ahead_of_its_turn_draws_its_line_only_in_its_turn(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`backfill` starts reading the next agent's logs while it records the one before:
    that read's line must not appear over the recording's messages, only once its turn
    has come; what it did meanwhile still counts."""
    monkeypatch.setattr(progress, "DELAY", 0.0)
    monkeypatch.setattr(progress, "EVERY", 0.0)
    screen = Terminal()
    with progress.allowed():
        with progress.quiet():
            ahead = Progress(3, 30_000_000, "reading Codex logs", screen)
            ahead.add(10_000_000)
        assert screen.getvalue() == ""
        ahead.add(10_000_000)
        ahead.close()
    assert "reading Codex logs: 2/3 files, 20/30 MB," in screen.getvalue()
