"""Issue 15 item 17 after review: bad option values and conflicting options are usage
errors (exit 2) with one clean line naming the option, never a raw git message."""

from __future__ import annotations

from pathlib import Path

from tests_support import git, invoke, run


def _usage(*args: str) -> str:
    result = invoke(list(args))
    assert result.exit_code == 2, result.output
    return result.output


def test_report_repo_that_does_not_exist_is_a_usage_error(repo: Path, tmp_path: Path) -> None:
    run("init", "--agent", "claude-code")
    said = _usage("report", "--repo", str(tmp_path / "nonexistent"))
    assert f"--repo {tmp_path / 'nonexistent'}: no such directory" in said
    plain = tmp_path / "plain"
    plain.mkdir()
    assert "not a git repository" in _usage("report", "--repo", str(plain))


def test_record_since_an_unknown_ref_names_the_option(repo: Path) -> None:
    run("init", "--agent", "claude-code")
    said = _usage("record", "--model", "claude-sonnet-4-6", "--since", "nosuchref")
    assert "--since" in said and "'nosuchref' is not a commit in this repository" in said
    assert "git rev-list failed" not in said and "fatal:" not in said
    assert not list((repo / ".costlog" / "sessions").rglob("*.yaml"))  # nothing recorded


def test_record_since_with_a_cost_is_refused_not_ignored(repo: Path) -> None:
    run("init", "--agent", "claude-code")
    said = _usage("record", "--model", "claude-sonnet-4-6", "--cost", "0.01", "--since", "HEAD")
    assert "--since" in said and "--cost" in said
    assert not list((repo / ".costlog" / "sessions").rglob("*.yaml"))


def test_record_since_a_real_ref_still_estimates(repo: Path) -> None:
    run("init", "--agent", "claude-code")
    (repo / "app.py").write_text("print('hello')\n" * 40)
    git(repo, "add", "app.py")
    git(repo, "commit", "-q", "-m", "Add the app")
    out = run("record", "--agent", "cursor", "--model", "gpt-5", "--since", "HEAD~1", "--no-stage")
    assert out.startswith("recorded ")


def test_demo_in_a_place_it_cannot_create_is_a_usage_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    said = _usage("demo", str(blocker / "inside"))
    lines = [line for line in said.splitlines() if line.strip()]
    assert len(lines) == 1 and "cannot create the directory" in lines[0], said


def test_demo_in_a_non_empty_folder_that_is_no_demo_is_a_usage_error(tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me")
    said = _usage("demo", str(folder))
    assert "directory is not empty" in said
    assert (folder / "notes.txt").read_text() == "keep me"
