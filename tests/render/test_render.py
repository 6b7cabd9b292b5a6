"""COST_LOG.md: blocks regenerate, hand-written text survives, cells cannot break tables."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from costlog import render, resources
from costlog.config import Config
from costlog.errors import CostlogError
from costlog.models import Entry, ModelUsage, Usage

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
    conflicted = (
        "hand\n<!-- costlog:begin a -->\n<<<<<<< HEAD\nrow 1\n=======\nrow 2\n"
        ">>>>>>> feature\n<!-- costlog:end a -->\nmore hand\n"
    )
    resolved = render.resolve_conflicts(conflicted, "COST_LOG.md")
    assert render.splice(resolved, FRESH, "COST_LOG.md") == (
        "hand\n<!-- costlog:begin a -->\nnew a\n<!-- costlog:end a -->\nmore hand\n"
        "\n<!-- costlog:begin b -->\nnew b\nline 2\n<!-- costlog:end b -->\n"
    )


def test_conflict_in_hand_written_text_is_refused_with_line() -> None:
    conflicted = "top\n<<<<<<< HEAD\nmy note\n=======\ntheir note\n>>>>>>> other\n"
    with pytest.raises(CostlogError) as info:
        render.resolve_conflicts(conflicted, "COST_LOG.md")
    assert info.value.one_line().startswith("COST_LOG.md:2: merge conflict in hand-written text")


@pytest.mark.parametrize(
    "text", ["a | b", "line\nbreak", "<script>x</script>", "back\\", "`code|`", "a\r\nb|c\\|d"]
)
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


def test_cost_cells_never_show_a_bare_zero_for_unpriced_tokens() -> None:
    assert render.session_cost({"cost": None, "known_cost": "0"}) == "unpriced"
    assert render.session_cost({"cost": None, "known_cost": "0.5"}) == "$0.50 + unpriced"
    assert render.session_cost({"cost": "1.25", "known_cost": "1.25"}) == "$1.25"
    assert render.spend_cost({"cost": "0", "unpriced": 3}) == "unpriced"
    assert render.spend_cost({"cost": "2", "unpriced": 1}) == "$2.00 + 1 unpriced"


def _entries(n: int) -> list[Entry]:
    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    return [
        Entry(
            id=f"codex/s{i:04d}",
            agent="codex",
            started=t0 + timedelta(minutes=i),
            models={
                "gpt-5-codex": ModelUsage(1, Usage(1, 1), Decimal("9" if i % 10 == 0 else "1"))
            },
            cost_usd=Decimal("9" if i % 10 == 0 else "1"),
            source="actual",
        )
        for i in range(n)
    ]


def test_context_holds_only_the_rows_the_template_shows() -> None:
    config = Config(session_log_limit=50)
    context = render.build_context(_entries(500), config)
    assert [s["id"] for s in context["sessions"][:2]] == ["codex/s0499", "codex/s0498"]
    assert len(context["sessions"]) == 50 and context["sessions_omitted"] == 450
    assert context["totals"]["sessions"] == 500
    assert context["totals"]["cost"] == "900.000000"  # 50 x $9 + 450 x $1
    assert len(context["anomalies"]) == render.ANOMALY_ROWS
    assert context["anomalies_total"] == 50
    assert len(context["trend"]) == 30 and context["trend"][-1]["id"] == "codex/s0499"


def test_default_config_renders_unset_budgets_as_off() -> None:
    context = render.build_context(_entries(20), Config())
    text = render.render_text(context, resources.template())
    assert "| Monthly total (2026-11) | $36.00 | not set: budget.monthly_usd | off |" in text


def test_an_empty_ledger_renders_every_block() -> None:
    text = render.render_text(render.build_context([], Config()), resources.template())
    names = [p.name for p in render.split_blocks(text, "empty") if p.name]
    assert names == [
        "summary",
        "guide",
        "sessions",
        "monthly",
        "plans",
        "spend",
        "work-items",
        "anomalies",
        "alerts",
        "routing",
        "methodology",
    ]
    assert "**0 sessions, $0.00 in total**." in text
    assert "No session is linked to a work item yet." in text
    assert "| Monthly total (-) | $0.00 | not set: budget.monthly_usd | off |" in text
    assert "20" not in text.split("costlog:begin alerts")[1].split("costlog:end alerts")[0]


def test_cost_per_directory_table_appears_when_configured() -> None:
    start = datetime(2026, 11, 2, 9, tzinfo=UTC)
    entries = [
        Entry(
            id=f"claude-code/d{n}",
            agent="claude-code",
            started=start + timedelta(hours=n),
            cwd=cwd,
            models={"claude-sonnet-4-6": ModelUsage(3, Usage(10, 100, 1000), Decimal(amount))},
            cost_usd=Decimal(amount),
            source="actual",
        )
        for n, (cwd, amount) in enumerate(
            [("services/billing", "0.40"), ("services/billing/api", "0.10"), (".", "0.05")]
        )
    ]
    config = Config(cost_directories=["services/billing"])
    text = render.render_text(
        render.build_context(entries, config, price_table="t"), resources.template()
    )
    assert "| services/billing | 2 | $0.50 |" in text
    assert "| (other) | 1 | $0.05 |" in text
    plain = render.render_text(
        render.build_context(entries, Config(), price_table="t"), resources.template()
    )
    assert "Cost per repo directory" not in plain
