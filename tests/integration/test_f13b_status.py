"""The status line's month share follows `budget.watch: paid` like `costlog budget`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest

from costlog import gitrepo
from costlog.ledger.store import Ledger
from costlog.models import Entry, ModelUsage, Usage
from tests_support import run

SID = "0a1b2c3d-0000-4000-8000-0000000000f6"


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "state"
    monkeypatch.setenv("COSTLOG_STATE_DIR", str(folder))
    return folder


def statusline(data: dict[str, Any], cwd: Path) -> str:
    env = {k: v for k, v in os.environ.items() if k != "CLAUDE_PROJECT_DIR"}
    done = subprocess.run(
        [sys.executable, "-m", "costlog.integration.statusline"],
        input=json.dumps(data),
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0 and done.stderr == "", done.stderr
    return done.stdout.strip()


def entry(sid: str, agent: str, model: str, when: datetime, cost: str) -> Entry:
    return Entry(
        id=f"{agent}/{sid}",
        agent=agent,
        started=when,
        ended=when + timedelta(minutes=20),
        models={model: ModelUsage(2, Usage(input=10, output=100), Decimal(cost), "parsed")},
        cost_usd=Decimal(cost),
        source="parsed",
    )


def test_the_month_share_watches_money_paid_like_costlog_budget(
    repo: Path, tmp_path: Path, state: Path
) -> None:
    now = datetime.now(UTC)
    if now.day == 1 and now.hour == 0:
        pytest.skip("the first hour of a month: the sessions below straddle it")
    (repo / ".costlog").mkdir()
    (repo / ".costlog" / "config.yaml").write_text(
        "plans:\n  - {plan: claude-max-5x, agent: claude-code}\n"
        "budget:\n  monthly_usd: 400\n  watch: paid\n"
    )
    ledger = Ledger(gitrepo.find(repo), ".costlog/sessions")
    earlier = now - timedelta(minutes=30)
    ledger.write(entry("on-plan", "claude-code", "claude-sonnet-4-6", earlier, "50.00"))
    ledger.write(entry("api-key", "codex", "gpt-5", earlier, "2.50"))
    alerts = json.loads(run("budget", "--json"))
    text = json.dumps(alerts)
    assert "Monthly paid, plan fees included" in text
    monthly = next(
        a
        for a in (alerts if isinstance(alerts, list) else alerts["alerts"])
        if "Monthly paid" in json.dumps(a)
    )
    paid = Decimal(str(monthly["value"]))
    assert paid == Decimal("102.50")  # the $100 fee of Max 5x and the Codex session
    path = tmp_path / "claude" / "projects" / "-work-demo" / f"{SID}.jsonl"
    path.parent.mkdir(parents=True)
    path.write_text("")
    data = {
        "session_id": SID,
        "transcript_path": str(path),
        "workspace": {"project_dir": str(repo)},
    }
    shown = statusline(data, repo)
    share = (paid / 400 * 100).quantize(Decimal(1), ROUND_HALF_UP)
    assert shown.endswith(f"{share}% of {now:%b} budget paid"), shown


def response(n: int, when: datetime) -> str:
    """One final assistant response (claude-sonnet-4-6: $0.0375 as priced below)."""
    line: dict[str, Any] = {
        "parentUuid": None,
        "isSidechain": False,
        "type": "assistant",
        "sessionId": SID,
        "version": "2.1.119",
        "gitBranch": "main",
        "timestamp": when.isoformat().replace("+00:00", "Z"),
        "requestId": f"req_011CVday{n:05d}",
        "message": {
            "model": "claude-sonnet-4-6",
            "id": f"msg_01Xyzday{n:05d}",
            "type": "message",
            "role": "assistant",
            "content": [{"type": "text", "text": "Done."}],
            "stop_reason": "end_turn",
            "usage": {"input_tokens": 10_000, "output_tokens": 500},
        },
    }
    return json.dumps(line, separators=(",", ":")) + "\n"


#: 10,000 input at $3 and 500 output at $15 per million
ONE = Decimal("0.0375")


def test_today_counts_only_the_part_of_the_session_that_fell_today(
    repo: Path, tmp_path: Path, state: Path
) -> None:
    now = datetime.now(UTC)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if now - midnight < timedelta(minutes=5):
        pytest.skip("the first minutes of a day")
    yesterday = midnight - timedelta(hours=2)
    # 40 calls yesterday evening (more than are kept open: some are closed), 2 today
    lines = [response(n, yesterday + timedelta(minutes=n)) for n in range(40)]
    lines += [response(100 + n, now - timedelta(minutes=2 - n)) for n in range(2)]
    path = tmp_path / "claude" / "projects" / "-work-demo" / f"{SID}.jsonl"
    path.parent.mkdir(parents=True)
    path.write_text("".join(lines))
    data = {
        "session_id": SID,
        "transcript_path": str(path),
        "workspace": {"project_dir": str(repo)},
    }
    shown = statusline(data, repo)
    assert shown.startswith(f"${(42 * ONE).quantize(Decimal('0.01'))} session · "), shown
    assert f" · ${(2 * ONE).quantize(Decimal('0.01'))} today" in shown, shown
    # a second call, from the saved state, says the same
    assert statusline(data, repo) == shown


def test_malformed_stdin_prints_a_line_and_is_logged(repo: Path, state: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "costlog.integration.statusline"],
        input='{"session_id": ',
        capture_output=True,
        text=True,
        cwd=repo,
        timeout=60,
    )
    assert done.returncode == 0 and done.stderr == ""
    assert done.stdout.strip() == "$0.00 today"  # the repo it runs in: nothing yet
    assert "stdin is not the agent's JSON" in (state / "live.log").read_text()
