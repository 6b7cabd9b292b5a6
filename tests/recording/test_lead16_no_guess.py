"""A session whose log names its commits is never matched by time (issue 16): when another
session already holds those commits by equal evidence, this one made none of the others in
its window either, so a user's own commit made meanwhile stays unclaimed."""

from __future__ import annotations

import os
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

from costlog import gitrepo as repo_mod
from costlog.config import Config
from costlog.models import Commit, Entry, Session
from costlog.recording import attribution
from tests_support import git

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def commit_at(root: Path, when: datetime, message: str, files: dict[str, str]) -> str:
    """A real commit of `files` at `when` (author and committer date)."""
    env = {
        **os.environ,
        "GIT_AUTHOR_DATE": when.isoformat(),
        "GIT_COMMITTER_DATE": when.isoformat(),
    }
    for name, text in files.items():
        (root / name).write_text(text)
        subprocess.run(["git", "add", name], cwd=root, check=True, env=env)
    subprocess.run(["git", "commit", "-q", "-m", message], cwd=root, check=True, env=env)
    return git(root, "rev-parse", "HEAD").stdout.strip()


def test_named_commits_held_elsewhere_leave_no_time_window_guess(repo: Path) -> None:
    found = repo_mod.find(repo)
    agents = commit_at(repo, T0 + timedelta(minutes=2), "Agent's step", {"a.py": "a\n"})
    users = commit_at(repo, T0 + timedelta(minutes=4), "User's own work", {"u.py": "u\n"})
    fork = Entry(
        id="codex/fork",
        agent="codex",
        started=T0,
        commits=[Commit(agents[:12], "Agent's step", evidence="tool-output")],
    )
    parent = Session(
        agent="codex",
        session_id="parent",
        started=T0,
        ended=T0 + timedelta(minutes=10),
        tool_output_refs={agents[:7]},
    )
    commits, _ = attribution.attribute(parent, found, Config(), [fork])
    assert users[:12] not in {c.sha for c in commits}
    assert commits == []
    # with no evidence at all, the window is still the fallback (and takes the free commit)
    blind = Session(agent="codex", session_id="blind", started=T0, ended=T0 + timedelta(minutes=10))
    commits, _ = attribution.attribute(blind, found, Config(), [fork])
    assert [(c.sha, c.evidence) for c in commits] == [(users[:12], "time-window")]
