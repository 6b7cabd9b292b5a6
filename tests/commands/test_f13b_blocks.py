"""`scan --by block` / `report --by block` review fixes: `--tz`, `--csv`, `--breakdown`
refused, units in the headings, the ledger's request counts, "1 block"."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from costlog import gitrepo
from costlog.ledger.store import Ledger
from costlog.models import Entry, ModelUsage, Usage
from tests_support import run


def transcript(base: Path) -> Path:
    """Three Claude Code responses: two in the 09:00 UTC window, one 8 h later."""
    project = base / "projects" / "-work-demo"
    project.mkdir(parents=True)
    lines = []
    for n, when in enumerate(
        ["2026-11-03T09:17:00.000Z", "2026-11-03T10:17:00.000Z", "2026-11-03T18:30:00.000Z"]
    ):
        lines.append(
            json.dumps(
                {
                    "type": "assistant",
                    "isSidechain": False,
                    "sessionId": "s1",
                    "timestamp": when,
                    "requestId": f"req_{n}",
                    "message": {
                        "model": "claude-sonnet-4-6",
                        "id": f"msg_{n}",
                        "type": "message",
                        "role": "assistant",
                        "content": [{"type": "text", "text": "Done."}],
                        "stop_reason": "end_turn",
                        "usage": {"input_tokens": 1_000, "output_tokens": 100},
                    },
                }
            )
        )
    (project / "s1.jsonl").write_text("\n".join(lines) + "\n")
    return base


def scan(base: Path, *args: str, code: int = 0) -> str:
    return run(
        "scan", "--agent", "claude-code", "--path", str(base), "--by", "block", *args, code=code
    )


def test_scan_blocks_honour_tz(tmp_path: Path) -> None:
    base = transcript(tmp_path / "claude")
    data = json.loads(scan(base, "--json", "--tz", "Asia/Tokyo"))
    # the windows open on whole UTC hours (ccusage), shown in the zone asked for
    assert [r["start"] for r in data["rows"]] == [
        "2026-11-03T18:00:00+09:00",
        "2026-11-04T03:00:00+09:00",
    ]
    table = scan(base, "--tz", "Asia/Tokyo")
    assert "block start (Asia/Tokyo)" in table and "2026-11-03 18:00" in table
    assert "2026-11-03 09:00" not in table


def test_scan_blocks_table_labels_units_and_csv_matches_json(tmp_path: Path) -> None:
    base = transcript(tmp_path / "claude")
    table = scan(base)
    assert "burn ($/h)" in table and "time left / span" in table and "2 blocks" in table
    data = json.loads(scan(base, "--json"))
    rows = list(csv.DictReader(io.StringIO(scan(base, "--csv"))))
    assert [r["start"] for r in rows] == [r["start"] for r in data["rows"]] + ["TOTAL"]
    assert [int(r["requests"]) for r in rows] == [2, 1, 3]
    assert rows[-1]["cost_usd"] == data["totals"]["cost_usd"]
    assert rows[0]["usd_per_hour"] == data["rows"][0]["burn_rate"]["usd_per_hour"]
    one = scan(base, "--since", "2026-11-03T18:00:00Z")
    assert "1 block" in one and "1 blocks" not in one


def test_breakdown_with_blocks_is_a_usage_error(tmp_path: Path, repo: Path) -> None:
    base = transcript(tmp_path / "claude")
    out = scan(base, "--breakdown", code=2)
    assert "--breakdown does not go with --by block" in out
    assert "--breakdown does not go with --by block" in run(
        "report", "--by", "block", "--breakdown", code=2
    )


def test_report_blocks_count_the_ledgers_requests(repo: Path) -> None:
    ledger = Ledger(gitrepo.find(repo), ".costlog/sessions")
    t0 = datetime(2026, 11, 10, 8, 40, tzinfo=UTC)
    for n, requests in enumerate([7, 5]):
        started = t0 + timedelta(minutes=30 * n)
        ledger.write(
            Entry(
                id=f"claude-code/s{n}",
                agent="claude-code",
                started=started,
                ended=started + timedelta(minutes=20),
                models={
                    "claude-sonnet-4-6": ModelUsage(
                        requests, Usage(input=100, output=1_000), Decimal("1.50"), "parsed"
                    ),
                    "claude-haiku-4-5": ModelUsage(
                        2, Usage(input=10, output=10), Decimal("0.10"), "parsed"
                    ),
                },
                cost_usd=Decimal("1.60"),
                source="parsed",
            )
        )
    data = json.loads(run("report", "--by", "block", "--json"))
    assert data["totals"]["sessions"] == 2 and data["totals"]["requests"] == 16
    (row,) = data["rows"]
    assert row["burn_rate"] is None and row["projection"] is None
    table = run("report", "--by", "block")
    total = next(line for line in table.splitlines() if "TOTAL" in line)
    assert "1 block" in total and "1 blocks" not in total and "16" in total
    header = table.splitlines()[1]
    assert "sessions" in header and "requests" in header and "burn" not in header
    rows = list(csv.DictReader(io.StringIO(run("report", "--by", "block", "--csv"))))
    assert [(r["sessions"], r["requests"]) for r in rows] == [("2", "16"), ("2", "16")]
