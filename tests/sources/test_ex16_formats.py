"""Knowing the formats costlog does not read (issue 16): every record type the pinned real
clients wrote is either read or listed as left unread with a reason, and `costlog doctor`
names the types of the newest logs that are neither.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from costlog.commands.doctor import doctor
from costlog.gitrepo import find
from costlog.sources import formats
from tests_support import FIXTURES_DIR

#: the files the pinned real clients wrote, by the agent whose adapter reads them
REAL = [
    *(("claude-code", p) for p in sorted(FIXTURES_DIR.glob("claude-code/real-*/*.jsonl"))),
    *(("codex", p) for p in sorted(FIXTURES_DIR.glob("codex/real-*/*.jsonl"))),
    *(("gemini", p) for p in sorted(FIXTURES_DIR.glob("gemini/real-*/*.jsonl"))),
    *(("aider", p) for p in sorted(FIXTURES_DIR.glob("aider/real-*/analytics.jsonl"))),
]
CLAUDE = (
    FIXTURES_DIR / "claude-code" / "real-2.1.332" / "74bd4e93-bcd3-44cf-9b4c-8e2113b8c318.jsonl"
)


def test_there_are_real_client_files_for_every_listed_agent() -> None:
    assert {agent for agent, _ in REAL} == set(formats.AGENTS)
    assert len(REAL) >= 6


@pytest.mark.parametrize(("agent", "path"), REAL, ids=[f"{a}:{p.name}" for a, p in REAL])
def test_every_type_a_pinned_client_writes_is_read_or_left_with_a_reason(
    agent: str, path: Path
) -> None:
    counts = formats.census(agent, path)
    assert counts, f"{path}: no records counted"
    assert formats.unknown(agent, counts) == {}, (
        f"{path}: record types neither read nor listed in costlog/sources/formats.py"
    )


def test_each_listed_type_has_its_reason_and_is_in_one_list_only() -> None:
    for agent in formats.AGENTS:
        handled, ignored = formats.HANDLED[agent], formats.IGNORED.get(agent, {})
        assert not handled.keys() & ignored.keys(), agent
        assert all(reason.strip() for reason in [*handled.values(), *ignored.values()])


def test_a_type_a_new_version_adds_is_counted(tmp_path: Path) -> None:
    log = tmp_path / "session.jsonl"
    lines = CLAUDE.read_text().splitlines()
    lines += [json.dumps({"type": "usage-ledger", "sessionId": "x"})] * 2
    log.write_text("\n".join(lines) + "\n")
    assert formats.unknown("claude-code", formats.census("claude-code", log)) == {"usage-ledger": 2}


def test_doctor_names_the_types_it_does_not_know(repo: Path, isolated_home: Path) -> None:
    project = isolated_home / ".claude" / "projects" / "-repo"
    project.mkdir(parents=True)
    shutil.copy(CLAUDE, project / CLAUDE.name)
    env = {"HOME": str(isolated_home)}
    [known] = [f for f in doctor(find(repo), env=env) if f.topic == "formats"]
    assert known.line().endswith("claude-code, 1 newest log: every record type known")
    newer = project / "other.jsonl"
    newer.write_text(json.dumps({"type": "usage-ledger"}) + "\n")
    [found] = [f for f in doctor(find(repo), env=env) if f.topic == "formats"]
    assert "claude-code, 2 newest logs: record types costlog does not know" in found.line()
    assert "usage-ledger (1 line)" in found.line()
