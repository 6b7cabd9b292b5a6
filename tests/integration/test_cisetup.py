"""`costlog init --ci github` writes the two workflows through the reversible change plan:
idempotent, refusing to replace a user's file unless forced, never through a link, and taken
back by `costlog uninstall`."""

from __future__ import annotations

from pathlib import Path

from costlog import resources
from tests_support import invoke

WORKFLOWS = Path(".github/workflows")
NAMES = ("costlog.yml", "costlog-comment.yml")


def tree(root: Path) -> dict[str, bytes]:
    """Every file of the work tree, plus .git/config and .git/hooks (what init touches)."""
    out = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if rel.startswith(".git/") and not (rel == ".git/config" or rel.startswith(".git/hooks/")):
            continue
        if path.is_file() and not path.is_symlink():
            out[rel] = path.read_bytes()
        elif path.is_dir():
            out[rel + "/"] = b""
    return out


def init(*args: str, code: int = 0) -> str:
    result = invoke(["init", "--agent", "claude-code", "--ci", "github", *args])
    assert result.exit_code == code, result.output
    return result.output


def test_init_writes_both_workflows_and_uninstall_takes_them_back(repo: Path) -> None:
    before = tree(repo)
    out = init()
    for name in NAMES:
        path = repo / WORKFLOWS / name
        assert f"wrote {WORKFLOWS / name}:" in out
        assert path.read_text() == resources.ci_workflow("github", name).read_text()
        assert path.read_text().startswith("# costlog-workflow: written by `costlog init")
    assert "GitHub runs the comment workflow only once it is on the default branch" in out
    assert init().startswith("already set up: nothing to change")
    undone = invoke(["uninstall"]).output
    assert f"remove {WORKFLOWS / 'costlog.yml'}" in undone
    assert not (repo / ".github").exists()  # the folders init made go too
    assert tree(repo) == before


def test_plain_init_writes_no_workflow(repo: Path) -> None:
    result = invoke(["init", "--agent", "claude-code"])
    assert result.exit_code == 0, result.output
    assert not (repo / ".github").exists()


def test_a_different_workflow_is_refused_then_forced_then_restored(repo: Path) -> None:
    mine = repo / WORKFLOWS / "costlog.yml"
    mine.parent.mkdir(parents=True)
    mine.write_text("name: my own costlog job\non: push\n")
    (repo / WORKFLOWS / "ci.yml").write_text("name: ci\n")
    before = tree(repo)
    out = init(code=1)
    assert out.count("\n") == 1, out  # one line, naming the file and the way out
    assert ".github/workflows/costlog.yml: exists with different content" in out
    assert "--force" in out
    assert tree(repo) == before  # refused before anything at all was written
    init("--force")
    assert mine.read_text().startswith("# costlog-workflow")
    invoke(["uninstall"])
    assert mine.read_text() == "name: my own costlog job\non: push\n"
    assert tree(repo) == before


def test_an_edited_workflow_is_still_taken_back(repo: Path) -> None:
    """The file invites pinning costlog's version; uninstall removes the pinned copy too."""
    init()
    path = repo / WORKFLOWS / "costlog.yml"
    text = path.read_text()
    assert "python -m pip install costlog\n" in text
    path.write_text(text.replace("install costlog\n", 'install "costlog==0.1.0"\n'))
    out = init(code=1)  # a re-run does not undo the user's pin
    assert "costlog.yml: exists with different content" in out
    invoke(["uninstall"])
    assert not path.exists() and not (repo / ".github").exists()


def test_a_user_workflow_without_the_id_line_survives_uninstall(repo: Path) -> None:
    """A file init wrote, then replaced wholesale by the user, is theirs now."""
    init()
    path = repo / WORKFLOWS / "costlog-comment.yml"
    path.write_text("name: comment\non: workflow_dispatch\n")
    out = invoke(["uninstall"]).output
    assert "costlog-comment.yml" not in out
    assert path.read_text() == "name: comment\non: workflow_dispatch\n"
    assert not (repo / WORKFLOWS / "costlog.yml").exists()


def test_a_symlinked_workflows_folder_is_refused(repo: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (repo / ".github").mkdir()
    (repo / WORKFLOWS).symlink_to(outside)
    before = tree(repo)
    out = init(code=1)
    assert out.strip() == (
        "costlog: error: .github/workflows: is a symbolic link; "
        "costlog does not follow links in a repository"
    )
    assert list(outside.iterdir()) == []
    assert tree(repo) == before


def test_a_symlinked_workflow_file_is_refused(repo: Path, tmp_path: Path) -> None:
    target = tmp_path / "target.yml"
    target.write_text("secret: 1\n")
    (repo / WORKFLOWS).mkdir(parents=True)
    (repo / WORKFLOWS / "costlog.yml").symlink_to(target)
    out = init("--force", code=1)
    assert ".github/workflows/costlog.yml: is a symbolic link" in out
    assert target.read_text() == "secret: 1\n"


def test_dry_run_lists_the_workflows_and_writes_nothing(repo: Path) -> None:
    before = tree(repo)
    out = init("--dry-run")
    assert "would write .github/workflows/costlog.yml" in out
    assert "would write .github/workflows/costlog-comment.yml" in out
    assert tree(repo) == before
