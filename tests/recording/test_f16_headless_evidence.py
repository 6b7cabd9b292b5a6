"""`record --from-json` links the run's commits by the transcript's evidence when the
transcript is on this machine (issue 16 review): the agent's two commits by `tool-output`,
not a time window that also takes the user's own commit made meanwhile and one made after.

The transcript is the real Claude Code 2.1.332 run (tests/fixtures/claude-code/real-2.1.332),
with its commit shas replaced by commits made here at the run's own times; the result is
what `claude -p --output-format json` printed for it (numbers from its cost-state line).
"""

from __future__ import annotations

import json
import os
import subprocess
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from costlog import gitrepo as repo_mod
from costlog.ledger.store import Ledger
from costlog.models import Entry
from tests_support import FIXTURES_DIR, git, run

SID = "74bd4e93-bcd3-44cf-9b4c-8e2113b8c318"
TRANSCRIPT = FIXTURES_DIR / "claude-code" / "real-2.1.332" / f"{SID}.jsonl"
#: the run's first and last request
START = datetime(2026, 12, 1, 21, 7, 6, tzinfo=UTC)
END = datetime(2026, 12, 1, 21, 7, 7, tzinfo=UTC)
RESULT = {
    "type": "result",
    "subtype": "success",
    "duration_ms": 1414,
    "num_turns": 4,
    "session_id": SID,
    "total_cost_usd": 0.11766599999999999,
    "usage": {"input_tokens": 19, "output_tokens": 156},
    "modelUsage": {
        "claude-opus-5-5": {
            "inputTokens": 70,
            "outputTokens": 582,
            "cacheReadInputTokens": 106_000,
            "cacheCreationInputTokens": 12_078,
            "cacheCreationEphemeral5mInputTokens": 4_026,
            "cacheCreationEphemeral1hInputTokens": 8_052,
            "costUSD": 0.11766599999999999,
        }
    },
}


def _commit(root: Path, when: datetime, message: str, name: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_DATE": when.isoformat(),
        "GIT_COMMITTER_DATE": when.isoformat(),
    }
    (root / name).write_text(message + "\n")
    subprocess.run(["git", "add", name], cwd=root, check=True, env=env)
    subprocess.run(["git", "commit", "-q", "-m", message], cwd=root, check=True, env=env)
    return git(root, "rev-parse", "HEAD").stdout.strip()


@pytest.fixture
def session_repo(repo: Path) -> dict[str, str]:
    """The run's two commits, the user's own commit during it, and one 83 s after its end."""
    git(repo, "checkout", "-q", "-b", "feature/WRK-237-x")
    return {
        "agent1": _commit(repo, START + timedelta(seconds=1), "step 3 WRK-237", "notes-5.txt"),
        "agent2": _commit(repo, END, "step 4 WRK-237", "notes-6.txt"),
        "user": _commit(repo, START + timedelta(seconds=1), "my own fix", "mine.txt"),
        "after": _commit(repo, END + timedelta(seconds=83), "later work", "later.txt"),
    }


def _place_transcript(repo: Path, tmp_path: Path, shas: dict[str, str]) -> Path:
    text = TRANSCRIPT.read_text()
    text = text.replace("2cb10df", shas["agent1"][:7]).replace("3f5aa0e", shas["agent2"][:7])
    text = text.replace("/tmp/ccreal/repo", str(repo))
    config = tmp_path / "claude"
    project = config / "projects" / ("-" + str(repo).strip("/").replace("/", "-"))
    project.mkdir(parents=True)
    (project / TRANSCRIPT.name).write_text(text)
    return config


def _result_file(tmp_path: Path) -> Path:
    path = tmp_path / "result.json"
    path.write_text(json.dumps(RESULT))
    written = END + timedelta(seconds=1)
    os.utime(path, (written.timestamp(), written.timestamp()))
    return path


def _entry(repo: Path) -> Entry:
    [entry] = Ledger(repo_mod.find(repo), ".costlog/sessions").load_all()
    return entry


def test_from_json_links_the_agents_commits_by_the_transcripts_evidence(
    repo: Path, tmp_path: Path, session_repo: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(_place_transcript(repo, tmp_path, session_repo)))
    run("record", "--from-json", str(_result_file(tmp_path)), "--no-stage")
    entry = _entry(repo)
    assert {(c.sha, c.evidence) for c in entry.commits} == {
        (session_repo["agent1"][:12], "tool-output"),
        (session_repo["agent2"][:12], "tool-output"),
    }  # neither the user's own commit nor the later one
    assert entry.branch == "feature/WRK-237-x"
    assert "WRK-237" in entry.work_items
    # the result's own numbers are kept: its 5m/1h split and its exact cost
    usage = entry.models["claude-opus-5-5"].usage
    assert (usage.cache_write_5m, usage.cache_write_1h) == (4_026, 8_052)
    assert entry.cost_usd == Decimal("0.117666")


def test_from_json_and_record_link_the_same_commits(
    repo: Path, tmp_path: Path, session_repo: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _place_transcript(repo, tmp_path, session_repo)
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(config))
    [log] = (config / "projects").glob("*/*.jsonl")
    run("record", "--transcript", str(log), "--no-stage")
    by_record = {(c.sha, c.evidence) for c in _entry(repo).commits}
    # the result recorded afterwards rewrites the entry: the same commits, the same evidence
    run("record", "--from-json", str(_result_file(tmp_path)), "--no-stage")
    entry = _entry(repo)
    assert {(c.sha, c.evidence) for c in entry.commits} == by_record
    assert len(by_record) == 2
    assert entry.models["claude-opus-5-5"].usage.cache_write_1h == 8_052


def test_without_the_transcript_the_window_is_the_last_resort(
    repo: Path, tmp_path: Path, session_repo: dict[str, str]
) -> None:
    before = _commit(repo, START - timedelta(seconds=60), "before the run", "early.txt")
    run("record", "--from-json", str(_result_file(tmp_path)), "--no-stage")
    entry = _entry(repo)
    shas = {c.sha for c in entry.commits}
    assert {c.evidence for c in entry.commits} == {"time-window"}
    assert before[:12] not in shas  # never a commit from before the run started
    assert session_repo["agent1"][:12] in shas
