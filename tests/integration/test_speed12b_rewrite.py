"""A rebase does costlog's work once, in post-rewrite, and leaves COST_LOG.md right."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

from golden.ledger import entries  # tests/golden/ledger.py

from costlog import gitrepo as repo_mod
from costlog.config import Config
from costlog.integration import rewrite, setup
from costlog.ledger.store import Ledger
from costlog.models import Commit, Entry
from costlog.render.context import build_context
from tests_support import git, invoke


def test_nothing_the_template_receives_holds_a_commit_sha() -> None:
    """What lets post-rewrite move links without rendering COST_LOG.md again: if this
    fails, rewrite.py must render after moving links."""
    ledger = entries()
    before = build_context(ledger, Config(), today=datetime(2026, 11, 1).date())
    for entry in ledger:
        for commit in entry.commits:
            commit.sha = "f" * 12
    assert build_context(ledger, Config(), today=datetime(2026, 11, 1).date()) == before


def test_quick_ledger_dir_is_the_configs_default() -> None:
    assert Config().ledger_dir == rewrite.DEFAULT_LEDGER_DIR


def commit(root: Path, name: str, message: str) -> str:
    (root / name).write_text(message + "\n")
    git(root, "add", name)
    git(root, "commit", "-q", "-m", message)
    return git(root, "rev-parse", "HEAD").stdout.strip()


def record(root: Path, session: str, when: str) -> None:
    result = invoke(
        ["record", "--model", "claude-sonnet-4-6", "--cost", "0.25", "--session", session,
         "--started", when],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    git(root, "commit", "-q", "-m", f"record {session}")


def rebase(root: Path, onto: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "rebase", onto], cwd=root, capture_output=True, text=True, check=False
    )


def test_rebase_moves_links_without_touching_cost_log(repo: Path) -> None:
    setup.init(repo_mod.find(repo), agents=["claude-code"])
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Set up costlog")
    git(repo, "checkout", "-q", "-b", "topic")
    shas = [commit(repo, f"t{n}.txt", f"topic {n}") for n in range(6)]
    ledger = Ledger(repo_mod.find(repo), ".costlog/sessions")
    with ledger.lock():
        ledger.write(
            Entry(
                id="claude-code/made-topic",
                agent="claude-code",
                started=datetime(2026, 11, 20, 9, tzinfo=UTC),
                cost_usd=None,
                commits=[Commit(s[:12], f"topic {n}", evidence="tool-output") for n, s in
                         enumerate(shas[:3])],
            )
        )  # fmt: skip
    assert invoke(["render"]).exit_code == 0
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Record the session")
    cost_log = (repo / "COST_LOG.md").read_text()
    git(repo, "checkout", "-q", "main")
    commit(repo, "main.txt", "main moves on")
    git(repo, "checkout", "-q", "topic")
    done = rebase(repo, "main")
    assert done.returncode == 0, done.stderr
    assert "moved commit links to the rewritten commits in 1 ledger file (staged)" in done.stderr
    new = git(repo, "rev-list", "--reverse", "main..topic").stdout.split()
    entry = ledger.get("claude-code/made-topic")
    assert entry is not None
    assert [c.sha for c in entry.commits] == [s[:12] for s in new[:3]]
    assert (repo / "COST_LOG.md").read_text() == cost_log
    staged = git(repo, "diff", "--cached", "--name-only").stdout.split()
    assert staged == [".costlog/sessions/claude-code/made-topic.yaml"]
    check = invoke(["check"])
    assert check.exit_code == 0, check.output


def test_rebase_onto_new_sessions_renders_cost_log_once(repo: Path) -> None:
    setup.init(repo_mod.find(repo), agents=["claude-code"])
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Set up costlog")
    git(repo, "checkout", "-q", "-b", "topic")
    commit(repo, "t.txt", "topic work")
    record(repo, "theirs", "2026-11-20T10:00:00Z")
    commit(repo, "t2.txt", "more topic work")
    git(repo, "checkout", "-q", "main")
    record(repo, "ours", "2026-11-20T11:00:00Z")
    git(repo, "checkout", "-q", "topic")
    done = rebase(repo, "main")
    assert done.returncode == 0, done.stdout + done.stderr
    # each replayed commit merged COST_LOG.md without the whole ledger: rendered once, at the end
    assert done.stderr.count("re-rendered COST_LOG.md for the rebased ledger (staged)") == 1
    assert "<<<<<<<" not in (repo / "COST_LOG.md").read_text()
    check = invoke(["check"])
    assert check.exit_code == 0, check.output + done.stderr
    assert "2 ledger sessions" in check.output
    # what the rebase left for the next commit makes the branch itself pass the check
    git(repo, "commit", "-q", "--allow-empty", "-m", "after the rebase")
    assert git(repo, "status", "--porcelain").stdout == ""


def test_rebase_with_a_linked_ledger_dir_says_so(repo: Path, tmp_path: Path) -> None:
    """The quick look never reads through a link: the careful path refuses it, loudly."""
    setup.init(repo_mod.find(repo), agents=["claude-code"])
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Set up costlog")
    git(repo, "checkout", "-q", "-b", "topic")
    commit(repo, "t.txt", "topic work")
    git(repo, "checkout", "-q", "main")
    commit(repo, "main.txt", "main moves on")
    git(repo, "checkout", "-q", "topic")
    elsewhere = tmp_path / "elsewhere"
    (repo / ".costlog" / "sessions").rename(elsewhere)
    (repo / ".costlog" / "sessions").symlink_to(elsewhere)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Ledger elsewhere")
    done = rebase(repo, "main")
    assert done.returncode == 0, done.stderr
    assert "post-rewrite hook skipped" in done.stderr and "symbolic link" in done.stderr
