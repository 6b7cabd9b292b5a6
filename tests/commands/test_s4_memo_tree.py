"""Issue 12, session 4: the kept-result key lists the roots' trees on strings; it still
lists every entry once, in order, links unfollowed, and changes with any of them."""

from __future__ import annotations

import os
from pathlib import Path
from typing import ClassVar

from costlog.commands import scan_memo
from costlog.commands.scan import Options


def _layout(tmp_path: Path) -> tuple[Path, Path]:
    root = tmp_path / "projects"
    (root / "-b" / "s1" / "subagents").mkdir(parents=True)
    (root / "-a").mkdir()
    (root / "-a" / "s0.jsonl").write_text("{}\n")
    (root / "-b" / "s1.jsonl").write_text("{}\n")
    (root / "-b" / "s1" / "subagents" / "agent-x.jsonl").write_text("{}\n")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "hidden.jsonl").write_text("{}\n")
    (root / "-link").symlink_to(outside, target_is_directory=True)
    return root, outside


def _tree(root: Path) -> list[str]:
    """The key's lines for `root`, as text."""
    rows: list[bytes] = []
    scan_memo._tree_into(str(root), rows.append)
    return [row[:-1].decode("utf-8", "surrogateescape") for row in rows]


def _names(root: Path) -> list[str]:
    return [row.split("\0")[0] for row in _tree(root)]


def test_the_tree_lists_each_entry_in_order_and_links_unfollowed(tmp_path: Path) -> None:
    root, _ = _layout(tmp_path)
    base = str(root)
    assert _names(root) == [
        base,
        f"{base}/-a",
        f"{base}/-a/s0.jsonl",
        f"{base}/-b",
        f"{base}/-b/s1",
        f"{base}/-b/s1/subagents",
        f"{base}/-b/s1/subagents/agent-x.jsonl",
        f"{base}/-b/s1.jsonl",
        f"{base}/-link",  # listed as a link; what it points to is not read
    ]
    link = next(r for r in _tree(root) if r.startswith(f"{base}/-link"))
    assert int(link.split("\0")[1]) == os.lstat(root / "-link").st_mode
    assert list(_tree(tmp_path / "none")) == [f"{tmp_path / 'none'}\0absent"]


def test_the_key_changes_with_any_entry(tmp_path: Path) -> None:
    root, outside = _layout(tmp_path)
    options, table = Options(agents=["claude-code"]), _Table()

    def key() -> str | None:
        return scan_memo.key(options, table, {"claude-code": [root]})

    first = key()
    assert first is not None and key() == first
    (outside / "hidden.jsonl").write_text("{}\n{}\n")  # behind a link: not the scan's
    assert key() == first
    (root / "-b" / "new").mkdir()  # an empty folder
    second = key()
    assert second != first
    os.utime(root / "-a" / "s0.jsonl", ns=(0, 12345))
    assert key() not in (first, second)


class _Table:
    """What `key` reads of a price table."""

    version = "test"
    _models: ClassVar[dict[str, str]] = {"m": "1"}
