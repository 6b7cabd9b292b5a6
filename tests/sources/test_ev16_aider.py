"""aider as 0.86.2 really writes its files (issue 16, issue 15 item 6): its own `> Commit`
lines link its commits and only those, one run is one entry whichever file recorded it,
its numbers are labelled as aider's own, and the cost is tokens x price.

The history and analytics log are the real files of three `aider --message` runs 10 s
apart (tests/fixtures/aider/real-0.86.2); the commits they name are made here, in a real
repo, at the runs' times, and the history's shas replaced by theirs.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from costlog import gitrepo as repo_mod
from costlog.ledger.store import Ledger
from costlog.models import Entry, Usage
from costlog.pricing.table import PriceTable
from costlog.sources.aider import ADAPTER
from tests_support import FIXTURES_DIR, git, run

REAL = FIXTURES_DIR / "aider" / "real-0.86.2"
#: (header time, sha in the history, subject) of the three runs
RUNS = [
    ("2026-12-01 21:49:38", "d52344a", "feat: change greeting to Hi (WRK-237)"),
    (
        "2026-12-01 21:49:49",
        "3ff8d83",
        "feat: use an f-string with an exclamation mark in greet (WRK-237)",
    ),
    ("2026-12-01 21:49:59", "0a354f1", "feat: greet with Hi there (WRK-237)"),
]


@pytest.fixture(autouse=True)
def utc_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The runs' machine was on UTC; its local times are read in the local zone."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def commit_at(root: Path, when: datetime, message: str, name: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_DATE": when.isoformat(),
        "GIT_COMMITTER_DATE": when.isoformat(),
    }
    (root / name).write_text(f"{message}\n")
    subprocess.run(["git", "add", name], cwd=root, check=True, env=env)
    subprocess.run(["git", "commit", "-q", "-m", message], cwd=root, check=True, env=env)
    return git(root, "rev-parse", "HEAD").stdout.strip()


def entries(repo: Path) -> dict[str, Entry]:
    return {e.id: e for e in Ledger(repo_mod.find(repo), ".costlog/sessions").load_all()}


@pytest.fixture
def aider_repo(repo: Path) -> tuple[Path, list[str]]:
    """The set-up commit, then each run's auto-commit 6 s after its start, and the history
    in the repo root where aider writes it."""
    first = datetime(2026, 12, 1, 21, 49, 38, tzinfo=UTC)
    env = {**os.environ, "GIT_COMMITTER_DATE": (first - timedelta(seconds=20)).isoformat()}
    (repo / ".costlog").mkdir()
    (repo / ".costlog" / "config.yaml").write_text("work_item_prefixes: []\n")
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True, env=env)
    subprocess.run(["git", "commit", "-q", "-m", "Set up costlog"], cwd=repo, check=True, env=env)
    history = (REAL / "aider.chat.history.md").read_text()
    shas = []
    for stamp, old, subject in RUNS:
        when = datetime.fromisoformat(stamp).replace(tzinfo=UTC) + timedelta(seconds=6)
        sha = commit_at(repo, when, subject, "greet.py")
        history = history.replace(f"> Commit {old} ", f"> Commit {sha[:7]} ")
        shas.append(sha)
    (repo / ".aider.chat.history.md").write_text(history)
    return repo, shas


def test_each_run_gets_its_own_commit_and_no_neighbours(aider_repo: tuple[Path, list[str]]) -> None:
    repo, shas = aider_repo
    assert "recorded 3 new sessions" in run("backfill", "--agent", "aider")
    found = entries(repo)
    for (stamp, _old, subject), sha in zip(RUNS, shas, strict=True):
        entry = found["aider/aider-" + stamp.replace("-", "").replace(":", "").replace(" ", "T")]
        assert [(c.sha, c.subject, c.evidence) for c in entry.commits] == [
            (sha[:12], subject, "tool-output")
        ]
        assert entry.work_items == ["WRK-237"]
    assert run("check").startswith("ok:")


def test_cost_is_tokens_times_price_and_aiders_figure_a_cross_check(
    aider_repo: tuple[Path, list[str]],
) -> None:
    repo, _ = aider_repo
    run("backfill", "--agent", "aider")
    entry = entries(repo)["aider/aider-20261201T214938"]
    # aider printed "Tokens: 2.5k sent, 41 received. Cost: $0.0054 message"
    assert entry.tokens == Usage(input=2500, output=41)
    priced = PriceTable.load().price("gpt-4.1", Usage(input=2500, output=41), entry.started.date())
    assert priced is not None and entry.cost_usd == priced[0] != 0
    assert entry.methods["logged_cost"].startswith("aider logged $0.0054 ")
    assert "rounded" in entry.methods["tokens"]
    assert entry.source == "parsed"


def test_record_takes_the_newest_run_and_backfill_does_not_add_it_again(
    aider_repo: tuple[Path, list[str]], tmp_path: Path
) -> None:
    """The analytics log holds the last two runs. `record --transcript` on it records the
    newest; backfilling the history afterwards finds that run already there (same id)."""
    repo, _ = aider_repo
    log = tmp_path / "analytics.jsonl"
    log.write_text((REAL / "analytics.jsonl").read_text())
    out = run("record", "--transcript", str(log))
    [only] = entries(repo).values()
    assert only.id == "aider/aider-20261201T214959" and "1 commit (WRK-237)" in out
    # aider's own tokenizer counts, never `actual`; ended at its last event (`exit`)
    assert only.source == "estimated" and only.tokens == Usage(input=2553, output=44)
    assert only.ended == datetime(2026, 12, 1, 21, 50, 5, tzinfo=UTC)
    assert "tokenizer" in only.methods["tokens"]

    run("backfill", "--agent", "aider")
    found = entries(repo)
    assert sorted(found) == [
        "aider/aider-20261201T214938",
        "aider/aider-20261201T214949",
        "aider/aider-20261201T214959",
    ]
    assert found["aider/aider-20261201T214959"].tokens == Usage(input=2553, output=44)
    assert run("check").startswith("ok:")


def test_header_time_is_local_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """`chat started at 21:49:38` on a machine in New York is 02:49:38 UTC next day."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    sessions = list(ADAPTER.scan([REAL / "aider.chat.history.md"], warn=lambda _m: None))
    assert sessions[0].started == datetime(2026, 12, 2, 2, 49, 38, tzinfo=UTC)
    assert sessions[0].ended is None  # the history says nothing about when a run ended
