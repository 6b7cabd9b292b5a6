"""post-rewrite reads only the ledger files that can name a rewritten commit, and moves
exactly the links the full read of every file moves (issue 12: a rebase of 50 commits in a
10,000-session repo must cost little more than without hooks)."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from rewrite_repos import commit, link, links, run_git, set_up

from costlog import gitrepo as repo_mod
from costlog.config import Config
from costlog.integration import rewrite
from costlog.ledger.store import Ledger
from costlog.models import Commit, Entry
from tests_support import git, invoke


def rebase(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_git(root, *args, "rebase", "main", "topic")


def test_default_output_is_the_configs() -> None:
    assert Config().output == rewrite.DEFAULT_OUTPUT


def test_lines_that_are_not_two_shas_are_ignored() -> None:
    old, new = "a" * 40, "b" * 40
    text = f"{old} {new}\n--all {new}\n{old[:12]} {new}\n{old} HEAD\n\n"
    assert rewrite.read_rewrites(io.StringIO(text)) == {old: new}


def test_rebase_moves_links_wherever_a_session_left_them(repo: Path) -> None:
    """Committed on the branch, committed on main after the fork, and never committed:
    every file that can name a rebased commit is found, and only those are written."""
    set_up(repo)
    link(repo, "before-the-fork", ["0" * 40])  # on main, older than every topic commit
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "An old session")
    git(repo, "checkout", "-q", "-b", "topic")
    shas = [commit(repo, f"t{n}.txt", f"topic {n}") for n in range(4)]
    link(repo, "on-topic", shas[:2])
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Record on topic")
    git(repo, "checkout", "-q", "main")
    link(repo, "on-main", [shas[2]])  # a session that made a topic commit, recorded on main
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Record on main")
    link(repo, "untracked", [shas[3]])  # recorded, never staged: a rebase leaves it be
    old_text = (repo / ".costlog/sessions/claude-code/before-the-fork.yaml").read_bytes()
    done = rebase(repo)
    assert done.returncode == 0, done.stderr
    assert "moved commit links to the rewritten commits in 3 ledger files (staged)" in done.stderr
    new = git(repo, "rev-list", "--reverse", "main..topic").stdout.split()
    assert links(repo, "on-topic") == [s[:12] for s in new[:2]]
    assert links(repo, "on-main") == [new[2][:12]]
    assert links(repo, "untracked") == [new[3][:12]]
    assert (repo / ".costlog/sessions/claude-code/before-the-fork.yaml").read_bytes() == old_text
    # both sides recorded sessions: COST_LOG.md, merged commit by commit, is rendered once
    assert done.stderr.count("re-rendered COST_LOG.md for the rebased ledger (staged)") == 1
    staged = git(repo, "diff", "--cached", "--name-only").stdout.split()
    assert staged == [
        ".costlog/sessions/claude-code/on-main.yaml",
        ".costlog/sessions/claude-code/on-topic.yaml",
        ".costlog/sessions/claude-code/untracked.yaml",
        "COST_LOG.md",
    ]
    git(repo, "commit", "-q", "-m", "Moved links")
    check = invoke(["check"])
    assert check.exit_code == 0, check.output


def test_the_quick_look_writes_what_reading_every_file_writes(repo: Path, tmp_path: Path) -> None:
    """Same mapping, two copies of one repo: the files the quick look finds get exactly the
    bytes the full read gives them, and no other file differs."""
    set_up(repo)
    git(repo, "checkout", "-q", "-b", "topic")
    shas = [commit(repo, f"t{n}.txt", f"topic {n}") for n in range(12)]
    for n in range(6):  # shas first in a file and last, quoted ("0...") and plain ("a...")
        link(repo, f"s{n}", [shas[n * 2], "f" * 12, shas[n * 2 + 1]])
    link(repo, "unrelated", ["e" * 12])
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Record")
    git(repo, "checkout", "-q", "main")
    commit(repo, "main.txt", "main moves on")
    olds = git(repo, "rev-list", "--reverse", "main..topic").stdout.split()
    done = rebase(repo, "-c", "core.hooksPath=/dev/null")
    assert done.returncode == 0, done.stderr
    news = git(repo, "rev-list", "--reverse", "main..topic").stdout.split()
    mapping = "".join(f"{o} {n}\n" for o, n in zip(olds, news, strict=True))
    full = tmp_path / "full"
    shutil.copytree(repo, full, symlinks=True)

    quick_lines = rewrite.post_rewrite(repo_mod.find(repo), ["rebase"], io.StringIO(mapping))
    found = repo_mod.find(full)
    changed = rewrite.rewrite_shas(
        found, ".costlog/sessions", full / "COST_LOG.md", dict(zip(olds, news, strict=True))
    )
    assert quick_lines == ["moved commit links to the rewritten commits in 6 ledger files (staged)"]
    assert len(changed) == 6
    ledger = repo / ".costlog" / "sessions"
    names = sorted(p.relative_to(ledger) for p in ledger.rglob("*.yaml"))
    assert names == sorted(p.relative_to(full / ".costlog/sessions") for p in
                           (full / ".costlog/sessions").rglob("*.yaml"))  # fmt: skip
    for name in names:
        assert (ledger / name).read_bytes() == (full / ".costlog/sessions" / name).read_bytes()
    assert links(repo, "s0") == [news[0][:12], "f" * 12, news[1][:12]]


def test_a_rewritten_commit_older_than_the_base_is_looked_for_everywhere(repo: Path) -> None:
    """When a rewritten commit does not descend from the first one's parent, a file as it
    was there may name it: every ledger file is read, and the link still moves."""
    set_up(repo)
    side = commit(repo, "side.txt", "side work")  # on main: older than `first`
    link(repo, "old-session", [side])
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Record the side work")
    first = commit(repo, "first.txt", "first")
    mapping = {first: "1" * 40, side: "2" * 40}  # as git would list a reordering rebase
    assert rewrite._files_naming(
        repo_mod.find(repo), ".costlog/sessions", mapping, f"{first}^", rebase=False
    ) is None  # fmt: skip
    text = "".join(f"{o} {n}\n" for o, n in mapping.items())
    lines = rewrite.post_rewrite(repo_mod.find(repo), ["amend"], io.StringIO(text))
    assert lines == ["moved commit links to the rewritten commits in 1 ledger file (staged)"]
    assert links(repo, "old-session") == ["2" * 12]


def test_amend_finds_a_link_in_an_unstaged_change(repo: Path) -> None:
    """After an amend the work tree may differ from the index: it is what is compared."""
    set_up(repo)
    link(repo, "s1", ["0" * 40])
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Record s1")
    old = commit(repo, "a.txt", "Add a")
    link(repo, "s1", [old])  # the tracked file now links it, unstaged
    done = subprocess.run(
        ["git", "commit", "-q", "--amend", "-m", "Add a (amended)"],
        cwd=repo,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    new = git(repo, "rev-parse", "HEAD").stdout.strip()
    assert new != old
    assert links(repo, "s1") == [new[:12]]
    assert "moved commit links to the rewritten commits in 1 ledger file (staged)" in done.stderr


def test_a_linked_file_among_the_changed_ones_is_refused(repo: Path, tmp_path: Path) -> None:
    set_up(repo)
    old = commit(repo, "a.txt", "Add a")
    elsewhere = tmp_path / "elsewhere.yaml"
    elsewhere.write_text(f"sha: {old[:12]}\n")
    folder = repo / ".costlog" / "sessions" / "claude-code"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "linked.yaml").symlink_to(elsewhere)
    done = subprocess.run(
        ["git", "commit", "-q", "--amend", "-m", "Add a (amended)"],
        cwd=repo,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "post-rewrite hook skipped" in done.stderr and "symbolic link" in done.stderr
    assert elsewhere.read_text() == f"sha: {old[:12]}\n"


def test_moving_links_after_a_rebase_imports_no_heavy_library(repo: Path) -> None:
    """The hook's own work (find, parse, write, stage) loads no YAML library, template
    engine or CLI framework: a rebase waits for it."""
    set_up(repo)
    git(repo, "checkout", "-q", "-b", "topic")
    shas = [commit(repo, f"t{n}.txt", f"topic {n}") for n in range(3)]
    link(repo, "on-topic", shas)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Record on topic")
    git(repo, "checkout", "-q", "main")
    commit(repo, "main.txt", "main moves on")
    olds = git(repo, "rev-list", "--reverse", "main..topic").stdout.split()
    assert rebase(repo, "-c", "core.hooksPath=/dev/null").returncode == 0
    news = git(repo, "rev-list", "--reverse", "main..topic").stdout.split()
    mapping = "".join(f"{o} {n}\n" for o, n in zip(olds, news, strict=True))
    heavy = ("rich", "msgspec", "jinja2", "click", "ruamel", "duckdb", "tiktoken")
    code = (
        "import sys\n"
        "from costlog.integration import hookrun\n"
        "hookrun.run('post-rewrite', ['rebase'], sys.stdin)\n"
        f"print(sorted(m for m in {heavy!r} if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=repo, input=mapping, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
    assert "moved commit links to the rewritten commits in 1 ledger file (staged)" in done.stderr
    assert links(repo, "on-topic") == [s[:12] for s in news[:3]]


def test_the_quick_look_names_only_the_files_holding_an_old_sha(repo: Path) -> None:
    """The speed of a big rebase: git names the files changed since the first rewritten
    commit's parent, and only those are read (here one of three entries)."""
    set_up(repo)
    link(repo, "older", ["0" * 40])
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "An old session")
    git(repo, "checkout", "-q", "-b", "topic")
    shas = [commit(repo, f"t{n}.txt", f"topic {n}") for n in range(3)]
    link(repo, "on-topic", shas)
    link(repo, "other", ["e" * 12])
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Record on topic")
    git(repo, "checkout", "-q", "main")
    commit(repo, "main.txt", "main moves on")
    olds = git(repo, "rev-list", "--reverse", "main..topic").stdout.split()
    assert rebase(repo, "-c", "core.hooksPath=/dev/null").returncode == 0
    news = git(repo, "rev-list", "--reverse", "main..topic").stdout.split()
    mapping = dict(zip(olds, news, strict=True))
    found = rewrite._files_naming(
        repo_mod.find(repo), ".costlog/sessions", mapping, f"{olds[0]}^", rebase=True
    )
    assert found == [str(repo / ".costlog/sessions/claude-code/on-topic.yaml")]


def test_a_ledger_dir_set_in_the_config_is_where_links_move(repo: Path) -> None:
    set_up(repo)
    config = repo / ".costlog" / "config.yaml"
    config.write_text(config.read_text() + "ledger_dir: cost-ledger\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Ledger elsewhere")
    git(repo, "checkout", "-q", "-b", "topic")
    shas = [commit(repo, f"t{n}.txt", f"topic {n}") for n in range(2)]
    ledger = Ledger(repo_mod.find(repo), "cost-ledger")
    with ledger.lock():
        ledger.write(
            Entry(
                id="claude-code/s1",
                agent="claude-code",
                started=datetime(2026, 11, 20, 9, tzinfo=UTC),
                cost_usd=None,
                commits=[Commit(s[:12], "work", evidence="tool-output") for s in shas],
            )
        )
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Record")
    git(repo, "checkout", "-q", "main")
    commit(repo, "main.txt", "main moves on")
    done = rebase(repo)
    assert done.returncode == 0, done.stderr
    assert "moved commit links to the rewritten commits in 1 ledger file (staged)" in done.stderr
    new = git(repo, "rev-list", "--reverse", "main..topic").stdout.split()
    entry = ledger.get("claude-code/s1")
    assert entry is not None and [c.sha for c in entry.commits] == [s[:12] for s in new[:2]]
    assert git(repo, "diff", "--cached", "--name-only").stdout.split() == [
        "cost-ledger/claude-code/s1.yaml"
    ]


def test_a_file_not_where_its_id_names_is_changed_in_place(repo: Path) -> None:
    """A ledger file renamed by hand (its id names another file): moving its links writes
    that file, and never a second file holding the same session."""
    set_up(repo)
    old = commit(repo, "a.txt", "Add a")
    link(repo, "s1", [old])
    folder = repo / ".costlog" / "sessions" / "claude-code"
    (folder / "s1.yaml").rename(folder / "renamed-by-hand.yaml")
    done = run_git(repo, "commit", "-q", "--amend", "-m", "Add a (amended)")
    assert done.returncode == 0, done.stderr
    new = git(repo, "rev-parse", "HEAD").stdout.strip()
    assert "moved commit links to the rewritten commits in 1 ledger file (staged)" in done.stderr
    assert sorted(p.name for p in folder.glob("*.yaml")) == ["renamed-by-hand.yaml"]
    assert f"sha: {new[:12]}" in (folder / "renamed-by-hand.yaml").read_text()
