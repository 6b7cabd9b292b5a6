"""The status line's error log never writes through a symlink (issue 13): its fallback sits
in the shared temp dir, where anyone could plant a link to a file of the user's."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from costlog.integration import live


def test_the_fallback_log_is_not_written_through_a_planted_link(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    victim = tmp_path / "bashrc"
    victim.write_text("export PATH\n")
    shared = tmp_path / "tmp"
    shared.mkdir()
    (shared / f"costlog-live-{os.getuid()}.log").symlink_to(victim)
    monkeypatch.setenv("COSTLOG_STATE_DIR", "/dev/null/x")  # the usual log is unwritable
    monkeypatch.setenv("TMPDIR", str(shared))
    live.log_error("statusline", ValueError("boom"))
    assert victim.read_text() == "export PATH\n"
    # a plain fallback file is still written
    (shared / f"costlog-live-{os.getuid()}.log").unlink()
    live.log_error("statusline", ValueError("boom"))
    assert (
        "statusline: ValueError: boom" in (shared / f"costlog-live-{os.getuid()}.log").read_text()
    )
