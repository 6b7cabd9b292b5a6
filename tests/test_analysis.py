"""Each alert, anomaly cause and routing rule: one case that fires, one that stays quiet."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from costlog import analysis
from costlog.config import Budget, Config
from costlog.models import Entry, ModelUsage, Usage

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def entry(n: int, cost: str, model: str = "claude-sonnet-4-6", *, days: int = 0,
          usage: Usage | None = None, requests: int = 10, subagents: int = 0,
          hours: float = 1, types: dict[str, int] | None = None,
          items: list[str] | None = None) -> Entry:
    started = T0 + timedelta(days=days, minutes=n)
    return Entry(id=f"claude-code/s{n:03d}", agent="claude-code", started=started,
                 ended=started + timedelta(hours=hours),
                 models={model: ModelUsage(requests, usage or Usage(100, 1000, 10_000),
                                           Decimal(cost))},
                 cost_usd=Decimal(cost), source="actual", subagents=subagents,
                 task_types=types or {}, tasks_completed=sum((types or {}).values()) or None,
                 work_items=items or [])


def alert(rows: list[dict[str, object]], prefix: str) -> dict[str, object]:
    return next(r for r in rows if str(r["alert"]).startswith(prefix))


UTC_TZ = analysis.zone("UTC")


def test_session_spike_fires_above_threshold_only() -> None:
    quiet = [entry(1, "0.50"), entry(2, "0.10")]
    loud = [*quiet, entry(3, "0.51")]
    assert alert(analysis.alerts(quiet, Config(), UTC_TZ), "Session")["state"] == "ok"
    fired = alert(analysis.alerts(loud, Config(), UTC_TZ), "Session")
    assert fired["state"] == "warning"
    assert fired["sessions"] == ["claude-code/s003"]


def test_monthly_budget() -> None:
    config = Config(budget=Budget(monthly_usd=Decimal("1.00")))
    month = [entry(i, "0.30", days=i) for i in range(3)]
    assert alert(analysis.alerts(month, config, UTC_TZ), "Monthly")["state"] == "ok"
    assert alert(analysis.alerts([*month, entry(9, "0.11", days=9)], config, UTC_TZ),
                 "Monthly")["state"] == "warning"


def test_rolling_seven_days_counts_only_the_last_week() -> None:
    config = Config(budget=Budget(rolling_7d_usd=Decimal("1.00")))
    old = [entry(1, "0.90", days=0)]
    recent = [entry(2, "0.40", days=10), entry(3, "0.40", days=12)]
    row = alert(analysis.alerts([*old, *recent], config, UTC_TZ), "Rolling")
    assert row["state"] == "ok" and row["value"] == Decimal("0.80")
    row = alert(analysis.alerts([*old, *recent, entry(4, "0.30", days=14)], config, UTC_TZ),
                "Rolling")
    assert row["state"] == "warning"
    assert alert(analysis.alerts(recent, config, UTC_TZ, today=date(2026, 11, 30)),
                 "Rolling")["value"] == Decimal(0)


def test_small_model_under_use() -> None:
    big_only = [entry(1, "0.1"), entry(2, "0.1")]
    assert alert(analysis.alerts(big_only, Config(), UTC_TZ), "Small")["state"] == "warning"
    mixed = [*big_only, entry(3, "0.01", "claude-haiku-4-5")]
    assert alert(analysis.alerts(mixed, Config(), UTC_TZ), "Small")["state"] == "ok"


def test_opus_over_use_share() -> None:
    three = [entry(1, "0.1", "claude-opus-4-6"), entry(2, "0.1"), entry(3, "0.1"),
             entry(4, "0.1")]
    assert alert(analysis.alerts(three, Config(), UTC_TZ), "Opus")["state"] == "ok"  # 25%
    more = [*three, entry(5, "0.1", "claude-opus-4-6")]
    assert alert(analysis.alerts(more, Config(), UTC_TZ), "Opus")["state"] == "warning"  # 40%


def base() -> list[Entry]:
    return [entry(i, "0.10") for i in range(10)]


@pytest.mark.parametrize(("odd", "cause"), [
    (entry(50, "0.90", "claude-opus-4-6"), "expensive model"),
    (entry(50, "0.90", usage=Usage(100, 1000, 4_000_000)), "large context"),
    (entry(50, "0.90", subagents=5), "many subagents"),
    (entry(50, "0.90", requests=200), "many requests"),
    (entry(50, "0.90", hours=5), "long session"),
])
def test_anomaly_causes(odd: Entry, cause: str) -> None:
    [found] = analysis.anomalies([*base(), odd], Config())
    assert found["entry"].id == odd.id
    assert any(c.startswith(cause) for c in found["causes"]), found["causes"]


def test_no_anomaly_at_or_below_the_factor() -> None:
    assert analysis.anomalies([*base(), entry(50, "0.20")], Config()) == []
    [plain] = analysis.anomalies([*base(), entry(50, "0.21")], Config())
    assert plain["causes"] == ["no single cause stands out"]


def test_routing_recommends_a_smaller_model_for_cheap_task_types() -> None:
    cheap = [entry(i, "0.05", types={"docs": 1}) for i in range(3)]
    rows = analysis.routing(cheap, Config())["downgrade"]
    assert [(r["task_type"], r["model"], r["n"]) for r in rows] == [
        ("docs", "claude-sonnet-4-6", 3)]
    assert rows[0]["recommended"] == "claude-haiku-4-5"
    pricey = [entry(i, "0.40", types={"docs": 1}) for i in range(3)]
    assert analysis.routing(pricey, Config())["downgrade"] == []
    assert analysis.routing(cheap[:2], Config())["downgrade"] == []  # too little evidence


def test_routing_flags_risky_task_types_on_small_models() -> None:
    risky = [entry(1, "0.01", "claude-haiku-4-5", types={"security": 1})]
    assert analysis.routing(risky, Config())["risky"][0]["task_type"] == "security"
    fine = [entry(1, "0.30", "claude-opus-4-6", types={"security": 1})]
    assert analysis.routing(fine, Config())["risky"] == []


def test_guide_uses_data_once_there_is_enough() -> None:
    rows = analysis.guide([entry(i, f"0.0{i + 1}", types={"code": 1}) for i in range(5)],
                          Config())
    measured = [r for r in rows if r["basis"] == "measured"]
    assert [(r["model"], r["task_type"], r["n"], r["median"]) for r in measured] == [
        ("claude-sonnet-4-6", "code", 5, Decimal("0.03"))]
    few = analysis.guide([entry(1, "0.5", types={"code": 1})], Config())
    assert all(r["basis"] == "seed" for r in few)


def test_work_item_cost_is_split_equally() -> None:
    rows = analysis.work_items([entry(1, "0.30", items=["WRK-1", "WRK-2", "#3"]),
                                entry(2, "0.10", items=["WRK-1"])])
    assert {r["work_item"]: r["cost"] for r in rows} == {
        "WRK-1": Decimal("0.20"), "WRK-2": Decimal("0.10"), "#3": Decimal("0.10")}
