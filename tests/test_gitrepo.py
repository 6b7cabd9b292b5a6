"""gitrepo: finding the repository without git, and the git commands costlog runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from costlog import gitrepo
from costlog.errors import CostlogError
from tests_support import git


def test_a_linked_worktree_shares_the_main_state_but_keeps_its_own_git_dir(
    repo: Path, tmp_path: Path
) -> None:
    linked = tmp_path / "linked"
    git(repo, "worktree", "add", "-q", "-b", "side", str(linked))
    found = gitrepo.find(linked / ".")
    assert found.root == linked.resolve()
    assert found.common_dir == (repo / ".git").resolve()
    # rebase state lives in the worktree's own dir: that is where the hook must look
    own = git(linked, "rev-parse", "--absolute-git-dir").stdout.strip()
    assert gitrepo.git_dir(found) == Path(own)
    assert gitrepo.git_dir(gitrepo.find(repo)) == repo / ".git"


def test_current_branch_is_none_on_a_detached_head(repo: Path) -> None:
    assert gitrepo.current_branch(repo) == "main"
    git(repo, "checkout", "-q", "--detach")
    assert gitrepo.current_branch(repo) is None


def test_a_failed_git_command_is_one_line_naming_the_command(repo: Path) -> None:
    with pytest.raises(CostlogError, match=r"^git merge-base failed: .*no-such-branch"):
        gitrepo.merge_base(repo, "no-such-branch", "HEAD")
    with pytest.raises(CostlogError, match=r"^git show failed: "):
        gitrepo.show_file(repo, "HEAD", "missing.txt")


def test_a_missing_git_is_a_costlog_error(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(repo / "nowhere"))
    with pytest.raises(CostlogError, match="git is not installed"):
        gitrepo.head(repo)
    with pytest.raises(CostlogError, match="git is not installed"):
        gitrepo.log_prefix(repo, "-p", limit=10)


def test_log_prefix_reads_no_more_than_its_limit(repo: Path) -> None:
    (repo / "big.txt").write_text("x" * 100_000 + "\n")
    git(repo, "add", "big.txt")
    git(repo, "commit", "-q", "-m", "Big")
    whole = git(repo, "log", "-p").stdout.encode()
    assert len(whole) > 100_000
    assert gitrepo.log_prefix(repo, "-p", limit=1000) == whole[:1000]


def test_commit_only_commits_just_its_paths(repo: Path) -> None:
    (repo / "mine.txt").write_text("mine\n")
    (repo / "other.txt").write_text("other\n")
    git(repo, "add", "other.txt")
    sha = gitrepo.commit_only(repo, ["mine.txt"], "Mine")
    assert git(repo, "rev-parse", "--short", "HEAD").stdout.strip() == sha
    assert gitrepo.diff_names(repo, "HEAD~1", "HEAD", ".") == ["mine.txt"]
    assert git(repo, "diff", "--cached", "--name-only").stdout.split() == ["other.txt"]
    assert gitrepo.parents(repo) == [git(repo, "rev-parse", "HEAD~1").stdout.strip()]
