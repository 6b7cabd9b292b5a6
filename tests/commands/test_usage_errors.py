"""Bad or conflicting option values are usage errors (exit 2) in every command (issue 15,
item 17), and the README's first command works however often it is run."""

from __future__ import annotations

from pathlib import Path

import pytest
from agent_logs import claude_session

from costlog.errors import EXIT_USAGE
from tests_support import invoke, run

SID = "5b0c6f7e-1d2a-4c3b-9e8f-0a1b2c3d4e5f"


@pytest.mark.parametrize(
    "args",
    [
        ("scan", "--tz", "Mars/Base"),
        ("report", "--tz", "Mars/Base"),
        ("scan", "--agent", "foo"),
        ("backfill", "--agent", "foo"),
        ("report", "--since", "lastweek"),
        ("scan", "--since", "2026-11-02", "--until", "2026-11-01"),
        ("report", "--since", "2026-11-02", "--until", "2026-11-01"),
        ("export", "--since", "2026-11-02", "--until", "2026-11-02"),
        ("reprice", "--since", "7d", "--until", "30d"),
        ("backfill", "--since", "2026-12-01", "--until", "2026-11-01"),
        ("scan", "--json", "--csv"),
        ("report", "--json", "--csv"),
    ],
)
def test_bad_or_conflicting_option_values_are_usage_errors(
    repo: Path, args: tuple[str, ...]
) -> None:
    run("init")
    result = invoke(args)
    assert result.exit_code == EXIT_USAGE, result.output
    assert "Usage: " in result.output and "Error: " in result.output
    assert "Traceback" not in result.output


def test_the_usage_errors_name_what_is_wrong(repo: Path) -> None:
    run("init")
    tz = invoke(["scan", "--tz", "Mars/Base"]).output
    assert "Invalid value for '--tz': unknown time zone 'Mars/Base'" in tz
    agent = invoke(["scan", "--agent", "foo"]).output
    assert "unknown agent 'foo' (known: claude-code, codex" in agent
    order = invoke(["report", "--since", "2026-11-02", "--until", "2026-11-01"]).output
    assert "--since (2026-11-02T00:00:00+00:00) is not before --until" in order
    both = invoke(["report", "--json", "--csv"]).output
    assert "--json and --csv exclude each other: give one" in both


def test_good_values_still_work(repo: Path) -> None:
    run("init")
    run("scan", "--tz", "Europe/Berlin", "--agent", "codex", "--since", "2026-11-01")
    run("report", "--tz", "UTC", "--since", "2026-11-01", "--until", "2026-11-02", "--json")


def test_an_empty_session_id_means_auto(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run("init")
    claude = tmp_path / "claude"
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(claude))
    claude_session(claude, SID, repo, "2026-11-19T10:00", 2)
    out = run("record", "--session", "")
    assert out.startswith("recorded 2026-11-19 claude-code")
    assert [p.name for p in (repo / ".costlog/sessions/claude-code").glob("*.yaml")] == [
        p.name for p in (repo / ".costlog/sessions/claude-code").glob(f"*{SID[:8]}*.yaml")
    ]
    manual = run(
        "record", "--model", "claude-sonnet-4-6", "--tasks", "1", "--task-types", "1 code",
        "--session", "",
    )  # fmt: skip
    assert manual.startswith("recorded ") and "$0.02 (manual)" in manual
    assert len(list((repo / ".costlog/sessions/manual").glob("*.yaml"))) == 1


def test_the_demo_can_be_run_twice_and_rebuilt(tmp_path: Path) -> None:
    target = tmp_path / "costlog-demo"
    first = run("demo", str(target))
    log = target / "COST_LOG.md"
    text = log.read_text()
    second = run("demo", str(target))
    assert "built earlier; --force rebuilds it" in second
    assert f"open {log.resolve()}" in first and f"open {log.resolve()}" in second
    assert log.read_text() == text
    (target / "scratch.txt").write_text("mine\n")
    third = run("demo", "--force", str(target))
    assert "built earlier" not in third
    assert not (target / "scratch.txt").exists()
    assert log.read_text() == text


def test_the_demo_refuses_a_directory_it_did_not_build(tmp_path: Path) -> None:
    target = tmp_path / "mine"
    target.mkdir()
    (target / "notes.txt").write_text("keep me\n")
    for args in (["demo", str(target)], ["demo", "--force", str(target)]):
        result = invoke(args)
        assert result.exit_code == EXIT_USAGE  # DIR is a bad argument (issue 15, item 17)
        assert result.output == (
            f"costlog: error: {target}: directory is not empty (give a new or empty "
            "directory, or the folder of an earlier demo)\n"
        )
    assert (target / "notes.txt").read_text() == "keep me\n"


def test_the_demo_in_an_impossible_place_is_one_clean_line(tmp_path: Path) -> None:
    result = invoke(["demo", "/proc/nope"])
    assert result.exit_code == EXIT_USAGE
    assert result.output.count("\n") == 1
    assert result.output.startswith("costlog: error: /proc/nope: ")
