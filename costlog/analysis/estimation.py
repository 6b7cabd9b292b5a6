"""The cost estimation guide: cost per task by model family and task type.

Rows are measured from the ledger once a pair has `guide_min_sessions` sessions, and come
from the config's seed rows until then. `costlog record` prices a manual session from it
(`guide_rate`), which is why manual sessions never feed it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from itertools import compress, repeat
from operator import eq
from typing import Any

from costlog.analysis.facts import Facts, primary, tasks
from costlog.analysis.families import guide_key
from costlog.config import Config
from costlog.models import Entry


def guide(
    entries: Sequence[Entry], config: Config, facts: Facts | None = None
) -> list[dict[str, Any]]:
    """Cost per task by model family and task type: measured once there is enough data.

    A session's cost per task is its cost divided by its tasks; it counts once for each
    task type it did, and once in its model's "any other task type" row (`*`), which is
    the fallback for task types without a row. Manual sessions (priced from this guide)
    and unpriced ones are left out. A measured row replaces the seed row of the same
    model and task type.

    `facts` is the render's one pass over `entries`: the rows are built from its columns.
    """
    facts = facts or Facts(entries)
    return guide_rows(_per_task(facts), config, presorted=True)


#: distinct task counts past which the runs of `_samples` are not worth making
_RUNS = 24


def _samples(facts: Facts) -> list[int]:
    """The entries that feed the guide (priced, with a model and tasks, not manual), in
    runs by task count, each run cheapest first: dividing a run by its count keeps it in
    order."""
    order, model, tasks, source = facts.priced_order, facts.model, facts.tasks, facts.source
    if "manual" in source or not all(model) or not all(tasks):
        order = [i for i in order if model[i] and tasks[i] and source[i] != "manual"]
    counts = list(map(tasks.__getitem__, order))
    distinct = set(counts)
    if len(distinct) < 2 or len(distinct) > _RUNS:
        return order
    runs: list[int] = []
    for n in sorted(distinct):
        runs.extend(compress(order, map(eq, counts, repeat(n))))
    return runs


def _per_task(facts: Facts) -> dict[tuple[str, str], list[Decimal]]:
    """Each guide row's per-task costs, ascending. The per-task costs are sorted once, all
    together, and dealt to their rows in that order, so each row's list comes out sorted.
    The samples come in runs that are in order already (`_samples`), which the sort
    merges instead of sorting 100,000 costs from scratch. Only the values of a row are
    used (its low, high, median), so equal costs in any order give the same row."""
    samples = _samples(facts)
    known, tasks, model_of, types_of = facts.cost, facts.tasks, facts.model, facts.task_types
    family_of: dict[str | None, str] = {}  # a ledger names few models: look each up once
    for model in set(map(model_of.__getitem__, samples)):
        family_of[model] = guide_key(model or "")  # a sample has a model
    each = [known[i] / tasks[i] for i in samples]  # a priced entry's known cost is its own
    order = sorted(range(len(each)), key=each.__getitem__)
    per_task: dict[tuple[str, str], list[Decimal]] = {}
    if "*" in family_of.values():  # a model named `*` would share the ledger's row
        for k in order:
            i = samples[k]
            family, value = family_of[model_of[i]], each[k]
            for key in [*((family, t) for t in types_of[i]), (family, "*"), ("*", "*")]:
                per_task.setdefault(key, []).append(value)
        return per_task
    # the rows of each family, by task type; its `*` row is the family's pool
    by_family: dict[str, dict[str, list[Decimal]]] = {}
    for k in order:
        i = samples[k]
        value, family = each[k], family_of[model_of[i]]
        rows = by_family.get(family)
        if rows is None:
            rows = by_family[family] = {"*": []}
        for task_type in types_of[i]:
            row = rows.get(task_type)
            if row is None:
                row = rows[task_type] = []
            row.append(value)
        rows["*"].append(value)
    for family, rows in by_family.items():
        for task_type, values in rows.items():
            per_task[(family, task_type)] = values
    if each:
        per_task[("*", "*")] = [each[k] for k in order]
    return per_task


def sample(entry: Entry) -> tuple[list[tuple[str, str]], Decimal] | None:
    """The guide rows a session counts in and its cost per task; None when it feeds none."""
    amount = entry.cost_usd  # None: unpriced; else the known cost (`facts.cost`)
    if amount is None or entry.source == "manual":
        return None
    n, model = tasks(entry), primary(entry)
    if not model or not n:
        return None
    family = guide_key(model)
    keys = [(family, task_type) for task_type in entry.task_types]
    keys += [(family, "*"), ("*", "*")]  # any other task type: the family's pool
    return keys, amount / n


def guide_rows(
    per_task: Mapping[tuple[str, str], Sequence[Decimal]],
    config: Config,
    *,
    presorted: bool = False,
) -> list[dict[str, Any]]:
    """The guide from the per-task costs of each row (`sample`) and the config's seeds
    (`presorted`: each row's costs are in ascending order already)."""
    measured = [
        measured_row(key, values if presorted else sorted(values))
        for key, values in per_task.items()
        if len(values) >= config.guide_min_sessions
    ]
    return with_seeds(measured, config)


def with_seeds(measured: Sequence[dict[str, Any]], config: Config) -> list[dict[str, Any]]:
    """Measured rows plus the config's seed rows they do not replace, in guide order."""
    have = {(r["model"], r["task_type"]) for r in measured}
    rows = [*measured, *(r for r in _seeds(config) if (r["model"], r["task_type"]) not in have)]
    return sorted(
        rows, key=lambda r: (r["model"] == "*", r["model"], r["task_type"] == "*", r["task_type"])
    )


def measured_row(key: tuple[str, str], values: Sequence[Decimal]) -> dict[str, Any]:
    """A measured guide row from its per-task costs, `values`, in ascending order."""
    n, mid = len(values), len(values) // 2
    middle = values[mid] if n % 2 else (values[mid - 1] + values[mid]) / 2
    return {
        "model": key[0],
        "task_type": key[1],
        "low": values[n // 10],
        "high": values[-1 - n // 10],
        "median": middle,
        "n": n,
        "basis": "measured",
    }


def _seeds(config: Config) -> list[dict[str, Any]]:
    rows = []
    for seed in config.estimation_guide:
        low, high = Decimal(str(seed["low"])), Decimal(str(seed["high"]))
        rows.append(
            {
                "model": str(seed["model"]),
                "task_type": str(seed["task_type"]),
                "low": low,
                "high": high,
                "median": (low + high) / 2,
                "n": 0,
                "basis": "seed",
            }
        )
    return rows


def guide_rate(rows: Sequence[dict[str, Any]], model: str, task_type: str) -> Decimal | None:
    """Cost per task for a model and task type, from the best-matching guide row: the
    closest model first (exact or family, then name prefix, then `*`), then measured data
    over a seed, then the exact task type over `*`."""
    key = guide_key(model)
    best: tuple[tuple[int, int, int], Decimal] | None = None
    for row in rows:
        m, t = row["model"], row["task_type"]
        model_score = (
            3
            if m in (model, key)
            else 2
            if m != "*" and model.startswith(m)
            else 1
            if m == "*"
            else 0
        )
        type_score = 2 if t == task_type else 1 if t == "*" else 0
        if model_score and type_score:
            score = (model_score, int(row["basis"] == "measured"), type_score)
            if best is None or score > best[0]:
                best = (score, row["median"])
    return best[1] if best else None
