"""Finding the session a log file holds: a reader that crashes on it is named, never read
as "no usage found"; a reader that refuses the file stays quiet."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from agent_logs import SESSION, transcript

from costlog import sources
from costlog.errors import CostlogError
from costlog.models import Session
from costlog.recording import auto


class _Reader:
    """An adapter whose `scan` raises `error`."""

    def __init__(self, name: str, error: Exception) -> None:
        self.name = name
        self.error = error

    def default_roots(self, env: Mapping[str, str], home: Path) -> list[Path]:
        return []

    def scan(self, paths: Any, warn: Callable[[str], None], **_: Any) -> Iterator[Session]:
        raise self.error


@pytest.fixture
def log(tmp_path: Path) -> Path:
    path = tmp_path / f"{SESSION}.jsonl"
    path.write_text(transcript(tmp_path, "claude-sonnet-4-6", [1000, 2000]))
    return path


def test_a_reader_that_crashes_is_named_and_the_next_one_reads_the_file(log: Path) -> None:
    said: list[str] = []
    broken = _Reader("broken", ZeroDivisionError("division by zero"))
    found = auto.from_transcript(log, [broken, sources.get("claude-code")], None, said.append)
    assert found.session_id == SESSION
    assert said == [f"broken reader failed on {log}: ZeroDivisionError: division by zero"]


def test_a_crash_in_the_only_reader_is_said_before_no_usage_found(log: Path) -> None:
    said: list[str] = []
    with pytest.raises(CostlogError, match="no agent usage found"):
        auto.from_transcript(log, [_Reader("broken", KeyError("usage"))], None, said.append)
    assert said == [f"broken reader failed on {log}: KeyError: 'usage'"]


@pytest.mark.parametrize("error", [CostlogError("not this format"), PermissionError("denied")])
def test_a_reader_that_refuses_or_cannot_read_the_file_stays_quiet(
    log: Path, error: Exception
) -> None:
    said: list[str] = []
    with pytest.raises(CostlogError, match="no agent usage found"):
        auto.from_transcript(log, [_Reader("picky", error)], None, said.append)
    assert said == []
