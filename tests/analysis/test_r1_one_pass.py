"""Issue 12 (render of 100k sessions): the analysis works from one pass over the entries
(`analysis.facts.Facts`: each entry's cost, model, day... once) instead of asking every
entry again in every table. Each test here builds the table the plain way, entry by entry
with the per-entry facts (`cost`, `primary`, `local_day`...), as the analysis did before,
and asserts the one-pass table is the same: same rows, same order, and the same Decimal
to the digit (`repr` tells `1.5` from `1.50`, which COST_LOG.md's amounts can show).

The ledger is made to hit the cases a shortcut could get wrong: equal costs written
differently, unpriced and model-less sessions, several models, sessions without an end,
times in other zones than the configured one, split work items, manual sessions."""

from __future__ import annotations

import heapq
import random
import statistics
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from typing import Any

import pytest

from costlog import analysis
from costlog.analysis import budget, outliers
from costlog.analysis.facts import (
    ZERO,
    Facts,
    cost,
    hours,
    local_day,
    primary,
    prompt_tokens,
    requests,
    tasks,
)
from costlog.analysis.typical import Typical
from costlog.config import Config
from costlog.models import Commit, Entry, ModelUsage, Usage
from costlog.pricing.table import PriceTable
from costlog.timeutil import zone

T0 = datetime(2026, 9, 28, 21, 30, tzinfo=UTC)
#: equal amounts written differently: a median or a maximum must pick the one the plain
#: way picks, and COST_LOG.md shows the digits it carries
AMOUNTS = ["0.0125", "0.40", "0.4", "0.400000", "1.5", "1.50", "2.25", "0.03", "7", "0.000001"]
MODELS = ["claude-sonnet-4-6", "claude-opus-4-6", "claude-haiku-4-5", "gpt-5.1-codex", "mystery"]
ZONES: list[tzinfo] = [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=7))]


def ledger(n: int, seed: int, *, multi: bool = True) -> list[Entry]:
    """`n` sessions in start order, varied as the module docstring says."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        started = (T0 + timedelta(minutes=97 * i)).astimezone(rng.choice(ZONES))
        count = rng.choice([1, 1, 1, 2, 3]) if multi else 1
        if multi and rng.random() < 0.03:
            count = 0
        models = {}
        for name in rng.sample(MODELS, count):
            amount: Decimal | None = Decimal(rng.choice(AMOUNTS))
            if name == "mystery" and rng.random() < 0.7:
                amount = None  # no price known
            usage = Usage(rng.randrange(0, 9000), rng.randrange(0, 900), rng.randrange(0, 5000))
            models[name] = ModelUsage(rng.randrange(1, 40), usage, amount)
        priced = [m.cost_usd for m in models.values()]
        total = None if None in priced else sum(priced, ZERO)  # type: ignore[arg-type]
        items = rng.sample(["WRK-1", "WRK-2", "OPS-7"], rng.choice([0, 1, 1, 2, 3]))
        subjects = ["WRK-1: loader", "fix OPS-7 and WRK-2", "tidy up", "wrk-2 docs"]
        commits = [
            Commit(f"{i:05x}{k}", rng.choice(subjects), 1, rng.randrange(0, 90), rng.randrange(5))
            for k in range(rng.choice([0, 1, 2]))
        ]
        types = dict.fromkeys(rng.sample(["feature", "test", "bugfix"], rng.choice([0, 1, 2])), 1)
        out.append(
            Entry(
                id=f"{rng.choice(['claude-code', 'codex'])}/s{rng.randrange(10**6):06d}-{i}",
                agent=rng.choice(["claude-code", "claude-code", "codex", "manual"]),
                started=started,
                ended=None
                if rng.random() < 0.1
                else started + timedelta(minutes=rng.choice([5, 90, 300])),
                models=models,
                cost_usd=total,
                source=rng.choice(["actual", "actual", "parsed", "estimated", "manual"]),
                subagents=rng.choice([0, 0, 1, 4]),
                commits=commits,
                work_items=items,
                tasks_completed=rng.choice([None, 0, 1, 3]),
                task_types=types,
            )
        )
    return out


def routing_ledger() -> list[Entry]:
    """Opus sessions whose tests are cheap and short: routing advises a smaller model."""
    out = []
    for i, entry in enumerate(ledger(120, 5, multi=False)):
        name = "claude-opus-4-6" if i % 3 else "claude-sonnet-4-6"
        cheap = i % 2 == 0
        amount = Decimal(["0.03", "0.030", "0.05"][i % 3]) if cheap else Decimal("7.5")
        usage = Usage(1000 + i, 200, 3000)
        entry.models = {name: ModelUsage(3, usage, amount)}
        entry.cost_usd = amount
        entry.task_types = {"test": 1} if cheap else {"feature": 1, "bugfix": 1}
        if entry.ended is not None:
            entry.ended = entry.started + timedelta(minutes=5 if cheap else 240)
        out.append(entry)
    return out


LEDGERS = [
    pytest.param(ledger(400, 1), id="mixed"),
    pytest.param(routing_ledger(), id="routing"),
    pytest.param(ledger(400, 2, multi=False), id="one-model"),
    pytest.param(ledger(7, 3), id="small"),
    pytest.param([], id="empty"),
]
BERLIN = zone("Europe/Berlin")


def median(values: list[Any]) -> Any:
    return statistics.median(values) if values else None


def plain_typical(entries: list[Entry]) -> Typical:
    """The ledger's medians, entry by entry (as `Typical.of` worked them out before)."""
    costs, prompts, counts, durations, subagents = [], [], [], [], []
    model_costs: dict[str, list[Decimal]] = defaultdict(list)
    model_hours: dict[str, list[float]] = defaultdict(list)
    for entry in entries:
        if entry.cost_usd is None:
            continue
        model, duration = primary(entry) or "-", hours(entry)
        costs.append(entry.cost_usd)
        prompts.append(prompt_tokens(entry))
        counts.append(requests(entry))
        subagents.append(entry.subagents)
        model_costs[model].append(entry.cost_usd)
        if duration is not None:
            durations.append(duration)
            model_hours[model].append(duration)
    return Typical(
        cost=median(costs) or ZERO,
        prompt_tokens=median(prompts) or 0,
        requests=median(counts) or 0,
        hours=median(durations) or 0,
        subagents=median(subagents) or 0,
        model_cost={m: median(v) for m, v in model_costs.items()},
        model_hours={m: median(model_hours.get(m, [])) or 0.0 for m in model_costs},
    )


@pytest.mark.parametrize("entries", LEDGERS)
def test_the_medians_are_those_of_the_plain_way(entries: list[Entry]) -> None:
    assert repr(Typical.of(entries)) == repr(plain_typical(entries))


@pytest.mark.parametrize("entries", LEDGERS)
def test_monthly_rows_in_another_zone_are_those_of_the_plain_way(entries: list[Entry]) -> None:
    groups: dict[str, list[Entry]] = defaultdict(list)
    for entry in entries:
        day = local_day(entry, BERLIN)
        groups[f"{day.year:04d}-{day.month:02d}"].append(entry)
    plain = []
    for month in sorted(groups, reverse=True):
        group = groups[month]
        count = Counter(primary(e) or "-" for e in group)
        spent: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for e in group:
            spent[primary(e) or "-"] += cost(e)
        top = max(count, key=lambda m: (count[m], spent[m], m))
        total = sum((cost(e) for e in group), ZERO)
        done = sum(e.tasks_completed or 0 for e in group)
        plain.append(
            {
                "month": month,
                "sessions": len(group),
                "tasks": done,
                "cost": total,
                "per_session": total / len(group),
                "per_task": total / done if done else None,
                "primary_model": top,
                "primary_sessions": count[top],
                "unpriced": sum(1 for e in group if e.cost_usd is None),
            }
        )
    assert repr(analysis.months(entries, BERLIN)) == repr(plain)
    # a pass made for another zone is not used for this one
    assert repr(analysis.months(entries, BERLIN, Facts(entries, UTC))) == repr(plain)


@pytest.mark.parametrize("entries", LEDGERS)
def test_spend_tables_are_those_of_the_session_by_session_sums(entries: list[Entry]) -> None:
    # an iterator takes the general path, which adds up each session's models one by one
    assert repr(analysis.spend_tables(entries)) == repr(analysis.spend_tables(iter(entries)))
    assert repr(analysis.spend_by(entries, "family")) == repr(
        analysis.spend_by(iter(entries), "family")
    )


@pytest.mark.parametrize("entries", LEDGERS)
def test_work_item_rows_are_those_of_the_plain_way(entries: list[Entry]) -> None:
    spent: dict[str, Decimal] = defaultdict(lambda: ZERO)
    sessions: Counter[str] = Counter()
    last: dict[str, datetime] = {}
    for entry in entries:
        for key, share in analysis.work_item_split(entry).items():
            spent[key] += share
            sessions[key] += 1
            if key not in last or entry.started > last[key]:
                last[key] = entry.started
    plain = [
        {
            "work_item": k,
            "sessions": sessions[k],
            "cost": spent[k],
            "last": last[k].date().isoformat(),
        }
        for k in sorted(spent, key=lambda k: (-spent[k], k))
    ]
    assert repr(analysis.work_items(entries)) == repr(plain)
    none = [e for e in entries if not e.work_items]
    assert analysis.unlinked(entries) == {
        "sessions": len(none),
        "cost": sum((cost(e) for e in none), ZERO),
    }


@pytest.mark.parametrize("entries", LEDGERS)
def test_the_guide_is_that_of_each_row_sorted_on_its_own(entries: list[Entry]) -> None:
    from costlog.analysis.estimation import guide_rows, sample

    config = Config(guide_min_sessions=2)
    per_task: dict[tuple[str, str], list[Decimal]] = defaultdict(list)
    for entry in entries:
        found = sample(entry)
        if found is not None:
            for key in found[0]:
                per_task[key].append(found[1])
    assert repr(analysis.guide(entries, config)) == repr(guide_rows(per_task, config))


def spike_config(limit: str) -> Config:
    config = Config()
    config.budget.session_spike_usd = Decimal(limit)
    return config


@pytest.mark.parametrize("entries", LEDGERS)
@pytest.mark.parametrize("limit", ["0", "0.4", "1.5", "2.25", "100"])
def test_the_spike_alert_lists_what_the_plain_way_lists(entries: list[Entry], limit: str) -> None:
    """The costliest sessions over the limit, ties by id, the highest cost as `max` finds
    it (the first of equal ones: `1.5` or `1.50`, whichever came first)."""
    config = spike_config(limit)
    over = [e for e in entries if cost(e) > config.budget.session_spike_usd]
    shown = heapq.nsmallest(5, over, key=lambda e: (-cost(e), e.id))
    row = analysis.alerts(entries, config, UTC)[0]
    assert row["state"] == ("warning" if over else "ok")
    assert repr(row["value"]) == repr(max((cost(e) for e in entries), default=ZERO))
    assert row["sessions"] == ([e.id for e in shown] if over else [])
    assert row["more"] == (max(0, len(over) - 5) if over else 0)
    assert repr(row) == repr(budget._spike(entries, config))  # the paid view's own way


@pytest.mark.parametrize("entries", LEDGERS)
def test_the_other_alerts_are_those_of_the_plain_way(entries: list[Entry]) -> None:
    config = Config()
    config.budget.monthly_usd = Decimal("3")
    config.budget.rolling_7d_usd = Decimal("2")
    rows = analysis.alerts(entries, config, BERLIN)
    end = local_day(entries[-1], BERLIN) if entries else None
    if end is None:
        assert [r["state"] for r in rows] == ["ok", "ok", "ok", "ok", "ok"]
        return
    month = f"{end.year:04d}-{end.month:02d}"
    in_month = [e for e in entries if local_day(e, BERLIN).strftime("%Y-%m") == month]
    week = [e for e in entries if end - timedelta(days=6) <= local_day(e, BERLIN) <= end]
    assert repr(rows[1]) == repr(budget._monthly(in_month, config, month))
    assert repr(rows[2]) == repr(budget._rolling(week, config, BERLIN, end))
    assert repr(rows[3]) == repr(budget._small_use(in_month, config, month))


def plain_anomalies(entries: list[Entry], config: Config) -> list[dict[str, Any]]:
    """Anomalies entry by entry, each agent's medians from its own sessions."""
    typical = plain_typical(entries)
    if typical.cost <= 0 or sum(1 for e in entries if e.cost_usd is not None) < 3:
        return []
    limit = typical.cost * config.anomaly_factor
    rows = [
        {"entry": e, "cost": e.cost_usd, "ratio": e.cost_usd / typical.cost}
        for e in entries
        if e.cost_usd is not None and e.cost_usd > limit
    ]
    rows.sort(key=lambda r: (-r["cost"], r["entry"].id))
    logged = [e for e in entries if e.source in ("actual", "parsed")]
    peers: dict[str, tuple[str, Typical]] = {}
    for row in rows:
        entry = row["entry"]
        if entry.agent not in peers:
            same = [e for e in entries if e.agent == entry.agent]
            if sum(1 for e in same if e.cost_usd is not None) >= outliers.PEERS:
                peers[entry.agent] = (entry.agent, plain_typical(same))
            elif sum(1 for e in logged if e.cost_usd is not None) >= outliers.PEERS:
                peers[entry.agent] = ("logged-session", plain_typical(logged))
            else:
                peers[entry.agent] = ("ledger", typical)
        label, like = peers[entry.agent]
        row["causes"] = analysis.causes(entry, typical, config.anomaly_factor, like, label)
    return rows


@pytest.mark.parametrize("entries", LEDGERS)
@pytest.mark.parametrize("factor", ["1.5", "3"])
def test_anomalies_and_their_causes_are_those_of_the_plain_way(
    entries: list[Entry], factor: str
) -> None:
    config = Config(anomaly_factor=Decimal(factor))
    found = analysis.anomalies(entries, config)
    assert repr(found) == repr(plain_anomalies(entries, config))
    # the render judges the causes of the first rows only: the same rows, the same causes
    few = analysis.anomalies(entries, config, explain=3, facts=Facts(entries, BERLIN))
    assert [r["entry"].id for r in few] == [r["entry"].id for r in found]
    assert [r["causes"] for r in few[:3]] == [r["causes"] for r in found[:3]]


@pytest.mark.parametrize("entries", LEDGERS)
def test_routing_advice_is_that_of_the_plain_way(entries: list[Entry]) -> None:
    from costlog.analysis.advice import _months_spanned, _saving
    from costlog.analysis.families import LARGER, is_small, provider_of, smaller_model

    config = Config(guide_min_sessions=2, risky_task_types=["bugfix"])
    table = PriceTable.load()
    typical = plain_typical(entries)
    groups: dict[tuple[str, str], list[Entry]] = defaultdict(list)
    for entry in entries:
        if primary(entry) and entry.cost_usd is not None:
            for task_type in entry.task_types:
                groups[(task_type, primary(entry) or "")].append(entry)
    down, risky = [], []
    span = _months_spanned(entries)
    for (task_type, model), group in sorted(groups.items()):
        costs = [cost(e) for e in group]
        if task_type == "bugfix":
            if is_small(model):
                risky.append(
                    {
                        "task_type": task_type,
                        "model": model,
                        "n": len(group),
                        "median": median(costs),
                        "recommended": LARGER[provider_of(model)],
                        "sessions": [e.id for e in group[-5:]],
                    }
                )
            continue
        small = smaller_model(model)
        if small is None or table.rates(small) is None or len(group) < 2:
            continue
        durations = [h for e in group if (h := hours(e)) is not None]
        usual = typical.model_cost[model]
        cheap = sum(1 for c in costs if c < usual)
        if (
            median(costs) < usual
            and cheap * 4 >= len(group) * 3
            and (not durations or median(durations) < typical.model_hours[model])
        ):
            saved = sum((_saving(e, model, small, table) for e in group), ZERO)
            down.append(
                {
                    "task_type": task_type,
                    "model": model,
                    "recommended": small,
                    "n": len(group),
                    "median": median(costs),
                    "model_median": usual,
                    "median_hours": median(durations),
                    "cheap_share": Decimal(cheap) / len(group),
                    "monthly_savings": saved / span,
                }
            )
    down.sort(key=lambda r: (-r["monthly_savings"], r["task_type"], r["model"]))
    assert repr(analysis.routing(entries, config, table)) == repr(
        {"downgrade": down, "risky": risky}
    )


@pytest.mark.parametrize("entries", LEDGERS)
def test_methodology_costs_are_those_of_the_plain_way(entries: list[Entry]) -> None:
    spent: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for entry in entries:
        spent[entry.source] += cost(entry)
    rows = analysis.methodology(entries)
    assert [(r["source"], repr(r["cost"])) for r in rows] == [
        (s, repr(spent[s])) for s in [r["source"] for r in rows]
    ]
    assert sum(r["sessions"] for r in rows) == len(entries)


def test_the_one_pass_holds_each_entrys_own_facts() -> None:
    """Every column is what the per-entry fact says, for every kind of entry."""
    entries = ledger(300, 4)
    facts = Facts(entries, BERLIN)
    for i, entry in enumerate(entries):
        assert repr(facts.cost[i]) == repr(cost(entry))
        assert facts.priced[i] is entry.cost_usd
        assert facts.model[i] == primary(entry)
        assert facts.prompts[i] == prompt_tokens(entry)
        assert facts.requests[i] == requests(entry)
        assert facts.hours[i] == hours(entry)
        assert facts.tasks[i] == tasks(entry)
        assert facts.tokens[i] == entry.tokens.total
        assert facts.day[i] == local_day(entry, BERLIN)
    by_cost = sorted(range(len(entries)), key=lambda i: cost(entries[i]))
    assert facts.cost_order == by_cost  # cheapest first, equal costs in ledger order


def test_equal_highest_costs_the_spike_alert_reads_the_first_and_lists_by_id() -> None:
    """Three sessions tie for the highest cost, written three ways: the alert's value is
    the first of them in the ledger (as `max` reads it), its sessions the ties by id."""
    entries = ledger(40, 6, multi=False)
    ties = zip(entries[5:8], ["9.50", "9.5", "9.500"], ["c/z", "c/a", "c/m"], strict=True)
    for entry, amount, name in ties:
        entry.id, entry.cost_usd = name, Decimal(amount)
        for mu in entry.models.values():
            mu.cost_usd = Decimal(amount)
    row = analysis.alerts(entries, spike_config("1"), UTC)[0]
    assert repr(row["value"]) == "Decimal('9.50')"
    assert row["sessions"][:3] == ["c/a", "c/m", "c/z"]
