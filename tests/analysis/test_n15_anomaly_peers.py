"""Anomaly causes compare a session with sessions of its kind (issue 15, item 5): records by
hand and aider chats say 1 request each, so next to them every Claude Code session read
"many requests: 6 (median 1)"."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from costlog import gitrepo
from costlog.ledger.store import Ledger
from costlog.models import Entry, ModelUsage, Usage
from tests_support import run

DAY = datetime(2026, 11, 2, 9, tzinfo=UTC)


def session(n: int, agent: str, cost: str, requests: int, source: str) -> Entry:
    model = "claude-sonnet-4-6"
    usage = Usage(input=1_000, output=2_000, cache_read=50_000)
    return Entry(
        id=f"{agent}/s{n}",
        agent=agent,
        started=DAY + timedelta(hours=n),
        ended=DAY + timedelta(hours=n, minutes=20),
        models={model: ModelUsage(requests, usage, Decimal(cost), source)},
        cost_usd=Decimal(cost),
        source=source,
    )


def causes(repo: Path, entries: list[Entry]) -> dict[str, list[str]]:
    ledger = Ledger(gitrepo.find(repo), ".costlog/sessions")
    for entry in entries:
        ledger.write(entry)
    rows: list[dict[str, Any]] = json.loads(run("anomalies", "--json"))
    return {row["id"]: row["causes"] for row in rows}


def by_hand(first: int, count: int) -> list[Entry]:
    """Records by hand and aider chats: one request each, a few cents."""
    return [
        session(n, "manual" if n % 2 else "aider", "0.05", 1, "manual" if n % 2 else "parsed")
        for n in range(first, first + count)
    ]


def test_claude_sessions_are_compared_with_claude_sessions(repo: Path) -> None:
    claude = [session(n, "claude-code", "1.00", 6, "actual") for n in range(3)]
    claude.append(session(3, "claude-code", "5.00", 30, "actual"))
    found = causes(repo, claude + by_hand(10, 6))
    # all four cost far above the ledger's median ($0.05): anomalies by cost
    assert set(found) == {f"claude-code/s{n}" for n in range(4)}
    for n in range(3):  # 6 requests is what a Claude Code session makes: no cause
        assert not any("many requests" in c for c in found[f"claude-code/s{n}"])
        assert found[f"claude-code/s{n}"] == ["no single cause stands out"]
    assert "many requests: 30 (claude-code median 6)" in found["claude-code/s3"]


def test_an_agent_with_few_sessions_is_compared_with_sessions_read_from_logs(
    repo: Path,
) -> None:
    claude = [session(0, "claude-code", "1.00", 6, "actual")]
    claude.append(session(1, "claude-code", "3.00", 40, "actual"))
    codex = [session(n, "codex", "0.20", 8, "actual") for n in range(2, 5)]
    manual = [session(n, "manual", "0.05", 1, "manual") for n in range(10, 16)]
    found = causes(repo, claude + codex + manual)
    # claude-code has 2 sessions, too few for its own median: the 5 sessions read from
    # logs have a median of 8 requests; the 6 typed by hand (1 "request" each) do not count
    assert "many requests: 40 (logged-session median 8)" in found["claude-code/s1"]
    assert not any("many requests" in c for c in found["claude-code/s0"])
