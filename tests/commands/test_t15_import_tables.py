"""Issue 15, item 13: `costlog import` replaces the classic log's Budget Alerts table and
its "Tasks that should use Haiku / need Opus" tables by the generated blocks, as the README
says ("its tables become generated blocks"), instead of keeping them above the generated
ones; the prose of those sections stays."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests_support import FIXTURES_DIR, run

CLASSIC = FIXTURES_DIR / "import" / "COST_LOG.classic.md"


def _imported(repo: Path) -> tuple[str, str]:
    shutil.copy(CLASSIC, repo / "COST_LOG.md")
    out = run("import", "COST_LOG.md")
    return out, (repo / "COST_LOG.md").read_text()


def test_one_budget_alerts_table_after_import(repo: Path) -> None:
    out, text = _imported(repo)
    assert text.count("## Budget Alerts") == 1
    assert text.count("| Alert |") == 1  # the generated one, not the hand table above it
    assert "| Haiku underutilization |" not in text
    block = text.split("<!-- costlog:begin alerts -->")[1].split("<!-- costlog:end alerts -->")[0]
    assert "| Alert | Value | Threshold | State | Sessions | Action |" in block
    # the section's own prose stays, right above the block
    prose = "Set these thresholds and review when they're hit."
    assert text.index(prose) < text.index("<!-- costlog:begin alerts -->")
    assert "budget alerts, model routing" in out


def test_routing_tables_become_the_routing_block(repo: Path) -> None:
    _, text = _imported(repo)
    section = text.split("## Cost Optimization Notes")[1].split("\n---")[0]
    assert "### Tasks that should use Haiku" not in section
    assert "### Tasks that need Opus" not in section
    assert "| Reading CHANGELOG.md at session start |" not in section
    assert "| Security review before production release |" not in section
    assert section.count("<!-- costlog:begin routing -->") == 1
    assert "### Tasks that could use a smaller model" in section
    assert "### Tasks that need a large model" in section
    for prose in ("Review this quarterly.", "Be honest about this."):
        assert section.index(prose) < section.index("<!-- costlog:begin routing -->")
    assert text.count("<!-- costlog:begin") == text.count("<!-- costlog:end")


def test_imported_log_is_stable_and_checks(repo: Path) -> None:
    _, text = _imported(repo)
    assert run("check").startswith("ok:")
    assert run("render") == "COST_LOG.md unchanged\n"
    assert (repo / "COST_LOG.md").read_text() == text


def test_a_template_without_those_blocks_keeps_the_hand_tables(repo: Path) -> None:
    (repo / ".costlog").mkdir()
    (repo / ".costlog" / "config.yaml").write_text("template: my.j2\n")
    (repo / "my.j2").write_text(
        "# Log\n\n<!-- costlog:begin sessions -->\n{% for s in sessions %}- {{ s.short_id }}\n"
        "{% endfor %}<!-- costlog:end sessions -->\n"
    )
    out, text = _imported(repo)
    assert "(session log, monthly summary, estimation guide)" in out
    assert "| Haiku underutilization |" in text  # nowhere to put generated alerts: kept
    assert "### Tasks that need Opus (currently using Sonnet)" in text
    assert "<!-- costlog:begin alerts -->" not in text
    assert "<!-- costlog:begin routing -->" not in text
