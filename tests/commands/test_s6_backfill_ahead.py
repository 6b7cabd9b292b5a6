"""Issue 12: `costlog backfill` reads the next agent's logs (in its worker processes) while
it records the sessions of the agent before, which takes one core: backfill of a 500 +
500 MB history 0.9x its time. What a user sees stays as in a run one agent at a time:
the progress messages, every warning in the same order, a reader's error said in its
agent's turn, and no worker left behind when the run stops while recording."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from agent_logs import claude_session, codex_session

from costlog import config
from costlog.commands import backfill
from costlog.errors import CostlogError
from costlog.gitrepo import find
from costlog.sources.codex import adapter as codex_adapter
from tests_support import no_child_left

CLAUDE_A = "aaaaaaaa-0000-4000-8000-00000000a6a1"
CLAUDE_B = "bbbbbbbb-0000-4000-8000-00000000b6b2"
CODEX_E = "eeeeeeee-0000-4000-8000-00000000e6e5"
CODEX_F = "ffffffff-0000-4000-8000-00000000f6f6"


@pytest.fixture(params=["pool", "forked readers"])
def history(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> dict[str, Path]:
    """Two Claude Code and two Codex sessions of the repo, each agent with a corrupt line,
    read by worker processes (as a large history is): Codex's by its process pool, when
    its first read also gathers the attribution facts, else by the forked readers of a
    scan (`sources._spread`), and then read again for those facts."""
    if request.param == "forked readers":
        monkeypatch.setattr(backfill._Job, "_facts_worth_reading", lambda *_a: False)
    claude, codex = tmp_path / "claude", tmp_path / "codex"
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(claude))
    monkeypatch.setenv("CODEX_HOME", str(codex))
    monkeypatch.setenv("COSTLOG_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("COSTLOG_SCAN_WORKERS", "2")
    paths = {
        "A": claude_session(claude, CLAUDE_A, repo, "2026-11-19T10:00", 2),
        "B": claude_session(claude, CLAUDE_B, repo, "2026-11-19T11:00", 2),
        "E": codex_session(codex, CODEX_E, repo, "2026-11-19T12:00", 2),
        "F": codex_session(codex, CODEX_F, repo, "2026-11-19T13:00", 3),
    }
    for key, line in (("A", '{"type":"assistant","message":{"usage": cut'), ("E", "{not json")):
        with open(paths[key], "a", encoding="utf-8") as out:
            out.write(line + "\n")
    return paths


def _run(repo: Path, progress: list[str] | None = None) -> backfill.Result:
    shown = progress.append if progress is not None else None
    return backfill.run(find(repo), config.load(repo), backfill.Options(), progress=shown)


def test_the_next_agent_is_read_while_the_one_before_is_recorded(
    repo: Path, history: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Codex's first session is read before Claude Code's first session is recorded; its
    warning still comes after every warning of Claude Code's turn, a recording one too."""
    started: list[str] = []  # the agents whose reading has given its first session
    real_start = backfill._Reading.__init__

    def start(reading: backfill._Reading, job: Any, adapter: Any, roots: Any) -> None:
        real_start(reading, job, adapter, roots)
        started.extend([adapter.name] * len(reading.first))

    monkeypatch.setattr(backfill._Reading, "__init__", start)
    seen_when_recording: list[list[str]] = []
    real_record = backfill._Job._record

    def record(job: backfill._Job, session: Any, commit_log: Any) -> None:
        if session.agent == "claude-code":
            seen_when_recording.append(list(started))
            if session.session_id == CLAUDE_B:  # a warning of the recording itself
                job.result.warnings.append(f"{CLAUDE_B}: a recording warning")
        real_record(job, session, commit_log)

    monkeypatch.setattr(backfill._Job, "_record", record)
    progress: list[str] = []
    result = _run(repo, progress)
    assert {e.id for e in result.recorded} == {
        f"claude-code/{CLAUDE_A}",
        f"claude-code/{CLAUDE_B}",
        f"codex/{CODEX_E}",
        f"codex/{CODEX_F}",
    }
    assert seen_when_recording[0] == ["claude-code", "codex"]
    claude_line = next(i for i, w in enumerate(result.warnings) if str(history["A"]) in w)
    recording = result.warnings.index(f"{CLAUDE_B}: a recording warning")
    codex_line = next(i for i, w in enumerate(result.warnings) if str(history["E"]) in w)
    assert claude_line < recording < codex_line
    steps = [p.split(":")[0] for p in progress]
    assert steps.index("reading claude-code logs") < steps.index("recording claude-code sessions")
    assert steps.index("writing claude-code sessions") < steps.index("reading codex logs")
    assert steps.index("reading codex logs") < steps.index("recording codex sessions")


def test_a_reader_error_met_ahead_is_said_in_its_agents_turn(
    repo: Path, history: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("a reader's bug")
        yield  # a generator, as the adapter's scan is

    monkeypatch.setattr(codex_adapter.CodexAdapter, "scan", broken)
    result = _run(repo)
    assert {e.id for e in result.recorded} == {
        f"claude-code/{CLAUDE_A}",
        f"claude-code/{CLAUDE_B}",
    }
    stopped = [w for w in result.warnings if w.startswith("codex: reading its logs stopped")]
    assert len(stopped) == 1 and "a reader's bug" in stopped[0]
    assert result.warnings[-1] == stopped[0]  # after Claude Code's own warnings


def test_a_stop_while_recording_leaves_no_reader_of_the_next_agent(
    repo: Path, history: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    def full_disk(*_args: Any, **_kwargs: Any) -> None:
        raise CostlogError("cannot write the ledger: disk full")

    monkeypatch.setattr(backfill._Job, "_record_all", full_disk)
    with pytest.raises(CostlogError, match="disk full"):
        _run(repo)
    assert no_child_left()
