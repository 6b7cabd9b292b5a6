"""Issue 15, items 14, 15 and 16: what COST_LOG.md says, read as GitHub renders it.

- 14: the Methodology cell names each method once, with how many sessions used it.
- 15: the session table has eight columns, and dates, ids, agents, models and work-item
  keys cannot wrap at their hyphens (U+2011), so GitHub's squeezed columns keep them whole.
- 16: plurals ("1 session"), the price-table line, the two Velocity lines as two
  paragraphs, no nested parentheses in the generated text.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from costlog import config as config_mod
from costlog.render.filters import NB_HYPHEN
from tests_support import GOLDEN_DIR, invoke, run


def _block(text: str, name: str) -> str:
    return text.split(f"<!-- costlog:begin {name} -->")[1].split(f"<!-- costlog:end {name} -->")[0]


def _html(text: str) -> str:
    return MarkdownIt("commonmark").enable("table").render(text)


def _guide_sessions(repo: Path) -> str:
    """Two sessions priced from the estimation guide (their methods differ only in the
    task count) and one cost entered by hand, on a feature branch's work item."""
    run("record", "--model", "claude-sonnet-4-6", "--tasks", "2", "--task-types", "2 code",
        "--started", "2026-12-01T09:00:00Z", "--work-item", "WRK-237")  # fmt: skip
    run("record", "--model", "claude-sonnet-4-6", "--tasks", "3", "--task-types", "3 code",
        "--started", "2026-12-01T10:00:00Z", "--work-item", "WRK-237")  # fmt: skip
    run("record", "--model", "claude-sonnet-4-6", "--cost", "0.5",
        "--started", "2026-12-02T10:00:00Z", "--notes", "pairing")  # fmt: skip
    return (repo / "COST_LOG.md").read_text()


def test_methodology_names_each_method_once_with_counts(repo: Path) -> None:
    text = _guide_sessions(repo)
    [row] = [ln for ln in _block(text, "methodology").splitlines() if ln.startswith("| manual")]
    methods = row.split(" | ")[4].rstrip(" |").split("<br>")
    assert methods == [
        "cost, 2 sessions: estimation guide: 2\u20133 x code @ $0.0200",
        "cost, 1 session: entered by hand",
    ]


def test_session_table_fits_a_pr_view_without_wrapping_ids(repo: Path) -> None:
    text = _guide_sessions(repo)
    block = _block(text, "sessions")
    header = next(line for line in block.splitlines() if line.startswith("| "))
    assert header == "| Date (2026) | Session | Agent | Model | Tasks | Cost | Work items | Notes |"
    html = _html(block)
    cells = re.findall(r"<td>(.*?)</td>", html)
    assert len(cells) == 3 * 8
    first = cells[:8]  # newest first
    assert first[0] == f"12{NB_HYPHEN}02"  # the year is in the header; no break left
    assert first[3] == f"claude{NB_HYPHEN}sonnet{NB_HYPHEN}4{NB_HYPHEN}6"
    assert first[5] == "$0.50 manual"  # the source folded into the cost
    guided = cells[8:16]
    assert guided[4] == "3 code"  # task count and types in one cell
    assert guided[6] == f"WRK{NB_HYPHEN}237"
    assert all("-" not in c for row in (first, guided) for c in (row[0], row[1], row[6]))
    # the other tables keep plain, greppable keys
    assert "| WRK-237 | 2 |" in _block(text, "work-items")


def test_sessions_of_two_years_show_full_dates(repo: Path) -> None:
    for started in ("2025-12-31T09:00:00Z", "2026-01-01T09:00:00Z"):
        run("record", "--model", "claude-sonnet-4-6", "--cost", "0.25", "--started", started)
    block = _block((repo / "COST_LOG.md").read_text(), "sessions")
    assert "| Date | Session |" in block
    dates = [line.split(" | ")[0].strip("| ") for line in block.splitlines()[3:5]]
    assert dates == [f"2026{NB_HYPHEN}01{NB_HYPHEN}01", f"2025{NB_HYPHEN}12{NB_HYPHEN}31"]


def test_one_session_reads_in_the_singular(repo: Path) -> None:
    run("record", "--model", "claude-sonnet-4-6", "--cost", "0.25",
        "--started", "2026-12-01T09:00:00Z")  # fmt: skip
    text = (repo / "COST_LOG.md").read_text()
    assert "**1 session, $0.25 in total**" in text
    assert "claude-sonnet-4-6, 1 session |" in _block(text, "monthly")
    assert "No session is linked to a work item yet." in text
    assert "#### Trend: the last 1 session\n" in text
    assert "1 sessions" not in text and "session(s)" not in text
    assert run("check").startswith("ok: COST_LOG.md matches 1 ledger session\n")


def _flat(text: str) -> None:
    for line in text.splitlines():
        depth = 0
        for char in line:
            depth += {"(": 1, ")": -1}.get(char, 0)
            assert depth <= 1, line


def test_generated_text_has_no_nested_parentheses(repo: Path) -> None:
    text = _guide_sessions(repo)
    _flat(
        "".join(part.split("<!-- costlog:end")[0] for part in text.split("<!-- costlog:begin")[1:])
    )
    # an unset budget: `(threshold not set (budget.monthly_usd))` before
    budget = run("budget")
    assert "not set: budget.monthly_usd" in budget
    _flat(budget)
    # a broken ledger file: `(fix or restore the file (git checkout -- FILE))` before
    entry = sorted((repo / ".costlog" / "sessions").rglob("*.yaml"))[0]
    entry.write_text(entry.read_text().replace("schema: 1", "schema: 7x"))
    result = invoke(["report"])
    assert result.exit_code == 1 and "git checkout -- FILE" in result.output
    _flat(result.output)


def test_price_line_names_the_repo_price_file_in_words(repo: Path) -> None:
    (repo / ".costlog").mkdir(exist_ok=True)
    (repo / ".costlog" / "prices.yaml").write_text(
        "version: 2026-12-01\nmodels:\n  claude-sonnet-4-6:\n    provider: anthropic\n"
        "    prices:\n      - {from: 2026-01-01, input: 3, output: 15, cache_read: 0.3,"
        " cache_write_5m: 3.75, cache_write_1h: 6}\n"
    )
    run("record", "--model", "claude-sonnet-4-6", "--cost", "0.25",
        "--started", "2026-12-01T09:00:00Z")  # fmt: skip
    summary = _block((repo / "COST_LOG.md").read_text(), "summary")
    line = next(ln for ln in summary.splitlines() if ln.startswith("Prices"))
    assert "+" not in line
    assert re.fullmatch(
        r"Prices from costlog's table of \d{4}-\d\d-\d\d and, where it sets a price, from "
        r"\.costlog/prices\.yaml of 2026-12-01; times in UTC\.",
        line,
    ), line


def test_velocity_lines_are_two_paragraphs_on_github(repo: Path) -> None:
    run("record", "--model", "claude-sonnet-4-6", "--cost", "0.25")
    html = _html((repo / "COST_LOG.md").read_text())
    baseline = re.search(r"<p>(<strong>Velocity baseline.*?)</p>", html, re.S)
    assert baseline is not None and "Velocity current" not in baseline.group(1)
    assert re.search(r"<p><strong>Velocity current", html)


@pytest.mark.parametrize("setting", ["monthly_usd", "rolling_7d_usd"])
def test_config_header_says_which_commented_lines_are_only_examples(setting: str) -> None:
    lines = config_mod.DEFAULT_TEXT.splitlines()
    header = " ".join(lines[:2])
    assert "Every line below is a default" not in header
    assert '"off when unset", whose values are only examples' in header
    [line] = [ln for ln in lines if ln.lstrip("# ").startswith(f"{setting}:")]
    assert line.endswith("(off when unset)")
    assert getattr(config_mod.Config().budget, setting) is None  # truly off by default


#: GitHub's table cells: 13 px padding each side (and a border); text at ~7.5 px a character
#: (14 px -apple-system / Segoe UI, digits and lower case)
CELL_PX, CHAR_PX = 27, 7.5
#: the Markdown body of a PR's file view on a 1280-pixel screen, less its margins
PR_VIEW_PX = 980


def test_golden_session_table_keeps_ids_whole_within_a_pr_view() -> None:
    """The narrowest the golden file's session table can be with every date, id, agent,
    model and work item whole: what GitHub squeezes it to before it scrolls."""
    text = (GOLDEN_DIR / "COST_LOG.md").read_text()
    rows = [ln for ln in _block(text, "sessions").splitlines() if ln.startswith("|")]
    del rows[1]  # the delimiter row
    cells = [
        [html.unescape(c.strip()).replace("\\", "") for c in re.split(r"(?<!\\)\|", r[1:-1])]
        for r in rows
    ]  # as the reader sees each cell
    assert {len(row) for row in cells} == {8}
    for row in cells[1:]:
        assert all("-" not in row[i] for i in (0, 1, 2, 3, 6)), row
    # a line may break at spaces and after an ASCII hyphen, never at U+2011
    widest = [
        max(len(w) for row in cells for w in re.split(r"\s+|(?<=-)", row[i]) if w) for i in range(8)
    ]
    assert sum(widest) * CHAR_PX + 8 * CELL_PX <= PR_VIEW_PX, widest


def test_tasks_cell_shows_the_count_when_types_disagree() -> None:
    from costlog.render.filters import session_tasks

    assert session_tasks({"tasks": 4, "task_types": "3 code, 1 docs"}) == "3 code, 1 docs"
    assert session_tasks({"tasks": 5, "task_types": "3 code, 1 docs"}) == "5: 3 code, 1 docs"
    assert session_tasks({"tasks": 3, "task_types": ""}) == "3"
    assert session_tasks({"tasks": None, "task_types": ""}) == ""
