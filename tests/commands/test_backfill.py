"""`costlog backfill` over a realistic multi-agent history.

The agents' data dirs (CLAUDE_CONFIG_DIR, CODEX_HOME) hold sessions of this repo, of a
subdirectory of it, of a sibling repo whose path shares its prefix, and of an unrelated
directory; only this repo's sessions may land in its ledger.
"""

from __future__ import annotations

import json
import os
import pty
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from agent_logs import claude_response, claude_session, codex_session

from costlog import config
from costlog.commands import backfill, backfill_report
from costlog.gitrepo import Repo, find
from costlog.ledger.store import Ledger
from tests_support import FIXTURES_DIR, git, invoke

FIXTURE = FIXTURES_DIR / "rundir"


# ---------------------------------------------------------------- log writers (real formats)


# ---------------------------------------------------------------- the history


SID_A = "aaaaaaaa-0000-4000-8000-000000000001"  # this repo
SID_B = "bbbbbbbb-0000-4000-8000-000000000002"  # this repo, started in src/
SID_C = "cccccccc-0000-4000-8000-000000000003"  # sibling repo sharing the path prefix
SID_D = "dddddddd-0000-4000-8000-000000000004"  # elsewhere
SID_E = "eeeeeeee-0000-4000-8000-000000000005"  # codex, this repo
SID_F = "ffffffff-0000-4000-8000-000000000006"  # codex, sibling repo


@pytest.fixture
def history(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    claude, codex = tmp_path / "claude", tmp_path / "codex"
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(claude))
    monkeypatch.setenv("CODEX_HOME", str(codex))
    sibling, elsewhere = tmp_path / "repo-other", tmp_path / "elsewhere"
    for folder in (sibling, elsewhere, repo / "src"):
        folder.mkdir()
    # a commit made during session A, which A's own tool output shows
    monkeypatch.setenv("GIT_COMMITTER_DATE", "2026-11-19T10:00:05+00:00")
    (repo / "cost.py").write_text("RATE = 3\n")
    git(repo, "add", "cost.py")
    git(repo, "commit", "-q", "-m", "Add cost table")
    sha = git(repo, "rev-parse", "HEAD").stdout.strip()
    paths = {
        "A": claude_session(
            claude,
            SID_A,
            repo,
            "2026-11-19T10:00",
            2,
            prompt="Please do WRK-12: add the cost table",
            tool_output=f"[main {sha[:7]}] Add cost table\n 1 file changed",
        ),
        "B": claude_session(
            claude, SID_B, repo / "src", "2026-11-19T12:00", 1, model="claude-opus-4-6"
        ),
        "C": claude_session(claude, SID_C, sibling, "2026-11-19T13:00", 3),
        "D": claude_session(claude, SID_D, elsewhere, "2026-11-19T14:00", 3),
        "E": codex_session(codex, SID_E, repo, "2026-11-19T11:00", 2),
        "F": codex_session(codex, SID_F, sibling, "2026-11-19T15:00", 2),
    }
    paths["sha"] = Path(sha)
    return paths


def ledger_ids(root: Path) -> set[str]:
    return {e.id for e in Ledger(find(root), ".costlog/sessions").load_all()}


def run(root: Path, **options: Any) -> backfill.Result:
    return backfill.run(find(root), config.load(root), backfill.Options(**options))


THIS_REPO = {f"claude-code/{SID_A}", f"claude-code/{SID_B}", f"codex/{SID_E}"}


def test_records_only_this_repos_sessions_then_nothing_on_a_rerun(
    repo: Path, history: dict[str, Path]
) -> None:
    first = run(repo)
    assert {e.id for e in first.recorded} == THIS_REPO
    assert ledger_ids(repo) == THIS_REPO
    assert (repo / "COST_LOG.md").is_file()
    for sid in (SID_A, SID_B, SID_E):
        assert sid[:8] in (repo / "COST_LOG.md").read_text()

    second = run(repo)
    assert second.recorded == []
    assert second.unchanged == 3
    # even without the fingerprints, the ledger alone makes it idempotent
    (find(repo).state_dir / "backfill.json").unlink()
    third = run(repo)
    assert (third.recorded, third.unchanged, third.skipped_agents) == ([], 3, [])


def test_entries_are_priced_and_attributed(repo: Path, history: dict[str, Path]) -> None:
    (repo / ".costlog").mkdir(exist_ok=True)
    (repo / ".costlog" / "config.yaml").write_text("work_item_prefixes: [WRK]\n")
    run(repo)
    ledger = Ledger(find(repo), ".costlog/sessions")
    a = ledger.get(f"claude-code/{SID_A}")
    assert a is not None
    # 2 responses x (100 in x $3 + 200 out x $15 + 1000 cache read x $0.30) per M
    # = 2 x (300 + 3000 + 300) = 7200 micro-$
    assert a.cost_usd == Decimal("0.0072") and a.source == "actual"
    assert [(c.sha, c.evidence) for c in a.commits] == [(str(history["sha"])[:12], "tool-output")]
    assert "WRK-12" in a.work_items  # from the first prompt: WRK is a configured prefix
    e = ledger.get(f"codex/{SID_E}")
    assert e is not None
    # 2 calls x (1000 in x $1.75 + 4000 cached x $0.175 + 300 out x $14) per M
    # = 2 x (1750 + 700 + 4200) = 13300 micro-$
    assert e.cost_usd == Decimal("0.0133")
    stored = "".join(p.read_text() for p in (repo / ".costlog").rglob("*.yaml"))
    assert "add the cost table" not in stored and "Fix the parser" not in stored


def test_a_grown_log_is_recorded_again_in_place(repo: Path, history: dict[str, Path]) -> None:
    run(repo)
    common = {
        "isSidechain": False,
        "userType": "external",
        "cwd": str(repo),
        "sessionId": SID_A,
        "version": "2.1.90",
        "gitBranch": "main",
    }
    more = claude_response(common, SID_A, 7, "2026-11-19T10:30:00.000Z", "claude-sonnet-4-6", "ok")
    with open(history["A"], "a") as handle:
        handle.write("".join(json.dumps(line) + "\n" for line in more))
    again = run(repo)
    assert [e.id for e in again.recorded] == [f"claude-code/{SID_A}"]
    assert again.updated == 1 and again.unchanged == 2
    entry = Ledger(find(repo), ".costlog/sessions").get(f"claude-code/{SID_A}")
    assert entry is not None and entry.models["claude-sonnet-4-6"].requests == 3


def test_dry_run_writes_nothing(repo: Path, history: dict[str, Path]) -> None:
    result = invoke(["backfill", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "would record 3 new sessions; 0 already in the ledger" in result.output
    assert result.output.count("would record 2026-11-19") == 3
    assert "by model:" in result.output and "by source:" in result.output
    assert not (repo / ".costlog").exists() and not (repo / "COST_LOG.md").exists()
    assert not (find(repo).state_dir / "backfill.json").exists()
    assert git(repo, "status", "--porcelain").stdout == ""


def test_cli_summary_and_no_progress_on_a_pipe(repo: Path, history: dict[str, Path]) -> None:
    result = invoke(["backfill"])
    assert result.exit_code == 0
    assert "\r" not in result.output
    lines = result.output.splitlines()
    assert lines[0] == "recorded 3 new sessions; 0 already in the ledger"
    # A $0.0072 + E $0.0133 + B (opus-4-6: 100 x $5 + 200 x $25 + 1000 x $0.50 per M) $0.006
    assert lines[1] == "total $0.03"  # $0.0265
    assert "  claude-sonnet-4-6  $0.01" in lines and "  actual  $0.03" in lines
    assert "estimated: $0.00 (0%)" in lines
    again = invoke(["backfill"])
    assert again.output.startswith("recorded 0 new sessions; 3 already in the ledger")


def test_since_until_and_agent_filters(repo: Path, history: dict[str, Path]) -> None:
    late = run(repo, since=_at("2026-11-19T11:30"), dry_run=True)
    assert {e.id for e in late.recorded} == {f"claude-code/{SID_B}"}
    early = run(repo, until=_at("2026-11-19T11:30"), dry_run=True)
    assert {e.id for e in early.recorded} == {f"claude-code/{SID_A}", f"codex/{SID_E}"}
    codex_only = run(repo, agents=["codex"])
    assert ledger_ids(repo) == {f"codex/{SID_E}"} and codex_only.skipped_agents == []
    # a filtered run leaves no fingerprints behind: a full run still reads everything
    assert {e.id for e in run(repo).recorded} == THIS_REPO - {f"codex/{SID_E}"}


def test_run_directories_join_the_agents(repo: Path, history: dict[str, Path]) -> None:
    shutil.copytree(FIXTURE, repo, dirs_exist_ok=True)
    result = run(repo)
    assert {e.id for e in result.recorded} == THIS_REPO | {"rundir/run-0042", "rundir/run-0043"}
    text = backfill_report.to_text(result)
    assert "estimated: $0.06" in text  # run-0042, checked by hand in test_rundir.py
    assert run(repo).recorded == []


def test_unknown_agent_is_a_usage_error(repo: Path) -> None:
    result = invoke(["backfill", "--agent", "nope"])
    assert result.exit_code == 2  # a bad option value (issue 15, item 17)
    assert "unknown agent 'nope'" in result.output


def _at(text: str) -> Any:
    from costlog.timeutil import parse_when

    return parse_when(text)


def test_state_lives_in_the_git_dir(repo: Path, history: dict[str, Path]) -> None:
    run(repo)
    state: Repo = find(repo)
    assert (state.state_dir / "backfill.json").is_file()
    assert not any(
        p.name == "backfill.json" for p in repo.rglob("backfill.json") if ".git" not in p.parts
    )


def test_progress_names_each_phase(repo: Path, history: dict[str, Path]) -> None:
    seen: list[str] = []
    backfill.run(find(repo), config.load(repo), backfill.Options(), progress=seen.append)
    assert "reading claude-code logs" in seen
    assert seen.index("recording claude-code sessions: 2/2") < seen.index("reading codex logs")
    assert "recording codex sessions: 1/1" in seen


def test_json_summary(repo: Path, history: dict[str, Path]) -> None:
    result = invoke(["backfill", "--json"])
    data = json.loads(result.output)
    assert sorted(data["recorded"]) == sorted(THIS_REPO)
    # A 0.0072 + B 0.006 + E 0.0133 (see test_cli_summary_and_no_progress_on_a_pipe)
    assert data["cost_usd"] == "0.026500"
    assert data["by_source"] == {"actual": "0.026500"} and data["estimated_usd"] == "0.000000"


def test_progress_on_a_terminal_only(repo: Path, history: dict[str, Path]) -> None:
    leader, follower = pty.openpty()
    proc = subprocess.run(
        [sys.executable, "-m", "costlog", "backfill"],
        cwd=repo,
        stdout=subprocess.PIPE,
        stderr=follower,
        text=True,
        timeout=60,
        check=True,
    )
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    assert b"recording claude-code sessions: 2/2" in shown  # stderr is the terminal
    assert proc.stdout.startswith("recorded 3 new sessions")  # stdout, a pipe: summary only
    assert "\r" not in proc.stdout
