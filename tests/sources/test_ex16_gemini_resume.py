"""A Gemini CLI session resumed within the minute it started (issue 16).

Chat files are named by the minute, so the resume appends to the same file: a second
metadata line, then a `$set.messages` whose copies of the earlier messages carry no tokens,
tool calls or model. The file is the real one Gemini CLI 0.61.0 wrote against a mock whose
usage was known: 3 requests, 16,205 fresh input tokens in all.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

from costlog import gitrepo as repo_mod
from costlog.ledger.store import Ledger
from costlog.models import Usage
from costlog.sources.gemini.adapter import ADAPTER
from tests_support import FIXTURES_DIR, git, run

RESUMED = FIXTURES_DIR / "gemini" / "real-0.61.0" / "resumed-same-minute.session.jsonl"
FIRST_START = datetime(2026, 12, 1, 21, 27, 5, 976000, tzinfo=UTC)
# the mock's usage for the three calls: (input - cached + tool, cached, output + thoughts)
TRUTH = [
    Usage(input=8_925, cache_read=4_096, output=528, reasoning=341),
    Usage(input=1_371, cache_read=12_288, output=130, reasoning=77),
    Usage(input=5_909, cache_read=8_192, output=44, reasoning=12),
]


def test_the_resume_keeps_every_request_its_tokens_and_the_first_start() -> None:
    warnings: list[str] = []
    [session] = ADAPTER.scan([RESUMED], warn=warnings.append)
    assert warnings == []
    assert [r.usage for r in session.requests] == TRUTH
    assert sum(r.usage.input for r in session.requests) == 16_205
    assert {r.model for r in session.requests} == {"gemini-3.8-flash"}
    # the copies are stamped with the resume's time; the requests keep when they were made
    assert [r.timestamp for r in session.requests] == [
        datetime(2026, 12, 1, 21, 27, 6, 229000, tzinfo=UTC),
        datetime(2026, 12, 1, 21, 27, 6, 523000, tzinfo=UTC),
        datetime(2026, 12, 1, 21, 27, 16, 208000, tzinfo=UTC),
    ]
    assert session.started == FIRST_START  # not the second metadata line's 21:27:14
    assert "6f5b57d" in session.tool_output_refs  # the commit, from the tool call the copy lacks


def test_a_copy_that_brings_tokens_still_replaces_the_earlier_ones(tmp_path: Path) -> None:
    # re-appending a message with new tokens (streaming, then final) must still win
    text = RESUMED.read_text()
    later = (
        '{"id": "21befe5b-90de-4e8d-81ec-914a69c5c0eb", "timestamp": "2026-12-01T21:27:16.300Z",'
        ' "type": "gemini", "content": "x", "tokens": {"input": 14101, "output": 40,'
        ' "cached": 8192, "thoughts": 12, "tool": 0}, "model": "gemini-3.8-flash"}\n'
    )
    log = tmp_path / "chat.jsonl"
    log.write_text(text + later)
    [session] = ADAPTER.scan([log], warn=lambda _m: None)
    assert session.requests[-1].usage.output == 52
    # and the earlier time of that message stays
    assert session.requests[-1].timestamp == datetime(2026, 12, 1, 21, 27, 16, 208000, tzinfo=UTC)


def test_record_gives_the_true_tokens_and_start(repo: Path, tmp_path: Path) -> None:
    git(repo, "checkout", "-q", "-b", "feature/WRK-237-x")
    run("record", "--transcript", str(RESUMED))
    [entry] = Ledger(repo_mod.find(repo), ".costlog/sessions").load_all()
    assert entry.started == FIRST_START.replace(microsecond=0)  # the ledger keeps seconds
    [usage] = entry.models.values()
    assert usage.requests == 3
    assert usage.usage.input == 16_205
    assert usage.usage.cache_read == 4_096 + 12_288 + 8_192


def test_the_session_is_found_by_plain_record(repo: Path, isolated_home: Path) -> None:
    # what /end-session runs: no id, no path; the chat lies where Gemini CLI keeps it
    chats = isolated_home / ".gemini" / "tmp" / "repo" / "chats"
    chats.mkdir(parents=True)
    (chats.parent / ".project_root").write_text(str(repo))
    shutil.copy(RESUMED, chats / "session-2026-12-01T21-27-fdccdfac.jsonl")
    run("record", "--agent", "gemini")
    [entry] = Ledger(repo_mod.find(repo), ".costlog/sessions").load_all()
    assert entry.id == "gemini/fdccdfac-6c3d-4810-ae77-7d613e82364b"
    assert entry.models["gemini-3.8-flash"].requests == 3
