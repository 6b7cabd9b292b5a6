"""post-rewrite asks git less (issue 12, rebase <= 1.5x hookless): one `cat-file --batch`
instead of a `rev-list` and a `rev-parse`, `update-index` instead of `git add` for files the
index holds, and git's list read straight by costlog when no earlier hook wants it. The
links still move wherever a session left them, staged, whatever shape the rebase had."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from rewrite_repos import commit, link, links, set_up

from costlog import gitrepo
from tests_support import git


def unstaged(repo: Path) -> list[str]:
    return git(repo, "diff", "--name-only").stdout.split()


def test_interactive_rebase_that_reorders_and_drops_moves_every_link(repo: Path) -> None:
    """`rebase -i` that swaps two commits and drops one between them: an old commit's
    parent is then a commit that was not rewritten, the quick descent test cannot tell,
    and git's `rev-list` decides as before; every link still moves, staged."""
    set_up(repo)
    git(repo, "checkout", "-q", "-b", "topic")
    shas = [commit(repo, f"t{n}.txt", f"topic {n}") for n in range(4)]
    link(repo, "made-them", shas)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Record")
    git(repo, "checkout", "-q", "main")
    commit(repo, "main.txt", "main moves on")
    # todo: pick t0, drop t1, then t3 before t2, and the record
    script = (
        "import sys\n"
        "p = sys.argv[1]\n"
        "lines = [x for x in open(p).read().splitlines() if x.startswith('pick ')]\n"
        "lines[1] = 'drop' + lines[1][4:]\n"
        "lines[2], lines[3] = lines[3], lines[2]\n"
        "open(p, 'w').write('\\n'.join(lines) + '\\n')\n"
    )
    editor = repo.parent / "editor.py"
    editor.write_text(script)
    env = {**os.environ, "GIT_SEQUENCE_EDITOR": f"python3 {editor}"}
    done = subprocess.run(
        ["git", "rebase", "-i", "main", "topic"], cwd=repo, env=env, capture_output=True,
        text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "moved commit links to the rewritten commits in 1 ledger file (staged)" in done.stderr
    new = {
        git(repo, "log", "-1", "--format=%s", c).stdout.strip(): c[:12]
        for c in git(repo, "rev-list", "main..topic").stdout.split()
    }
    # the dropped commit keeps its old link (it is no longer made, but was recorded)
    assert links(repo, "made-them") == [new["topic 0"], shas[1][:12], new["topic 2"],
                                         new["topic 3"]]  # fmt: skip
    assert unstaged(repo) == []
    assert git(repo, "diff", "--cached", "--name-only").stdout.split() == [
        ".costlog/sessions/claude-code/made-them.yaml"
    ]


def test_untracked_entry_naming_a_rebased_commit_is_added_with_the_tracked_ones(
    repo: Path,
) -> None:
    """One committed entry and one never staged name rebased commits: the tracked one
    takes the light path, the untracked one is `git add`ed, and both end up staged."""
    set_up(repo)
    git(repo, "checkout", "-q", "-b", "topic")
    shas = [commit(repo, f"t{n}.txt", f"topic {n}") for n in range(2)]
    link(repo, "committed", [shas[0]])
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Record")
    git(repo, "checkout", "-q", "main")
    commit(repo, "main.txt", "main moves on")
    link(repo, "loose", [shas[1]])
    done = subprocess.run(
        ["git", "rebase", "main", "topic"], cwd=repo, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "in 2 ledger files (staged)" in done.stderr
    new = git(repo, "rev-list", "--reverse", "main..topic").stdout.split()
    assert links(repo, "committed") == [new[0][:12]]
    assert links(repo, "loose") == [new[1][:12]]
    assert unstaged(repo) == []
    assert git(repo, "diff", "--cached", "--name-only").stdout.split() == [
        ".costlog/sessions/claude-code/committed.yaml",
        ".costlog/sessions/claude-code/loose.yaml",
    ]


def test_an_earlier_post_rewrite_hook_still_gets_gits_list(repo: Path) -> None:
    """With the user's own post-rewrite hook kept beside costlog's, both read git's list:
    the shim captures it only then."""
    hook = repo / ".git" / "hooks" / "post-rewrite"
    hook.parent.mkdir(exist_ok=True)
    seen = repo.parent / "seen.txt"
    hook.write_text(f"#!/bin/sh\ncat > {seen}\n")
    hook.chmod(0o755)
    set_up(repo)
    assert (repo / ".git" / "hooks" / "post-rewrite.costlog-legacy").is_file()
    old = commit(repo, "a.txt", "work")
    link(repo, "amended", [old])
    git(repo, "add", "-A")
    done = git(repo, "commit", "-q", "--amend", "-m", "work, amended")
    new = git(repo, "rev-parse", "HEAD").stdout.strip()
    assert seen.read_text().split() == [old, new]
    assert "moved commit links" in done.stderr
    assert links(repo, "amended") == [new[:12]]


def test_objects_answers_each_name_in_order(repo: Path) -> None:
    head = git(repo, "rev-parse", "HEAD").stdout.strip()
    tree = git(repo, "rev-parse", "HEAD^{tree}").stdout.strip()
    found = gitrepo.objects(repo, ["HEAD", "HEAD:no-such-dir", f"{head}^{{tree}}", "HEAD^"])
    assert found[0] is not None and found[0][:2] == (head, "commit")
    assert found[0][2].startswith(f"tree {tree}\n".encode())
    assert found[1] is None
    assert found[2] is not None and found[2][:2] == (tree, "tree")
    assert found[3] is None  # the root commit has no parent


def test_refresh_stages_tracked_files_and_nothing_when_one_is_untracked(repo: Path) -> None:
    (repo / "README.md").write_text("changed\n")
    (repo / "new.txt").write_text("new\n")
    assert gitrepo.refresh(repo, ["README.md", "new.txt"]) is False
    assert git(repo, "diff", "--cached", "--name-only").stdout.split() == []
    assert gitrepo.refresh(repo, ["README.md"]) is True
    assert git(repo, "diff", "--cached", "--name-only").stdout.split() == ["README.md"]
    assert git(repo, "show", ":README.md").stdout == "changed\n"
