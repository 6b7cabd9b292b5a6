"""`costlog export`: one row per session x model, in the schema docs/export.md documents;
the rows summed by DuckDB give exactly what `report --json` gives."""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fleet_support import AUTHORS, MACHINES, Fleet, make_fleet, make_repo, report_json

from costlog.commands.export import NAMES, SCHEMA_VERSION
from costlog.models import ModelUsage, Usage
from tests_support import REPO_ROOT, invoke, run

duckdb = pytest.importorskip("duckdb")

READERS = {
    "jsonl": "read_json('{path}', format = 'newline_delimited', columns = {columns})",
    "csv": "read_csv('{path}', header = true, all_varchar = true)",
    "parquet": "read_parquet('{path}')",
}
#: the export's columns as JSON gives them (cost as a decimal string)
JSON_COLUMNS = (
    "{repo: 'VARCHAR', entry_id: 'VARCHAR', model: 'VARCHAR', cost_usd: 'VARCHAR', "
    "input_tokens: 'BIGINT', output_tokens: 'BIGINT', cache_read_tokens: 'BIGINT', "
    "cache_write_5m_tokens: 'BIGINT', cache_write_1h_tokens: 'BIGINT', requests: 'BIGINT', "
    "author: 'VARCHAR', machine: 'VARCHAR', work_items: 'VARCHAR[]', started: 'VARCHAR'}"
)


@pytest.fixture
def fleet(tmp_path: Path) -> Fleet:
    return make_fleet(tmp_path / "fleet")


def sums(path: Path, fmt: str, group: str | None = None) -> dict[str | None, dict[str, Any]]:
    """Sessions, tokens, requests and cost added up by DuckDB from an export file."""
    source = READERS[fmt].format(path=path, columns=JSON_COLUMNS)
    key = group or "NULL"
    sql = f"""
        SELECT {key} AS k,
               count(DISTINCT entry_id) AS sessions,
               sum(CAST(input_tokens AS BIGINT)) AS input_tokens,
               sum(CAST(output_tokens AS BIGINT)) AS output_tokens,
               sum(CAST(cache_read_tokens AS BIGINT)) AS cache_read_tokens,
               sum(CAST(cache_write_5m_tokens AS BIGINT) + CAST(cache_write_1h_tokens AS BIGINT))
                   AS cache_write_tokens,
               sum(CAST(requests AS BIGINT)) AS requests,
               sum(CAST(NULLIF(CAST(cost_usd AS VARCHAR), '') AS DECIMAL(18, 6))) AS cost_usd
        FROM {source} GROUP BY k
    """
    con = duckdb.connect()
    names = [
        "sessions",
        "input_tokens",
        "output_tokens",
        "cache_read_tokens",
        "cache_write_tokens",
        "requests",
        "cost_usd",
    ]
    return {row[0]: dict(zip(names, row[1:], strict=True)) for row in con.sql(sql).fetchall()}


def expected(totals: dict[str, Any]) -> dict[str, Any]:
    keys = [
        "sessions",
        "input_tokens",
        "output_tokens",
        "cache_read_tokens",
        "cache_write_tokens",
        "requests",
    ]
    return {**{k: totals[k] for k in keys}, "cost_usd": Decimal(totals["cost_usd"])}


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_rows_summed_with_duckdb_equal_report_json(fleet: Fleet, fmt: str, tmp_path: Path) -> None:
    out = tmp_path / f"sessions.{fmt}"
    run("export", "--format", fmt, *fleet.args(), "--output", str(out))
    whole = sums(out, fmt)[None]
    assert whole == expected(report_json(*fleet.args())["totals"])
    per_repo = sums(out, fmt, group="repo")
    for name, path in fleet.repos.items():
        assert per_repo[name] == expected(report_json(cwd=path)["totals"]), name
    by_author = sums(out, fmt, group="author")
    for row in report_json("--by", "author", *fleet.args())["rows"]:
        assert by_author[row["author"]]["cost_usd"] == Decimal(row["cost_usd"])


def test_the_columns_are_the_documented_schema_in_order(fleet: Fleet, tmp_path: Path) -> None:
    doc = (REPO_ROOT / "docs" / "export.md").read_text()
    documented = re.findall(r"^\| `(\w+)` \|", doc, re.MULTILINE)
    assert tuple(documented) == NAMES
    assert f"**schema version {SCHEMA_VERSION}**" in doc

    out = tmp_path / "s.parquet"
    run("export", "--format", "parquet", *fleet.args(), "-o", str(out))
    described = duckdb.sql(f"DESCRIBE SELECT * FROM read_parquet('{out}')").fetchall()
    types = {row[0]: row[1] for row in described}
    assert list(types) == list(NAMES)
    assert types["cost_usd"] == "DECIMAL(18,6)"
    assert types["started"] == "TIMESTAMP WITH TIME ZONE"
    assert types["work_items"] == "VARCHAR[]"
    assert types["input_tokens"] == "BIGINT"

    lines = run("export", *fleet.args("a")).splitlines()
    assert list(json.loads(lines[0])) == list(NAMES)
    header = run("export", "--format", "csv", *fleet.args("a")).splitlines()[0]
    assert header.split(",") == list(NAMES)


def test_a_row_per_session_and_model_with_ids_people_times_and_items(fleet: Fleet) -> None:
    rows = [json.loads(line) for line in run("export", *fleet.args()).splitlines()]
    two_models = [r for r in rows if r["entry_id"] == fleet.entries["b"][1].id]
    assert sorted(r["model"] for r in two_models) == ["claude-opus-4-6", "claude-sonnet-4-6"]
    first = two_models[0]
    assert first["repo"] == "b" and first["agent"] == "claude-code"
    assert first["session_id"] == fleet.entries["b"][1].id.split("/", 1)[1]
    assert first["work_items"] == ["PAY-1", "OPS-7"] and first["commits"] == 1
    assert first["schema_version"] == 1 and first["plan"] is None
    assert first["provider"] == "Anthropic" and first["model_source"] == "actual"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", first["started"])
    assert {r["author"] for r in rows} == set(AUTHORS)
    assert {r["machine"] for r in rows} == set(MACHINES)
    assert len({r["entry_id"] for r in rows}) == 19
    costs = [r["cost_usd"] for r in rows if r["cost_usd"] is not None]
    assert all(re.fullmatch(r"\d+\.\d{6}", c) for c in costs)

    text = run("export", "--format", "csv", *fleet.args("b"))
    line = next(r for r in csv.DictReader(io.StringIO(text)) if r["entry_id"] == first["entry_id"])
    assert line["work_items"] == "PAY-1;OPS-7" and line["plan"] == ""


def test_an_unpriced_model_has_a_null_cost_never_zero(fleet: Fleet, tmp_path: Path) -> None:
    rows = [json.loads(line) for line in run("export", *fleet.args("a")).splitlines()]
    unpriced = [r for r in rows if r["model"] == "acme-unknown-1"]
    assert len(unpriced) == 1 and unpriced[0]["cost_usd"] is None
    assert unpriced[0]["input_tokens"] > 0
    text = run("export", "--format", "csv", *fleet.args("a"))
    cell = next(r for r in csv.DictReader(io.StringIO(text)) if r["model"] == "acme-unknown-1")
    assert cell["cost_usd"] == ""
    out = tmp_path / "a.parquet"
    run("export", "--format", "parquet", *fleet.args("a"), "-o", str(out))
    found = duckdb.sql(
        f"SELECT cost_usd FROM read_parquet('{out}') WHERE model = 'acme-unknown-1'"
    ).fetchall()
    assert found == [(None,)]


def test_a_total_no_model_accounts_for_is_one_more_row(tmp_path: Path) -> None:
    """A session recorded with a total only, or a total beside an unpriced model: a row
    with a null model carries the difference, so the rows still add up to the report."""
    from fleet_support import entries_for

    base = entries_for("x", 0)
    only_total = replace(base[0], id="manual/total-only", models={}, cost_usd=Decimal("2.5"))
    beside = replace(
        base[5],
        id="claude-code/total-beside-unpriced",
        cost_usd=Decimal("9.000001"),
    )
    zero = ModelUsage(1, Usage(), Decimal(0))
    exact = replace(base[2], id="claude-code/exact", models={"claude-haiku-4-5": zero})
    exact = replace(exact, cost_usd=Decimal(0))
    repo = make_repo(tmp_path, "x", [only_total, beside, exact])
    rows = [json.loads(line) for line in run("export", "--repo", str(repo)).splitlines()]
    by_id: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_id.setdefault(row["entry_id"], []).append(row)
    assert [(r["model"], r["cost_usd"]) for r in by_id["manual/total-only"]] == [(None, "2.500000")]
    known = sum(Decimal(r["cost_usd"]) for r in by_id[beside.id] if r["cost_usd"] is not None)
    assert by_id[beside.id][-1]["model"] is None
    assert known == Decimal("9.000001")
    assert [r["model"] for r in by_id["claude-code/exact"]] == ["claude-haiku-4-5"]
    total = sum(Decimal(r["cost_usd"]) for r in rows if r["cost_usd"] is not None)
    assert total == Decimal(report_json("--repo", str(repo))["totals"]["cost_usd"])


def test_since_and_until_select_sessions_by_start(fleet: Fleet) -> None:
    from fleet_support import quarter_start

    q = quarter_start().date().isoformat()
    after = [json.loads(x) for x in run("export", *fleet.args(), "--since", q).splitlines()]
    before = [json.loads(x) for x in run("export", *fleet.args(), "--until", q).splitlines()]
    assert len({r["entry_id"] for r in after}) == 9 and all(r["started"] >= q for r in after)
    assert len({r["entry_id"] for r in before}) == 10 and all(r["started"] < q for r in before)


def test_without_duckdb_parquet_names_the_extra(
    fleet: Fleet, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "duckdb", None)  # `import duckdb` raises ImportError
    out = tmp_path / "x.parquet"
    result = invoke(["export", "--format", "parquet", *fleet.args(), "-o", str(out)])
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and "pip install 'costlog[duckdb]'" in result.output
    assert not out.exists() and list(tmp_path.iterdir()) == [tmp_path / "fleet"]
    assert run("export", *fleet.args("a"))  # JSONL and CSV need no DuckDB


def test_parquet_needs_an_output_file(fleet: Fleet) -> None:
    result = invoke(["export", "--format", "parquet", *fleet.args("a")])
    assert result.exit_code == 2 and "--output" in result.output


def test_an_output_file_is_replaced_whole(fleet: Fleet, tmp_path: Path) -> None:
    out = tmp_path / "sessions.jsonl"
    out.write_text("old content\n")
    result = invoke(["export", *fleet.args("a"), "-o", str(out)])
    assert result.exit_code == 0
    lines = out.read_text().splitlines()
    assert len(lines) == 8 and "old content" not in lines  # 6 sessions, 2 with 2 models
    assert f"8 rows to {out}" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fleet", "sessions.jsonl"]


def test_export_reads_the_current_repo_by_default(
    fleet: Fleet, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(fleet.repos["c"])
    rows = [json.loads(line) for line in run("export").splitlines()]
    assert {r["repo"] for r in rows} == {"c"} and len({r["entry_id"] for r in rows}) == 7
