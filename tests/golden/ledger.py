"""A fixed ledger for the golden COST_LOG.md: 300 sessions over three months (Aug-Oct 2026),
four agents, seven models, priced from the bundled price table.

Deterministic (seeded) and shaped like real use, so every section has something true to
say: light task types (docs, config, review) run in smaller, shorter sessions; a few
sessions are blown up (huge context, many requests, hours long); some sessions mix a
main model with a Haiku subagent; an unknown local model stays unpriced; commits name
their work items with different line counts; a few notes and commit subjects try to
break tables (pipes, newlines, HTML).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from costlog.models import Commit, Entry, ModelUsage, Usage
from costlog.pricing.table import PriceTable

MODELS = {
    "claude-code": ["claude-sonnet-4-6"] * 5 + ["claude-opus-4-6"] * 2 + ["claude-haiku-4-5"] * 2,
    "codex": ["gpt-5-codex"] * 2 + ["gpt-5.1-codex-mini"],
    "gemini": ["gemini-2.5-pro"] * 3 + ["gemini-2.5-flash"],
    "aider": ["mystery-local-model"],
}
HEAVY = ["code", "test", "debugging", "architecture", "security"]
LIGHT = ["docs", "config", "review"]
ITEMS = ["WRK-237", "WRK-240", "PROJ-12", "#41", "WO-2026-110"]
NOTES = [
    "",
    "",
    "",
    "Stripe connector + tests",
    "flaky CI retried",
    "pairing with Ana",
    "Fix | pipe in note",
    "two\nlines",
    "<b>bold</b> & <script>x</script>",
    "back\\slash",
    "`tick|`",
]
SUBJECTS = ["Add cost table", "Fix | pipe in subject", "Refactor <loader>", "Tidy docs"]


def _usage(rng: random.Random, light: bool, scale: int) -> Usage:
    size = 0.3 if light else 1.0
    return Usage(
        input=int(rng.randint(50, 3_000) * scale),
        output=int(rng.randint(2_000, 30_000) * size),
        cache_read=int(rng.randint(200_000, 2_000_000) * size * scale),
        cache_write_5m=int(rng.randint(5_000, 60_000) * size),
    )


def _priced(
    table: PriceTable, model: str, usage: Usage, requests: int, day: datetime
) -> Decimal | None:
    """Price as costlog does, per request (here: the session's average request)."""
    one = Usage(**{k: v // requests for k, v in usage.as_dict().items()})
    rest = Usage(**{k: v - getattr(one, k) * requests for k, v in usage.as_dict().items()})
    first = table.request_cost(model, one, day.date())
    if first is None:
        return None
    extra = table.request_cost(model, rest, day.date()) or Decimal(0)
    return (first * requests + extra).quantize(Decimal("0.000001"))


def _models(
    rng: random.Random, table: PriceTable, agent: str, light: bool, scale: int, started: datetime
) -> dict[str, ModelUsage]:
    model = rng.choice(MODELS[agent])
    source = rng.choice(["actual"] * 6 + ["estimated", "parsed"])
    usage = _usage(rng, light, scale)
    requests = rng.randint(5, 40 if light else 80) * scale
    out = {
        model: ModelUsage(requests, usage, _priced(table, model, usage, requests, started), source)
    }
    if agent == "claude-code" and "haiku" not in model and rng.random() < 0.25:
        sub = Usage(
            input=rng.randint(100, 900),
            output=rng.randint(500, 4_000),
            cache_read=rng.randint(20_000, 200_000),
            cache_write_5m=rng.randint(0, 9_000),
        )
        n = rng.randint(3, 12)
        out["claude-haiku-4-5"] = ModelUsage(
            n, sub, _priced(table, "claude-haiku-4-5", sub, n, started), source
        )
    return out


def _commits(rng: random.Random, items: list[str]) -> list[Commit]:
    commits = []
    for _ in range(rng.choice([0, 1, 1, 2, 3])):
        named = rng.choice([[], *([k] for k in items)]) if items else []
        subject = rng.choice(SUBJECTS) + (f" ({named[0]})" if named else "")
        added = rng.randint(5, 400)
        commits.append(
            Commit(
                f"{rng.getrandbits(48):012x}",
                subject,
                rng.randint(1, 9),
                added,
                rng.randint(0, added // 3),
                "tool-output",
            )
        )
    return commits


def _entry(rng: random.Random, table: PriceTable, i: int) -> Entry:
    agent = rng.choice(["claude-code"] * 5 + ["codex"] * 3 + ["gemini"] * 2 + ["aider"])
    light = rng.random() < 0.4
    pool = LIGHT if light else HEAVY
    types = {t: rng.randint(1, 3) for t in rng.sample(pool, rng.randint(1, 2))}
    scale = 8 if rng.random() < 0.03 else 1
    started = datetime(2026, 8, 1, 8, 0, tzinfo=UTC) + timedelta(
        minutes=i * 430 + rng.randint(0, 120)
    )
    minutes = rng.randint(10, 60 if light else 200) * scale
    models = _models(rng, table, agent, light, scale, started)
    costs = [mu.cost_usd for mu in models.values()]
    total = None if None in costs else sum((c for c in costs if c is not None), Decimal(0))
    source = next(iter(models.values())).source
    manual = rng.random() < 0.08
    items = rng.sample(ITEMS, rng.choice([0, 1, 1, 2]))
    return Entry(
        id=f"{agent}/{rng.getrandbits(64):016x}",
        agent=agent,
        started=started,
        ended=started + timedelta(minutes=minutes),
        models=models,
        cost_usd=total,
        source="manual" if manual else source,
        methods={"cost": "entered by hand"}
        if manual
        else {"output": "o200k tokenizer on response text"}
        if source == "estimated"
        else {},
        pricing_table=table.version,
        cwd=".",
        branch=f"feature/{items[0]}-work" if items else "main",
        subagents=rng.choice([0, 0, 0, 1, 2]) + (6 if rng.random() < 0.06 else 0),
        commits=_commits(rng, items),
        work_items=items,
        tasks_completed=sum(types.values()),
        task_types=types,
        notes=rng.choice(NOTES) or None,
    )


def entries(n: int = 300, seed: int = 41) -> list[Entry]:
    rng = random.Random(seed)
    table = PriceTable.load()
    return [_entry(rng, table, i) for i in range(n)]
