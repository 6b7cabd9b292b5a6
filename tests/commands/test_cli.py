"""End to end from the command line, in real git repos."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from costlog.errors import EXIT_CHECK_FAILED, EXIT_ERROR
from tests_support import git, invoke, run

SESSIONS = Path(".costlog/sessions")


def costlog(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The installed command, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "costlog", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        env=os.environ.copy(),
    )


def test_init_writes_config_and_log_and_is_idempotent(repo: Path) -> None:
    out = run("init")
    assert "wrote .costlog/config.yaml" in out
    assert (repo / "COST_LOG.md").read_text().startswith("# COST_LOG.md")
    config = (repo / ".costlog/config.yaml").read_text()
    (repo / ".costlog/config.yaml").write_text(config + "timezone: Europe/Berlin\n")
    again = run("init")
    assert "wrote .costlog/config.yaml" not in again
    assert "Europe/Berlin" in (repo / ".costlog/config.yaml").read_text()


def test_manual_record_prices_from_the_estimation_guide(repo: Path) -> None:
    run("init")
    out = run(
        "record",
        "--model",
        "claude-sonnet-4-6",
        "--tasks",
        "4",
        "--task-types",
        "3 code, 1 docs",
        "--notes",
        "Stripe connector + tests",
    )
    # seeded guide: sonnet code $0.01-0.03 (median 0.02) x3 + docs $0.005-0.01 (0.0075) x1
    assert out.startswith("recorded ")
    assert out.rstrip().endswith("claude-sonnet-4-6, 4 tasks, $0.07 (manual)")
    [path] = (repo / SESSIONS / "manual").glob("*.yaml")
    text = path.read_text()
    assert 'cost_usd: "0.067500"' in text
    assert "types: {code: 3, docs: 1}" in text
    log = (repo / "COST_LOG.md").read_text()
    assert "| 3 code, 1 docs |" in log
    assert "Stripe connector + tests" in log
    run("check")


def test_record_with_tokens_uses_the_price_table(repo: Path) -> None:
    run("init")
    out = run(
        "record",
        "--model",
        "claude-sonnet-4-6",
        "--input-tokens",
        "1000000",
        "--output-tokens",
        "100000",
        "--session",
        "abc",
    )
    # $3/MTok input + $15/MTok output
    assert out.rstrip().endswith("claude-sonnet-4-6, $4.50 (manual)")


def test_unknown_model_is_kept_unpriced_with_a_warning(repo: Path) -> None:
    run("init")
    result = invoke(
        ["record", "--model", "acme-coder-9", "--input-tokens", "500", "--output-tokens", "50"]
    )
    assert result.exit_code == 0
    assert "no price for model 'acme-coder-9'" in result.output
    assert "unpriced (manual)" in result.output
    [path] = (repo / SESSIONS / "manual").glob("*.yaml")
    assert "acme-coder-9: {requests: 1, input: 500, output: 50" in path.read_text()
    assert "cost_usd: null" in path.read_text()
    assert "used a model with no known price" in (repo / "COST_LOG.md").read_text()


def test_re_recording_a_session_updates_it_in_place(repo: Path) -> None:
    run("init")
    run(
        "record",
        "--model",
        "claude-sonnet-4-6",
        "--session",
        "s1",
        "--cost",
        "0.10",
        "--notes",
        "first",
    )
    run("record", "--model", "claude-sonnet-4-6", "--session", "s1", "--cost", "0.25")
    files = list((repo / SESSIONS).rglob("*.yaml"))
    assert [f.name for f in files] == ["s1.yaml"]
    text = files[0].read_text()
    assert 'cost_usd: "0.250000"' in text
    assert "notes: first" in text  # a hand-entered field the re-record did not give is kept


def test_check_catches_stale_log_and_edits_inside_blocks(repo: Path) -> None:
    run("init")
    run("record", "--model", "claude-haiku-4-5", "--cost", "0.01")
    log = repo / "COST_LOG.md"
    log.write_text(log.read_text().replace("| manual |", "| edited |", 1))
    out = run("check", code=EXIT_CHECK_FAILED)
    assert "COST_LOG.md:" in out
    assert "block 'sessions' differs" in out
    assert "run `costlog render`" in out
    run("render")
    run("check")


def test_hand_written_text_survives_record_and_render(repo: Path) -> None:
    run("init")
    log = repo / "COST_LOG.md"
    mine = "\n## Team notes\n\nWe pay for | pipes and <b>tags</b> ourselves.\n"
    log.write_text(log.read_text() + mine)
    for i in range(3):
        run("record", "--model", "claude-sonnet-4-6", "--cost", f"0.0{i + 1}")
    text = log.read_text()
    assert text.endswith(mine)
    assert text.count("| manual |") >= 3
    run("check")


def test_corrupt_ledger_file_is_one_line_error_and_nothing_is_overwritten(repo: Path) -> None:
    run("init")
    run("record", "--model", "claude-sonnet-4-6", "--cost", "0.05", "--session", "good")
    bad = repo / SESSIONS / "manual" / "bad.yaml"
    bad.write_text("schema: 1\nid: manual/bad\nmodels: {x: [1,\n")
    before = (repo / "COST_LOG.md").read_bytes()
    done = costlog(repo, "render")
    assert done.returncode == EXIT_ERROR
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("costlog: error: .costlog/sessions/manual/bad.yaml:")
    assert "Traceback" not in done.stderr
    assert (repo / "COST_LOG.md").read_bytes() == before
    assert (repo / SESSIONS / "manual" / "good.yaml").exists()
    check = costlog(repo, "check")
    assert check.returncode == EXIT_CHECK_FAILED
    assert "bad.yaml" in check.stderr


def test_two_branches_merge_without_ledger_conflict(repo: Path) -> None:
    run("init")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "costlog init")
    git(repo, "checkout", "-q", "-b", "feature")
    run("record", "--model", "claude-sonnet-4-6", "--cost", "0.40", "--session", "on-feature")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "session on feature")
    git(repo, "checkout", "-q", "main")
    run(
        "record",
        "--model",
        "gpt-5-codex",
        "--agent",
        "codex",
        "--cost",
        "0.20",
        "--session",
        "on-main",
    )
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "session on main")
    merge = git(repo, "merge", "--no-edit", "feature", check=False)
    conflicted = git(repo, "diff", "--name-only", "--diff-filter=U").stdout.split()
    assert not [p for p in conflicted if p.startswith(".costlog/")], merge.stdout
    assert {p.name for p in (repo / SESSIONS).rglob("*.yaml")} == {
        "on-feature.yaml",
        "on-main.yaml",
    }
    # the merge driver `costlog init` registered rendered the merged ledger already
    assert "<<<<<<<" not in (repo / "COST_LOG.md").read_text()
    assert "COST_LOG.md unchanged" in run("render")
    assert git(repo, "status", "--porcelain").stdout == ""  # the merge commit has it all
    assert "matches 2 ledger sessions" in run("check")


def test_demo_builds_a_repo_with_a_rendered_log(tmp_path: Path) -> None:
    target = tmp_path / "demo"
    out = run("demo", str(target))
    assert f"open {target / 'COST_LOG.md'}" in out
    log = (target / "COST_LOG.md").read_text()
    actual = re.search(r"^\| actual \| (\d+) \|", log, re.M)  # the methodology row
    assert actual is not None and int(actual.group(1)) >= 8
    assert "claude-opus-4-6" in log and "gpt-5-codex" in log and "gemini-2.5-pro" in log
    assert git(target, "status", "--porcelain").stdout == ""
    check = costlog(target, "check")
    assert check.returncode == 0, check.stderr


def test_pricing_show_and_unknown(repo: Path) -> None:
    assert "claude-sonnet-4-6" in run("pricing", "list")
    assert '"claude-opus-4-6"' in run("pricing", "show", "anthropic/claude-opus-4-6")
    out = run("pricing", "show", "acme-coder-9", code=EXIT_ERROR)
    assert "no price for model 'acme-coder-9'" in out


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["record", "--help"],
        ["render", "--help"],
        ["check", "--help"],
        ["pricing", "show", "--help"],
    ],
)
def test_help_everywhere(args: list[str]) -> None:
    assert "Usage:" in run(*args)


def test_outside_a_repo_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    out = run("render", code=EXIT_ERROR)
    assert out.startswith("costlog: error: not inside a git repository")
