"""A session recorded by hand (`costlog record --model M`): from a cost, from token counts
priced with the table, or else from the estimation guide's price per task."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from costlog.config import Config
from costlog.errors import CostlogError
from costlog.ledger import methods as method_names
from costlog.ledger.format import now
from costlog.models import Entry, ModelUsage, Usage
from costlog.recording.builders.ids import new_id

if TYPE_CHECKING:
    from costlog.pricing.table import PriceTable

#: the estimation guide's price of one task, (model, task type) -> dollars, None when no
#: row matches; the caller computes the guide from the ledger (costlog.analysis)
GuideRate = Callable[[str, str], Decimal | None]

_TASK_PART = re.compile(r"\s*(?:(\d+)\s+)?([A-Za-z][\w /-]*?)\s*\Z")


def parse_task_types(text: str | None) -> dict[str, int]:
    """`"3 code, 1 docs"` -> {"code": 3, "docs": 1}; a bare word counts once."""
    if not text or not text.strip():
        return {}
    out: dict[str, int] = {}
    for part in text.split(","):
        match = _TASK_PART.match(part)
        if match is None:
            raise CostlogError(
                f"cannot read task type {part.strip()!r}", hint='write them like "3 code, 1 docs"'
            )
        count = int(match.group(1) or 1)
        name = match.group(2).strip().lower()
        out[name] = out.get(name, 0) + count
    return out


@dataclass
class ManualSession:
    model: str
    agent: str = "manual"
    session_id: str | None = None
    tasks: int | None = None
    task_types: dict[str, int] = field(default_factory=dict)
    notes: str | None = None
    cost: Decimal | None = None
    usage: Usage | None = None
    requests: int = 1
    started: datetime | None = None
    ended: datetime | None = None
    work_items: list[str] = field(default_factory=list)


def manual_entry(
    session: ManualSession, config: Config, root: Path, *, guide_rate: GuideRate
) -> tuple[Entry, list[str]]:
    """An entry from numbers a person typed, or from the estimation guide (`guide_rate`,
    asked only when neither a cost nor tokens were given)."""
    from costlog.pricing.table import PriceTable

    table = PriceTable.load(config.prices_path(root))
    started = session.started or now()
    model = table.canonical(session.model) or session.model
    warnings: list[str] = []
    methods: dict[str, str] = {}
    usage = session.usage or Usage()
    if session.cost is not None:
        cost: Decimal | None = session.cost
        methods["cost"] = method_names.HAND
    elif session.usage is not None:
        cost = table.request_cost(model, usage, started.date())
        methods["cost"] = method_names.hand_tokens(table.version)
        if cost is None:
            warnings.append(
                f"no price for model {session.model!r}{_did_you_mean(table, session.model)}: "
                "tokens kept, cost marked unpriced (add it to .costlog/prices.yaml, then "
                "`costlog reprice`)"
            )
    else:
        cost, method = _guide_cost(session, model, guide_rate)
        methods["cost"] = method
        if cost is None:
            warnings.append(
                f"no estimation-guide row matches model {session.model!r}"
                f"{_did_you_mean(table, session.model)}: cost marked unpriced"
            )
        elif table.canonical(session.model) is None:
            warnings.append(
                f"model {session.model!r} is not in the price table"
                f"{_did_you_mean(table, session.model)}: priced from the estimation "
                "guide's nearest row"
            )
    hint = _did_you_mean(table, session.model) if session.cost is not None else ""
    if hint:
        warnings.append(f"model {session.model!r} is not in the price table{hint}")
    if session.tasks is None and session.task_types:
        session.tasks = sum(session.task_types.values())
    entry = Entry(
        id=f"{session.agent}/{session.session_id or new_id(started)}",
        agent=session.agent,
        started=started,
        ended=session.ended,
        models={
            model: ModelUsage(
                requests=session.requests, usage=usage, cost_usd=cost, source="manual"
            )
        },
        cost_usd=cost,
        source="manual",
        methods=methods,
        pricing_table=table.version,
        tasks_completed=session.tasks,
        task_types=session.task_types,
        notes=session.notes,
        work_items=session.work_items,
    )
    return entry, warnings


def _did_you_mean(table: PriceTable, name: str) -> str:
    """` (did you mean claude-sonnet-4-6?)` for a misspelled model, else nothing."""
    close = table.suggest(name)
    return f" (did you mean {close}?)" if close else ""


def _guide_cost(
    session: ManualSession, model: str, guide_rate: GuideRate
) -> tuple[Decimal | None, str]:
    """Price each task at the estimation guide's rate for its type."""
    types = session.task_types or {"*": session.tasks or 1}
    total = Decimal(0)
    parts = []
    for task_type, count in types.items():
        rate = guide_rate(model, task_type)
        if rate is None:
            return None, method_names.GUIDE_NO_ROW
        total += rate * count
        parts.append(f"{count} x {task_type} @ ${rate:.4f}")
    return total, method_names.GUIDE + ", ".join(parts)
