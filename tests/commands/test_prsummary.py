"""`costlog pr-summary`: what a branch's sessions cost, for a PR comment."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests_support import git, invoke


def record(args: list[str]) -> None:
    result = invoke(["record", "--model", "claude-sonnet-4-6", *args])
    assert result.exit_code == 0, result.output


def commit(root: Path, message: str) -> None:
    done = subprocess.run(
        ["git", "commit", "-q", "-m", message], cwd=root, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


def summary(base: str = "main") -> str:
    result = invoke(["pr-summary", "--base", base])
    assert result.exit_code == 0, result.output
    return result.output


def test_only_the_branchs_sessions_by_model_and_work_item(repo: Path) -> None:
    record(["--cost", "5.00", "--session", "old", "--started", "2026-11-01T09:00:00Z"])
    commit(repo, "record old")
    git(repo, "checkout", "-q", "-b", "feature/WRK-237-x")
    record(
        [
            "--cost",
            "0.75",
            "--session",
            "s1",
            "--work-item",
            "WRK-237",
            "--started",
            "2026-11-20T09:00:00Z",
        ]
    )
    commit(repo, "record s1")
    result = invoke(
        [
            "record",
            "--model",
            "claude-haiku-4-5",
            "--cost",
            "0.25",
            "--session",
            "s2",
            "--started",
            "2026-11-20T10:00:00Z",
        ],
    )
    assert result.exit_code == 0
    commit(repo, "record s2")
    text = summary()
    assert "**2 sessions, $1.00**" in text
    assert "| claude-sonnet-4-6 | 1 |" in text and "| claude-haiku-4-5 | 1 |" in text
    # s2 names no work item, but a record by hand takes the branch's (issue 15, item 9)
    assert "| WRK-237 | 2 | $1.00 |" in text and "(none)" not in text
    assert "$5.00" not in text


def test_survives_a_squash_merge(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "feature")
    record(["--cost", "0.50", "--session", "s1", "--started", "2026-11-20T09:00:00Z"])
    commit(repo, "record s1")
    (repo / "code.py").write_text("x = 1\n")
    git(repo, "add", "code.py")
    commit(repo, "code")
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--squash", "feature")
    commit(repo, "Feature (squashed)")
    git(repo, "checkout", "-q", "-b", "after-squash")
    assert "**1 session, $0.50**" in summary("feature~2")
    assert "No agent sessions recorded" in summary("main")


def test_a_re_recorded_session_counts_what_it_added(repo: Path) -> None:
    record(["--cost", "1.00", "--session", "s1", "--started", "2026-11-20T09:00:00Z"])
    commit(repo, "record s1")
    git(repo, "checkout", "-q", "-b", "more")
    record(["--cost", "1.30", "--session", "s1", "--started", "2026-11-20T09:00:00Z"])
    commit(repo, "re-record s1")
    text = summary()
    assert "**1 session, $0.30** (1 re-recorded" in text


def test_unknown_base_is_a_one_line_error(repo: Path) -> None:
    result = invoke(["pr-summary", "--base", "origin/nope"])
    assert result.exit_code == 1
    assert "git merge-base failed" in result.output and "fetch" in result.output


CLAUDE_P_RESULT = {
    "type": "result",
    "subtype": "success",
    "is_error": False,
    "duration_ms": 95000,
    "duration_api_ms": 80000,
    "num_turns": 6,
    "result": "Done.",
    "session_id": "c1a2b3c4-0000-4000-8000-000000000001",
    "total_cost_usd": 0.4172,
    "usage": {
        "input_tokens": 20,
        "output_tokens": 900,
        "cache_creation_input_tokens": 13507,
        "cache_read_input_tokens": 23048,
        "service_tier": "standard",
    },
    "modelUsage": {
        "claude-sonnet-4-6": {
            "inputTokens": 20,
            "outputTokens": 900,
            "cacheReadInputTokens": 23048,
            "cacheCreationInputTokens": 13507,
            "costUSD": 0.4012,
            "contextWindow": 200000,
        },
        "claude-haiku-4-5": {
            "inputTokens": 3000,
            "outputTokens": 100,
            "cacheReadInputTokens": 0,
            "cacheCreationInputTokens": 0,
            "costUSD": 0.016,
            "contextWindow": 200000,
        },
    },
}


def test_a_ci_agent_run_is_recorded_from_its_result_json(repo: Path, tmp_path: Path) -> None:
    import json

    git(repo, "checkout", "-q", "-b", "feature/WRK-300-ci")
    result_file = tmp_path / "claude-result.json"
    result_file.write_text(json.dumps(CLAUDE_P_RESULT))
    result = invoke(["record", "--from-json", str(result_file), "--commit"])
    assert result.exit_code == 0, result.output
    assert "claude-code c1a2b3c4" in result.output and "$0.42 (actual)" in result.output
    entry = repo / ".costlog/sessions/claude-code/c1a2b3c4-0000-4000-8000-000000000001.yaml"
    text = entry.read_text()
    assert "claude-haiku-4-5" in text and "WRK-300" in text and "Done." not in text
    assert git(repo, "log", "-1", "--format=%s").stdout.startswith("costlog: record")
    summary_text = summary()
    assert "**1 session, $0.42**" in summary_text and "| WRK-300 | 1 | $0.42 |" in summary_text
    check = invoke(["check"])
    assert check.exit_code == 0, check.output


def test_stream_json_output_and_a_bad_file(repo: Path, tmp_path: Path) -> None:
    import json

    stream = tmp_path / "run.jsonl"
    stream.write_text(
        json.dumps({"type": "system", "subtype": "init", "session_id": "x"})
        + "\n"
        + json.dumps(CLAUDE_P_RESULT)
        + "\n"
    )
    ok = invoke(["record", "--from-json", str(stream), "--no-stage"])
    assert ok.exit_code == 0, ok.output
    bad = tmp_path / "bad.json"
    bad.write_text('{"type": "system"}')
    result = invoke(["record", "--from-json", str(bad)])
    assert result.exit_code == 1 and "no agent result found" in result.output


def test_the_first_line_is_the_hidden_marker_the_comment_workflow_finds(repo: Path) -> None:
    """`<!-- costlog:pr-summary -->` verbatim (not escaped into visible text), with or
    without sessions: GitHub hides it, and the comment workflow updates the one comment
    that starts with it instead of posting another."""
    from markdown_it import MarkdownIt

    from costlog.commands.prsummary import MARKER

    assert MARKER == "<!-- costlog:pr-summary -->"
    empty = summary()
    assert empty.splitlines()[0] == MARKER
    git(repo, "checkout", "-q", "-b", "feature")
    record(["--cost", "0.50", "--session", "s1", "--started", "2026-11-20T09:00:00Z"])
    commit(repo, "record s1")
    text = summary()
    assert text.splitlines()[0] == MARKER and text.count(MARKER) == 1
    html = MarkdownIt("commonmark").enable(["table"]).render(text)
    assert html.startswith(MARKER + "\n<h3>Agent cost on this branch (costlog)</h3>")
