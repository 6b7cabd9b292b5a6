"""A fixed ledger for the golden COST_LOG.md: 300 sessions, 3 months, 4 agents, 7 models.

Deterministic (seeded); every field a real entry can have appears somewhere, including
notes and commit subjects that try to break tables (pipes, newlines, HTML).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from costlog.models import Commit, Entry, ModelUsage, Usage

MODELS = {
    "claude-code": [("claude-sonnet-4-6", 3, 15), ("claude-opus-4-6", 5, 25),
                    ("claude-haiku-4-5", 1, 5)],
    "codex": [("gpt-5-codex", Decimal("1.25"), 10), ("gpt-5.1-codex-mini", Decimal("0.25"), 2)],
    "gemini": [("gemini-2.5-pro", Decimal("1.25"), 10)],
    "aider": [("mystery-local-model", None, None)],
}
TYPES = ["code", "docs", "review", "test", "debugging", "architecture", "security", "config"]
NASTY = ["Fix | pipe in note", "two\nlines", "<b>bold</b> & <script>x</script>", "back\\slash",
         "`tick|`", "plain note"]


def entries(n: int = 300, seed: int = 41) -> list[Entry]:
    rng = random.Random(seed)
    start = datetime(2026, 8, 1, 8, 0, tzinfo=UTC)
    out = []
    for i in range(n):
        agent = rng.choice(["claude-code"] * 5 + ["codex"] * 3 + ["gemini"] * 2 + ["aider"])
        model, rin, rout = rng.choice(MODELS[agent])
        started = start + timedelta(minutes=i * 430 + rng.randint(0, 120))
        scale = 8 if rng.random() < 0.03 else 1
        usage = Usage(input=rng.randint(50, 3_000) * scale, output=rng.randint(2_000, 40_000),
                      cache_read=rng.randint(200_000, 2_500_000) * scale,
                      cache_write_5m=rng.randint(5_000, 60_000))
        cost: Decimal | None = None
        if rin is not None:
            cost = ((usage.input * Decimal(rin) + usage.output * Decimal(rout)
                     + usage.cache_read * Decimal(rin) / 10
                     + usage.cache_write_5m * Decimal(rin) * Decimal("1.25")) / 1_000_000
                    ).quantize(Decimal("0.000001"))
        types = {t: rng.randint(1, 3) for t in rng.sample(TYPES, rng.randint(1, 2))}
        items = rng.sample(["WRK-237", "WRK-240", "PROJ-12", "#41", "WO-2026-110"],
                           rng.choice([0, 1, 1, 2]))
        source = rng.choice(["actual"] * 6 + ["estimated", "parsed", "manual"])
        out.append(Entry(
            id=f"{agent}/{rng.getrandbits(64):016x}", agent=agent, started=started,
            ended=started + timedelta(minutes=rng.randint(10, 200) * scale),
            models={model: ModelUsage(rng.randint(5, 80) * scale, usage, cost, source)},
            cost_usd=cost, source=source,
            methods={"output": "o200k tokenizer on response text"} if source == "estimated"
            else {}, pricing_table="2026-11-22", cwd=".",
            branch=f"feature/{items[0]}-work" if items else "main",
            subagents=rng.choice([0, 0, 0, 1, 2, 6]),
            commits=[Commit(f"{rng.getrandbits(48):012x}", rng.choice(NASTY), 3, 50, 4,
                            "tool-output")],
            work_items=items, tasks_completed=sum(types.values()), task_types=types,
            notes=rng.choice(NASTY),
        ))
    return out
