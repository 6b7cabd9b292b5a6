"""COST_LOG.md: blocks regenerate, hand-written text survives, cells cannot break tables."""

from __future__ import annotations

import pytest

from costlog import render
from costlog.errors import CostlogError

DOC = """# Log
intro written by hand
<!-- costlog:begin a -->
old a
<!-- costlog:end a -->
middle, hand-written | with pipes
<!-- costlog:begin b -->
old b
<!-- costlog:end b -->
tail without newline"""

FRESH = """# template header (ignored when the file exists)
<!-- costlog:begin a -->
new a
<!-- costlog:end a -->
<!-- costlog:begin b -->
new b
line 2
<!-- costlog:end b -->
"""


def test_splice_replaces_only_block_insides() -> None:
    out = render.splice(DOC, FRESH, "COST_LOG.md")
    assert out == DOC.replace("old a", "new a").replace("old b", "new b\nline 2")


def test_splice_appends_a_block_the_file_lacks() -> None:
    existing = "# Log\n<!-- costlog:begin a -->\nx\n<!-- costlog:end a -->\nmine\n"
    out = render.splice(existing, FRESH, "COST_LOG.md")
    assert out.startswith("# Log\n<!-- costlog:begin a -->\nnew a\n<!-- costlog:end a -->\nmine\n")
    assert out.endswith("<!-- costlog:begin b -->\nnew b\nline 2\n<!-- costlog:end b -->\n")


def test_missing_end_marker_names_the_line() -> None:
    broken = "x\n<!-- costlog:begin a -->\nrow\n"
    with pytest.raises(CostlogError) as info:
        render.splice(broken, FRESH, "COST_LOG.md")
    assert info.value.one_line().startswith("COST_LOG.md:2: block 'a' has no end marker")


def test_conflict_inside_generated_block_resolves() -> None:
    conflicted = ("hand\n<!-- costlog:begin a -->\n<<<<<<< HEAD\nrow 1\n=======\nrow 2\n"
                  ">>>>>>> feature\n<!-- costlog:end a -->\nmore hand\n")
    resolved = render.resolve_conflicts(conflicted, "COST_LOG.md")
    assert render.splice(resolved, FRESH, "COST_LOG.md") == (
        "hand\n<!-- costlog:begin a -->\nnew a\n<!-- costlog:end a -->\nmore hand\n"
        "\n<!-- costlog:begin b -->\nnew b\nline 2\n<!-- costlog:end b -->\n")


def test_conflict_in_hand_written_text_is_refused_with_line() -> None:
    conflicted = "top\n<<<<<<< HEAD\nmy note\n=======\ntheir note\n>>>>>>> other\n"
    with pytest.raises(CostlogError) as info:
        render.resolve_conflicts(conflicted, "COST_LOG.md")
    assert info.value.one_line().startswith("COST_LOG.md:2: merge conflict in hand-written text")


@pytest.mark.parametrize("text", ["a | b", "line\nbreak", "<script>x</script>", "back\\",
                                  "`code|`", "a\r\nb|c\\|d"])
def test_cell_never_breaks_a_table_row(text: str) -> None:
    from markdown_it import MarkdownIt

    row = f"| x | {render.cell(text)} | y |"
    html = MarkdownIt("commonmark").enable("table").render(f"| a | b | c |\n|---|---|---|\n{row}\n")
    assert html.count("<td>") == 3
    assert "<script>" not in html


def test_usd_formats_small_amounts_with_more_places() -> None:
    assert render.usd("0.004") == "$0.0040"
    assert render.usd("1234.5") == "$1,234.50"
    assert render.usd(None) == "unpriced"
