"""A Codex fork of the older shape replays its parent's lines (prompt, patch, `git commit`
and its output) into its own file. Those facts are the parent's (issue 16 review): read
without the parent's file, the fork still takes neither the parent's commit (by
tool-output) nor its prompt or edits; and whichever is recorded first, the parent keeps
its commit.

The rollouts are tests/fixtures/codex/home's parent (019a0001) and its fork (019a0002),
with their cwd and commit sha replaced by a repo and a commit made here at the log's time,
and the fork moved to start 4 minutes after that commit (so it is within its reach).
"""

from __future__ import annotations

import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from costlog import gitrepo as repo_mod
from costlog.ledger.store import Ledger
from costlog.models import Entry, Session
from costlog.sources.codex.adapter import ADAPTER
from tests_support import FIXTURES_DIR, git, run

HOME = FIXTURES_DIR / "codex" / "home" / "sessions" / "2026" / "03" / "05"
PARENT = "019a0001-aaaa-7aaa-8aaa-aaaaaaaaaaaa"
FORK = "019a0002-bbbb-7bbb-8bbb-bbbbbbbbbbbb"
NAMES = {
    PARENT: f"rollout-2026-03-05T09-00-00-{PARENT}.jsonl",
    FORK: f"rollout-2026-03-05T10-00-00-{FORK}.jsonl",
}
#: the parent's `git commit` output line is timed 09:10:30
COMMITTED = datetime(2026, 3, 5, 9, 10, 30, tzinfo=UTC)


@pytest.fixture
def sha(repo: Path) -> str:
    """The parent's commit, made here when its log says it was."""
    git(repo, "checkout", "-q", "-b", "feature/WRK-12")
    env = {
        **os.environ,
        "GIT_AUTHOR_DATE": COMMITTED.isoformat(),
        "GIT_COMMITTER_DATE": COMMITTED.isoformat(),
    }
    (repo / "src").mkdir()
    (repo / "src" / "login.py").write_text("return token == user.token\n")
    subprocess.run(["git", "add", "src/login.py"], cwd=repo, check=True, env=env)
    subprocess.run(
        ["git", "commit", "-q", "-m", "Fix login token check"], cwd=repo, check=True, env=env
    )
    return git(repo, "rev-parse", "HEAD").stdout.strip()


def _logs(repo: Path, sha: str, where: Path, which: tuple[str, ...]) -> dict[str, Path]:
    """The rollouts `which`, with this repo's cwd and sha, written under `where`."""
    where.mkdir(parents=True, exist_ok=True)
    out = {}
    for sid in which:
        text = (HOME / NAMES[sid]).read_text()
        text = text.replace("1a2b3c4", sha[:7]).replace("/work/proj", str(repo))
        for minute in range(4):  # the fork made 4 minutes after the commit, not 50
            text = text.replace(f"2026-03-05T10:0{minute}:", f"2026-03-05T09:1{minute + 4}:")
        out[sid] = where / NAMES[sid]
        out[sid].write_text(text)
    return out


def _entries(repo: Path) -> dict[str, Entry]:
    return {e.id: e for e in Ledger(repo_mod.find(repo), ".costlog/sessions").load_all()}


def _read(path: Path) -> dict[str, Session]:
    return {s.session_id: s for s in ADAPTER.scan([path], warn=lambda _m: None)}


def test_a_fork_read_alone_holds_only_its_own_facts(repo: Path, sha: str, tmp_path: Path) -> None:
    fork = _logs(repo, sha, tmp_path / "alone", (FORK,))[FORK]
    session = _read(fork)[FORK]
    assert session.tool_output_refs == set()  # the parent's `git commit` output, replayed
    assert session.first_prompt == "Now add a regression test"  # not the parent's WRK-12 one
    assert session.edited_files == {str(repo / "tests" / "test_regress.py")}


def test_a_fork_read_with_its_parent_holds_the_same_facts(
    repo: Path, sha: str, tmp_path: Path
) -> None:
    logs = _logs(repo, sha, tmp_path / "codex" / "sessions" / "2026" / "03" / "05", tuple(NAMES))
    fork = _read(logs[FORK])[FORK]
    parent = _read(logs[PARENT])[PARENT]
    assert fork.tool_output_refs == set()
    assert fork.first_prompt == "Now add a regression test"
    assert sha[:7] in parent.tool_output_refs
    assert parent.first_prompt == "Fix WRK-12: login rejects valid tokens"
    assert str(repo / "src" / "login.py") in parent.edited_files


@pytest.mark.parametrize("parent_here", [False, True], ids=["parent-absent", "parent-present"])
@pytest.mark.parametrize("fork_first", [True, False], ids=["fork-first", "parent-first"])
def test_the_parent_keeps_its_commit_whichever_is_recorded_first(
    repo: Path, sha: str, tmp_path: Path, parent_here: bool, fork_first: bool
) -> None:
    if parent_here:  # both in one CODEX_HOME: the fork is read with its parent
        where = tmp_path / "codex" / "sessions" / "2026" / "03" / "05"
        logs = _logs(repo, sha, where, tuple(NAMES))
    else:  # each file alone, as when the parent's file is gone from this machine
        logs = {
            **_logs(repo, sha, tmp_path / "f", (FORK,)),
            **_logs(repo, sha, tmp_path / "p", (PARENT,)),
        }
    order = [FORK, PARENT] if fork_first else [PARENT, FORK]
    for sid in order:
        run("record", "--transcript", str(logs[sid]), "--no-stage")
    found = _entries(repo)
    assert [(c.sha, c.evidence) for c in found[f"codex/{PARENT}"].commits] == [
        (sha[:12], "tool-output")
    ]
    assert found[f"codex/{FORK}"].commits == []
    assert found[f"codex/{PARENT}"].work_items == ["WRK-12"]
