"""`report --by author` / `--by machine` and COST_LOG.md's per-person table (issue 14).

Two people (git config user.name/email changed between records in one real repo) on two
machines (two user config dirs) across two months, plus an entry from before costlog
stored who and where: the groups add up to `report`'s totals, the old entry reports
under "(unknown)", and COST_LOG.md names nobody unless the config asks for the table.
"""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from costlog.recording.identity import short_hash
from tests_support import git, run

OLD = """\
schema: 1
id: manual/before-14
agent: manual
started: "2026-09-15T12:00:00Z"
source: manual
methods: {cost: "imported from COST_LOG.md (hand-kept, task-based estimate)"}
models:
  claude-sonnet-4-6: {requests: 1, input: 0, output: 0, cache_read: 0, cache_write_5m: 0, \
cache_write_1h: 0, reasoning: 0, cost_usd: "0.040000", source: manual}
cost_usd: "0.040000"
"""

#: (person, e-mail, machine dir, start, cost)
RECORDS = [
    ("Ada Lovelace", "ada@example.com", "laptop", "2026-09-03T10:00:00Z", "0.25"),
    ("Ada Lovelace", "ada@example.com", "desktop", "2026-10-07T10:00:00Z", "1.10"),
    ("Grace Hopper", "grace@example.com", "desktop", "2026-09-20T15:30:00Z", "0.333333"),
    ("Grace Hopper", "grace@example.com", "desktop", "2026-10-21T08:00:00Z", "2.05"),
    ("Ada Lovelace", "ada@example.com", "laptop", "2026-10-30T23:00:00Z", "0.75"),
]


@pytest.fixture
def team(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The ledger above; returns machine dir -> the hash its entries carry."""
    folder = repo / ".costlog" / "sessions" / "manual"
    folder.mkdir(parents=True)
    (folder / "before-14.yaml").write_text(OLD)
    for n, (person, email, machine, started, cost) in enumerate(RECORDS):
        git(repo, "config", "user.name", person)
        git(repo, "config", "user.email", email)
        monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / machine))
        by_hand = ("--model", "claude-sonnet-4-6", "--cost", cost, "--tasks", "1")
        run("record", *by_hand, "--started", started, "--session", f"s{n}", "--no-stage")
    return {
        m: short_hash((tmp_path / m / "costlog" / "machine-id").read_text().strip())
        for m in ("laptop", "desktop")
    }


def report(*args: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(run("report", *args, "--json"))
    return data


def costs(data: dict[str, Any], by: str) -> dict[str, Decimal]:
    return {row[by]: Decimal(row["cost_usd"]) for row in data["rows"]}


def test_by_author_and_machine_add_up_to_the_report(team: dict[str, str]) -> None:
    whole = report()
    assert whole["totals"]["sessions"] == 6
    whole_cost = Decimal(whole["totals"]["cost_usd"])
    assert whole_cost == Decimal("4.523333")
    assert set(costs(whole, "month")) == {"2026-09", "2026-10"}
    by_author = report("--by", "author")
    by_machine = report("--by", "machine")
    for data in (by_author, by_machine):
        assert data["totals"] == whole["totals"]
        assert sum(r["sessions"] for r in data["rows"]) == 6
        assert sum(Decimal(r["cost_usd"]) for r in data["rows"]) == whole_cost
    assert costs(by_author, "author") == {
        "Ada Lovelace": Decimal("2.10"),
        "Grace Hopper": Decimal("2.383333"),
        "(unknown)": Decimal("0.04"),
    }
    assert costs(by_machine, "machine") == {
        team["laptop"]: Decimal("1.00"),
        team["desktop"]: Decimal("3.483333"),
        "(unknown)": Decimal("0.04"),
    }
    assert team["laptop"] != team["desktop"]
    september = report("--by", "author", "--until", "2026-10-01")
    assert costs(september, "author") == {
        "Ada Lovelace": Decimal("0.25"),
        "Grace Hopper": Decimal("0.333333"),
        "(unknown)": Decimal("0.04"),
    }


def test_csv_and_text_show_the_same_groups(team: dict[str, str]) -> None:
    rows = list(csv.DictReader(io.StringIO(run("report", "--by", "author", "--csv"))))
    assert [r["author"] for r in rows] == ["Grace Hopper", "Ada Lovelace", "(unknown)", "TOTAL"]
    assert rows[-1]["cost_usd"] == report()["totals"]["cost_usd"]
    text = run("report", "--by", "machine")
    cells = [[c.strip() for c in line.split("│")[1:-1]] for line in text.splitlines()]
    assert cells[1][0] == "machine"  # under the box's top edge
    assert team["desktop"] in text and "(unknown)" in text
    total = [row for row in cells if row and row[0] == "TOTAL"]
    assert total and total[0][-1] == "$4.52"


def test_cost_log_names_nobody_by_default(team: dict[str, str], repo: Path) -> None:
    run("render")
    text = (repo / "COST_LOG.md").read_text()
    assert "Cost per person" not in text
    assert "Ada" not in text and "Grace" not in text and team["laptop"] not in text
    assert run("check").startswith("ok:")


def test_the_per_person_table_when_the_config_asks(team: dict[str, str], repo: Path) -> None:
    (repo / ".costlog" / "config.yaml").write_text("people_table: true\n")
    run("render")
    text = (repo / "COST_LOG.md").read_text()
    start = text.index("Cost per person")
    table = [line for line in text[start:].splitlines() if line.startswith("| ")][1:4]
    assert table == [
        "| Grace Hopper | 2 | 2 | $2.38 | 53% |",
        "| Ada Lovelace | 3 | 3 | $2.10 | 46% |",
        "| (unknown) | 1 | 0 | $0.04 | 1% |",
    ]
    assert text.index("Cost per person") < text.index("<!-- costlog:end work-items -->")
    assert run("check").startswith("ok:")
    (repo / ".costlog" / "config.yaml").write_text("people_table: false\n")
    run("render")  # turned off again: gone from the file, not left behind
    assert "Grace" not in (repo / "COST_LOG.md").read_text()


@pytest.mark.parametrize(
    ("setting", "said"),
    [
        ("people: names", "`people` must be one of name, email, hash, none"),
        ("machine: host", "`machine` must be one of hash, hostname, none"),
        ("people_table: 'yes'", "`people_table` must be true or false"),
    ],
)
def test_a_bad_privacy_setting_is_an_error_naming_it(repo: Path, setting: str, said: str) -> None:
    (repo / ".costlog").mkdir()
    (repo / ".costlog" / "config.yaml").write_text(f"timezone: UTC\n{setting}\n")
    out = run("report", code=1)
    assert said in out and ".costlog/config.yaml:2:" in out
