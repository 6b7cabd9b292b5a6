"""`costlog record`'s by-hand options as a new user types them (issue 15, items 7-9)."""

from __future__ import annotations

from pathlib import Path

import pytest

from costlog.errors import EXIT_USAGE
from tests_support import git, invoke, run

SESSIONS = Path(".costlog/sessions")
BY_HAND = ("record", "--model", "claude-sonnet-4-6", "--no-stage")


@pytest.mark.parametrize(
    ("types", "said"),
    [
        ("three code", "cannot read task type 'three code': the count goes first, as digits"),
        ("code 3", "cannot read task type 'code 3': the count goes first, as digits"),
        ("3code", "cannot read task type '3code'"),
    ],
)
def test_task_types_with_a_misplaced_count_are_a_usage_error(
    repo: Path, types: str, said: str
) -> None:
    run("init")
    result = invoke([*BY_HAND, "--task-types", types])
    assert result.exit_code == EXIT_USAGE
    assert result.output == (
        f'costlog: error: --task-types: {said} (write them like "3 code, 1 docs")\n'
    )
    assert not (repo / SESSIONS).exists() or not list((repo / SESSIONS).rglob("*.yaml"))


def test_tasks_that_disagree_with_the_task_types_are_refused(repo: Path) -> None:
    run("init")
    result = invoke([*BY_HAND, "--tasks", "1", "--task-types", "2 code"])
    assert result.exit_code == EXIT_USAGE
    assert result.output == (
        "costlog: error: --tasks 1 does not match --task-types '2 code' (2 tasks) "
        "(give counts that add up to --tasks, or leave --tasks out)\n"
    )
    assert not list((repo / SESSIONS).rglob("*.yaml"))


def test_task_types_alone_give_the_task_count(repo: Path) -> None:
    run("init")
    out = run(*BY_HAND, "--task-types", "2 code, code review")
    assert out.rstrip().endswith("claude-sonnet-4-6, 3 tasks, $0.06 (manual)")
    [path] = (repo / SESSIONS / "manual").glob("*.yaml")
    assert 'completed: 3\n  types: {code: 2, "code review": 1}' in path.read_text()
    agreeing = run(*BY_HAND, "--tasks", "3", "--task-types", "2 code, 1 docs")
    assert ", 3 tasks, " in agreeing


def test_a_record_by_hand_gets_the_branch_and_its_work_item(repo: Path) -> None:
    run("init")
    git(repo, "checkout", "-q", "-b", "feature/WRK-400-export")
    out = run(*BY_HAND, "--task-types", "2 code")
    assert out.rstrip().endswith("claude-sonnet-4-6, 2 tasks (WRK-400), $0.04 (manual)")
    [path] = (repo / SESSIONS / "manual").glob("*.yaml")
    text = path.read_text()
    assert "branch: feature/WRK-400-export\n" in text
    assert "work_items: [WRK-400]\n" in text
    given = run(*BY_HAND, "--cost", "0.10", "--work-item", "WRK-9", "--work-item", "WRK-400")
    assert "(WRK-9, WRK-400)" in given
    report = run("report", "--by", "work-item")
    assert "WRK-400" in report and "WRK-9" in report


def test_a_record_by_hand_on_a_detached_head_has_no_branch(repo: Path) -> None:
    run("init")
    git(repo, "checkout", "-q", "--detach")
    run(*BY_HAND, "--cost", "0.10")
    [path] = (repo / SESSIONS / "manual").glob("*.yaml")
    text = path.read_text()
    assert "branch:" not in text and "work_items" not in text


def test_a_misspelled_model_priced_from_the_guide_is_flagged_with_a_suggestion(
    repo: Path,
) -> None:
    run("init")
    result = invoke([*BY_HAND[:2], "claude-sonet-4-6", "--tasks", "2", "--task-types", "2 code"])
    assert result.exit_code == 0
    assert (
        "costlog: warning: model 'claude-sonet-4-6' is not in the price table "
        "(did you mean claude-sonnet-4-6?): priced from the estimation guide's nearest row\n"
    ) in result.stderr
    assert result.stdout.rstrip().endswith("claude-sonet-4-6, 2 tasks, $0.04 (manual)")


def test_a_misspelled_model_with_tokens_gets_a_suggestion(repo: Path) -> None:
    run("init")
    result = invoke(
        ["record", "--model", "claude-sonet-4-6", "--input-tokens", "1000", "--no-stage"]
    )
    assert result.exit_code == 0
    assert (
        "costlog: warning: no price for model 'claude-sonet-4-6' (did you mean "
        "claude-sonnet-4-6?): tokens kept, cost marked unpriced"
    ) in result.stderr
    typed = invoke(["record", "--model", "claude-sonet-4-6", "--cost", "0.10", "--no-stage"])
    assert typed.stderr == (
        "costlog: warning: model 'claude-sonet-4-6' is not in the price table "
        "(did you mean claude-sonnet-4-6?)\n"
    )


def test_known_and_unrelated_models_get_no_suggestion(repo: Path) -> None:
    run("init")
    known = invoke([*BY_HAND, "--task-types", "2 code"])
    assert known.exit_code == 0 and "warning" not in known.stderr
    aliased = invoke(["record", "--model", "claude-sonnet-4-6-20250929", "--cost", "0.1"])
    assert aliased.exit_code == 0 and "warning" not in aliased.stderr
    local = invoke(["record", "--model", "my-local-llm", "--task-types", "2 code"])
    assert local.exit_code == 0
    assert local.stderr == (
        "costlog: warning: model 'my-local-llm' is not in the price table: "
        "priced from the estimation guide's nearest row\n"
    )
