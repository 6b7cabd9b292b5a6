"""Budget alert levels (issue 15, item 11): routing checks fire as `review`, spend alerts
as `warning`; `budget --fail-on warning` fails CI on spend only, `--fail-on review` on
either. A quiet ledger of five $0.05 Sonnet sessions used to fail `--fail-on warning`
through "Haiku under-use"."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests_support import invoke, run


def record(day: int, cost: str, model: str = "claude-sonnet-4-6") -> None:
    run(
        "record", "--model", model, "--cost", cost, "--session", f"s{day}-{cost}",
        "--started", f"2026-11-{day:02d}T10:00:00Z", "--no-stage",
    )  # fmt: skip


def states() -> dict[str, str]:
    rows = json.loads(run("budget", "--json"))
    return {re.sub(r" \(20\d\d-.*\)$", "", row["alert"]): row["state"] for row in rows}


def test_a_quiet_month_without_haiku_is_a_review_not_a_warning(repo: Path) -> None:
    for day in range(2, 7):
        record(day, "0.05")
    assert states()["Small-model (Haiku) under-use"] == "review"
    assert "warning" not in states().values()
    text = run("budget")
    assert any(line.startswith("review ") and "under-use" in line for line in text.splitlines())
    assert invoke(["budget", "--fail-on", "warning"]).exit_code == 0  # spend is fine
    failed = invoke(["budget", "--fail-on", "review"])
    assert failed.exit_code == 4
    assert "1 budget alert: Small-model (Haiku) under-use (2026-11) (review)" in failed.output
    cost_log = (repo / "COST_LOG.md").read_text()
    row = next(line for line in cost_log.splitlines() if "under-use" in line)
    assert "| review |" in row and "**warning**" not in row


def test_spend_fails_warning_and_review_alike(repo: Path) -> None:
    record(2, "0.05", "claude-haiku-4-5")
    record(3, "0.80")  # over the $0.50 session spike
    assert states()["Session cost spike"] == "warning"
    assert states()["Small-model (Haiku) under-use"] == "ok"
    for level in ("warning", "review"):
        result = invoke(["budget", "--fail-on", level])
        assert result.exit_code == 4, level
        assert "Session cost spike (warning)" in result.output
    assert invoke(["budget", "--fail-on", "never"]).exit_code == 0


def test_opus_over_use_is_a_routing_review(repo: Path) -> None:
    record(2, "0.05", "claude-haiku-4-5")
    for day in range(3, 6):
        record(day, "0.10", "claude-opus-4-6")  # 3 of 4 sessions on Opus
    assert states()["Opus over-use"] == "review"
    assert invoke(["budget", "--fail-on", "warning"]).exit_code == 0
    assert invoke(["budget", "--fail-on", "review"]).exit_code == 4
