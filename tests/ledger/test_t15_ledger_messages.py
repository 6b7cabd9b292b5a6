"""Issue 15, item 16: a ledger file left with git's conflict markers is reported as a merge
conflict at the marker's line, not as a generic YAML error; an empty file says it is
empty, not "found None"."""

from __future__ import annotations

from pathlib import Path

from tests_support import git, invoke, run


def _entry(repo: Path) -> Path:
    [path] = (repo / ".costlog" / "sessions").rglob("*.yaml")
    return path


def test_conflict_markers_in_a_ledger_file_are_named(repo: Path) -> None:
    run("record", "--model", "claude-sonnet-4-6", "--cost", "0.25", "--notes", "base",
        "--started", "2026-12-01T09:00:00Z", "--no-render")  # fmt: skip
    path = _entry(repo)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Record a session")
    git(repo, "checkout", "-q", "-b", "other")
    path.write_text(path.read_text().replace("notes: base", "notes: theirs"))
    git(repo, "commit", "-q", "-am", "Their notes")
    git(repo, "checkout", "-q", "main")
    path.write_text(path.read_text().replace("notes: base", "notes: ours"))
    git(repo, "commit", "-q", "-am", "Our notes")
    assert git(repo, "merge", "other", check=False).returncode != 0  # a real conflict
    text = path.read_text()
    assert "<<<<<<< " in text
    line = text.splitlines().index(next(ln for ln in text.splitlines() if ln.startswith("<<<")))
    rel = path.relative_to(repo).as_posix()

    result = invoke(["report"])
    assert result.exit_code == 1
    assert f"{rel}:{line + 1}: unresolved merge conflict: a `<<<<<<<` marker line" in (
        result.output
    )
    assert "not valid YAML" not in result.output


def test_an_empty_ledger_file_says_so(repo: Path) -> None:
    run("record", "--model", "claude-sonnet-4-6", "--cost", "0.25", "--no-render")
    path = _entry(repo)
    path.write_text("")
    result = invoke(["report"])
    assert result.exit_code == 1
    rel = path.relative_to(repo).as_posix()
    assert f"{rel}:1: the file is empty: no ledger entry in it" in result.output
    assert "None" not in result.output


def test_a_file_without_schema_names_the_missing_line(repo: Path) -> None:
    run("record", "--model", "claude-sonnet-4-6", "--cost", "0.25", "--no-render")
    path = _entry(repo)
    path.write_text("\n".join(ln for ln in path.read_text().splitlines() if ln != "schema: 1"))
    result = invoke(["report"])
    assert result.exit_code == 1
    assert "no `schema: 1` line: not a ledger entry" in result.output
    assert "found None" not in result.output
