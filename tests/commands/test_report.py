"""`costlog report`, `budget`, `anomalies`: the same numbers COST_LOG.md shows."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from golden.ledger import entries

from costlog import gitrepo as repo_mod
from costlog import render
from costlog.config import Config
from costlog.ledger.store import Ledger
from costlog.models import Entry, ModelUsage, Usage
from tests_support import invoke, run


@pytest.fixture
def golden_repo(repo: Path) -> tuple[Path, str]:
    found = repo_mod.find(repo)
    ledger = Ledger(found, ".costlog/sessions")
    for item in entries():
        ledger.write(item)
    return repo, render.render(found, Config()).text


def block(text: str, name: str) -> str:
    found = re.search(
        rf"<!-- costlog:begin {name} -->\n(.*?)<!-- costlog:end {name} -->", text, re.S
    )
    assert found, name
    return found.group(1)


def table_rows(text: str) -> list[list[str]]:
    """Body rows of the first Markdown table in `text`, cells stripped."""
    lines: list[str] = []
    for line in text.splitlines():
        if line.startswith("|"):
            lines.append(line)
        elif lines:
            break
    return [[c.strip() for c in line.strip("|").split(" | ")] for line in lines[2:]]


def dollars(cell: str) -> Decimal:
    match = re.match(r"\$([\d,]+\.\d+)", cell)
    return Decimal(match.group(1).replace(",", "")) if match else Decimal(0)


def cents(value: str) -> Decimal:
    return Decimal(value).quantize(Decimal("0.01"))


def test_json_and_csv_by_month_equal_the_monthly_summary(golden_repo: tuple[Path, str]) -> None:
    _, markdown = golden_repo
    shown = {row[0]: row for row in table_rows(block(markdown, "monthly"))}
    data = json.loads(run("report", "--by", "month", "--json"))
    rows = list(csv.DictReader(io.StringIO(run("report", "--by", "month", "--csv"))))
    assert len(shown) == len(data["rows"]) == 3
    for row, line in zip(data["rows"], rows, strict=False):
        month, sessions, tasks, cost = shown[row["month"]][:4]
        assert (row["sessions"], row["tasks"]) == (int(sessions), int(tasks))
        assert cents(row["cost_usd"]) == dollars(cost)
        assert re.search(rf"\+ {row['unpriced_sessions']} unpriced", cost)
        assert line["month"] == month and line["cost_usd"] == row["cost_usd"]
        assert int(line["sessions"]) == row["sessions"]
    total = re.search(r"\*\*(\d+) sessions, (\$[\d,.]+) in total\*\*", markdown)
    assert total and data["totals"]["sessions"] == int(total.group(1))
    assert cents(data["totals"]["cost_usd"]) == dollars(total.group(2))


def test_json_by_work_item_and_provider_equal_the_markdown(golden_repo: tuple[Path, str]) -> None:
    _, markdown = golden_repo
    items = {r[0]: r for r in table_rows(block(markdown, "work-items"))}
    data = json.loads(run("report", "--by", "work-item", "--json"))
    by_item = {r["work-item"]: r for r in data["rows"]}
    assert set(items) == set(by_item) - {"(none)"}
    for key, (_, sessions, cost, _last) in items.items():
        assert by_item[key]["sessions"] == int(sessions)
        assert cents(by_item[key]["cost_usd"]) == dollars(cost)
    unlinked = re.search(r"(\d+) sessions? names? no work item: (\$[\d.,]+)\.", markdown)
    assert unlinked and by_item["(none)"]["sessions"] == int(unlinked.group(1))
    assert cents(by_item["(none)"]["cost_usd"]) == dollars(unlinked.group(2))
    providers = {r[0]: r for r in table_rows(block(markdown, "spend"))}
    for row in json.loads(run("report", "--by", "provider", "--json"))["rows"]:
        _, sessions, _tokens, cost, _share = providers[row["provider"]]
        assert row["sessions"] == int(sessions)
        assert cents(row["cost_usd"]) == dollars(cost)


def _session(day: datetime, n: int, cost: str, model: str = "gpt-5-codex") -> Entry:
    return Entry(
        id=f"codex/s{n}",
        agent="codex",
        started=day,
        ended=day + timedelta(hours=1),
        models={model: ModelUsage(3, Usage(10, 10), Decimal(cost))},
        cost_usd=Decimal(cost),
        source="actual",
    )


def test_since_yesterday_for_a_morning_cron(repo: Path) -> None:
    today = datetime.combine(datetime.now(UTC).date(), time(), UTC)
    ledger = Ledger(repo_mod.find(repo), ".costlog/sessions")
    for n, (days, cost) in enumerate([(3, "5.00"), (2, "4.00"), (1, "0.25"), (0, "0.50")]):
        ledger.write(_session(today - timedelta(days=days) + timedelta(minutes=5), n, cost))
    data = json.loads(run("report", "--since", "yesterday", "--by", "day", "--json"))
    assert [r["day"] for r in data["rows"]] == [
        (today - timedelta(days=1)).date().isoformat(),
        today.date().isoformat(),
    ]
    assert Decimal(data["totals"]["cost_usd"]) == Decimal("0.75")
    until = json.loads(run("report", "--since", "3d", "--until", "yesterday", "--json"))
    assert until["totals"]["sessions"] == 2


def test_budget_fail_on_warning_exits_4(repo: Path) -> None:
    ledger = Ledger(repo_mod.find(repo), ".costlog/sessions")
    ledger.write(_session(datetime(2026, 11, 2, tzinfo=UTC), 1, "0.10", "gpt-5.1-codex-mini"))
    assert invoke(["budget", "--fail-on", "warning"]).exit_code == 0
    ledger.write(_session(datetime(2026, 11, 3, tzinfo=UTC), 2, "0.80"))
    result = invoke(["budget", "--fail-on", "warning"])
    assert result.exit_code == 4
    assert "Session cost spike" in result.output


def test_anomalies_command_lists_every_anomaly(golden_repo: tuple[Path, str]) -> None:
    _, markdown = golden_repo
    count = re.search(r"(\d+) of \d+ sessions cost more than", markdown)
    listed = json.loads(run("anomalies", "--json"))
    assert count and len(listed) == int(count.group(1)) > 20
    first = table_rows(block(markdown, "anomalies"))[0]
    assert listed[0]["id"].split("/", 1)[1].startswith(first[0])
    assert cents(listed[0]["cost_usd"]) == dollars(first[3])


def test_tasks_by_model_add_up_to_the_total(golden_repo: tuple[Path, str]) -> None:
    data = json.loads(run("report", "--by", "model", "--json"))
    assert sum(r["tasks"] for r in data["rows"]) == data["totals"]["tasks"] > 0
    assert sum(r["sessions"] for r in data["rows"]) > data["totals"]["sessions"]  # mixed
