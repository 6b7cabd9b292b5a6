"""`report --by task-type` / `--by work-item`: a session's tokens are shared among its
groups as its cost is, in whole tokens adding up to the session's (issue 15, item 4: the
output column summed to 134,356 under a TOTAL of 89,677)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests_support import run

COLUMNS = ("input_tokens", "output_tokens", "cache_read_tokens", "requests")


def by(group: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(run("report", "--by", group, "--json"))
    return data


def record(*args: str) -> None:
    run("record", "--model", "claude-sonnet-4-6", "--no-stage", *args)


def test_task_types_share_tokens_and_add_up_to_the_total(repo: Path) -> None:
    record(
        "--session", "s1", "--input-tokens", "1001", "--output-tokens", "333",
        "--cache-read-tokens", "5", "--tasks", "3", "--task-types", "2 code, 1 docs",
    )  # fmt: skip
    record("--session", "s2", "--output-tokens", "100", "--tasks", "1", "--task-types", "1 code")
    data = by("task-type")
    rows = {row["task-type"]: row for row in data["rows"]}
    # s1 is 2/3 code, 1/3 docs: 667.33 + 333.67 input -> 667 + 334 (largest remainder)
    assert (rows["code"]["input_tokens"], rows["docs"]["input_tokens"]) == (667, 334)
    assert (rows["code"]["output_tokens"], rows["docs"]["output_tokens"]) == (222 + 100, 111)
    assert (rows["code"]["cache_read_tokens"], rows["docs"]["cache_read_tokens"]) == (3, 2)
    for column in COLUMNS:
        assert sum(row[column] for row in data["rows"]) == data["totals"][column], column
    assert data["totals"]["output_tokens"] == 433  # each token counted once
    assert (rows["code"]["sessions"], rows["docs"]["sessions"]) == (2, 1)  # sessions whole
    text = run("report", "--by", "task-type")
    assert "322" in text and "111" in text and "433" in text


def test_work_items_share_tokens_and_add_up_to_the_total(repo: Path) -> None:
    record(
        "--session", "s1", "--output-tokens", "1001", "--work-item", "WRK-1",
        "--work-item", "WRK-2", "--work-item", "WRK-3",
    )  # fmt: skip
    data = by("work-item")
    outputs = sorted(row["output_tokens"] for row in data["rows"])
    assert outputs == [333, 334, 334]
    assert sum(outputs) == data["totals"]["output_tokens"] == 1001
