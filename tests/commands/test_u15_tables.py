"""`scan` and `report` tables as ccusage users know them (issue 15, item 21): boxed and
aligned, `--breakdown`, `--order`, `--compact`, session rows with last activity and models,
`scan --by agent|provider`, colour on a terminal only (NO_COLOR honoured), the machine's
time zone by default; JSON and CSV keep their shape."""

from __future__ import annotations

import csv
import io
import json
import os
import pty
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from agent_logs import claude_session, codex_session

from tests_support import run

SID_A = "7d1e2f30-4b5c-4d6e-8f90-a1b2c3d4e5f6"
SID_B = "9a8b7c6d-1111-4d6e-8f90-a1b2c3d4e5f6"
CODEX = "019a0b1c-2d3e-7f40-8a5b-6c7d8e9f0a1b"
BOX = "┌┬┐├┼┤└┴┘│─"


@pytest.fixture
def logs(isolated_home: Path, tmp_path: Path) -> Path:
    """Two days of Claude Code (Sonnet, then Opus) and one Codex session late on the 21st
    UTC, which is still the 21st in Los Angeles but the 22nd in Tokyo."""
    work = tmp_path / "work"
    work.mkdir()
    claude = isolated_home / ".claude"
    claude_session(claude, SID_A, work, "2026-11-20T09:00", 3)
    claude_session(claude, SID_B, work, "2026-11-21T10:00", 2, model="claude-opus-4-6")
    codex_session(isolated_home / ".codex", CODEX, work, "2026-11-21T23:30", 4)
    return work


def cells(table: str) -> list[list[str]]:
    """The rows of a boxed table, as their cells' text (rules and edges left out)."""
    return [
        [c.strip() for c in line.split("│")[1:-1]]
        for line in table.splitlines()
        if line.startswith("│")
    ]


def dollars(text: str) -> Decimal:
    return Decimal(text.split()[0].lstrip("$").replace(",", ""))


def test_scan_draws_a_boxed_table_whose_rows_add_up_to_its_total(logs: Path) -> None:
    out = run("scan", "--tz", "UTC")
    lines = out.splitlines()
    assert lines[0].startswith("┌") and lines[-1].startswith("└")
    assert "\x1b[" not in out  # not a terminal: no colour codes in a pipe or a file
    rows = cells(out)
    head, body, total = rows[0], rows[1:-1], rows[-1]
    assert head == [
        "day", "models", "input", "output", "cache write", "cache read", "total tokens",
        "requests", "cost",
    ]  # fmt: skip
    assert [r[0] for r in body] == ["2026-11-20", "2026-11-21", ""]  # Codex: a 2nd model line
    assert body[1][1] == "claude-opus-4-6" and body[2][1] == "gpt-5.2-codex"
    assert total[0] == "TOTAL"
    # a rule sets the TOTAL row apart; the shown cents of the rows add up to it
    assert lines[-3].startswith("├")
    assert sum(dollars(r[-1]) for r in body if r[-1]) == dollars(total[-1])
    data = json.loads(run("scan", "--tz", "UTC", "--json"))
    assert dollars(total[-1]) == Decimal(data["totals"]["cost_usd"]).quantize(Decimal("0.01"))
    assert int(total[2].replace(",", "")) == data["totals"]["input_tokens"]


def test_breakdown_lists_each_rows_models_under_it(logs: Path) -> None:
    out = run("scan", "--tz", "UTC", "--breakdown")
    rows = cells(out)
    assert rows[0][:2] == ["day", "input"]  # the models are the lines under each row
    day = next(i for i, r in enumerate(rows) if r[0] == "2026-11-21")
    details = rows[day + 1 : day + 3]
    assert sorted(d[0] for d in details) == ["└ claude-opus-4-6", "└ gpt-5.2-codex"]
    assert dollars(details[0][-1]) >= dollars(details[1][-1])  # costliest first
    data = json.loads(run("scan", "--tz", "UTC", "--breakdown", "--json"))
    [row] = [r for r in data["rows"] if r["day"] == "2026-11-21"]
    parts = {p["model"]: p for p in row["breakdown"]}
    assert set(parts) == {"claude-opus-4-6", "gpt-5.2-codex"}
    assert sum(Decimal(p["cost_usd"]) for p in parts.values()) == Decimal(row["cost_usd"])
    assert sum(p["requests"] for p in parts.values()) == row["requests"]
    # each model line shows that model's own cost
    for detail in details:
        model = detail[0].removeprefix("└ ")
        assert dollars(detail[-1]) == Decimal(parts[model]["cost_usd"]).quantize(Decimal("0.01"))


def test_order_desc_puts_the_newest_first_and_compact_keeps_five_columns(logs: Path) -> None:
    newest = cells(run("scan", "--tz", "UTC", "--order", "desc"))
    assert [r[0] for r in newest[1:-1] if r[0]] == ["2026-11-21", "2026-11-20"]
    compact = cells(run("scan", "--tz", "UTC", "--compact"))
    assert compact[0] == ["day", "models", "input", "output", "cost"]
    # cost-ordered groups: costliest first, `--order asc` cheapest first
    models = [r[0] for r in cells(run("scan", "--by", "model"))[1:-1]]
    cheapest = [r[0] for r in cells(run("scan", "--by", "model", "--order", "asc"))[1:-1]]
    data = json.loads(run("scan", "--by", "model", "--json"))["rows"]
    costliest = max(data, key=lambda r: Decimal(r["cost_usd"]))["model"]
    assert cheapest == models[::-1] and models[0] == costliest


def test_scan_by_agent_and_by_provider(logs: Path) -> None:
    agents = {r[0]: r for r in cells(run("scan", "--by", "agent"))[1:-1] if r[0]}
    assert set(agents) == {"claude-code", "codex"}
    providers = json.loads(run("scan", "--by", "provider", "--json"))
    by = {r["provider"]: r for r in providers["rows"]}
    assert set(by) == {"Anthropic", "OpenAI"}
    assert by["OpenAI"]["models"] == ["gpt-5.2-codex"] and by["OpenAI"]["requests"] == 4
    assert by["Anthropic"]["sessions"] == 2


def test_session_rows_show_models_and_last_activity_in_the_zone_asked(logs: Path) -> None:
    rows = cells(run("scan", "--by", "session", "--tz", "Asia/Tokyo"))
    assert rows[0][:3] == ["session", "models", "last activity"]
    by_id = {r[0]: r for r in rows[1:-1] if r[0]}
    codex = by_id[f"codex/{CODEX}"]
    assert codex[1] == "gpt-5.2-codex"
    assert codex[2] == "2026-11-22 08:30"  # 23:30:13 UTC, the last token count, in Tokyo
    # listed in the order they were last active
    assert list(by_id) == [f"claude-code/{SID_A}", f"claude-code/{SID_B}", f"codex/{CODEX}"]
    data = json.loads(run("scan", "--by", "session", "--json"))
    [row] = [r for r in data["rows"] if r["session"] == f"codex/{CODEX}"]
    assert row["last_activity"] == "2026-11-21T23:30:13+00:00"


def test_days_are_the_machines_own_by_default(logs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    tokyo = [r["day"] for r in json.loads(run("scan", "--json"))["rows"]]
    assert tokyo == ["2026-11-20", "2026-11-21", "2026-11-22"]
    utc = [r["day"] for r in json.loads(run("scan", "--tz", "UTC", "--json"))["rows"]]
    assert utc == ["2026-11-20", "2026-11-21"]


def test_json_and_csv_keep_their_shape(logs: Path) -> None:
    data = json.loads(run("scan", "--json"))
    assert set(data) == {"by", "totals", "rows", "warnings"}
    assert set(data["rows"][0]) == {
        "day", "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_5m_tokens",
        "cache_write_1h_tokens", "reasoning_tokens", "requests", "sessions", "cost_usd",
        "unpriced_requests", "models", "estimated_output_tokens", "plan", "api_equivalent",
    }  # fmt: skip
    header = next(csv.reader(io.StringIO(run("scan", "--csv"))))
    assert header == [
        "day", "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_5m_tokens",
        "cache_write_1h_tokens", "reasoning_tokens", "requests", "sessions", "cost_usd",
        "unpriced_requests", "models", "plan", "api_equivalent",
    ]  # fmt: skip


def _on_a_terminal(args: list[str], env: dict[str, str], cwd: Path) -> str:
    """costlog run with its output on a pseudo-terminal, as a person runs it."""
    main, child = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "costlog", *args],
        stdout=child,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        cwd=cwd,
        env=env,
    )
    os.close(child)
    chunks = []
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # the child closed its end
            break
        if not chunk:
            break
        chunks.append(chunk)
    proc.wait(timeout=60)
    os.close(main)
    return b"".join(chunks).decode()


def test_colour_on_a_terminal_only_and_never_with_no_color(logs: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env.update(COLUMNS="200", LANG="C.UTF-8", PYTHONIOENCODING="utf-8")
    coloured = _on_a_terminal(["scan", "--tz", "UTC"], env, logs)
    assert "\x1b[" in coloured and "TOTAL" in coloured
    plain = _on_a_terminal(["scan", "--tz", "UTC"], {**env, "NO_COLOR": "1"}, logs)
    assert "\x1b[" not in plain and "TOTAL" in plain
    assert "cache write" in plain  # 200 columns: the full table
    narrow = _on_a_terminal(
        ["scan", "--tz", "UTC"], {**env, "COLUMNS": "80", "NO_COLOR": "1"}, logs
    )
    assert "cache write" not in narrow and "TOTAL" in narrow  # compact by itself


def test_report_session_rows_show_the_short_id_agent_models_and_last_activity(
    repo: Path,
) -> None:
    run("init")
    run(
        "record", "--model", "claude-sonnet-4-6", "--no-stage", "--tasks", "2",
        "--task-types", "2 code", "--started", "2026-11-20T09:00:00Z",
    )  # fmt: skip
    run(
        "record", "--model", "gpt-5", "--no-stage", "--agent", "cursor",
        "--input-tokens", "1000", "--output-tokens", "500", "--started", "2026-11-21T09:00:00Z",
    )  # fmt: skip
    rows = cells(run("report", "--by", "session"))
    assert rows[0][:4] == ["session", "agent", "models", "last activity"]
    body = rows[1:-1]
    assert [r[1] for r in body] == ["manual", "cursor"]  # oldest first
    assert [r[2] for r in body] == ["claude-sonnet-4-6", "gpt-5"]
    assert body[0][3] == "2026-11-20 09:00"
    for row in body:  # the short id shown finds its session
        data = json.loads(run("report", "--session", row[0], "--by", "session", "--json"))
        [found] = data["rows"]
        assert found["short_id"] == row[0] and found["agent"] == row[1]
    csv_head = next(csv.reader(io.StringIO(run("report", "--by", "session", "--csv"))))
    assert csv_head[0] == "session" and "short_id" not in csv_head
    breakdown = json.loads(run("report", "--by", "month", "--breakdown", "--json"))
    [month] = breakdown["rows"]
    assert [m["model"] for m in month["breakdown"]] == ["claude-sonnet-4-6", "gpt-5"]
    assert sum(Decimal(m["cost_usd"]) for m in month["breakdown"]) == Decimal(month["cost_usd"])


def test_an_output_without_box_characters_gets_an_ascii_box(logs: Path) -> None:
    env = {**os.environ, "PYTHONIOENCODING": "ascii"}
    done = subprocess.run(
        [sys.executable, "-m", "costlog", "scan", "--tz", "UTC"],
        capture_output=True,
        cwd=logs,
        env=env,
        check=True,
    )
    out = done.stdout.decode("ascii")  # would raise on a box-drawing character
    lines = out.splitlines()
    assert lines[0].startswith("+-") and lines[-1].startswith("+-")
    assert any(line.startswith("| TOTAL ") for line in lines)
