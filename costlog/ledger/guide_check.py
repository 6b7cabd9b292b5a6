"""A cost from the estimation guide, checked against the guide it could have come from.

`costlog record --model M --tasks N` prices each task at the guide's rate for its type and
writes the rates into `methods.cost` ("estimation guide: 2 x docs @ $0.0075"). The rates
in that text are the entry's own claim, so they are never trusted: they must be rates
the guide gives for that model and those task types. The guide is the config's seed rows
until the ledger has enough sessions of a model and task type, then rates measured from
those sessions, and the ledger of the day the entry was recorded is gone. So the guides
an entry may have used are asked of a `GuideSource` (costlog.analysis.guide_history
builds it from the repo's config, costlog's default rows and the ledger), and the
entry passes when one of them gives exactly its rates and its cost. Rates that none of
them gives are a note, not a failure: the measured guide moves when older sessions are
recorded again, repriced or backfilled, and a check must not start failing on an honest
ledger. Counts that disagree with the entry's tasks, or a cost that is not its own rates
times its tasks, fail.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

from costlog.ledger.format import MICRO
from costlog.ledger.methods import GUIDE, GuidePart, usd
from costlog.models import Entry

#: one estimation guide: (model, task type) -> the rate per task, None without a row
GuideRate = Callable[[str, str], Decimal | None]
#: the guides the per-task rates of `entry` may have been taken from
GuideSource = Callable[[Entry], Iterable[GuideRate]]


@dataclass(frozen=True, slots=True)
class GuideProblem:
    #: True: the rates in `methods.cost` are at fault; False: the cost beside them
    in_method: bool
    message: str
    #: a note, not a failure: rates no known guide gives may still be honest (the
    #: measured guide moves when older sessions are recorded, repriced or backfilled)
    note: bool = False


def task_counts(entry: Entry) -> dict[str, int]:
    """The tasks the guide priced, as `record` counts them: the task types, else the tasks
    (at the `*` row), else one task."""
    return dict(entry.task_types) or {"*": entry.tasks_completed or 1}


def check_guide(
    entry: Entry, parts: list[GuidePart], guides: GuideSource | None
) -> GuideProblem | None:
    """None when a guide gives the entry's per-task rates and its cost."""
    cost = entry.cost_usd
    method = entry.methods.get("cost", "")
    claimed: dict[str, int] = {}
    for part in parts:
        claimed[part.task_type] = claimed.get(part.task_type, 0) + part.count
    tasks = task_counts(entry)
    if claimed != tasks:
        return GuideProblem(
            True,
            f"methods.cost prices {_tasks(claimed)}, but the entry records {_tasks(tasks)}",
        )
    if len(entry.models) != 1 or cost is None:
        return GuideProblem(True, f"methods.cost {method!r} does not fit the entry's models")
    (model,) = entry.models
    expected: Decimal | None = None
    for rate in guides(entry) if guides is not None else ():
        rates = [rate(model, part.task_type) for part in parts]
        if any(r is None for r in rates):
            continue
        known = [r for r in rates if r is not None]
        if all(f"{r:.4f}" == p.printed for r, p in zip(known, parts, strict=True)):
            total = sum((r * p.count for r, p in zip(known, parts, strict=True)), Decimal(0))
            if abs(cost - total.quantize(MICRO)) <= MICRO:
                return None
            expected = total if expected is None else expected
    if expected is not None:
        return GuideProblem(
            False,
            f"cost_usd {usd(cost)} is not what its estimation-guide rates give "
            f"({usd(expected)}: {method[len(GUIDE) :]})",
        )
    return GuideProblem(
        True,
        f"methods.cost {method!r}: these are not the estimation guide's rates for {model} "
        "(its rows in the config, costlog's default rows, or the rates measured from this "
        "ledger), so the cost cannot be verified",
        note=True,
    )


def check_no_row(entry: Entry, guides: GuideSource | None) -> GuideProblem | None:
    """`estimation guide: no matching row` is true of one of the guides it may have used."""
    if len(entry.models) == 1:
        (model,) = entry.models
        for rate in guides(entry) if guides is not None else ():
            if any(rate(model, task) is None for task in task_counts(entry)):
                return None
    return GuideProblem(
        True,
        "methods.cost says no estimation-guide row matched, but the guide has a row for "
        "each of its tasks",
    )


def _tasks(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} x {t}" for t, n in sorted(counts.items()))
