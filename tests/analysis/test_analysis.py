"""Each alert, anomaly cause and routing rule: one case that fires, one that stays quiet."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from costlog import analysis
from costlog.config import Budget, Config
from costlog.models import Commit, Entry, ModelUsage, Usage
from costlog.timeutil import zone

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
UTC_TZ = zone("UTC")


def entry(
    n: int,
    cost: str | None,
    model: str = "claude-sonnet-4-6",
    *,
    days: int = 0,
    usage: Usage | None = None,
    requests: int = 10,
    subagents: int = 0,
    hours: float = 1,
    types: dict[str, int] | None = None,
    items: list[str] | None = None,
    commits: list[Commit] | None = None,
    source: str = "actual",
) -> Entry:
    started = T0 + timedelta(days=days, minutes=n)
    amount = None if cost is None else Decimal(cost)
    return Entry(
        id=f"claude-code/s{n:03d}",
        agent="claude-code",
        started=started,
        ended=started + timedelta(hours=hours),
        models={model: ModelUsage(requests, usage or Usage(100, 1000, 10_000), amount)},
        cost_usd=amount,
        source=source,
        subagents=subagents,
        task_types=types or {},
        tasks_completed=sum((types or {}).values()) or None,
        work_items=items or [],
        commits=commits or [],
    )


def alert(rows: list[dict[str, Any]], prefix: str) -> dict[str, Any]:
    return next(r for r in rows if str(r["alert"]).startswith(prefix))


# ---------------------------------------------------------------- budget alerts


def test_session_spike_fires_above_threshold_only() -> None:
    quiet = [entry(1, "0.50"), entry(2, "0.10")]
    loud = [*quiet, entry(3, "0.51"), entry(4, "0.90")]
    assert alert(analysis.alerts(quiet, Config(), UTC_TZ), "Session")["state"] == "ok"
    fired = alert(analysis.alerts(loud, Config(), UTC_TZ), "Session")
    assert fired["state"] == "warning"
    assert fired["value"] == Decimal("0.90")
    assert fired["sessions"] == ["claude-code/s004", "claude-code/s003"]  # costliest first


def test_monthly_budget() -> None:
    config = Config(budget=Budget(monthly_usd=Decimal("1.00")))
    month = [entry(i, "0.30", days=i) for i in range(3)]
    assert alert(analysis.alerts(month, config, UTC_TZ), "Monthly")["state"] == "ok"
    row = alert(analysis.alerts([*month, entry(9, "0.11", days=9)], config, UTC_TZ), "Monthly")
    assert row["state"] == "warning" and row["value"] == Decimal("1.01")
    assert row["alert"] == "Monthly total (2026-11)"


def test_monthly_budget_counts_only_the_latest_month() -> None:
    config = Config(budget=Budget(monthly_usd=Decimal("1.00")))
    october = [entry(i, "0.90", days=-10) for i in range(3)]
    row = alert(analysis.alerts([*october, entry(5, "0.20")], config, UTC_TZ), "Monthly")
    assert (row["state"], row["value"]) == ("ok", Decimal("0.20"))


def test_unset_thresholds_are_shown_as_off() -> None:
    rows = analysis.alerts([entry(1, "500")], Config(), UTC_TZ)
    assert alert(rows, "Monthly")["state"] == "off"
    assert alert(rows, "Rolling")["state"] == "off"
    assert "budget.monthly_usd" in alert(rows, "Monthly")["threshold"]
    assert len(rows) == 5


def test_rolling_seven_days_counts_only_the_last_week() -> None:
    config = Config(budget=Budget(rolling_7d_usd=Decimal("1.00")))
    old = [entry(1, "0.90", days=0)]
    recent = [entry(2, "0.40", days=10), entry(3, "0.40", days=12)]
    row = alert(analysis.alerts([*old, *recent], config, UTC_TZ), "Rolling")
    assert row["state"] == "ok" and row["value"] == Decimal("0.80")
    row = alert(
        analysis.alerts([*old, *recent, entry(4, "0.30", days=14)], config, UTC_TZ), "Rolling"
    )
    assert row["state"] == "warning"
    assert row["sessions"] == ["claude-code/s002", "claude-code/s003", "claude-code/s004"]
    assert alert(analysis.alerts(recent, config, UTC_TZ, today=date(2026, 11, 30)), "Rolling")[
        "value"
    ] == Decimal(0)


def test_small_model_under_use() -> None:
    big_only = [entry(1, "0.1"), entry(2, "0.1")]
    assert alert(analysis.alerts(big_only, Config(), UTC_TZ), "Small")["state"] == "review"
    mixed = [*big_only, entry(3, "0.01", "claude-haiku-4-5")]
    assert alert(analysis.alerts(mixed, Config(), UTC_TZ), "Small")["state"] == "ok"
    gemini_pro = [*big_only, entry(3, "0.01", "gemini-2.5-pro")]  # "ge-mini" is not small
    assert alert(analysis.alerts(gemini_pro, Config(), UTC_TZ), "Small")["state"] == "review"


def test_opus_over_use_share() -> None:
    three = [entry(1, "0.1", "claude-opus-4-6"), entry(2, "0.1"), entry(3, "0.1"), entry(4, "0.1")]
    assert alert(analysis.alerts(three, Config(), UTC_TZ), "Opus")["state"] == "ok"  # 25%
    more = [*three, entry(5, "0.1", "claude-opus-4-6")]
    row = alert(analysis.alerts(more, Config(), UTC_TZ), "Opus")
    assert row["state"] == "review" and row["value"] == Decimal("0.4")  # routing, not spend
    assert sorted(row["sessions"]) == ["claude-code/s001", "claude-code/s005"]


# ---------------------------------------------------------------- anomalies


def base() -> list[Entry]:
    return [entry(i, "0.10") for i in range(10)]


@pytest.mark.parametrize(
    ("odd", "cause"),
    [
        (entry(50, "0.90", "claude-opus-4-6"), "expensive model: claude-opus-4-6"),
        (entry(50, "0.90", usage=Usage(100, 1000, 4_000_000)), "large context: 4,000,100"),
        (entry(50, "0.90", subagents=5), "many subagents: 5"),
        (entry(50, "0.90", requests=200), "many requests: 200 (claude-code median 10)"),
        (entry(50, "0.90", hours=5), "long session: 5.0 h (claude-code median 1.0 h)"),
    ],
)
def test_anomaly_cause_fires(odd: Entry, cause: str) -> None:
    [found] = analysis.anomalies([*base(), odd], Config())
    assert found["entry"].id == odd.id
    assert found["ratio"] == 9
    assert [c for c in found["causes"] if c.startswith(cause)], found["causes"]
    assert len(found["causes"]) == 1  # the other causes stay quiet


@pytest.mark.parametrize(
    "odd",
    [
        entry(50, "0.90"),  # same model as everyone: its median session is $0.10
        entry(50, "0.90", usage=Usage(100, 1000, 20_100)),  # prompt exactly 2x the median
        entry(50, "0.90", subagents=2),  # fewer than 3
        entry(50, "0.90", requests=20),  # exactly 2x the median
        entry(50, "0.90", hours=2),  # exactly 2x the median
    ],
    ids=["model", "context", "subagents", "requests", "duration"],
)
def test_anomaly_cause_stays_quiet(odd: Entry) -> None:
    [found] = analysis.anomalies([*base(), odd], Config())
    assert found["causes"] == ["no single cause stands out"]


def test_no_anomaly_at_or_below_the_factor() -> None:
    assert analysis.anomalies([*base(), entry(50, "0.20")], Config()) == []
    assert len(analysis.anomalies([*base(), entry(50, "0.21")], Config())) == 1
    config = Config(anomaly_factor=Decimal("3"))
    assert analysis.anomalies([*base(), entry(50, "0.30")], config) == []


def test_unpriced_sessions_are_never_anomalies_nor_move_the_median() -> None:
    odd = entry(50, None, "mystery-model", requests=500)
    assert analysis.anomalies([*base(), odd], Config()) == []
    assert analysis.Typical.of([*base(), odd]).requests == 10


# ---------------------------------------------------------------- routing


def sonnet_mix(
    docs_cost: str = "0.05", docs_hours: float = 0.5, n_docs: int = 6, docs_type: str = "docs"
) -> list[Entry]:
    """Sonnet: heavy `code` sessions ($0.40, 2 h) and light sessions of another type."""
    code = [entry(i, "0.40", hours=2, types={"code": 1}) for i in range(6)]
    light = [
        entry(10 + i, docs_cost, hours=docs_hours, types={docs_type: 1}) for i in range(n_docs)
    ]
    return code + light


def test_routing_recommends_a_smaller_model_with_savings_at_its_prices() -> None:
    [row] = analysis.routing(sonnet_mix(), Config())["downgrade"]
    assert (row["task_type"], row["model"], row["recommended"], row["n"]) == (
        "docs",
        "claude-sonnet-4-6",
        "claude-haiku-4-5",
        6,
    )
    assert row["median"] == Decimal("0.05") and row["model_median"] == Decimal("0.225")
    # Haiku 4.5: $1 in, $5 out, $0.10 cache read per M -> 100 + 5,000 + 1,000 = $0.0061;
    # saved 0.05 - 0.0061 = 0.0439 per session, 6 sessions, all within one month
    assert row["monthly_savings"] == Decimal("0.2634")


@pytest.mark.parametrize(
    "mix",
    [
        sonnet_mix(docs_cost="0.40"),  # not cheaper than the model's usual session
        sonnet_mix(docs_hours=3),  # cheap but not short
        sonnet_mix(n_docs=4),  # too little evidence (guide_min_sessions = 5)
        sonnet_mix(docs_type="architecture"),  # risky types are never downgraded
    ],
    ids=["not-cheap", "not-short", "few", "risky"],
)
def test_routing_stays_quiet(mix: list[Entry]) -> None:
    assert analysis.routing(mix, Config())["downgrade"] == []


def test_routing_never_downgrades_a_small_or_unknown_model() -> None:
    for model in ("claude-haiku-4-5", "mystery-local-model"):
        mix = [replace(e, models={model: e.models["claude-sonnet-4-6"]}) for e in sonnet_mix()]
        assert analysis.routing(mix, Config())["downgrade"] == [], model


def test_routing_flags_risky_task_types_on_small_models() -> None:
    risky = [
        entry(1, "0.01", "claude-haiku-4-5", types={"security": 1}),
        entry(2, "0.03", "claude-haiku-4-5", types={"security": 1, "docs": 1}),
    ]
    [row] = analysis.routing(risky, Config())["risky"]
    assert (row["task_type"], row["model"], row["n"], row["median"]) == (
        "security",
        "claude-haiku-4-5",
        2,
        Decimal("0.02"),
    )
    assert row["recommended"] == "Claude Opus"
    fine = [
        entry(1, "0.30", "claude-opus-4-6", types={"security": 1}),
        entry(2, "0.01", "claude-haiku-4-5", types={"docs": 1}),
    ]
    assert analysis.routing(fine, Config())["risky"] == []


def test_risk_list_is_configurable() -> None:
    cheap_docs = [entry(1, "0.01", "gpt-5-mini", types={"docs": 1})]
    assert analysis.routing(cheap_docs, Config())["risky"] == []
    config = Config(risky_task_types=["docs"])
    [row] = analysis.routing(cheap_docs, config)["risky"]
    assert (row["task_type"], row["n"], row["median"]) == ("docs", 1, Decimal("0.01"))


# ---------------------------------------------------------------- guide


def test_guide_uses_data_once_there_is_enough() -> None:
    rows = analysis.guide([entry(i, f"0.0{i + 1}", types={"code": 1}) for i in range(5)], Config())
    measured = [r for r in rows if r["basis"] == "measured"]
    assert [(r["model"], r["task_type"], r["n"], r["median"]) for r in measured] == [
        ("claude-sonnet", "code", 5, Decimal("0.03")),
        ("claude-sonnet", "*", 5, Decimal("0.03")),
        ("*", "*", 5, Decimal("0.03")),
    ]
    assert not [
        r
        for r in rows
        if (r["model"], r["task_type"]) == ("claude-sonnet", "code") and r["basis"] == "seed"
    ]
    few = analysis.guide([entry(1, "0.5", types={"code": 1})], Config())
    assert all(r["basis"] == "seed" for r in few)


def test_guide_leaves_out_manual_and_unpriced_sessions() -> None:
    manual = [entry(i, "0.5", types={"code": 1}, source="manual") for i in range(5)]
    unpriced = [entry(10 + i, None, types={"code": 1}) for i in range(5)]
    assert all(r["basis"] == "seed" for r in analysis.guide(manual + unpriced, Config()))


def test_manual_record_rate_comes_from_measured_rows() -> None:
    data = [entry(i, "0.20", "claude-sonnet-4-5", types={"code": 2}) for i in range(5)]
    rows = analysis.guide(data, Config())
    assert analysis.guide_rate(rows, "claude-sonnet-4-6", "code") == Decimal("0.10")
    assert analysis.guide_rate(rows, "claude-sonnet-4-6", "docs") == Decimal("0.10")  # pool
    assert analysis.guide_rate(
        analysis.guide([], Config()), "claude-sonnet-4-6", "code"
    ) == Decimal("0.02")  # the seed


# ---------------------------------------------------------------- work items


def commit(subject: str, added: int, removed: int = 0) -> Commit:
    return Commit("abc", subject, 1, added, removed)


def test_work_item_cost_follows_the_lines_each_item_changed() -> None:
    session = entry(
        1,
        "0.30",
        items=["WRK-1", "WRK-2"],
        commits=[commit("Add loader (WRK-1)", 100, 20), commit("Tidy", 60)],
    )
    # WRK-1: 120 + 30 lines, WRK-2: 30 (the unnamed commit counts for both)
    assert analysis.work_item_split(session) == {"WRK-1": Decimal("0.25"), "WRK-2": Decimal("0.05")}


def test_work_item_cost_is_split_evenly_without_commits() -> None:
    rows = analysis.work_items(
        [entry(1, "0.30", items=["WRK-1", "WRK-2", "#3"]), entry(2, "0.10", items=["WRK-1"])]
    )
    assert {r["work_item"]: r["cost"] for r in rows} == {
        "WRK-1": Decimal("0.20"),
        "WRK-2": Decimal("0.10"),
        "#3": Decimal("0.10"),
    }


def test_work_item_keys_match_whole_keys_only() -> None:
    session = entry(
        1, "0.40", items=["#41", "WO-2026"], commits=[commit("Refs #410 and WO-2026-110", 100)]
    )
    assert analysis.work_item_split(session) == {"#41": Decimal("0.20"), "WO-2026": Decimal("0.20")}


# ---------------------------------------------------------------- model classes


@pytest.mark.parametrize(
    ("model", "family", "small"),
    [
        ("claude-opus-4-6", "Claude Opus", False),
        ("claude-haiku-4-5", "Claude Haiku", True),
        ("gemini-2.5-pro", "Gemini Pro", False),
        ("gemini-2.5-flash-lite", "Gemini Flash", True),
        ("gpt-5.1-codex-mini", "Codex", True),
        ("gpt-5", "GPT", False),
        ("mystery-local-model", "Other", False),
    ],
)
def test_model_classes(model: str, family: str, small: bool) -> None:
    assert analysis.family_of(model) == family
    assert analysis.is_small(model) is small


def test_months_follow_the_configured_time_zone() -> None:
    late = replace(entry(1, "0.10"), started=datetime(2026, 10, 31, 23, 30, tzinfo=UTC))
    assert analysis.months([late], UTC_TZ)[0]["month"] == "2026-10"
    assert analysis.months([late], zone("Europe/Berlin"))[0]["month"] == "2026-11"


def test_spend_tables_count_a_mixed_session_once_per_row() -> None:
    mixed = entry(1, "0.30", "claude-sonnet-4-6")
    mixed.models["claude-haiku-4-5"] = ModelUsage(2, Usage(10, 10), Decimal("0.01"))
    mixed.models["mystery"] = ModelUsage(1, Usage(5, 5), None)
    mixed.cost_usd = None  # a session with an unpriced model has no total
    tables = analysis.spend_tables([mixed, entry(2, "0.10", "gpt-5-codex")])
    providers = {r["provider"]: r for r in tables["provider"]}
    assert providers["Anthropic"]["sessions"] == 1
    assert providers["Anthropic"]["cost"] == Decimal("0.31")
    assert (providers["Other"]["cost"], providers["Other"]["unpriced"]) == (Decimal(0), 1)
    families = {r["family"]: r["sessions"] for r in tables["family"]}
    assert families == {"Claude Sonnet": 1, "Claude Haiku": 1, "Codex": 1, "Other": 1}
    assert [r["model"] for r in tables["model"]][:2] == ["claude-sonnet-4-6", "gpt-5-codex"]


def test_gc_pause_restores_the_collector_even_on_error() -> None:
    import gc

    assert gc.isenabled()
    from costlog.gcpause import gc_paused

    with pytest.raises(ValueError), gc_paused():
        assert not gc.isenabled()
        raise ValueError
    assert gc.isenabled()


def test_cost_per_configured_directory_adds_up_to_the_total() -> None:
    from dataclasses import replace

    base = [entry(1, "1.00"), entry(2, "2.00"), entry(3, "0.50"), entry(4, "0.25")]
    cwds = ["packages/api", "packages/api/src", "packages/web", "."]
    sessions = [replace(e, cwd=c) for e, c in zip(base, cwds, strict=True)]
    rows = analysis.directories(sessions, ["packages/api", "packages/web/"])
    assert [(r["directory"], r["sessions"], r["cost"]) for r in rows] == [
        ("packages/api", 2, Decimal("3.00")),
        ("packages/web", 1, Decimal("0.50")),
        ("(other)", 1, Decimal("0.25")),
    ]
    assert analysis.directories(sessions, []) == []
