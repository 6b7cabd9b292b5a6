"""Issue 13 part A, review fixes: plan fees, per-session rate limits, labels, plan rules.

Real git repos, real-format Codex rollouts (with their `rate_limits` objects) and Claude
Code transcripts, the real renderer, the real CLI.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from agent_logs import claude_session
from test_plans13_plans import SID_CLAUDE, SID_KEY, SID_PLUS, codex_with_limits

from costlog.pricing import plans as plan_table
from tests_support import git, invoke, run

REACHED = "rate_limit_reached"


@pytest.fixture
def logs(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    claude, codex = tmp_path / "claude", tmp_path / "codex"
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(claude))
    monkeypatch.setenv("CODEX_HOME", str(codex))
    return {"claude": claude, "codex": codex}


def _config(repo: Path, text: str) -> None:
    (repo / ".costlog" / "config.yaml").write_text(text)


def _cost_log(repo: Path) -> str:
    return (repo / "COST_LOG.md").read_text()


def _block(text: str, name: str) -> str:
    return text.split(f"<!-- costlog:begin {name} -->")[1].split(f"<!-- costlog:end {name} -->")[0]


def _fees_line(text: str) -> str:
    return next(line for line in text.splitlines() if line.startswith("Fees"))


# ------------------------------------------------------------ 1. the Team seat and sources


def test_claude_code_on_team_needs_the_premium_seat_and_its_fee_is_150(
    repo: Path, logs: dict[str, Path]
) -> None:
    run("init")
    claude_session(logs["claude"], SID_CLAUDE, repo, "2026-11-19T10:00", 2)
    run("backfill")
    _config(repo, "timezone: UTC\nplans:\n  - {plan: claude-team, agent: claude-code}\n")
    result = invoke(["report", "--by", "plan"])
    assert result.exit_code == 1
    assert ".costlog/config.yaml:3: " in result.output
    assert "Claude Team (standard seat, billed monthly) (anthropic) does not cover claude-code" in (
        result.output
    )
    assert "claude-team-premium" in result.output  # the hint names the plan that does
    # a rule for anyone's sessions on the standard seat labels no Claude Code session
    _config(repo, "plans:\n  - {plan: claude-team}\n")
    run("render")
    assert "ran on a subscription plan" not in _cost_log(repo)
    _config(repo, "plans:\n  - {plan: claude-team-premium, agent: claude-code}\n")
    run("render")
    text = _cost_log(repo)
    assert "| Claude Team (premium seat, billed monthly) | $150.00 |" in text
    assert (
        "Fees: Claude Team (premium seat, billed monthly) $150.00/month "
        "(official source, read 2026-12-02)."
    ) in text
    (fee,) = json.loads(run("report", "--by", "plan", "--json"))["fees"]
    assert fee["source"] == (
        "https://support.anthropic.com/en/articles/12004354-how-to-purchase-and-manage-premium-seats"
    )


def test_the_claude_fees_cite_pages_that_list_them() -> None:
    table = plan_table.table()
    assert table["claude-team"].agents == ()  # the standard seat: no Claude Code
    assert table["claude-team-premium"].fee_on(None).monthly_usd == 150
    for key in ("claude-max-5x", "claude-max-20x"):
        fee = table[key].fee_on(None)
        assert "11049744" in fee.source and fee.evidence == "official"  # "Max cost" article
    pro = table["claude-pro"].fee_on(None)
    assert pro.evidence == "third-party" and "11145838" not in pro.source
    for key in ("chatgpt-pro", "google-ai-pro", "google-ai-ultra"):  # no official page found
        assert table[key].fee_on(None).evidence == "third-party"


# ------------------------------------------------------------ 2. rate limits per session


def test_each_sessions_rate_limits_show_in_its_notes_and_in_report_by_session(
    repo: Path, logs: dict[str, Path]
) -> None:
    run("init")
    reports = [(12.5, 1.0, "plus", None), (62.0, 18.0, "plus", None)]
    codex_with_limits(logs["codex"], SID_PLUS, repo, "2026-11-19T13:00", reports)
    claude_session(logs["claude"], SID_CLAUDE, repo, "2026-11-19T10:00", 2)
    run("backfill")
    rows = [line for line in _block(_cost_log(repo), "sessions").splitlines() if "| 11" in line]
    (row,) = [line for line in rows if "| codex |" in line]
    assert row.rstrip().endswith("| 5h peak 62%, weekly 18% |")
    (claude_row,) = [line for line in rows if "| codex |" not in line]
    assert "peak" not in claude_row  # its transcript reports no limits: nothing invented
    out = run("report", "--by", "session")
    assert "Rate limits from the logs: " in out
    assert "5h peak 62%, weekly 18%" in out.split("Rate limits from the logs: ")[1]
    data = json.loads(run("report", "--by", "session", "--json"))
    by_id = {r["session"]: r for r in data["rows"]}
    assert by_id[f"codex/{SID_PLUS}"]["rate_limits"] == "5h peak 62%, weekly 18%"
    assert by_id[f"claude-code/{SID_CLAUDE}"]["rate_limits"] is None


# ------------------------------------------------------------ 3. labels


def test_scan_json_and_csv_say_which_rows_are_api_equivalent(
    repo: Path, logs: dict[str, Path]
) -> None:
    codex_with_limits(logs["codex"], SID_PLUS, repo, "2026-11-19T13:00", [(3.0, 0.0, "plus", None)])
    codex_with_limits(logs["codex"], SID_KEY, repo, "2026-11-19T15:00", [(1.0, 0.0, None, None)])
    data = json.loads(run("scan", "--agent", "codex", "--by", "session", "--json"))
    by_id = {r["session"]: r for r in data["rows"]}
    assert (by_id[f"codex/{SID_PLUS}"]["plan"], by_id[f"codex/{SID_PLUS}"]["api_equivalent"]) == (
        "ChatGPT Plus",
        True,
    )
    assert (by_id[f"codex/{SID_KEY}"]["plan"], by_id[f"codex/{SID_KEY}"]["api_equivalent"]) == (
        None,
        False,
    )
    day = json.loads(run("scan", "--agent", "codex", "--by", "day", "--json"))["rows"]
    assert [(r["plan"], r["api_equivalent"]) for r in day] == [("ChatGPT Plus", True)]
    table = list(
        csv.DictReader(io.StringIO(run("scan", "--agent", "codex", "--by", "session", "--csv")))
    )
    rows = {r["session"]: r for r in table}
    assert (rows[f"codex/{SID_PLUS}"]["plan"], rows[f"codex/{SID_PLUS}"]["api_equivalent"]) == (
        "ChatGPT Plus",
        "true",
    )
    assert rows[f"codex/{SID_KEY}"]["api_equivalent"] == "false"
    assert rows["TOTAL"]["plan"] == ""


def test_report_and_pr_summary_mark_each_plan_sessions_cost_api_equivalent(
    repo: Path, logs: dict[str, Path]
) -> None:
    run("init")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Set up costlog")
    git(repo, "checkout", "-q", "-b", "feature")
    _config(repo, "plans:\n  - {plan: claude-max-5x, agent: claude-code}\n")
    claude_session(logs["claude"], SID_CLAUDE, repo, "2026-11-19T10:00", 2)
    codex_with_limits(logs["codex"], SID_KEY, repo, "2026-11-19T15:00", [(1.0, 0.0, None, None)])
    run("backfill")
    data = json.loads(run("report", "--by", "session", "--json"))
    by_id = {r["session"]: r for r in data["rows"]}
    claude = by_id[f"claude-code/{SID_CLAUDE}"]
    assert (claude["plan"], claude["api_equivalent"]) == ("Claude Max 5x", True)
    assert (by_id[f"codex/{SID_KEY}"]["plan"], by_id[f"codex/{SID_KEY}"]["api_equivalent"]) == (
        None,
        False,
    )
    out = run("report", "--by", "session")
    lines = out.splitlines()
    assert sum(" API-eq." in line for line in lines if "claude-code" in line) == 1
    assert not any(" API-eq." in line for line in lines if "codex" in line)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Record sessions")
    summary = run("pr-summary", "--base", "main")
    rows = [line for line in summary.splitlines() if line.startswith("| 2026-11-19 |")]
    assert [" API-eq. |" in row for row in rows if "claude-code" in row] == [True]
    assert [" API-eq. |" in row for row in rows if "| codex |" in row] == [False]


def test_cost_log_money_sections_say_they_include_api_equivalent_cost(
    repo: Path, logs: dict[str, Path]
) -> None:
    run("init")
    _config(
        repo,
        "plans:\n  - {plan: claude-max-5x, agent: claude-code}\nbudget:\n  monthly_usd: 0.01\n",
    )
    claude_session(logs["claude"], SID_CLAUDE, repo, "2026-11-19T10:00", 2)
    run("backfill")
    text = _cost_log(repo)
    note = "Sessions on a subscription plan (1 in the ledger) count here at their API-equivalent"
    assert note in _block(text, "spend")
    assert note in _block(text, "alerts")
    assert note not in _block(text, "sessions")  # that table marks each row instead
    _config(
        repo,
        "plans:\n  - {plan: claude-max-5x, agent: claude-code}\n"
        "budget:\n  monthly_usd: 0.01\n  watch: paid\n",
    )
    run("render")
    assert note not in _block(_cost_log(repo), "alerts")  # the alerts watch money paid then


# ------------------------------------------------------------ 4, 5. the Fees line


def test_an_unknown_fee_plan_alone_gets_a_fees_line_that_says_so(
    repo: Path, logs: dict[str, Path]
) -> None:
    run("init")
    reports = [(3.0, 0.0, "prolite", None)]
    codex_with_limits(logs["codex"], SID_PLUS, repo, "2026-11-19T13:00", reports)
    run("backfill")
    line = _fees_line(_cost_log(repo))
    assert line != "Fees: ."
    assert line.startswith("Fees: codex plan 'prolite' fee unknown")


def test_the_fees_line_shows_the_fee_the_config_sets(repo: Path, logs: dict[str, Path]) -> None:
    run("init")
    _config(repo, "timezone: UTC\nplans:\n  - {plan: chatgpt-plus, agent: codex, fee_usd: 18.50}\n")
    codex_with_limits(logs["codex"], SID_PLUS, repo, "2026-11-19T13:00", [(3.0, 0.0, "plus", None)])
    run("backfill")
    text = _cost_log(repo)
    line = _fees_line(text)
    assert "ChatGPT Plus $18.50/month (`fee_usd` in the config, line 3)" in line
    assert "$20.00" not in line
    assert "| ChatGPT Plus | $18.50 |" in text


# ------------------------------------------------------------ 6. plan rules


@pytest.mark.parametrize(
    ("rule", "message", "hint"),
    [
        ("{plan: claude-pro, agent: claud-code}", "unknown agent 'claud-code'", "'claude-code'"),
        (
            "{plan: chatgpt-plus, agent: claude-code}",
            "ChatGPT Plus (openai) does not cover claude-code; it covers codex",
            "claude-max-5x",
        ),
    ],
)
def test_a_rule_for_an_unknown_agent_or_another_providers_plan_fails_at_its_line(
    repo: Path, rule: str, message: str, hint: str
) -> None:
    run("init")
    _config(repo, f"timezone: UTC\nplans:\n  - {{plan: claude-pro}}\n  - {rule}\n")
    for command in (["report", "--by", "plan"], ["render"]):
        result = invoke(command)
        assert result.exit_code == 1
        assert f".costlog/config.yaml:4: `plans` item 2: {message}" in result.output
        assert hint in result.output


# ------------------------------------------------------------ 7. order


def test_the_plan_tables_list_the_newest_month_first(repo: Path, logs: dict[str, Path]) -> None:
    run("init")
    codex_with_limits(logs["codex"], SID_PLUS, repo, "2026-10-19T13:00", [(3.0, 0.0, "plus", None)])
    codex_with_limits(logs["codex"], SID_KEY, repo, "2026-11-19T13:00", [(4.0, 1.0, "plus", None)])
    run("backfill")
    block = _block(_cost_log(repo), "plans")
    months = [line[2:9] for line in block.splitlines() if line.startswith("| 2026-")]
    assert months == ["2026-11", "2026-10", "2026-11", "2026-10"]  # fees table, then limits
    monthly = _block(_cost_log(repo), "monthly")
    assert monthly.index("| 2026-11 |") < monthly.index("| 2026-10 |")  # as this one reads
    data = json.loads(run("report", "--by", "plan", "--json"))
    assert [m["month"] for m in data["months"]] == ["2026-11", "2026-10"]


# ------------------------------------------------------------ 8. reach events


def _reached(repo: Path, sid: str) -> Any:
    text = (repo / ".costlog" / "sessions" / "codex" / f"{sid}.yaml").read_text()
    return next(int(line.split(":")[1]) for line in text.splitlines() if "reached:" in line)


def test_limit_reached_counts_events_not_repeated_reports(
    repo: Path, logs: dict[str, Path]
) -> None:
    run("init")
    reports: list[Any] = [
        (99.0, 20.0, "plus", None),
        (100.0, 20.0, "plus", REACHED),  # reached ...
        (100.0, 21.0, "plus", REACHED),  # ... still: the same event
        (100.0, 22.0, "plus", None),  # a report without it
        (100.0, 23.0, "plus", REACHED),  # reached again: a second event
        (100.0, 24.0, "plus", True),  # not a name: says nothing
        (100.0, 25.0, "plus", {"type": "x"}),
    ]
    codex_with_limits(logs["codex"], SID_PLUS, repo, "2026-11-19T13:00", reports)
    run("backfill")
    assert _reached(repo, SID_PLUS) == 2
    assert "| 2026-11 | 1 | 100% | 25% | 2 |" in _cost_log(repo)
    assert "limit reached 2x" in _block(_cost_log(repo), "sessions")


# ------------------------------------------------------------ 9. warnings readable


def test_plan_warnings_in_cost_log_read_as_written(repo: Path, logs: dict[str, Path]) -> None:
    run("init")
    _config(repo, "timezone: UTC\nplans:\n  - {plan: chatgpt-pro, agent: codex}\n")
    codex_with_limits(logs["codex"], SID_PLUS, repo, "2026-11-19T13:00", [(5.0, 1.0, "plus", None)])
    run("backfill")
    block = _block(_cost_log(repo), "plans")
    (warning,) = [line for line in block.splitlines() if "the log wins" in line]
    assert "\u2060" not in warning and "\\`" not in warning and "\\" not in warning
    assert warning == (
        f"- `codex/{SID_PLUS}: .costlog/config.yaml:3: the log says this codex session ran on "
        "ChatGPT Plus, not ChatGPT Pro; the log wins`"
    )


# ------------------------------------------------------------ 10. ledger line numbers


def test_a_bad_resets_at_in_the_ledger_names_its_file_and_line(
    repo: Path, logs: dict[str, Path]
) -> None:
    run("init")
    codex_with_limits(logs["codex"], SID_PLUS, repo, "2026-11-19T13:00", [(3.0, 0.0, "plus", None)])
    run("backfill")
    path = repo / ".costlog" / "sessions" / "codex" / f"{SID_PLUS}.yaml"
    text = path.read_text()
    line = next(
        n for n, row in enumerate(text.splitlines(), 1) if row.strip().startswith("primary:")
    )
    path.write_text(text.replace('resets_at: "2026-11-19T17:00:00Z"', 'resets_at: "soon"', 1))
    result = invoke(["check"])
    assert result.exit_code != 0
    assert f"sessions/codex/{SID_PLUS}.yaml:{line}: " in result.output
    assert "rate_limits.primary.resets_at" in result.output and "'soon'" in result.output
