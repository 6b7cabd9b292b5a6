"""Short ids of the agents whose ids begin alike (issue 15, item 12): aider's
`aider-<start>`, OpenCode's time-ordered `ses_...`, imported rows, next to Claude Code
uuids. Each shows distinct in every COST_LOG.md table, finds its session again, and is the
same whatever else the ledger holds."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from costlog import gitrepo
from costlog.analysis.shortids import ShortIds
from costlog.ledger.store import Ledger
from costlog.models import Entry, ModelUsage, Usage
from tests_support import run

#: ids as the readers make them: aider from the `# aider chat started at` headers of
#: tests/fixtures/aider (two sessions minutes apart), OpenCode's from one afternoon (their
#: first characters are the creation time), an import of the classic log, Claude uuids
IDS = (
    "aider/aider-20240819T134654",
    "aider/aider-20240819T135438",
    "aider/aider-20240819T135438-2",
    "opencode/ses_4b6e0f1b3ffeQm2nYx7TJkV1aZ",
    "opencode/ses_4b6e0f1a9ffe3Lr8Wc0PbdE5sH",
    "opencode/ses_4b6e0c72effeH1qT9mZ4xNw2Ku",
    "manual/003-47478381-imported-2025-03-15",
    "manual/003-4791aa02-imported-2025-03-16",
    "claude-code/5f0c2a9e-1111-4c3b-9a55-0123456789ab",
    "claude-code/5f0c2a9e-2222-4c3b-9a55-0123456789ab",
    "claude-code/9d41e7c0-aaaa-4bbb-8ccc-0123456789ab",
)
NOBREAK = "\u2011"


def _entry(i: int, entry_id: str) -> Entry:
    agent = entry_id.split("/", 1)[0]
    cost = Decimal("0.10") * (i + 1)
    usage = Usage(input=1000 + i, output=200)
    return Entry(
        id=entry_id,
        agent=agent,
        started=datetime(2026, 11, 1, tzinfo=UTC) + timedelta(hours=i),
        models={"claude-sonnet-4-6": ModelUsage(3, usage, cost, "actual")},
        cost_usd=cost,
        source="actual",
        notes=f"n{i}",
    )


def test_every_table_shows_distinct_short_ids_that_find_their_session(repo: Path) -> None:
    run("init")
    ledger = Ledger(gitrepo.find(repo), ".costlog/sessions")
    for i, entry_id in enumerate(IDS):
        ledger.write(_entry(i, entry_id))
    run("render")
    log = (repo / "COST_LOG.md").read_text().replace(NOBREAK, "-")
    by_note = {}
    for line in log.splitlines():
        found = re.search(r"\| (n\d+) \|$", line)
        if found:
            cells = [c.strip() for c in line.split("|")]
            by_note[found.group(1)] = cells
    assert len(by_note) == len(IDS)
    shorts = ShortIds(IDS)
    for i, entry_id in enumerate(IDS):
        short = shorts.of(entry_id)
        assert short in by_note[f"n{i}"], (entry_id, by_note[f"n{i}"])
        [row] = json.loads(run("report", "--session", short, "--by", "session", "--json"))["rows"]
        assert row["session"] == entry_id
    shown = [shorts.of(i) for i in IDS]
    assert len(set(shown)) == len(IDS)
    assert all(len(short) <= 13 for short in shown)
    # no more `aider-20` thrice, nor `ses_4b6e`: aider's by its start time and a hash, the
    # others by a few leading characters and a hash, Claude's uuids by their first eight
    assert shown[:3] == ["0819-1346-85d", "0819-1354-610", "0819-1354-624"]
    assert shown[3:6] == ["4b6e0f-01aa", "4b6e0f-7adb", "4b6e0c-7357"]
    assert shown[6:8] == ["003-49a9", "003-0237"]
    # two uuids that begin alike are both lengthened, by their own hash
    assert shown[8:] == ["5f0c2a9e-800", "5f0c2a9e-ac3", "9d41e7c0"]
    # and each id reads the same in a ledger of it alone: nothing depends on the others
    # (but the two uuids that begin alike)
    for entry_id, short in zip(IDS, shown, strict=True):
        if not entry_id.startswith("claude-code/5f0c"):
            assert ShortIds([entry_id]).of(entry_id) == short
    # the 30-session trend table lists the same ids
    trend = log[log.index("| # | Date |") :].split("\n\n", 1)[0]
    for short in shown:
        assert f"| {short} |" in trend
