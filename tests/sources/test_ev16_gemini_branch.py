"""Gemini CLI logs no branch (issue 16): a session recorded while fresh gets the repo's
current branch; an old one, which may have run on any branch, gets none rather than a guess.

The log is the real session file Gemini CLI 0.61.0 wrote (tests/fixtures/gemini/
real-0.61.0), its times moved to just now for the fresh case, and its commit made here.
"""

from __future__ import annotations

import os
import re
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

from costlog import gitrepo as repo_mod
from costlog.ledger.store import Ledger
from tests_support import FIXTURES_DIR, git, run

REAL = FIXTURES_DIR / "gemini" / "real-0.61.0" / "session.jsonl"
ENDED = datetime(2026, 12, 1, 21, 26, 7, 57000, tzinfo=UTC)
_STAMP = re.compile(r"2026-12-01T\d\d:\d\d:\d\d\.\d{3}Z")


def _moved(text: str, delta: timedelta) -> str:
    def shift(match: re.Match[str]) -> str:
        when = datetime.fromisoformat(match.group(0).replace("Z", "+00:00")) + delta
        return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"

    return _STAMP.sub(shift, text)


def _record(repo: Path, tmp_path: Path, delta: timedelta) -> str:
    git(repo, "checkout", "-q", "-b", "feature/WRK-237-x")
    when = (datetime(2026, 12, 1, 21, 25, 7, tzinfo=UTC) + delta).isoformat()
    env = {**os.environ, "GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when}
    subprocess.run(
        ["git", "commit", "-q", "--allow-empty", "-m", "step 1 WRK-237"],
        cwd=repo,
        env=env,
        check=True,
    )
    sha = git(repo, "rev-parse", "HEAD").stdout.strip()
    log = tmp_path / "session.jsonl"
    log.write_text(_moved(REAL.read_text(), delta).replace("36d4a0b", sha[:7]))
    git(repo, "checkout", "-q", "-b", "later")  # where the repo is when it is recorded
    run("record", "--transcript", str(log))
    return sha


def test_a_fresh_session_gets_the_current_branch(repo: Path, tmp_path: Path) -> None:
    delta = datetime.now(UTC) - timedelta(minutes=2) - ENDED
    sha = _record(repo, tmp_path, delta)
    [entry] = Ledger(repo_mod.find(repo), ".costlog/sessions").load_all()
    assert entry.branch == "later"
    assert [(c.sha, c.evidence) for c in entry.commits] == [(sha[:12], "tool-output")]


def test_an_old_session_gets_no_branch(repo: Path, tmp_path: Path) -> None:
    _record(repo, tmp_path, datetime(2026, 11, 1, tzinfo=UTC) - ENDED)  # a month before
    [entry] = Ledger(repo_mod.find(repo), ".costlog/sessions").load_all()
    assert entry.branch is None
    assert entry.work_items == ["WRK-237"]  # from the commit's subject still
