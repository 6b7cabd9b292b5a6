"""Issue 13, part A: the "API-equivalent" label in scan and pr-summary, budgets that watch
money paid, routing advice on a plan, and the bundled plan table's own checks."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from test_plans13_plans import SID_KEY, SID_PLUS, codex_with_limits, logs  # noqa: F401

from costlog.errors import CostlogError
from costlog.pricing import plans as plan_table
from tests_support import git, run

SID_FORK = "019a1300-cccc-7ccc-8ccc-cccccccccccc"


def _config(repo: Path, text: str) -> None:
    (repo / ".costlog" / "config.yaml").write_text(text)


def test_scan_says_the_cost_of_a_plan_session_is_api_equivalent(
    repo: Path,
    logs: dict[str, Path],  # noqa: F811
) -> None:
    codex_with_limits(logs["codex"], SID_PLUS, repo, "2026-11-19T13:00", [(3.0, 0.0, "plus", None)])
    codex_with_limits(logs["codex"], SID_KEY, repo, "2026-11-19T15:00", [(1.0, 0.0, None, None)])
    out = run("scan", "--agent", "codex", "--by", "session")
    assert "1 session ran on a subscription plan (the log says so)" in out
    assert "API-equivalent" in out


def test_pr_summary_labels_the_branch_sessions_on_a_plan(
    repo: Path,
    logs: dict[str, Path],  # noqa: F811
) -> None:
    run("init")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Set up costlog")
    git(repo, "checkout", "-q", "-b", "feature")
    codex_with_limits(logs["codex"], SID_PLUS, repo, "2026-11-19T13:00", [(3.0, 0.0, "plus", None)])
    run("backfill")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Record a session")
    out = run("pr-summary", "--base", "main")
    assert "1 on a subscription plan: API-equivalent, not money paid" in out


def test_budget_can_watch_money_paid_instead_of_api_equivalent(
    repo: Path,
    logs: dict[str, Path],  # noqa: F811
) -> None:
    run("init")
    reports = [(3.0, 0.0, "plus", None)] * 1
    codex_with_limits(logs["codex"], SID_PLUS, repo, "2026-11-19T13:00", reports)
    codex_with_limits(logs["codex"], SID_KEY, repo, "2026-11-19T15:00", [(1.0, 0.0, None, None)])
    run("backfill")
    _config(repo, "budget:\n  monthly_usd: 1\n  session_spike_usd: 0\n")
    listed = json.loads(run("budget", "--json"))
    monthly = next(a for a in listed if a["alert"].startswith("Monthly"))
    spike = next(a for a in listed if a["alert"] == "Session cost spike")
    assert monthly["alert"] == "Monthly total (2026-11)"
    assert len(spike["sessions"]) == 2  # list prices: both sessions count
    as_listed = Decimal(monthly["value"])
    _config(repo, "budget:\n  monthly_usd: 1\n  session_spike_usd: 0\n  watch: paid\n")
    listed = json.loads(run("budget", "--json"))
    monthly = next(a for a in listed if a["alert"].startswith("Monthly"))
    spike = next(a for a in listed if a["alert"] == "Session cost spike")
    key_cost = Decimal(run("report", "--by", "plan", "--json") and _cost(repo, SID_KEY))
    assert monthly["alert"] == "Monthly paid, plan fees included (2026-11)"
    assert Decimal(monthly["value"]) == Decimal(20) + key_cost  # Plus fee + the API-key session
    assert Decimal(monthly["value"]) != as_listed
    assert monthly["state"] == "warning"
    assert spike["sessions"] == [f"codex/{SID_KEY}"]  # a plan session costs nothing more
    _config(repo, "budget:\n  watch: spent\n")
    assert "`budget.watch` must be one of api_equivalent, paid" in run("budget", code=1)


def _cost(repo: Path, sid: str) -> str:
    text = (repo / ".costlog" / "sessions" / "codex" / f"{sid}.yaml").read_text()
    return next(
        line.split(":", 1)[1].strip().strip('"')
        for line in text.splitlines()
        if line.startswith("cost_usd:")
    )


def test_routing_advice_on_a_plan_says_the_saving_is_rate_limit_headroom(
    repo: Path,
    logs: dict[str, Path],  # noqa: F811
) -> None:
    run("init")
    codex_with_limits(logs["codex"], SID_PLUS, repo, "2026-11-19T13:00", [(3.0, 0.0, "plus", None)])
    run("backfill")
    cost_log = (repo / "COST_LOG.md").read_text()
    routing = cost_log.split("<!-- costlog:begin routing -->")[1].split("<!-- costlog:end routing")[
        0
    ]
    assert "what a smaller model really saves is rate-limit headroom" in routing


def test_a_fork_replaying_its_parent_does_not_count_the_parents_limit_reports_again(
    repo: Path,
    logs: dict[str, Path],  # noqa: F811
) -> None:
    """A fork re-writes its parent's lines with new timestamps; the reports' values match."""
    run("init")
    reports = [(10.0, 1.0, "plus", None), (99.0, 5.0, "plus", "rate_limit_reached")]
    codex_with_limits(logs["codex"], SID_PLUS, repo, "2026-11-19T13:00", reports)
    fork = codex_with_limits(  # the replayed reports are the parent's, windows included
        logs["codex"],
        SID_FORK,
        repo,
        "2026-11-19T14:00",
        [*reports, (4.0, 6.0, "plus", None)],
        windows_from="2026-11-19T13:00",
    )
    lines = fork.read_text().splitlines()
    meta = json.loads(lines[0])
    meta["payload"]["forked_from_id"] = SID_PLUS
    lines[0] = json.dumps(meta)
    fork.write_text("\n".join(lines) + "\n")
    run("backfill")
    got = {}
    for sid in (SID_PLUS, SID_FORK):
        text = (repo / ".costlog" / "sessions" / "codex" / f"{sid}.yaml").read_text()
        got[sid] = text
    assert "reached: 1" in got[SID_PLUS]
    assert "reached: 0" in got[SID_FORK]  # the parent's limit hit is not the fork's
    assert 'peak_pct: "4"' in got[SID_FORK] or "peak_pct: '4'" in got[SID_FORK]


def test_every_bundled_fee_has_a_source_and_dated_changes_apply_by_day() -> None:
    table = plan_table.table()
    assert {"claude-pro", "claude-max-5x", "claude-max-20x", "chatgpt-plus"} <= set(table)
    for info in table.values():
        for fee in info.fees:
            assert fee.source.startswith("https://") and fee.evidence in ("official", "third-party")
    business = table["chatgpt-business"]
    assert business.fee_on(date(2026, 4, 1)).monthly_usd == Decimal(30)
    assert business.fee_on(date(2026, 4, 2)).monthly_usd == Decimal(25)
    assert plan_table.from_log_name("plus", "codex") is table["chatgpt-plus"]
    assert plan_table.from_log_name("plus", "claude-code") is None


def test_a_plan_table_row_without_a_source_is_refused_at_its_line() -> None:
    text = (
        "schema: 1\nplans:\n  x-pro:\n    name: X Pro\n    provider: x\n    agents: [codex]\n"
        '    fees:\n      - {monthly_usd: "9", evidence: official, checked: "2026-12-02"}\n'
    )
    from costlog import yamlfile

    with pytest.raises(CostlogError) as info:
        plan_table.parse_table(yamlfile.load_text(text, path="t.yaml"), text, "t.yaml")
    assert info.value.line == 3
    assert "every fee needs its `source`" in info.value.message


def test_plan_for_follows_agent_author_and_dates(repo: Path) -> None:
    from costlog import config as config_mod

    _config_dir = repo / ".costlog"
    _config_dir.mkdir()
    (_config_dir / "config.yaml").write_text(
        "plans:\n"
        "  - {plan: claude-max-20x, agent: claude-code, author: Ada, from: 2026-06-01}\n"
        "  - {plan: claude-pro, agent: claude-code, until: 2026-12-31, fee_usd: 17}\n"
    )
    config = config_mod.load(repo)
    ada = plan_table.plan_for(config, "claude-code", "Ada", date(2026, 7, 1))
    assert ada is not None and (ada.key, ada.fee_usd, ada.rule_line) == ("claude-max-20x", 200, 2)
    bob = plan_table.plan_for(config, "claude-code", "Bob", date(2026, 7, 1))
    assert bob is not None and (bob.key, bob.fee_usd, bob.fee_source) == (
        "claude-pro",
        17,
        "config",
    )
    assert plan_table.plan_for(config, "claude-code", "Bob", date(2027, 1, 1)) is None
    assert plan_table.plan_for(config, "codex", "Ada", date(2026, 7, 1)) is None


def test_claude_status_line_rate_limits_are_read_as_given_and_never_guessed() -> None:
    """The documented shape (anthropics/claude-code issue 45133, quoting the input)."""
    from costlog.sources.claude.limits import from_statusline

    given = {
        "session_id": "s",
        "model": {"id": "claude-opus-4-6"},
        "rate_limits": {
            "five_hour": {"used_percentage": 23.5, "resets_at": 1738425600},
            "seven_day": {"used_percentage": 41.2, "resets_at": 1738857600},
        },
    }
    got = from_statusline(given)
    assert got is not None and got.primary is not None and got.secondary is not None
    assert (got.primary.peak_pct, got.primary.window_minutes) == (Decimal("23.5"), 300)
    assert (got.secondary.peak_pct, got.secondary.window_minutes) == (Decimal("41.2"), 10080)
    assert got.primary.resets_at is not None and got.primary.resets_at.timestamp() == 1738425600
    assert not got.plan_stated  # the input never names the plan
    assert from_statusline({"session_id": "s"}) is None  # an API key, or no response yet
    assert from_statusline({"rate_limits": {"five_hour": {"used_percentage": "lots"}}}) is None


def test_a_plan_the_log_names_without_a_sourced_fee_is_not_given_one(
    repo: Path,
    logs: dict[str, Path],  # noqa: F811
) -> None:
    """Codex's `prolite` has no fee with a source: the session is on a plan, fee unknown."""
    run("init")
    codex_with_limits(
        logs["codex"], SID_PLUS, repo, "2026-11-19T13:00", [(3.0, 0.0, "prolite", None)]
    )
    run("backfill")
    data = json.loads(run("report", "--by", "plan", "--json"))
    (month,) = data["months"]
    assert (month["plan_sessions"], month["payg_sessions"]) == (1, 0)
    assert (month["fees"], month["unknown_fees"], month["multiple"]) == ("0.000000", 1, None)
    assert data["fees"] == []  # no source to show
    assert "the log names plan 'prolite', which the plan table does not list" in data["warnings"][0]
    cost_log = (repo / "COST_LOG.md").read_text()
    assert "| codex plan 'prolite' | $0.00 + 1 of unknown fee |" in cost_log


def test_the_shipped_plan_json_is_the_authored_yaml() -> None:
    """Someone edited plans.yaml without running `python -m costlog.pricing.plans`."""
    from costlog import resources

    source = resources.data("plans.yaml").read_text(encoding="utf-8")
    assert plan_table.compile_text(source) == resources.data("plans.json").read_text()


def test_record_says_a_plan_sessions_cost_is_api_equivalent(
    repo: Path,
    logs: dict[str, Path],  # noqa: F811
) -> None:
    run("init")
    path = codex_with_limits(
        logs["codex"], SID_PLUS, repo, "2026-11-19T13:00", [(3.0, 0.0, "plus", None)]
    )
    out = run("record", "--transcript", str(path))
    assert "API-equivalent (plus plan) (actual)" in out
