"""`scan --by block` / `report --by block`: 5-hour windows with ccusage's rules.

The corpus below (two Claude Code transcripts in the real line format) was also read by
ccusage 20.0.24 (`ccusage blocks --json --offline`, native linux-x64 build) on
2026-12-02; the window starts, requests, token totals and costs asserted here are the
figures it printed, checked by hand against the rules: floor to the hour, a request
exactly 5 h after the start stays, one second later opens a new window, a quiet spell of
more than 5 h opens a new one.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from costlog.blocks import Point, blocks
from tests_support import run

#: (session, time, model, input, output, cache read, cache write 5m)
REQUESTS = [
    ("s1", "2026-11-03T09:17:00Z", "claude-sonnet-4-6", 10, 500, 20_000, 4_000),
    ("s2", "2026-11-03T10:00:00Z", "claude-opus-4-6", 20, 1_000, 30_000, 2_000),
    ("s1", "2026-11-03T14:00:00Z", "claude-sonnet-4-6", 5, 300, 25_000, 1_000),
    ("s1", "2026-11-03T14:00:01Z", "claude-sonnet-4-6", 7, 700, 26_000, 0),
    ("s2", "2026-11-03T15:45:30Z", "claude-haiku-4-5", 3, 200, 9_000, 500),
    ("s2", "2026-11-03T21:10:00Z", "claude-opus-4-6", 12, 2_000, 40_000, 8_000),
    ("s1", "2026-11-05T08:59:59Z", "claude-sonnet-4-6", 1, 100, 1_000, 0),
]

#: what ccusage 20.0.24 reported for this corpus (non-gap blocks), verified by hand
CCUSAGE = [
    # start, entries, total tokens, cost (ccusage: 0.09689500000000001 and so on, floats)
    ("2026-11-03T09:00:00+00:00", 3, 83_835, "0.096895"),
    ("2026-11-03T14:00:00+00:00", 2, 36_410, "0.020849"),
    ("2026-11-03T21:00:00+00:00", 1, 50_012, "0.120060"),
    ("2026-11-05T08:00:00+00:00", 1, 1_101, "0.001803"),
]


def write_corpus(base: Path) -> Path:
    """The transcripts, one response per request (final counts, one content line each)."""
    project = base / "projects" / "-work-demo"
    project.mkdir(parents=True, exist_ok=True)
    files: dict[str, list[str]] = {}
    for n, (sid, when, model, inp, out, read, write) in enumerate(REQUESTS):
        line: dict[str, Any] = {
            "parentUuid": None,
            "isSidechain": False,
            "userType": "external",
            "cwd": "/work/demo",
            "sessionId": sid,
            "version": "2.1.90",
            "gitBranch": "main",
            "type": "assistant",
            "uuid": f"{sid}-a{n}",
            "timestamp": when.replace("Z", ".000Z"),
            "requestId": f"req_{sid}_{n}",
            "message": {
                "model": model,
                "id": f"msg_{sid}_{n}",
                "type": "message",
                "role": "assistant",
                "content": [{"type": "text", "text": "Done."}],
                "stop_reason": "end_turn",
                "stop_sequence": None,
                "usage": {
                    "input_tokens": inp,
                    "cache_creation_input_tokens": write,
                    "cache_read_input_tokens": read,
                    "cache_creation": {
                        "ephemeral_5m_input_tokens": write,
                        "ephemeral_1h_input_tokens": 0,
                    },
                    "output_tokens": out,
                    "service_tier": "standard",
                },
            },
        }
        files.setdefault(sid, []).append(json.dumps(line, separators=(",", ":")))
    for sid, lines in files.items():
        (project / f"{sid}.jsonl").write_text("\n".join(lines) + "\n")
    return base


def test_scan_blocks_match_ccusage(tmp_path: Path) -> None:
    base = write_corpus(tmp_path / "claude")
    out = run("scan", "--agent", "claude-code", "--path", str(base), "--by", "block", "--json")
    data = json.loads(out)
    got = [(r["start"], r["requests"], r["total_tokens"], r["cost_usd"]) for r in data["rows"]]
    assert got == CCUSAGE
    assert data["totals"]["total_tokens"] == sum(row[2] for row in CCUSAGE)
    assert Decimal(data["totals"]["cost_usd"]) == sum(Decimal(row[3]) for row in CCUSAGE)
    assert all(not r["active"] and r["projection"] is None for r in data["rows"])
    # by hand: 24,510 + 33,020 + 26,305 tokens; sonnet-4-6 $0.028530 + opus-4-6 $0.052600
    # + sonnet-4-6 $0.015765; burn rate over the 283 minutes from 09:17 to 14:00
    first = data["rows"][0]
    assert first["burn_rate"]["tokens_per_minute"] == "296"  # 83,835 / 283
    assert first["burn_rate"]["usd_per_hour"] == "0.020543"  # 0.096895 / 283 x 60
    assert data["rows"][2]["burn_rate"] is None  # one request: no rate


def test_scan_blocks_table_names_basis_and_total(tmp_path: Path) -> None:
    base = write_corpus(tmp_path / "claude")
    out = run("scan", "--agent", "claude-code", "--path", str(base), "--by", "block")
    assert "2026-11-03 09:00" in out and "2026-11-05 08:00" in out
    assert "4 blocks" in out and "171,358" in out
    assert "one point per request" in out


def test_active_block_projects_to_its_end() -> None:
    start = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    points = [
        Point(start + timedelta(minutes=10), 100, 900, 0, 0, Decimal("0.10"), "m"),
        Point(start + timedelta(minutes=70), 100, 900, 0, 0, Decimal("0.20"), "m"),
    ]
    now = start + timedelta(minutes=100)
    (only,) = blocks(points, now)
    assert only.active
    burn = only.burn()
    assert burn is not None
    assert burn.tokens_per_minute == Decimal(2000) / 60
    assert burn.cost_per_hour == Decimal("0.30")
    proj = only.projection(now)
    assert proj is not None
    assert proj.minutes_left == 200  # 14:00 end, now 10:40
    assert proj.tokens == 2000 + round(Decimal(2000) / 60 * 200)
    assert proj.cost == Decimal("0.30") + Decimal("0.30") / 60 * 200
    # six hours after the last request the window is over, with no projection
    (later,) = blocks(points, start + timedelta(hours=7))
    assert not later.active and later.projection(start + timedelta(hours=7)) is None


def test_active_flag_shows_only_the_live_window(tmp_path: Path) -> None:
    base = tmp_path / "claude"
    write_corpus(base)
    now = datetime.now(UTC).replace(microsecond=0)
    recent = now - timedelta(minutes=30)
    project = base / "projects" / "-work-demo"
    line = json.loads((project / "s1.jsonl").read_text().splitlines()[0])
    line["timestamp"] = recent.isoformat().replace("+00:00", "Z")
    line["requestId"] = "req_live"
    line["message"]["id"] = "msg_live"
    (project / "live.jsonl").write_text(json.dumps(line) + "\n")
    data = json.loads(
        run(
            "scan",
            "--agent",
            "claude-code",
            "--path",
            str(base),
            "--by",
            "block",
            "--active",
            "--json",
        )
    )
    (row,) = data["rows"]
    assert row["active"] and row["requests"] == 1
    assert row["start"] == recent.replace(minute=0, second=0).isoformat()
    text = run("scan", "--agent", "claude-code", "--path", str(base), "--by", "block", "--active")
    assert "ACTIVE" in text


def test_active_without_block_is_a_usage_error(tmp_path: Path) -> None:
    out = run("scan", "--by", "day", "--active", code=2)
    assert "--active goes with --by block" in out


@pytest.mark.parametrize("gap_minutes, windows", [(300, 1), (301, 2)])
def test_gap_rule_follows_ccusage(gap_minutes: int, windows: int) -> None:
    """A request exactly 5 h after the previous one (and the start) stays in its window."""
    t0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    points = [Point(t0, 1), Point(t0 + timedelta(minutes=gap_minutes), 1)]
    assert len(blocks(points, t0 + timedelta(days=1))) == windows


def test_report_blocks_place_each_session_at_its_start(repo: Path) -> None:
    from costlog import gitrepo
    from costlog.ledger.store import Ledger
    from costlog.models import Entry, ModelUsage, Usage

    ledger = Ledger(gitrepo.find(repo), ".costlog/sessions")
    t0 = datetime(2026, 11, 10, 8, 40, tzinfo=UTC)
    for n, (offset, cost) in enumerate([(0, "1.25"), (180, "0.75"), (600, "2.00")]):
        started = t0 + timedelta(minutes=offset)
        ledger.write(
            Entry(
                id=f"claude-code-s{n}",
                agent="claude-code",
                started=started,
                ended=started + timedelta(minutes=30),
                models={
                    "claude-sonnet-4-6": ModelUsage(
                        3, Usage(input=100, output=1_000), Decimal(cost), "parsed"
                    )
                },
                cost_usd=Decimal(cost),
                source="parsed",
            )
        )
    data = json.loads(run("report", "--by", "block", "--json"))
    got = [(r["start"], r["sessions"], r["requests"], r["cost_usd"]) for r in data["rows"]]
    # 08:40 and 11:40 share the 08:00 window; 18:40 is more than 5 h later: a new one;
    # requests are the ledger's counts (3 per session), not the sessions
    assert got == [
        ("2026-11-10T08:00:00+00:00", 2, 6, "2.000000"),
        ("2026-11-10T18:00:00+00:00", 1, 3, "2.000000"),
    ]
    assert all(r["burn_rate"] is None and r["projection"] is None for r in data["rows"])
    assert "session" in data["basis"] and data["totals"]["cost_usd"] == "4.000000"
    text = run("report", "--by", "block")
    assert "2026-11-10 18:00" in text and "each recorded session placed whole" in text
    assert "burn" not in text.splitlines()[1] and "2 blocks" in text


def test_report_blocks_on_a_plan_say_api_equivalent(repo: Path) -> None:
    from costlog import gitrepo
    from costlog.ledger.store import Ledger
    from costlog.models import Entry, ModelUsage, Usage

    (repo / ".costlog").mkdir()
    (repo / ".costlog" / "config.yaml").write_text(
        "plans:\n  - {plan: claude-max-5x, agent: claude-code, from: 2026-11-10}\n"
    )
    ledger = Ledger(gitrepo.find(repo), ".costlog/sessions")
    for n, day in enumerate([9, 10]):  # the day before the plan, and its first day
        started = datetime(2026, 11, day, 8, 0, tzinfo=UTC)
        ledger.write(
            Entry(
                id=f"claude-code/s{n}",
                agent="claude-code",
                started=started,
                models={
                    "claude-sonnet-4-6": ModelUsage(1, Usage(output=10), Decimal("1"), "parsed")
                },
                cost_usd=Decimal("1"),
                source="parsed",
            )
        )
    data = json.loads(run("report", "--by", "block", "--json"))
    assert [r["on_plan_requests"] for r in data["rows"]] == [0, 1]
    text = run("report", "--by", "block")
    assert "1 of 2 requests ran on a subscription plan" in text and "API-equivalent" in text


def test_scan_blocks_take_only_requests_in_range(tmp_path: Path) -> None:
    base = write_corpus(tmp_path / "claude")
    args = ["scan", "--agent", "claude-code", "--path", str(base), "--by", "block", "--json"]
    data = json.loads(run(*args, "--since", "2026-11-04"))
    assert [(r["start"], r["requests"]) for r in data["rows"]] == [("2026-11-05T08:00:00+00:00", 1)]
    data = json.loads(run(*args, "--until", "2026-11-03T14:00:01Z"))
    assert [r["requests"] for r in data["rows"]] == [3]  # 14:00:01 itself is out
