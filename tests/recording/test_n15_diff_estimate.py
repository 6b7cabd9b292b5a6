"""`record --agent cursor --model M`: the diff estimate counts the agent's commits only.

Issue 15, item 1: right after `costlog init` it counted the repository's first commit and
costlog's own set-up commit; on the next run it said "no commits found" yet stored 240k
tokens; with `--since` it counted the ledger and COST_LOG.md as agent output.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from costlog import gitrepo
from costlog.ledger.store import Ledger
from costlog.models import Entry
from tests_support import git, invoke, run

#: 40 lines of code an agent might write: enough text that a wrong count shows
CODE = "".join(
    f"def handler_{n}(request):\n    return respond(request, {n})\n\n" for n in range(40)
)


def commit_all(repo: Path, message: str, when: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when}
    for args in (["add", "-A"], ["commit", "-q", "-m", message]):
        subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)
    return git(repo, "rev-parse", "HEAD").stdout.strip()


def set_up(repo: Path) -> str:
    """The README's quickstart: `costlog init`, then commit everything it wrote."""
    run("init")
    return commit_all(repo, "Set up costlog", "2026-11-20T09:00:00+00:00")


def entries(repo: Path) -> list[Entry]:
    return Ledger(gitrepo.find(repo), ".costlog/sessions").load_all()


def record(*extra: str, code: int = 0) -> str:
    result = invoke(["record", "--agent", "cursor", "--model", "gpt-5", *extra])
    assert result.exit_code == code, result.output
    return result.output


def test_right_after_init_there_is_nothing_to_estimate_and_nothing_is_stored(
    repo: Path,
) -> None:
    set_up(repo)
    out = record("--session", "c1", code=1)
    assert "no commits since the last recorded session and costlog's set-up to estimate" in out
    assert "--since REF" in out  # says what to do instead
    assert entries(repo) == []  # not an entry of made-up turns


def test_only_the_agents_commit_after_set_up_is_counted(repo: Path) -> None:
    first = git(repo, "rev-parse", "HEAD").stdout.strip()
    setup = set_up(repo)
    (repo / "handlers.py").write_text(CODE)
    work = commit_all(repo, "Add handlers", "2026-11-20T10:00:00+00:00")
    out = record("--session", "c1", "--no-stage")
    assert "1 commit" in out
    (entry,) = entries(repo)
    assert [c.sha for c in entry.commits] == [work[:12]]
    assert first[:12] not in {c.sha for c in entry.commits}
    assert setup[:12] not in {c.sha for c in entry.commits}
    assert entry.methods["tokens"].startswith("estimated from 1 commit:")
    assert entry.commits[0].added == CODE.count("\n")


def test_the_ledger_and_cost_log_in_a_commit_are_not_agent_output(repo: Path) -> None:
    set_up(repo)
    (repo / "handlers.py").write_text(CODE)
    commit_all(repo, "Add handlers", "2026-11-20T10:00:00+00:00")
    record("--session", "c1")  # stages its ledger file and COST_LOG.md
    (repo / "small.py").write_text("x = 1\n")
    work = commit_all(repo, "Small fix", "2026-11-20T11:00:00+00:00")  # carries them along
    changed = git(repo, "show", "--name-only", "--format=", "HEAD").stdout.split()
    assert "COST_LOG.md" in changed and any(p.startswith(".costlog/") for p in changed)
    for extra in ([], ["--since", "HEAD~1"]):
        session = f"c2{len(extra)}"
        record("--session", session, "--no-stage", *extra)
        entry = next(e for e in entries(repo) if e.id == f"cursor/{session}")
        assert [(c.sha, c.files, c.added, c.removed) for c in entry.commits] == [
            (work[:12], 1, 1, 0)
        ]


def test_a_ledger_only_commit_is_costlogs_own(repo: Path) -> None:
    set_up(repo)
    (repo / "handlers.py").write_text(CODE)
    commit_all(repo, "Add handlers", "2026-11-20T10:00:00+00:00")
    out = record("--session", "c1", "--commit")  # a commit of the ledger file and COST_LOG.md
    assert "committed" in out
    again = record("--session", "c2", code=1)
    assert "no commits since the last recorded session" in again
    assert [e.id for e in entries(repo)] == ["cursor/c1"]


def test_since_ref_keeps_the_set_up_commit_out(repo: Path) -> None:
    setup = set_up(repo)
    (repo / "a.py").write_text("a = 1\nb = 2\n")
    work = commit_all(repo, "Add a", "2026-11-20T10:00:00+00:00")
    record("--session", "c1", "--since", "HEAD~2", "--no-stage")
    (entry,) = entries(repo)
    assert [c.sha for c in entry.commits] == [work[:12]]
    assert setup[:12] not in entry.methods["tokens"]
    out = record("--session", "c2", "--since", "HEAD", code=1)
    assert "no commits in HEAD..HEAD to estimate from" in out
