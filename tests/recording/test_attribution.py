"""Commits and work items are linked by evidence, so parallel sessions keep their own."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from costlog import gitrepo as repo_mod
from costlog.config import Config
from costlog.models import Commit, Entry, Session
from costlog.recording import attribution
from tests_support import git

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)  # the fixture commit is at 09:00


def commit(root: Path, name: str, message: str, minutes: int) -> str:
    (root / name).write_text(f"{name} {minutes}\n")
    when = (T0 + timedelta(minutes=minutes)).isoformat()
    env = {**os.environ, "GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when}
    import subprocess

    subprocess.run(["git", "add", name], cwd=root, check=True, env=env)
    subprocess.run(["git", "commit", "-q", "-m", message], cwd=root, check=True, env=env)
    return git(root, "rev-parse", "HEAD").stdout.strip()


def session(
    sid: str,
    refs: set[str] = frozenset(),
    edited: set[str] = frozenset(),  # type: ignore[assignment]
    branch: str | None = None,
    prompt: str | None = None,
) -> Session:
    return Session(
        agent="claude-code",
        session_id=sid,
        started=T0,
        ended=T0 + timedelta(hours=1),
        branch=branch,
        tool_output_refs=set(refs),
        edited_files=set(edited),
        first_prompt=prompt,
    )


def test_two_overlapping_sessions_each_get_their_own_commits(repo: Path) -> None:
    found = repo_mod.find(repo)
    a1 = commit(repo, "a.py", "Add parser", 10)
    b1 = commit(repo, "b.py", "Fix login", 15)
    a2 = commit(repo, "a2.py", "Parser tests", 30)
    b2 = commit(repo, "b.py", "Login tests", 40)
    # A ran `git commit` itself (sha in its tool output); B only edited b.py
    sa = session("A", refs={a1[:7], a2[:7]}, edited={str(repo / "a.py")})
    sb = session("B", edited={str(repo / "b.py")})
    ca, _ = attribution.attribute(sa, found, Config())
    cb, _ = attribution.attribute(sb, found, Config())
    assert [(c.sha, c.evidence) for c in ca] == [(a1[:12], "tool-output"), (a2[:12], "tool-output")]
    assert [(c.sha, c.evidence) for c in cb] == [(b1[:12], "files"), (b2[:12], "files")]


def test_time_window_never_takes_a_commit_another_session_holds(repo: Path) -> None:
    found = repo_mod.find(repo)
    a1 = commit(repo, "a.py", "Add parser", 10)
    b1 = commit(repo, "b.py", "Fix login", 20)
    other = Entry(
        id="claude-code/A",
        agent="claude-code",
        started=T0,
        commits=[Commit(a1[:12], "Add parser", evidence="tool-output")],
    )
    commits, _ = attribution.attribute(session("C"), found, Config(), [other])
    assert [(c.sha, c.evidence) for c in commits] == [(b1[:12], "time-window")]


def test_commits_outside_the_window_and_merges_are_left_out(repo: Path) -> None:
    found = repo_mod.find(repo)
    commit(repo, "early.py", "Too early", -60)
    inside = commit(repo, "x.py", "Inside", 20)
    git(repo, "checkout", "-q", "-b", "side")
    side = commit(repo, "s.py", "On a side branch", 25)
    git(repo, "checkout", "-q", "main")
    commit(repo, "y.py", "Main again", 26)
    os.environ["GIT_COMMITTER_DATE"] = (T0 + timedelta(minutes=27)).isoformat()
    git(repo, "merge", "-q", "--no-ff", "-m", "Merge side", "side")
    commit(repo, "late.py", "Too late", 200)
    shas = [c.sha for c in attribution.commits_between(found, T0, T0 + timedelta(hours=1))]
    assert inside in shas and side in shas
    assert len(shas) == 3  # inside, side, main-again; no merge, nothing outside the window
    sizes = {
        c.sha: (len(c.files), c.added)
        for c in attribution.commits_between(found, T0, T0 + timedelta(hours=1))
    }
    assert sizes[inside] == (1, 1)


def test_work_items_from_branch_commits_trailers_and_prompt(repo: Path) -> None:
    found = repo_mod.find(repo)
    sha = commit(
        repo, "a.py", "Add cost table\n\nUses UTF-8 and SHA-256.\n\nRefs: PROJ-12\nCloses #41", 10
    )
    s = session(
        "A", refs={sha[:7]}, branch="feature/WRK-237-cost", prompt="Please do WO-2026-110 today"
    )
    _, items = attribution.attribute(s, found, Config())
    assert items == ["WRK-237", "PROJ-12", "#41"]  # prompt text only with a prefix
    _, items = attribution.attribute(s, found, Config(work_item_prefixes=["WO"]))
    assert items == ["WRK-237", "PROJ-12", "#41", "WO-2026-110"]


def test_ignored_lookalikes_and_custom_patterns() -> None:
    config = Config(work_item_patterns=[r"\bJIRA-\d+\b"], work_item_ignore=["JIRA-0"])
    finder = attribution.WorkItems(config)
    assert finder.find("JIRA-0 JIRA-7 WRK-1 #3") == ["JIRA-7"]
    assert attribution.WorkItems(Config()).find("UTF-8, SHA-256, ISO-8601 and &#39; #12") == ["#12"]
