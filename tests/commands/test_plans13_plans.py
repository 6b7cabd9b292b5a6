"""Issue 13, part A: subscription plans, "API-equivalent" labels, rate-limit usage.

Codex logs are written in the real rollout format, with the real `rate_limits` object of a
`token_count` event (the shape of the public 2026-07-04 line quoted in the format notes and
of Codex 0.171.0's own files); Claude Code logs with the shared real-format writer.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from agent_logs import claude_session
from ruamel.yaml import YAML

from tests_support import invoke, run

SID_PLUS = "019a1300-aaaa-7aaa-8aaa-aaaaaaaaaaaa"
SID_KEY = "019a1300-bbbb-7bbb-8bbb-bbbbbbbbbbbb"
SID_CLAUDE = "13131313-0000-4000-8000-000000000013"
REAL_0171 = Path(__file__).parent.parent / "fixtures" / "codex" / "real-0.171.0"


@pytest.fixture
def logs(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    claude, codex = tmp_path / "claude", tmp_path / "codex"
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(claude))
    monkeypatch.setenv("CODEX_HOME", str(codex))
    return {"claude": claude, "codex": codex}


def _limits(
    primary: float, secondary: float, plan: str | None, reached: str | None, start: int
) -> Any:
    """The windows reset 4 hours and 5 days after the session's start (epoch seconds)."""
    return {
        "limit_id": "codex",
        "limit_name": None,
        "primary": {"used_percent": primary, "window_minutes": 300, "resets_at": start + 14400},
        "secondary": {
            "used_percent": secondary,
            "window_minutes": 10080,
            "resets_at": start + 432000,
        },
        "credits": None,
        "individual_limit": None,
        "plan_type": plan,
        "rate_limit_reached_type": reached,
    }


def codex_with_limits(
    home: Path,
    sid: str,
    cwd: Path,
    start: str,
    reports: list[tuple[float, float, str | None, str | None]],
    windows_from: str | None = None,
) -> Path:
    """A rollout whose token_count events carry `rate_limits` (one call per report); the
    windows are those of a session started at `windows_from` (default: this one's start)."""
    folder = home / "sessions" / start[:10].replace("-", "/")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"rollout-{start[:10]}T{start[11:13]}-00-00-{sid}.jsonl"
    meta = {"id": sid, "timestamp": f"{start}:00.000Z", "cwd": str(cwd)}
    meta |= {"originator": "codex_cli_rs", "cli_version": "0.171.0", "source": "cli"}
    lines: list[Any] = [
        {"timestamp": f"{start}:00.000Z", "type": "session_meta", "payload": meta},
        {"timestamp": f"{start}:01.000Z", "type": "turn_context", "payload": {"model": "gpt-5"}},
    ]
    last = {
        "input_tokens": 38619,
        "cached_input_tokens": 24448,
        "output_tokens": 540,
        "reasoning_output_tokens": 84,
        "total_tokens": 39159,
    }
    total = dict.fromkeys(last, 0)
    for n, (primary, secondary, plan, reached) in enumerate(reports):
        total = {k: total[k] + last[k] for k in last}
        info = {"total_token_usage": dict(total), "last_token_usage": dict(last)}
        info["model_context_window"] = 258400
        payload = {"type": "token_count", "info": info}
        epoch = int(datetime.fromisoformat(f"{windows_from or start}:00+00:00").timestamp())
        payload["rate_limits"] = _limits(primary, secondary, plan, reached, epoch)
        lines.append(
            {"timestamp": f"{start}:{10 + n:02d}.000Z", "type": "event_msg", "payload": payload}
        )
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def _config(repo: Path, text: str) -> None:
    (repo / ".costlog" / "config.yaml").write_text(text)


def _entry(repo: Path, agent: str, sid: str) -> dict[str, Any]:
    data: dict[str, Any] = YAML(typ="safe").load(
        (repo / ".costlog" / "sessions" / agent / f"{sid}.yaml").read_text()
    )
    return data


def test_codex_rate_limits_are_stored_and_the_plan_section_shows_them(
    repo: Path, logs: dict[str, Path]
) -> None:
    run("init")
    codex_with_limits(
        logs["codex"],
        SID_PLUS,
        repo,
        "2026-11-19T13:00",
        [
            (3.0, 0.0, "plus", None),
            (12.5, 1.0, "plus", None),
            (7.0, 2.0, "plus", "rate_limit_reached"),
        ],
    )
    run("backfill")
    stored = _entry(repo, "codex", SID_PLUS)["rate_limits"]
    assert stored["plan_type"] == "plus"
    assert stored["primary"] == {
        "peak_pct": "12.5",
        "window_minutes": 300,
        "resets_at": "2026-11-19T17:00:00Z",  # 4 hours after the session's start
    }
    assert stored["secondary"]["peak_pct"] == "2"
    assert stored["secondary"]["window_minutes"] == 10080
    assert stored["reached"] == 1
    cost_log = (repo / "COST_LOG.md").read_text()
    assert "### Subscription plans" in cost_log
    assert "1 session ran on a subscription plan: its cost is API-equivalent" in cost_log
    assert " API-eq. |" in cost_log  # the session row says its cost is not money paid
    month = next(
        line for line in cost_log.splitlines() if line.startswith("| 2026-11 | 1 | ChatGPT")
    )
    cells = [c.strip() for c in month.split("|")[1:-1]]
    cost = Decimal(_entry(repo, "codex", SID_PLUS)["cost_usd"])
    assert cells[2:4] == ["ChatGPT Plus", "$20.00"]
    assert cells[5] == f"{cost / 20:.2g}x"  # a light month: two significant digits
    assert cells[6:] == ["0", "-"]
    assert "| 2026-11 | 1 | 12.5% | 2% | 1 |" in cost_log
    assert "ChatGPT Plus $20.00/month (official source, read 2026-12-02)" in cost_log
    (fee,) = json.loads(run("report", "--by", "plan", "--json"))["fees"]
    assert fee["source"] == "https://help.openai.com/en/articles/6950777-what-is-chatgpt-plus"
    run("check")  # old and new fields together still verify, money included


def test_a_configured_plan_labels_claude_sessions_and_counts_the_fee_once(
    repo: Path, logs: dict[str, Path]
) -> None:
    run("init")
    _config(repo, "plans:\n  - {plan: claude-max-5x, agent: claude-code, from: 2026-11-01}\n")
    claude_session(logs["claude"], SID_CLAUDE, repo, "2026-11-19T10:00", 3)
    claude_session(logs["claude"], SID_CLAUDE[:-2] + "14", repo, "2026-11-19T11:00", 2)
    run("backfill")
    cost_log = (repo / "COST_LOG.md").read_text()
    assert "2 sessions ran on a subscription plan: their cost is API-equivalent" in cost_log
    assert cost_log.count(" API-eq. |") == 2
    row = next(line for line in cost_log.splitlines() if line.startswith("| 2026-11 | 2 | Claude"))
    assert "| Claude Max 5x | $100.00 |" in row  # one person, one fee, not one per session
    data = json.loads(run("report", "--by", "plan", "--json"))
    (month,) = data["months"]
    assert (month["plan_sessions"], month["fees"]) == (2, "100.000000")
    total = sum(
        Decimal(_entry(repo, "claude-code", s)["cost_usd"])
        for s in (SID_CLAUDE, SID_CLAUDE[:-2] + "14")
    )
    assert Decimal(month["api_equivalent"]) == total
    assert "API-equivalent" in run("report", "--by", "month")  # the plain report says so too


def test_the_log_wins_over_the_config_with_a_warning(repo: Path, logs: dict[str, Path]) -> None:
    run("init")
    _config(repo, "plans:\n  - plan: chatgpt-pro\n    agent: codex\n    fee_usd: 180\n")
    codex_with_limits(logs["codex"], SID_PLUS, repo, "2026-11-19T13:00", [(5.0, 1.0, "plus", None)])
    codex_with_limits(logs["codex"], SID_KEY, repo, "2026-11-19T15:00", [(0.0, 0.0, None, None)])
    run("backfill")
    out = run("report", "--by", "plan")
    assert "ChatGPT Plus" in out and "ChatGPT Pro" not in out.split("warning:")[0]
    assert "$20.00" in out and "$180.00" not in out  # the override was for the other plan
    assert (
        f"warning: codex/{SID_PLUS}: .costlog/config.yaml:2: the log says this codex session "
        "ran on ChatGPT Plus, not ChatGPT Pro; the log wins" in out
    )
    assert (
        f"codex/{SID_KEY}: .costlog/config.yaml:2: the log says this codex session used an API key"
        in out
    )
    data = json.loads(run("report", "--by", "plan", "--json"))
    (month,) = data["months"]
    key_cost = _entry(repo, "codex", SID_KEY)["cost_usd"]
    assert (month["payg_sessions"], Decimal(month["payg_cost"])) == (1, Decimal(key_cost))
    assert "the log wins" in (repo / "COST_LOG.md").read_text()


def test_real_codex_0171_rollout_reads_peaks_and_an_api_key(
    repo: Path, logs: dict[str, Path]
) -> None:
    """Codex 0.171.0's own file: plan_type null (API key), four reports."""
    day = logs["codex"] / "sessions" / "2026" / "12" / "01"
    day.mkdir(parents=True)
    for path in REAL_0171.glob("code-mode*.jsonl"):
        text = path.read_text()
        meta = json.loads(text.splitlines()[0])
        text = text.replace(json.dumps(meta["payload"]["cwd"])[1:-1], str(repo))
        (day / f"rollout-2026-12-01T00-00-00-{meta['payload']['id']}.jsonl").write_text(text)
    run("init")
    run("backfill")
    (entry_file,) = (repo / ".costlog" / "sessions" / "codex").glob("*.yaml")
    stored = YAML(typ="safe").load(entry_file.read_text())["rate_limits"]
    assert stored["plan_type"] is None  # stated, and null: an API key
    assert (stored["primary"]["peak_pct"], stored["secondary"]["peak_pct"]) == ("15.5", "45")
    assert stored["reached"] == 0
    cost_log = (repo / "COST_LOG.md").read_text()
    assert "| 2026-12 | 1 | 15.5% | 45% | 0 |" in cost_log
    assert "ran on a subscription plan" not in cost_log  # an API key is what it cost


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (
            "timezone: UTC\nplans:\n  - {plan: claude-max-5x}\n  - {plan: claude-maxx}\n",
            4,
            "`plans` item 2: unknown plan 'claude-maxx'",
        ),
        ("plans:\n  - plan: claude-pro\n    from: 2026-13-01\n", 3, "not a valid date"),
        ("plans:\n  - plan: claude-pro\n    from: May 1\n", 2, "`from` must be a date"),
        ("plans:\n  - {plan: claude-pro, fee: 20}\n", 2, "unknown key `fee`"),
        ("plans:\n  - {plan: claude-pro, fee_usd: -5}\n", 2, "`fee_usd` must be a number >= 0"),
        ("plans:\n  - {plan: claude-pro, from: 2026-06-01, until: 2026-05-01}\n", 2, "is before"),
    ],
)
def test_bad_plan_rules_fail_naming_file_and_line(
    repo: Path, text: str, line: int, message: str
) -> None:
    run("init")
    _config(repo, text)
    result = invoke(["report", "--by", "plan"])
    assert result.exit_code == 1
    assert f".costlog/config.yaml:{line}: " in result.output
    assert message in result.output


def test_a_tampered_rate_limits_field_fails_check_at_its_line(
    repo: Path, logs: dict[str, Path]
) -> None:
    run("init")
    codex_with_limits(logs["codex"], SID_PLUS, repo, "2026-11-19T13:00", [(3.0, 0.0, "plus", None)])
    run("backfill")
    path = repo / ".costlog" / "sessions" / "codex" / f"{SID_PLUS}.yaml"
    path.write_text(path.read_text().replace('peak_pct: "3"', "peak_pct: lots"))
    result = invoke(["check"])
    assert result.exit_code != 0
    assert "rate_limits" in result.output and "peak_pct" in result.output


def test_an_old_entry_without_rate_limits_still_reads(repo: Path, logs: dict[str, Path]) -> None:
    run("init")
    codex_with_limits(logs["codex"], SID_PLUS, repo, "2026-11-19T13:00", [(3.0, 0.0, "plus", None)])
    run("backfill")
    path = repo / ".costlog" / "sessions" / "codex" / f"{SID_PLUS}.yaml"
    kept = path.read_text().splitlines(keepends=True)
    start = next(i for i, line in enumerate(kept) if line.startswith("rate_limits:"))
    end = next((i for i in range(start + 1, len(kept)) if not kept[i].startswith("  ")), len(kept))
    path.write_text("".join(kept[:start] + kept[end:]))
    run("render")
    run("check")
    assert "Subscription plans" not in (repo / "COST_LOG.md").read_text()
