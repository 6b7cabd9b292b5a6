"""What tool calls tell: git commits made, files edited."""

from __future__ import annotations

from costlog.sources._tools import absolute, commit_refs, is_git_commit


def test_commit_refs_parse_git_output() -> None:
    out = "[main (root-commit) 0a1b2c3] Initial commit\n 1 file changed\n"
    assert commit_refs(out) == {"0a1b2c3", "Initial commit"}
    assert is_git_commit("bash -lc 'git add -A && git commit -m x'")
    assert not is_git_commit("git log --oneline")


def test_relative_paths_are_made_absolute_against_a_known_base() -> None:
    assert absolute("src/a.py", "/repo") == "/repo/src/a.py"
    assert absolute("/etc/x", "/repo") == "/etc/x"
    assert absolute("a.py", None) == "a.py"
