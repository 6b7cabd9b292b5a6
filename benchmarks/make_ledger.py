"""Write a realistic synthetic ledger of N sessions into a git repo (for benchmarks).

Deterministic (seeded). Sessions spread over the months before 2026-11-20 across agents
and models, with token mixes shaped like real agent sessions.
"""

from __future__ import annotations

import argparse
import random
import subprocess
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path

from costlog import yamlfile
from costlog.gitrepo import Repo
from costlog.ledger.format import entry_to_dict
from costlog.ledger.store import Ledger
from costlog.models import Commit, Entry, ModelUsage, Usage
from costlog.pricing.table import PriceTable

MODELS = [
    ("claude-code", "claude-sonnet-4-6"),
    ("claude-code", "claude-opus-4-6"),
    ("claude-code", "claude-haiku-4-5"),
    ("codex", "gpt-5-codex"),
    ("gemini", "gemini-2.5-pro"),
]
TYPES = ["code", "docs", "review", "test", "debugging", "architecture", "config"]


@cache
def _table() -> PriceTable:
    return PriceTable.load()


def make_entry(rng: random.Random, i: int, end: datetime) -> Entry:
    agent, model = rng.choice(MODELS)
    started = end - timedelta(minutes=rng.randint(0, 60 * 24 * 180))
    usage = Usage(
        input=rng.randint(10, 5_000),
        output=rng.randint(1_000, 60_000),
        cache_read=rng.randint(100_000, 5_000_000),
        cache_write_5m=rng.randint(0, 90_000),
    )
    # base rates on the session's day, as `price_requests` gives requests below every
    # long-context tier: `costlog check` verifies these costs against the table
    plan = _table().plan(model, 0, started.date())
    assert plan is not None
    cost = plan.cost(usage)
    types = {t: rng.randint(1, 3) for t in rng.sample(TYPES, rng.randint(1, 2))}
    items = [f"WRK-{k}" for k in rng.sample(range(1, 400), rng.choice([0, 1, 1, 2]))]
    commits = [
        Commit(
            f"{rng.getrandbits(40):010x}",
            f"Work item step {i}" + (f" ({rng.choice(items)})" if items else ""),
            3,
            rng.randint(5, 300),
            rng.randint(0, 40),
            "tool-output",
        )
        for _ in range(rng.choice([0, 1, 1, 2]))
    ]
    return Entry(
        id=f"{agent}/{rng.getrandbits(64):016x}-{i}",
        agent=agent,
        started=started,
        ended=started + timedelta(minutes=rng.randint(5, 240)),
        models={model: ModelUsage(rng.randint(5, 200), usage, cost.quantize(Decimal("1e-6")))},
        cost_usd=cost.quantize(Decimal("1e-6")),
        source="actual",
        pricing_table=_table().version,
        cwd=".",
        branch=f"feature/{items[0]}-work" if items else "main",
        subagents=rng.choice([0, 0, 0, 1, 2, 6]),
        commits=commits,
        work_items=items,
        tasks_completed=sum(types.values()),
        task_types=types,
        notes=f"session {i}",
    )


def write_ledger(root: Path, n: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    ledger = Ledger(Repo(root, root / ".git"), ".costlog/sessions")
    end = datetime(2026, 11, 20, tzinfo=UTC)
    for i in range(n):
        entry = make_entry(rng, i, end)
        path = ledger.path_for(entry.id)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yamlfile.dump(entry_to_dict(entry)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("repo", type=Path)
    parser.add_argument("-n", type=int, default=10_000)
    args = parser.parse_args()
    args.repo.mkdir(parents=True, exist_ok=True)
    if not (args.repo / ".git").exists():
        subprocess.run(["git", "init", "-q", str(args.repo)], check=True)
    write_ledger(args.repo, args.n)


if __name__ == "__main__":
    main()
