"""The status line and the budget guard, run as Claude Code runs them: a fresh process
(`python -m costlog.integration.statusline` / `.guard`) fed the JSON on stdin."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from costlog import gitrepo
from costlog.ledger.store import Ledger
from costlog.models import Entry, ModelUsage, Usage
from tests_support import run

SID = "5b0c6a52-9a1e-4c3f-8d2e-7f6a5b4c3d2e"


def response(n: int, when: datetime, *, output: int = 1_000, branch: str = "main") -> str:
    """One final assistant response in Claude Code's line format (compact JSON)."""
    line: dict[str, Any] = {
        "parentUuid": None,
        "isSidechain": False,
        "userType": "external",
        "cwd": "/work/demo",
        "sessionId": SID,
        "version": "2.1.119",
        "gitBranch": branch,
        "type": "assistant",
        "uuid": f"a{n}",
        "timestamp": when.isoformat().replace("+00:00", "Z"),
        "requestId": f"req_{n:04d}",
        "message": {
            "model": "claude-sonnet-4-6",
            "id": f"msg_live_{n:04d}",
            "type": "message",
            "role": "assistant",
            "content": [{"type": "text", "text": "Done."}],
            "stop_reason": "end_turn",
            "usage": {
                "input_tokens": 10,
                "cache_creation_input_tokens": 2_000,
                "cache_read_input_tokens": 50_000,
                "cache_creation": {
                    "ephemeral_5m_input_tokens": 2_000,
                    "ephemeral_1h_input_tokens": 0,
                },
                "output_tokens": output,
                "service_tier": "standard",
            },
        },
    }
    return json.dumps(line, separators=(",", ":")) + "\n"


#: claude-sonnet-4-6 at $3 / $15 / $0.30 / $3.75 per million: one response above
ONE = Decimal(10 * 3 + 1_000 * 15 + 50_000 * Decimal("0.3") + 2_000 * Decimal("3.75")) / 10**6


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "state"
    monkeypatch.setenv("COSTLOG_STATE_DIR", str(folder))
    return folder


def call(module: str, data: dict[str, Any] | str, cwd: Path, *args: str) -> str:
    stdin = data if isinstance(data, str) else json.dumps(data)
    done = subprocess.run(
        [sys.executable, "-m", f"costlog.integration.{module}", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        env={k: v for k, v in os.environ.items() if k != "CLAUDE_PROJECT_DIR"},
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    return done.stdout


def transcript(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "claude" / "projects" / "-work-demo" / f"{SID}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(lines))
    return path


def status_input(path: Path, repo: Path) -> dict[str, Any]:
    return {
        "session_id": SID,
        "transcript_path": str(path),
        "model": {"id": "claude-sonnet-4-6"},
        "workspace": {"project_dir": str(repo), "current_dir": str(repo)},
        "cost": {"total_cost_usd": 0.5},
    }


def dollars(value: Decimal) -> str:
    return f"${value.quantize(Decimal('0.01'))}"


def test_session_cost_matches_scan_and_grows_incrementally(
    repo: Path, tmp_path: Path, state: Path
) -> None:
    t0 = datetime.now(UTC) - timedelta(minutes=30)
    path = transcript(tmp_path, [response(n, t0 + timedelta(minutes=n)) for n in range(10)])
    out = call("statusline", status_input(path, repo), repo)
    scanned = json.loads(run("scan", "--agent", "claude-code", "--path", str(path), "--json"))
    assert Decimal(scanned["totals"]["cost_usd"]) == 10 * ONE
    assert out.startswith(f"{dollars(10 * ONE)} session")
    (saved,) = (state / "sessions").iterdir()
    offset = json.loads(saved.read_text())["files"][str(path)][2]
    assert offset == path.stat().st_size
    # Claude Code appends two responses and starts a third (no newline yet)
    with path.open("a") as fh:
        fh.write(response(10, t0 + timedelta(minutes=11)))
        fh.write(response(11, t0 + timedelta(minutes=12)))
        fh.write(response(12, t0 + timedelta(minutes=13))[:-40])
    out = call("statusline", status_input(path, repo), repo)
    assert out.startswith(f"{dollars(12 * ONE)} session")
    assert json.loads(saved.read_text())["files"][str(path)][2] < path.stat().st_size
    with path.open("a") as fh:  # the line is finished
        fh.write(response(12, t0 + timedelta(minutes=13))[-40:])
    assert call("statusline", status_input(path, repo), repo).startswith(
        f"{dollars(13 * ONE)} session"
    )


def test_repeated_lines_of_one_response_count_once(repo: Path, tmp_path: Path, state: Path) -> None:
    """>= 2.1.97 repeats a response's usage on every content-block line."""
    t0 = datetime.now(UTC) - timedelta(minutes=5)
    line = response(1, t0)
    path = transcript(tmp_path, [line, line, line])
    assert call("statusline", status_input(path, repo), repo).startswith(f"{dollars(ONE)} session")


def test_a_replaced_transcript_is_read_again(repo: Path, tmp_path: Path, state: Path) -> None:
    t0 = datetime.now(UTC) - timedelta(minutes=30)
    path = transcript(tmp_path, [response(n, t0 + timedelta(minutes=n)) for n in range(5)])
    call("statusline", status_input(path, repo), repo)
    path.unlink()
    path.write_text(response(100, t0))  # a new file (another inode), shorter
    assert call("statusline", status_input(path, repo), repo).startswith(f"{dollars(ONE)} session")


def _ledger(repo: Path, *entries: tuple[str, datetime, str, list[str]]) -> None:
    ledger = Ledger(gitrepo.find(repo), ".costlog/sessions")
    for sid, started, cost, items in entries:
        ledger.write(
            Entry(
                id=f"claude-code/{sid}",
                agent="claude-code",
                started=started,
                ended=started + timedelta(minutes=20),
                models={
                    "claude-sonnet-4-6": ModelUsage(
                        2, Usage(input=10, output=100), Decimal(cost), "parsed"
                    )
                },
                cost_usd=Decimal(cost),
                source="parsed",
                work_items=items,
            )
        )


def test_line_adds_work_item_today_and_month_budget(
    repo: Path, tmp_path: Path, state: Path
) -> None:
    now = datetime.now(UTC)
    (repo / ".costlog").mkdir()
    (repo / ".costlog" / "config.yaml").write_text("budget:\n  monthly_usd: 100\n")
    month_start = now.replace(day=1, hour=0, minute=1, second=0, microsecond=0)
    _ledger(
        repo,
        ("earlier-today", now - timedelta(minutes=1), "4.00", ["WRK-237"]),
        ("same-item-last-year", now - timedelta(days=400), "3.00", ["WRK-237"]),
        ("other-item", month_start, "20.00", ["WRK-9"]),
        (SID, now, "99.00", ["WRK-237"]),  # this very session, recorded earlier: not twice
    )
    path = transcript(tmp_path, [response(1, now - timedelta(minutes=2), branch="feat/WRK-237-x")])
    out = call("statusline", status_input(path, repo), repo).strip()
    month = Decimal("4.00") + Decimal("20.00") + ONE
    if month_start.date() == now.date() or (now - timedelta(minutes=1)).day != now.day:
        pytest.skip("the first minutes of a month or day: the figures straddle it")
    share = (month / 100 * 100).quantize(Decimal(1))
    assert out == (
        f"{dollars(ONE)} session · {dollars(Decimal('7.00') + ONE)} WRK-237 · "
        f"{dollars(Decimal('4.00') + ONE)} today · {share}% of {now:%b} budget"
    )
    # a new session recorded: the cached figures follow the ledger
    _ledger(repo, ("later", now, "1.00", []))
    out = call("statusline", status_input(path, repo), repo).strip()
    assert f"{dollars(Decimal('5.00') + ONE)} today" in out


def test_window_shows_the_active_five_hours(repo: Path, tmp_path: Path, state: Path) -> None:
    now = datetime.now(UTC)
    path = transcript(tmp_path, [response(1, now - timedelta(minutes=20))])
    out = call("statusline", status_input(path, repo), repo, "--window")
    assert f"5h window {dollars(ONE)}" in out
    start = (now - timedelta(minutes=20)).replace(minute=0, second=0, microsecond=0)
    left = int((start + timedelta(hours=5) - now).total_seconds() // 60)
    assert f"{left // 60}h{left % 60:02d}m left" in out or (
        f"{left // 60}h{(left - 1) % 60:02d}m left" in out
    )


@pytest.mark.parametrize("stdin", ["", "not json", "[1, 2]", '{"transcript_path": 5}'])
def test_bad_input_prints_a_short_line(repo: Path, state: Path, stdin: str) -> None:
    out = call("statusline", stdin, repo)
    assert out.count("\n") == 1 and len(out) < 80


def test_unreadable_transcript_still_prints_and_logs(
    repo: Path, tmp_path: Path, state: Path
) -> None:
    missing = tmp_path / "gone.jsonl"
    out = call("statusline", status_input(missing, repo), repo).strip()
    # Claude Code's own estimate stands in, labelled as such
    assert out.startswith("$0.50 session (Claude Code's estimate)")
    log = (state / "live.log").read_text()
    assert "statusline transcript" in log and "gone.jsonl" in log
    fifo = tmp_path / "fifo.jsonl"
    os.mkfifo(fifo)
    out = call("statusline", status_input(fifo, repo), repo)
    assert "session" in out  # a FIFO named like a log does not hang it


# ---------------------------------------------------------------- the guard


def guard_input(path: Path, repo: Path, event: str) -> dict[str, Any]:
    return {
        "session_id": SID,
        "transcript_path": str(path),
        "cwd": str(repo),
        "hook_event_name": event,
        "prompt": "go on",
    }


def _budget(repo: Path, soft: str, hard: str) -> None:
    (repo / ".costlog").mkdir(exist_ok=True)
    (repo / ".costlog" / "config.yaml").write_text(
        f"budget:\n  session_soft_usd: {soft}\n  session_hard_usd: {hard}\n"
    )


def test_guard_warns_once_past_the_soft_cap(repo: Path, tmp_path: Path, state: Path) -> None:
    _budget(repo, "0.05", "1")
    t0 = datetime.now(UTC) - timedelta(minutes=30)
    path = transcript(tmp_path, [response(1, t0)])  # ~$0.03: under both
    assert call("guard", guard_input(path, repo, "UserPromptSubmit"), repo) == ""
    with path.open("a") as fh:
        fh.write(response(2, t0 + timedelta(minutes=1)))
    answer = json.loads(call("guard", guard_input(path, repo, "UserPromptSubmit"), repo))
    assert answer == {
        "systemMessage": f"costlog: this session has cost {dollars(2 * ONE)} (list prices), past "
        "budget.session_soft_usd = $0.05 (.costlog/config.yaml)"
    }
    assert call("guard", guard_input(path, repo, "PreToolUse"), repo) == ""  # once only


def test_guard_blocks_prompts_and_tools_past_the_hard_cap(
    repo: Path, tmp_path: Path, state: Path
) -> None:
    _budget(repo, "0.01", "0.05")
    t0 = datetime.now(UTC) - timedelta(minutes=30)
    path = transcript(tmp_path, [response(n, t0 + timedelta(minutes=n)) for n in range(3)])
    prompt = json.loads(call("guard", guard_input(path, repo, "UserPromptSubmit"), repo))
    assert prompt["decision"] == "block"
    reason = prompt["reason"]
    assert dollars(3 * ONE) in reason and "budget.session_hard_usd = $0.05" in reason
    assert ".costlog/config.yaml" in reason and "Raise" in reason
    tool = json.loads(call("guard", guard_input(path, repo, "PreToolUse"), repo))
    assert tool == {
        "hookSpecificOutput": {
            "hookEventName": "PreToolUse",
            "permissionDecision": "deny",
            "permissionDecisionReason": reason,
        }
    }
    _budget(repo, "0.01", "50")  # the cap raised: the agent goes on (warned once, soft)
    answer = json.loads(call("guard", guard_input(path, repo, "PreToolUse"), repo))
    assert list(answer) == ["systemMessage"]
    assert call("guard", guard_input(path, repo, "PreToolUse"), repo) == ""


def test_guard_fails_open(repo: Path, tmp_path: Path, state: Path) -> None:
    t0 = datetime.now(UTC) - timedelta(minutes=30)
    path = transcript(tmp_path, [response(n, t0 + timedelta(minutes=n)) for n in range(3)])
    (repo / ".costlog").mkdir()
    (repo / ".costlog" / "config.yaml").write_text("budget: [not, a, mapping]\n")
    assert call("guard", guard_input(path, repo, "UserPromptSubmit"), repo) == ""
    assert "guard" in (state / "live.log").read_text()
    assert call("guard", "garbage", repo) == ""
    # no caps configured: nothing to say
    (repo / ".costlog" / "config.yaml").write_text("budget:\n  monthly_usd: 10\n")
    assert call("guard", guard_input(path, repo, "UserPromptSubmit"), repo) == ""


def test_a_broken_config_still_shows_the_session(repo: Path, tmp_path: Path, state: Path) -> None:
    (repo / ".costlog").mkdir()
    (repo / ".costlog" / "config.yaml").write_text("budget: [not, a, mapping]\n")
    path = transcript(tmp_path, [response(1, datetime.now(UTC) - timedelta(minutes=3))])
    out = call("statusline", status_input(path, repo), repo).strip()
    assert out == f"{dollars(ONE)} session"
    assert ".costlog/config.yaml" in (state / "live.log").read_text()


def test_state_keeps_no_transcript_text(repo: Path, tmp_path: Path, state: Path) -> None:
    now = datetime.now(UTC)
    prompt = json.dumps({"type": "user", "message": {"content": "PROMPT-TEXT-xyzzy"}})
    lines = [prompt + "\n", response(1, now, branch="feat/WRK-237-branchword")]
    path = transcript(tmp_path, lines)
    out = call("statusline", status_input(path, repo), repo)
    assert "session" in out
    for saved in state.rglob("*"):
        if saved.is_file():
            text = saved.read_text()
            assert "xyzzy" not in text and "branchword" not in text and "Done." not in text


def test_on_a_plan_figures_are_api_equivalent_with_the_window(
    repo: Path, tmp_path: Path, state: Path
) -> None:
    (repo / ".costlog").mkdir()
    (repo / ".costlog" / "config.yaml").write_text(
        "plans:\n  - {plan: claude-max-5x, agent: claude-code}\nbudget:\n  session_hard_usd: 0.01\n"
    )
    now = datetime.now(UTC)
    path = transcript(tmp_path, [response(1, now - timedelta(minutes=10))])
    out = call("statusline", status_input(path, repo), repo).strip()
    assert out.startswith(f"{dollars(ONE)} API-eq session · ")
    assert f"{dollars(ONE)} API-eq today" in out
    assert f"5h window {dollars(ONE)} API-eq, " in out and out.endswith("m left")
    answer = json.loads(call("guard", guard_input(path, repo, "UserPromptSubmit"), repo))
    assert "(API-equivalent on Claude Max 5x)" in answer["reason"]


def test_a_huge_first_read_is_spread_over_calls(tmp_path: Path, state: Path) -> None:
    """Each call reads at most its budget and saves where it got to; the figures meet the
    whole transcript's after a few calls, each line counted once."""
    from costlog.integration import live

    t0 = datetime.now(UTC) - timedelta(hours=1)
    path = transcript(tmp_path, [response(n, t0 + timedelta(minutes=n)) for n in range(20)])
    seen = []
    for _ in range(30):
        session = live.SessionState(str(path))
        session.budget = path.stat().st_size // 6
        session.update()
        cost, _ = session.priced(None)
        session.save()
        seen.append((cost, session.behind))
        if not session.behind:
            break
    assert len(seen) >= 4 and all(behind for _, behind in seen[:-1]) and not seen[-1][1]
    costs = [c for c, _ in seen]
    assert costs == sorted(costs) and Decimal(costs[-1]) / live.UNIT == 20 * ONE


def test_old_windows_forgotten_leave_the_active_one_unchanged(tmp_path: Path, state: Path) -> None:
    from costlog.integration import live

    now = datetime.now(UTC).replace(microsecond=0)
    lines = [response(n, now - timedelta(minutes=90 * 8 - n * 1.5)) for n in range(480)]
    path = transcript(tmp_path, lines)

    def active(prune_at: int) -> tuple[Any, int, int]:
        session = live.SessionState(str(path))
        session.prune_at = prune_at
        session.update()
        cost, _ = session.priced(None)
        (block,) = [b for b in session.windows(now) if b.active]
        kept = sum(len(c[2]) for c in session.closed.values())
        return (block.start, block.requests, block.cost), cost, kept

    (state / "sessions").mkdir(parents=True)
    whole = active(10**9)
    for saved in (state / "sessions").iterdir():
        saved.unlink()
    pruned = active(100)
    assert pruned[:2] == whole[:2] and pruned[1] == 480 * ONE * live.UNIT
    assert pruned[2] < whole[2]  # the earlier windows' request times are gone
