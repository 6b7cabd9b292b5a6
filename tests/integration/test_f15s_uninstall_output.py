"""Issue 15 review: `costlog uninstall` never deletes a COST_LOG.md that holds recorded
sessions or text the user wrote; only the one init wrote, still byte for byte as it was."""

from __future__ import annotations

from pathlib import Path

from tests_support import run


def test_uninstall_keeps_a_cost_log_with_recorded_sessions(repo: Path) -> None:
    run("init", "--agent", "claude-code")
    run("record", "--model", "claude-sonnet-4-6", "--cost", "0.25", "--tasks", "1", "--no-stage")
    run("init", "--agent", "claude-code")  # re-renders: init's "after" now holds the session
    text = (repo / "COST_LOG.md").read_text()
    assert "$0.25" in text
    out = run("uninstall")
    assert "remove COST_LOG.md" not in out
    assert "left COST_LOG.md alone: it holds recorded sessions" in out
    assert (repo / "COST_LOG.md").read_text() == text
    assert list((repo / ".costlog" / "sessions").rglob("*.yaml"))  # the ledger is data too


def test_uninstall_keeps_a_cost_log_the_user_wrote_in(repo: Path) -> None:
    run("init", "--agent", "claude-code")
    log = repo / "COST_LOG.md"
    log.write_text(log.read_text() + "\nOur team's notes on spending.\n")
    run("init", "--agent", "claude-code")
    out = run("uninstall")
    assert "left COST_LOG.md alone: it changed since `costlog init` wrote it" in out
    assert log.read_text().endswith("Our team's notes on spending.\n")


def test_uninstall_removes_the_cost_log_init_wrote_untouched(repo: Path) -> None:
    run("init", "--agent", "claude-code")
    out = run("uninstall")
    assert "remove COST_LOG.md" in out
    assert not (repo / "COST_LOG.md").exists()


def test_uninstall_puts_back_a_cost_log_that_was_there_before(repo: Path) -> None:
    log = repo / "COST_LOG.md"
    log.write_text("# Cost log\n\nKept by hand.\n")
    run("init", "--agent", "claude-code")
    run("uninstall")
    assert log.read_text() == "# Cost log\n\nKept by hand.\n"  # the exact bytes back
