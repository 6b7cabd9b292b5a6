"""`costlog scan` applies Claude Code's `cost-state` totals as `costlog record` does (issue 16
review): a session's title call, which the transcript does not log, is in both or in
neither, so the two agree on its tokens and cost.

The transcript is the real one Claude Code 2.1.332 wrote, in a Claude data dir, with a
title call to claude-haiku-5-5 added to its cost-state line as Claude Code counts it.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from costlog import gitrepo as repo_mod
from costlog.ledger.store import Ledger
from tests_support import FIXTURES_DIR, run

SID = "74bd4e93-bcd3-44cf-9b4c-8e2113b8c318"
REAL = FIXTURES_DIR / "claude-code" / "real-2.1.332" / f"{SID}.jsonl"
TITLE = {
    "inputTokens": 300,
    "outputTokens": 12,
    "cacheReadInputTokens": 0,
    "cacheCreationInputTokens": 15_360,
    "cacheCreationEphemeral5mInputTokens": 5_120,
    "cacheCreationEphemeral1hInputTokens": 10_240,
    "costUSD": 0.002724,
}
OPUS_COST = Decimal("0.117666")  # the four logged responses
TITLE_COST = Decimal("0.002724")  # the title call, at the table's claude-haiku-5-5 rates


def _data_dir(tmp_path: Path, repo: Path, title: bool = True, pad: int = 0) -> Path:
    """A Claude data dir holding the transcript; `pad` bytes of a later non-response line
    after the cost-state line."""
    lines = []
    for line in REAL.read_text().splitlines():
        record = json.loads(line)
        if record.get("type") == "cost-state" and title:
            record["modelUsage"]["claude-haiku-5-5"] = dict(TITLE)
        lines.append(json.dumps(record).replace("/tmp/ccreal/repo", str(repo)))
    if pad:
        lines.append(json.dumps({"type": "summary", "summary": "x" * pad, "leafUuid": "u"}))
    config = tmp_path / "claude"
    project = config / "projects" / ("-" + str(repo).strip("/").replace("/", "-"))
    project.mkdir(parents=True)
    (project / REAL.name).write_text("\n".join(lines) + "\n")
    return config


def _scan() -> dict[str, Any]:
    totals: dict[str, Any] = json.loads(run("scan", "--agent", "claude-code", "--json"))["totals"]
    return totals


def test_scan_counts_the_title_call_as_record_does(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _data_dir(tmp_path, repo)
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(config))
    scanned = _scan()
    [log] = (config / "projects").glob("*/*.jsonl")
    run("record", "--transcript", str(log), "--no-stage")
    [entry] = Ledger(repo_mod.find(repo), ".costlog/sessions").load_all()
    assert entry.cost_usd == OPUS_COST + TITLE_COST
    assert Decimal(scanned["cost_usd"]) == entry.cost_usd  # not OPUS_COST alone
    usage = [m.usage for m in entry.models.values()]
    assert scanned["input_tokens"] == sum(u.input for u in usage)
    assert scanned["cache_write_5m_tokens"] == sum(u.cache_write_5m for u in usage)
    assert scanned["cache_write_1h_tokens"] == sum(u.cache_write_1h for u in usage)
    assert scanned["requests"] == 5  # the four responses and the title call
    # scanned again (from the per-file cache and the kept result): added once, not twice
    assert _scan() == scanned


def test_scan_without_a_title_call_adds_nothing(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(_data_dir(tmp_path, repo, title=False)))
    scanned = _scan()
    assert Decimal(scanned["cost_usd"]) == OPUS_COST
    assert scanned["requests"] == 4


def test_scan_reads_a_cost_state_line_behind_a_long_last_line(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a line of 40 kB after it: still within what scan reads from the end
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(_data_dir(tmp_path, repo, pad=40_000)))
    assert Decimal(_scan()["cost_usd"]) == OPUS_COST + TITLE_COST
