"""Issue 12 (session 4): the render's analysis reads the `Facts` columns in C-level passes
and takes COST_LOG.md's few anomalies off the end of the cost order. Each faster path is
checked here against the plain way on ledgers that leave it: unpriced and manual
sessions, unknown ends, sessions that end before they start, several zones, equal costs
at the anomaly cut, months out of order, non-ASCII work-item keys."""

from __future__ import annotations

import random
import statistics
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from costlog import analysis
from costlog.analysis import facts as facts_module
from costlog.analysis.allocation import _key_pattern
from costlog.analysis.facts import Facts
from costlog.config import Config
from costlog.models import Commit, Entry, ModelUsage, Usage
from costlog.timeutil import zone

T0 = datetime(2026, 9, 28, 22, 0, tzinfo=UTC)
MODELS = ["claude-sonnet-4-6", "claude-opus-4-6", "claude-haiku-4-5", "gpt-5-codex"]
TYPES = ["code", "docs", "review", "architecture"]


def entry(i: int, cost: str | None, **fields: Any) -> Entry:
    """One one-model session `i` minutes after T0 (cost None: unpriced)."""
    model = fields.pop("model", MODELS[i % len(MODELS)])
    price = None if cost is None else Decimal(cost)
    started = fields.pop("started", T0 + timedelta(minutes=i * 37))
    return Entry(
        id=fields.pop("id", f"claude-code/s{i:05d}"),
        agent=fields.pop("agent", "claude-code"),
        started=started,
        ended=fields.pop("ended", started + timedelta(minutes=5 + i % 50)),
        models={model: ModelUsage(3 + i % 7, Usage(100 + i, 50 + i % 13), price)},
        cost_usd=price,
        source=fields.pop("source", "actual"),
        tasks_completed=fields.pop("tasks_completed", 1 + i % 4),
        task_types=fields.pop("task_types", {TYPES[i % 4]: 1, TYPES[(i * 3) % 4]: 1}),
        **fields,
    )


def varied(n: int, seed: int) -> list[Entry]:
    """Sessions with every case a column's fast path leaves to the slow one."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        cost = None if rng.random() < 0.05 else f"{rng.choice([0.25, 0.5, 1, 3, 9]):.6f}"
        e = entry(i, cost)
        r = rng.random()
        if r < 0.1:
            e.source = "manual"
        elif r < 0.15:
            e.ended = None
        elif r < 0.2:
            e.ended = e.started - timedelta(minutes=3)  # before its start: 0 hours
        elif r < 0.25:
            e.tasks_completed = None
        elif r < 0.3:
            e.tasks_completed, e.task_types = 0, {}
        elif r < 0.35:  # the same instant written in another offset
            e.started = e.started.astimezone(timezone(timedelta(hours=2)))
        if rng.random() < 0.2:
            e.agent = "codex"
        out.append(e)
    return out


def test_the_columns_hold_what_each_entrys_own_functions_say() -> None:
    entries = varied(400, 3)
    tz = zone("Europe/Berlin")
    facts = Facts(entries, tz)
    assert facts.hours == [facts_module.hours(e) for e in entries]
    assert facts.tasks == [facts_module.tasks(e) for e in entries]
    assert facts.completed == [e.tasks_completed or 0 for e in entries]
    assert facts.day == [facts_module.local_day(e, tz) for e in entries]
    assert facts.source == [e.source for e in entries]
    assert facts.all_priced is False


def test_the_columns_of_a_ledger_on_the_fast_paths() -> None:
    entries = [entry(i, "1.000000") for i in range(30)]  # one zone, every end after start
    facts = Facts(entries, UTC)
    assert facts.hours == [facts_module.hours(e) for e in entries]
    assert facts.day == [e.started.date() for e in entries]
    assert facts.tasks is facts.completed  # every session says its count
    assert facts.all_priced is True
    entries[4].ended = entries[4].started - timedelta(minutes=1)  # every end known, one early
    entries[5].ended = entries[5].started
    assert Facts(entries, UTC).hours == [facts_module.hours(e) for e in entries]
    assert Facts(entries, UTC).hours[4:6] == [0.0, 0.0]


def plain_anomalies(entries: list[Entry], config: Config) -> list[tuple[str, Decimal]]:
    typical = analysis.Typical.of(entries)
    limit = typical.cost * config.anomaly_factor
    rows = [(e.id, e.cost_usd) for e in entries if e.cost_usd is not None and e.cost_usd > limit]
    return sorted(rows, key=lambda r: (-r[1], r[0]))  # type: ignore[operator]


@pytest.mark.parametrize("rows", [1, 3, 4, 5, 20, 500])
def test_the_top_anomalies_are_the_first_rows_with_equal_costs_by_id(rows: int) -> None:
    # equal costs at every cut, their ids in the reverse of ledger order
    costs = ["0.10"] * 40 + ["5.00", "7.00", "7.00", "7.00", "9.00", "9.00"] * 3
    entries = [entry(i, c, id=f"claude-code/x{999 - i:04d}") for i, c in enumerate(costs)]
    config = Config()
    facts = Facts(entries, UTC)
    typical = analysis.Typical.of_facts(facts)
    top, total = analysis.top_anomalies(entries, config, typical, rows, facts)
    every = analysis.anomalies(entries, config, typical, explain=rows, facts=facts)
    assert total == len(every) == 18
    assert [(r["entry"].id, r["cost"], r["ratio"], r["causes"]) for r in top] == [
        (r["entry"].id, r["cost"], r["ratio"], r["causes"]) for r in every[:rows]
    ]
    assert [(r["entry"].id, r["cost"]) for r in top] == plain_anomalies(entries, config)[:rows]


def plain_months(entries: list[Entry], tz: Any) -> list[tuple[Any, ...]]:
    groups: dict[str, list[Entry]] = {}
    for e in entries:
        groups.setdefault(facts_module.month_of(e, tz), []).append(e)
    out = []
    for month in sorted(groups, reverse=True):
        group = groups[month]
        total = sum((facts_module.cost(e) for e in group), Decimal(0))
        counts: dict[str, int] = {}
        spent: dict[str, Decimal] = {}
        for e in group:
            m = facts_module.primary(e) or "-"
            counts[m] = counts.get(m, 0) + 1
            spent[m] = spent.get(m, Decimal(0)) + facts_module.cost(e)
        top = max(counts, key=lambda m: (counts[m], spent[m], m))
        unpriced = sum(1 for e in group if e.cost_usd is None)
        out.append((month, len(group), total, top, counts[top], unpriced))
    return out


@pytest.mark.parametrize("ordered", [True, False])
def test_month_rows_are_those_of_the_plain_way(ordered: bool) -> None:
    entries = varied(300, 5)
    if not ordered:  # months out of order: grouped one by one instead of sliced
        entries = entries[150:] + entries[:150]
    tz = zone("America/New_York")
    rows = analysis.months(entries, tz, Facts(entries, tz))
    keys = ("month", "sessions", "cost", "primary_model", "primary_sessions", "unpriced")
    got = [tuple(r[k] for k in keys) for r in rows]
    assert got == plain_months(entries, tz)


def test_a_months_primary_model_tie_goes_to_the_costlier_then_the_name() -> None:
    cheap, dear = "claude-haiku-4-5", "claude-opus-4-6"
    entries = [
        entry(0, "1.000000", model=cheap),
        entry(1, "3.000000", model=dear),
        entry(2, "2.000000", model=cheap),
        entry(3, "0.500000", model=dear),
        entry(4, "1.000000", model="gpt-5-codex"),
    ]
    [row] = analysis.months(entries, UTC, Facts(entries, UTC))
    assert (row["primary_model"], row["primary_sessions"]) == (dear, 2)  # 3.50 over 3.00
    entries[3] = entry(3, "-0.500000", model=dear)  # a credit: now 2.50
    [row] = analysis.months(entries, UTC, Facts(entries, UTC))
    assert row["primary_model"] == cheap


def plain_guide(entries: list[Entry], least: int) -> dict[tuple[str, str], tuple[Any, ...]]:
    rows: dict[tuple[str, str], list[Decimal]] = {}
    for e in entries:
        fed = analysis.estimation.sample(e)
        if fed is not None:
            keys, each = fed
            for key in keys:
                rows.setdefault(key, []).append(each)
    out = {}
    for key, values in rows.items():
        if len(values) >= least:
            values.sort()
            n = len(values)
            out[key] = (values[n // 10], values[-1 - n // 10], statistics.median(values), n)
    return out


@pytest.mark.parametrize("star", [False, True])
def test_the_guide_is_that_of_each_rows_costs_sorted(star: bool) -> None:
    entries = varied(500, 11)
    if star:  # a task type named `*` shares its family's pool row: the plain loop
        entries[7].task_types = {"*": 1, "code": 1}
    config = Config(guide_min_sessions=3)
    rows = analysis.guide(entries, config, Facts(entries))
    got = {
        (r["model"], r["task_type"]): (r["low"], r["high"], r["median"], r["n"])
        for r in rows
        if r["basis"] == "measured"
    }
    assert got == plain_guide(entries, 3)


def test_routing_groups_are_those_of_the_plain_way() -> None:
    entries = varied(400, 13)
    facts = Facts(entries)
    groups: dict[tuple[str, str], list[int]] = {}
    for i, e in enumerate(entries):
        model = facts_module.primary(e)
        if model and e.cost_usd is not None:
            for t in e.task_types:
                groups.setdefault((t, model), []).append(i)
    assert analysis.advice._by_type_and_model(entries, facts) == groups


def test_methodology_sums_each_source_in_ledger_order() -> None:
    entries = varied(200, 17)
    for i, e in enumerate(entries):
        e.source = ["actual", "parsed", "estimated", "mixed"][i % 4]
        if i % 9 == 0:
            e.methods = {"output": f"o200k tokenizer x1.{i % 3}"}
    rows = {r["source"]: r for r in analysis.methodology(entries, Facts(entries))}
    for source in ("actual", "parsed", "estimated", "mixed"):
        mine = [e for e in entries if e.source == source]
        assert rows[source]["sessions"] == len(mine)
        assert rows[source]["cost"] == sum((facts_module.cost(e) for e in mine), Decimal(0))
    named = sum(k["sessions"] for r in rows.values() for k in r["method_kinds"])
    assert named == sum(1 for e in entries if e.methods)


def test_unlinked_sessions_are_those_without_a_work_item() -> None:
    entries = varied(100, 19)
    for i, e in enumerate(entries):
        e.work_items = ["WRK-1"] if i % 3 else []
    none = [e for e in entries if not e.work_items]
    assert analysis.unlinked(entries, Facts(entries)) == {
        "sessions": len(none),
        "cost": sum((facts_module.cost(e) for e in none), Decimal(0)),
    }


@pytest.mark.parametrize(
    ("items", "subject"),
    [
        (["WRK-7", "OPS-1"], "Fix wrk-7 and more"),
        (["WRK-7", "OPS-1"], "ops-1, WRK-7"),
        (["WRK-7", "OPS-1"], "WRK-70 only"),
        (["ÄRGER-1", "OPS-1"], "fix ärger-1"),  # a non-ASCII key: the pattern decides
        (["WRK-7", "OPS-1"], "Über WRK-7"),  # a non-ASCII subject
        (["WRK-7", "WRK-7", "OPS-1"], "WRK-7"),  # a key named twice counts once
    ],
)
def test_a_split_follows_the_key_pattern(items: list[str], subject: str) -> None:
    e = entry(1, "0.900000", work_items=items, commits=[Commit("a", subject, 1, 30, 0)])
    keys = list(dict.fromkeys(items))
    named = [k for k in keys if _key_pattern(k).search(subject)] or keys
    share = Decimal("0.900000") * (Decimal(30) / len(named)) / Decimal(30)
    assert analysis.work_item_split(e) == {k: share if k in named else Decimal(0) for k in keys}


def test_a_session_without_commits_splits_as_one_whose_commits_changed_no_lines() -> None:
    items = ["WRK-7", "OPS-1", "WRK-7", "DOC-2"]
    bare = entry(1, "1.000000", work_items=items)
    idle = entry(1, "1.000000", work_items=items, commits=[Commit("a", "WRK-7", 1, 0, 0)])
    split = analysis.work_item_split(bare)
    assert split == analysis.work_item_split(idle)
    assert list(split) == ["WRK-7", "OPS-1", "DOC-2"]
    assert set(split.values()) == {Decimal("1.000000") * Decimal(1) / Decimal(3)}
