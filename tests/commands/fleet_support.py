"""Three real git repositories with committed ledgers, for the many-repo commands.

Sessions come from two authors on two machines, across two months: the month before this
quarter and the first month of this quarter (so "this quarter" questions have an answer
that does not depend on the day the tests run). Costs are priced from the real price
table, to the micro-dollar, the way `record` prices them.

Repo `a` keeps the default config; `b` keeps its ledger in another folder; `c` reports in
another time zone: each must be read with its own config.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from costlog import gitrepo
from costlog.ledger.store import Ledger
from costlog.models import Commit, Entry, ModelUsage, Usage
from costlog.pricing.table import PriceTable
from tests_support import git, invoke

MICRO = Decimal("0.000001")
AUTHORS = ("Ada Lovelace", "Grace Hopper")
MACHINES = ("3f9a0c11d2e4", "b70e5a2290c8")
CONFIGS = {
    "a": "",
    "b": "ledger_dir: costs/ledger\n",
    "c": "timezone: Pacific/Auckland\n",
}
LEDGER_DIRS = {"a": ".costlog/sessions", "b": "costs/ledger", "c": ".costlog/sessions"}


def quarter_start(today: date | None = None) -> datetime:
    day = today or datetime.now(UTC).date()
    return datetime(day.year, 3 * ((day.month - 1) // 3) + 1, 1, tzinfo=UTC)


@dataclass
class Fleet:
    root: Path
    repos: dict[str, Path]
    entries: dict[str, list[Entry]]

    def args(self, *names: str) -> list[str]:
        return [
            arg for name in names or tuple(self.repos) for arg in ("--repo", str(self.repos[name]))
        ]


def priced(model: str, usage: Usage, day: date) -> Decimal | None:
    plan = PriceTable.load().plan(model, usage.prompt_tokens, day)
    return None if plan is None else plan.cost(usage).quantize(MICRO)


def session(
    repo: str,
    n: int,
    started: datetime,
    *,
    models: dict[str, Usage],
    items: list[str],
    author: str,
    machine: str,
) -> Entry:
    per_model = {}
    for name, usage in models.items():
        per_model[name] = ModelUsage(
            requests=3 + n, usage=usage, cost_usd=priced(name, usage, started.date())
        )
    costs = [mu.cost_usd for mu in per_model.values()]
    total = None if None in costs else sum((c or Decimal(0) for c in costs), Decimal(0))
    return Entry(
        id=f"claude-code/{repo}-{n:03d}-5d1c",
        agent="claude-code",
        started=started,
        ended=started + timedelta(minutes=40 + n),
        models=per_model,
        cost_usd=total,
        source="actual",
        pricing_table=PriceTable.load().version,
        branch=f"feature/{items[0].lower()}" if items else "main",
        commits=[Commit(f"{n:07x}abc", f"{' '.join(items)} step {n}", 2, 10 * (n + 1), n, "files")]
        if items
        else [],
        work_items=items,
        tasks_completed=1 + n % 3,
        task_types={"code": 1 + n % 3},
        author=author,
        machine=machine,
    )


def entries_for(repo: str, offset: int) -> list[Entry]:
    """Six sessions (seven in `c`): three in the month before this quarter, three in its
    first month; both authors and machines; an unpriced model beside a priced one; this
    quarter's sessions name one work item each, an earlier one two."""
    q = quarter_start()
    before = q - timedelta(days=20)
    sonnet, opus = "claude-sonnet-4-6", "claude-opus-4-6"

    def usage(k: int) -> Usage:
        return Usage(
            input=1_000 + 137 * k, output=9_000 + 911 * k, cache_read=200_000 + 7_919 * k,
            cache_write_5m=20_000 + 503 * k, cache_write_1h=1_000 * (k % 2),
        )  # fmt: skip

    out = []
    specs: list[tuple[datetime, dict[str, Usage], list[str]]] = [
        (before + timedelta(hours=3), {sonnet: usage(offset + 1)}, ["PAY-1"]),
        (before + timedelta(days=2), {opus: usage(offset + 2), sonnet: usage(offset + 3)},
         ["PAY-1", "OPS-7"]),
        (before + timedelta(days=4), {sonnet: usage(offset + 4)}, []),
        (q + timedelta(days=3), {sonnet: usage(offset + 5)}, ["PAY-1"]),
        (q + timedelta(days=5), {opus: usage(offset + 6)}, ["OPS-7"]),
        (q + timedelta(days=9), {sonnet: usage(offset + 7), "acme-unknown-1": usage(1)}, ["PAY-2"]),
    ]  # fmt: skip
    if repo == "c":  # the month before in UTC, this quarter in c's own zone (UTC+13)
        specs.append((q - timedelta(hours=5), {sonnet: usage(offset + 8)}, ["OPS-7"]))
    for n, (started, models, items) in enumerate(specs):
        out.append(
            session(
                repo,
                n,
                started,
                models=models,
                items=items,
                author=AUTHORS[n % 2],
                machine=MACHINES[(n + offset) % 2],
            )
        )
    return out


def make_repo(root: Path, name: str, entries: list[Entry]) -> Path:
    path = root / name
    path.mkdir(parents=True)
    git(path, "init", "-q", "-b", "main")
    (path / ".costlog").mkdir()
    (path / ".costlog" / "config.yaml").write_text(CONFIGS.get(name, ""))
    ledger = Ledger(gitrepo.find(path), LEDGER_DIRS.get(name, ".costlog/sessions"))
    for entry in entries:
        ledger.write(entry)
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "Ledger")
    return path


def make_fleet(root: Path) -> Fleet:
    entries = {name: entries_for(name, k * 10) for k, name in enumerate("abc")}
    repos = {name: make_repo(root, name, entries[name]) for name in "abc"}
    return Fleet(root, repos, entries)


def report_json(*args: str, cwd: Path | None = None) -> dict[str, Any]:
    """`costlog report --json ARGS`, run in `cwd` when given."""
    import os

    here = Path.cwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        result = invoke(["report", "--json", *args])
    finally:
        os.chdir(here)
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.output)
    return data
