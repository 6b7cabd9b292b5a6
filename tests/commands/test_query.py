"""`costlog query "SQL"`: DuckDB over the export of the given repositories, in memory."""

from __future__ import annotations

import csv
import io
import json
import sys
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from fleet_support import Fleet, make_fleet, quarter_start, report_json

from costlog import analysis
from tests_support import invoke, run

pytest.importorskip("duckdb")

PER_ITEM = """
    SELECT item, count(DISTINCT entry_id) AS sessions, sum(cost_usd) AS cost
    FROM (SELECT unnest(work_items) AS item, entry_id, cost_usd FROM sessions
          WHERE started >= date_trunc('quarter', current_date))
    GROUP BY item ORDER BY item
"""


@pytest.fixture
def fleet(tmp_path: Path) -> Fleet:
    return make_fleet(tmp_path / "fleet")


def test_cost_per_work_item_this_quarter_across_repos(fleet: Fleet) -> None:
    got = json.loads(run("query", PER_ITEM, *fleet.args(), "--format", "json"))
    # from the entries themselves
    q = quarter_start()
    want: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for entries in fleet.entries.values():
        for entry in entries:
            if entry.started >= q:
                for item in entry.work_items:
                    want[item][0] += 1
                    want[item][1] += analysis.cost(entry)
    assert {r["item"]: [r["sessions"], Decimal(r["cost"])] for r in got} == dict(want)
    assert [r["item"] for r in got] == ["OPS-7", "PAY-1", "PAY-2"]
    # and from the report, which splits no session this quarter (one item each)
    report = report_json("--by", "work-item", "--since", q.date().isoformat(), *fleet.args())
    shown = {r["work-item"]: Decimal(r["cost_usd"]) for r in report["rows"]}
    assert shown.pop("(none)", None) is None
    assert {r["item"]: Decimal(r["cost"]) for r in got} == shown


def test_the_current_repo_by_default(fleet: Fleet, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(fleet.repos["b"])
    sql = "SELECT repo, count(DISTINCT entry_id) AS n FROM sessions GROUP BY repo"
    got = json.loads(run("query", sql, "--format", "json"))
    assert got == [{"repo": "b", "n": 6}]


def test_table_csv_and_json_show_the_same_answer(fleet: Fleet) -> None:
    sql = (
        "SELECT repo, sum(cost_usd) AS cost, min(started) AS first, any_value(work_items) AS w "
        "FROM sessions WHERE model = 'claude-opus-4-6' GROUP BY repo ORDER BY repo"
    )
    as_json = json.loads(run("query", sql, *fleet.args(), "--format", "json"))
    rows = list(csv.DictReader(io.StringIO(run("query", sql, *fleet.args(), "--format", "csv"))))
    table = run("query", sql, *fleet.args()).splitlines()
    assert [r["repo"] for r in as_json] == [r["repo"] for r in rows] == ["a", "b", "c"]
    for j, c in zip(as_json, rows, strict=True):
        assert j["cost"] == c["cost"] and Decimal(j["cost"]) > 0
        assert j["first"] == c["first"] and j["first"].endswith("+00:00")
        assert isinstance(j["w"], list)
    assert table[0].split() == ["repo", "cost", "first", "w"]
    assert table[-1] == "(3 rows)"
    assert any(as_json[0]["cost"] in line for line in table)


def test_an_unpriced_model_is_null_in_sql(fleet: Fleet) -> None:
    sql = (
        "SELECT count(*) AS n, count(cost_usd) AS priced FROM sessions "
        "WHERE model = 'acme-unknown-1'"
    )
    assert json.loads(run("query", sql, *fleet.args(), "--format", "json")) == [
        {"n": 3, "priced": 0}
    ]


def test_a_sql_error_is_one_line_and_exit_1(fleet: Fleet) -> None:
    for sql in ("SELEC 1", "SELECT nope FROM sessions", "SELECT * FROM elsewhere"):
        result = invoke(["query", sql, *fleet.args("a")])
        assert result.exit_code == 1, sql
        assert result.output.startswith("costlog: error: SQL: ")
        assert result.output.count("\n") == 1


def test_without_duckdb_the_message_names_the_extra(
    fleet: Fleet, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "duckdb", None)
    result = invoke(["query", "SELECT 1", *fleet.args("a")])
    assert result.exit_code == 1
    assert result.output.count("\n") == 1
    assert "pip install 'costlog[duckdb]'" in result.output
