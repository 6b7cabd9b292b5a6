"""A cold read tests each transcript's tail for a `cost-state` line as it reads it (on
every core), so `costlog scan` does not open every transcript again for it. That test only
holds while the file is unchanged: a transcript that gained its cost-state line after the
read (Claude Code appends it at the end of a session) is still found by the next scan in
the same process, and its title call counted."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests_support import FIXTURES_DIR, run

SID = "74bd4e93-bcd3-44cf-9b4c-8e2113b8c318"
REAL = FIXTURES_DIR / "claude-code" / "real-2.1.332" / f"{SID}.jsonl"
OTHER = FIXTURES_DIR / "claude-code" / "ccusage__project-alpha_chat.jsonl"
TITLE = {
    "inputTokens": 300,
    "outputTokens": 12,
    "cacheReadInputTokens": 0,
    "cacheCreationInputTokens": 15_360,
    "cacheCreationEphemeral5mInputTokens": 5_120,
    "cacheCreationEphemeral1hInputTokens": 10_240,
    "costUSD": 0.002724,
}


def _split() -> tuple[list[str], str]:
    """The real transcript's lines without its cost-state line, and that line with a
    title call to claude-haiku-5-5 added as Claude Code counts it."""
    lines, state = [], ""
    for line in REAL.read_text().splitlines():
        record = json.loads(line)
        if record.get("type") == "cost-state":
            record["modelUsage"]["claude-haiku-5-5"] = dict(TITLE)
            state = json.dumps(record)
        else:
            lines.append(line)
    assert state
    return lines, state


def _totals() -> dict[str, Any]:
    out: dict[str, Any] = json.loads(run("scan", "--agent", "claude-code", "--json"))["totals"]
    return out


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_cost_state_line_appended_after_a_cold_read_is_still_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: str
) -> None:
    monkeypatch.setenv("COSTLOG_SCAN_WORKERS", workers)  # "2": the test runs in a child
    monkeypatch.setenv("COSTLOG_NO_SCAN_MEMO", "1")  # no kept result: the logs are read
    project = tmp_path / "claude" / "projects" / "-work-app"
    project.mkdir(parents=True)
    (project / OTHER.name).write_bytes(OTHER.read_bytes())
    lines, state = _split()
    transcript = project / REAL.name
    transcript.write_text("\n".join(lines) + "\n")
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "claude"))
    before = _totals()  # cold: neither tail holds a cost-state line
    with transcript.open("a") as out:  # the session ends: Claude Code writes its totals
        out.write(state + "\n")
    after = _totals()
    assert after["requests"] == before["requests"] + 1  # the title call
    assert Decimal(after["cost_usd"]) - Decimal(before["cost_usd"]) == Decimal("0.002724")
    assert after["input_tokens"] - before["input_tokens"] == 300
    assert _totals() == after  # and again, from the cache: added once
