"""Money shown in rows reads the same in every view and order, and adds up (issue 15,
items 3, 4, 10, 16 and 21, as a reviewer found them after the first fixes)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from tests_support import git, invoke, run


def record(*args: str, model: str = "claude-sonnet-4-6") -> str:
    return run("record", "--model", model, "--no-stage", *args)


def three_months() -> None:
    """$2.335 (09), $2.335 (10), $2.31 + $0.004 (11): rounded alone 2.34 + 2.34 + 2.31 =
    $6.99 under a $6.98 total, so one of the two tied months must give up a cent."""
    for session, cost, day, item in (
        ("a", "2.335", "2026-09-10", "WRK-1"),
        ("b", "2.335", "2026-10-10", "WRK-2"),
        ("c", "2.31", "2026-11-10", "WRK-3"),
        ("d", "0.004", "2026-11-11", "WRK-3"),
    ):
        record("--cost", cost, "--session", session, "--started", f"{day}T10:00:00Z",
               "--work-item", item)  # fmt: skip


def cost_column(table: str, first: str) -> dict[str, str]:
    """{first cell: last cell} of each row of a boxed table."""
    out = {}
    for line in table.splitlines():
        cells = [c.strip() for c in re.split(r"[│|]", line) if c.strip()]
        if cells and cells[0].startswith(first) and cells[-1] != "cost":  # not the head
            out[cells[0]] = cells[-1]
    return out


def markdown_rows(text: str, block: str) -> list[list[str]]:
    body = text.split(f"<!-- costlog:begin {block} -->")[1].split(f"<!-- costlog:end {block}")[0]
    rows = [line for line in body.splitlines() if line.startswith("| ") and "---" not in line]
    return [[c.strip() for c in row.strip("|").split("|")] for row in rows[1:]]


def test_a_month_reads_the_same_in_either_order_and_in_cost_log(repo: Path) -> None:
    three_months()
    ascending = cost_column(run("report", "--by", "month", "--tz", "UTC"), "2026-")
    descending = cost_column(
        run("report", "--by", "month", "--tz", "UTC", "--order", "desc"), "2026-"
    )
    assert ascending == descending == {"2026-09": "$2.34", "2026-10": "$2.33", "2026-11": "$2.31"}
    months = {row[0]: row for row in markdown_rows((repo / "COST_LOG.md").read_text(), "monthly")}
    assert {m: row[3] for m, row in months.items()} == ascending
    # a month of one session shows one amount, as its total and as its average
    assert months["2026-10"][4] == months["2026-10"][3] == "$2.33"
    assert months["2026-09"][4] == "$2.34"


def test_a_work_item_reads_the_same_in_either_order(repo: Path) -> None:
    three_months()
    desc = cost_column(run("report", "--by", "work-item"), "WRK-")
    asc = cost_column(run("report", "--by", "work-item", "--order", "asc"), "WRK-")
    assert asc == desc == {"WRK-1": "$2.34", "WRK-2": "$2.33", "WRK-3": "$2.31"}
    rows = markdown_rows((repo / "COST_LOG.md").read_text(), "work-items")
    assert {r[0].replace("\u2011", "-"): r[2] for r in rows} == desc


def test_a_session_shows_its_own_cost_as_record_and_cost_log_do(repo: Path) -> None:
    line = record("--cost", "0.057", "--session", "s1", "--started", "2026-11-10T10:00:00Z")
    record("--cost", "0.057", "--session", "s2", "--started", "2026-11-11T10:00:00Z")
    assert "$0.06" in line
    costs = cost_column(run("report", "--by", "session", "--compact"), "s")
    assert costs == {"s1": "$0.06", "s2": "$0.06"}  # not $0.05 to make $0.11 add up
    rows = markdown_rows((repo / "COST_LOG.md").read_text(), "sessions")
    assert [r for r in rows if "$0.06" in "|".join(r)] and not [
        r for r in rows if "$0.05" in "|".join(r)
    ]


def test_a_lone_scanned_session_reads_as_its_total(tmp_path: Path) -> None:
    log = tmp_path / "calls.jsonl"
    call = {"model": "gpt-5", "created": 1763629200, "usage": {"prompt_tokens": 100}}
    log.write_text(json.dumps(call | {"usage": {"prompt_tokens": 100, "completion_tokens": 10}}))
    for by in ("session", "day"):
        text = run("scan", "--agent", "api", "--path", str(log), "--by", by, "--tz", "UTC")
        cells = [c for c in cost_column(text, "").values() if c.startswith("$")]
        assert cells == ["$0.00023", "$0.00023"], text  # the row and its TOTAL, no `<$0.01`


def test_task_types_get_whole_tasks_and_json_money_in_micro_dollars(repo: Path) -> None:
    record("--input-tokens", "1001", "--output-tokens", "3333", "--cache-read-tokens", "10000",
           "--tasks", "3", "--task-types", "2 code, 1 docs")  # fmt: skip
    data: dict[str, Any] = json.loads(run("report", "--by", "task-type", "--json"))
    rows = {row["task-type"]: row for row in data["rows"]}
    assert (rows["code"]["tasks"], rows["docs"]["tasks"]) == (2, 1)
    for row in [*data["rows"], data["totals"]]:
        assert re.fullmatch(r"\d+\.\d{1,6}|\d+", row["cost_usd"]), row["cost_usd"]
    text = run("report", "--by", "task-type")
    assert "0.9999" not in text and "1.9999" not in text
    line = next(line for line in text.splitlines() if " code " in line)
    assert re.search(r"│\s+2\s+│", line), line


def test_spend_shares_add_up_to_a_hundred(repo: Path) -> None:
    # 72.4%, 18.3%, 9.3%: rounded alone 72 + 18 + 9 = 99
    for session, model, cost in (
        ("s1", "claude-sonnet-4-6", "7.24"),
        ("s2", "gpt-5", "1.83"),
        ("s3", "gemini-2.5-pro", "0.93"),
    ):
        record("--cost", cost, "--session", session, model=model)
    text = (repo / "COST_LOG.md").read_text()
    spend = text.split("<!-- costlog:begin spend -->")[1].split("<!-- costlog:end spend")[0]
    for table in spend.split("\n\n"):
        shares = [int(s) for s in re.findall(r"\| (\d+)% \|", table)]
        if shares:
            assert sum(shares) == 100, table
    assert "| 73% |" in spend and "| 18% |" in spend and "| 9% |" in spend


def test_breakdown_models_follow_the_order(repo: Path) -> None:
    record("--cost", "1.00", "--session", "s1", "--started", "2026-11-10T10:00:00Z",
           model="claude-haiku-4-5")  # fmt: skip
    record("--cost", "3.00", "--session", "s2", "--started", "2026-11-11T10:00:00Z")

    def models(*args: str) -> list[str]:
        text = run("report", "--by", "agent", "--breakdown", *args)
        return re.findall(r"claude-\w+-4-[56]", text)

    assert models() == ["claude-sonnet-4-6", "claude-haiku-4-5"]
    assert models("--order", "asc") == ["claude-haiku-4-5", "claude-sonnet-4-6"]


def test_pr_summary_model_row_counts_its_unpriced_session(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "feature/x")
    record("--tasks", "2", "--task-types", "2 code", "--session", "g1", model="claude-sonet-4-6")
    record("--input-tokens", "1000", "--session", "u1", model="claude-sonet-4-6")
    record("--cost", "0.18", "--session", "p1")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "sessions")
    result = invoke(["pr-summary", "--base", "main"])
    assert result.exit_code == 0, result.output
    row = next(line for line in result.output.splitlines() if line.startswith("| claude-sonet"))
    assert re.search(r"\| \$0\.0\d \(\+1 unpriced\) \|$", row), row


def test_pr_summary_without_the_base_says_how_to_fetch_it_plainly(repo: Path) -> None:
    result = invoke(["pr-summary", "--base", "origin/main"])
    assert result.exit_code != 0
    assert "git fetch origin main" in result.output
    hint = result.output[result.output.index("fetch the base") :]
    assert "(" not in hint.split("\n")[0], hint  # no parentheses nested in the hint


def test_methodology_counts_commits_in_words_old_entries_included(repo: Path) -> None:
    (repo / "a.py").write_text("def f():\n    return 1\n")
    git(repo, "add", "a.py")
    git(repo, "commit", "-q", "-m", "Add f")
    line = run("record", "--agent", "cursor", "--model", "gpt-5", "--session", "c1", "--no-stage")
    assert "(estimated)" in line
    ledger = repo / ".costlog" / "sessions" / "cursor"
    new = (ledger / "c1.yaml").read_text()
    assert "estimated from 2 commits:" in new and "commit(s)" not in new
    # an entry an earlier costlog wrote, with its `commit(s)`, still checks and reads well
    (ledger / "c0.yaml").write_text(
        new.replace("cursor/c1", "cursor/c0").replace(
            "estimated from 2 commits:", "estimated from 1 commit(s):"
        )
    )
    run("render")
    assert "ok: COST_LOG.md matches 2 ledger sessions" in run("check")
    text = (repo / "COST_LOG.md").read_text()
    methods = text.split("<!-- costlog:begin methodology -->")[1]
    assert "estimated from 1\u20132 commits:" in methods and "commit(s)" not in methods


def test_scan_breakdown_models_follow_the_order(tmp_path: Path) -> None:
    log = tmp_path / "calls.jsonl"
    calls = [
        {"model": model, "created": 1763629200 + i, "usage": {"prompt_tokens": 1_000_000}}
        for i, model in enumerate(("gpt-5", "gpt-5-mini"))
    ]
    log.write_text("".join(json.dumps(call) + "\n" for call in calls))

    def models(*args: str) -> list[str]:
        text = run(
            "scan", "--agent", "api", "--path", str(log), "--breakdown", "--tz", "UTC", *args
        )
        return re.findall(r"└ (gpt-5\S*)|- (gpt-5\S*)", text)

    assert [a or b for a, b in models()] == ["gpt-5", "gpt-5-mini"]  # $1.25, then $0.25
    assert [a or b for a, b in models("--order", "asc")] == ["gpt-5-mini", "gpt-5"]
