"""The guides `costlog check` accepts a manual entry's per-task rates from: the sweep over
the ledger gives, for each entry, exactly the guide `costlog record` computes from the
sessions that started before it."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from costlog import analysis
from costlog.analysis.guide_history import GuideHistory
from costlog.config import Config
from costlog.models import Entry, ModelUsage

MODELS = ["claude-sonnet-4-6", "claude-opus-4-6", "gpt-5-codex"]
TYPES = ["code", "docs", "review"]


def _ledger(rng: random.Random, n: int) -> list[Entry]:
    start = datetime(2026, 10, 1, tzinfo=UTC)
    out = []
    for i in range(n):
        cost = Decimal(rng.randint(1, 90_000)) / 1_000_000
        manual = i % 4 == 0
        types = {rng.choice(TYPES): rng.randint(1, 3)}
        out.append(
            Entry(
                id=f"{'manual' if manual else 'claude-code'}/s{i}",
                agent="manual" if manual else "claude-code",
                started=start + timedelta(hours=rng.randint(0, 2_000)),
                models={rng.choice(MODELS): ModelUsage(1, cost_usd=cost)},
                cost_usd=cost,
                source="manual" if manual else "actual",
                methods={"cost": "estimation guide: 1 x code @ $0.0100"} if manual else {},
                tasks_completed=sum(types.values()),
                task_types=types,
            )
        )
    return out


def test_each_entry_gets_the_guide_of_the_sessions_before_it_and_of_the_ledger() -> None:
    rng = random.Random(11)
    entries = _ledger(rng, 60)
    config = Config(guide_min_sessions=3)
    history = GuideHistory(entries, config)
    seeds = analysis.guide([], config)
    whole = analysis.guide(entries, config)
    for entry in entries:
        before = [e for e in entries if e.started < entry.started]
        later = any(e.source != "manual" and e.started >= entry.started for e in entries)
        expected = [seeds, analysis.guide(before, config), *([whole] if later else [])]
        guides = list(history(entry))
        assert len(guides) == len(expected)
        for model in MODELS:
            for task in [*TYPES, "*", "other"]:
                got = [rate(model, task) for rate in guides]
                assert got == [analysis.guide_rate(rows, model, task) for rows in expected]


def test_costlog_s_default_rows_count_when_the_config_has_its_own() -> None:
    config = Config(estimation_guide=[{"model": "*", "task_type": "*", "low": 1, "high": 3}])
    entry = _ledger(random.Random(1), 1)[0]
    rates = [rate("claude-sonnet-4-6", "docs") for rate in GuideHistory([entry], config)(entry)]
    assert rates[:2] == [Decimal(2), Decimal("0.0075")]  # the config's, then the default
