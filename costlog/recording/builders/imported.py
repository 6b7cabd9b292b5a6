"""A session row of a hand-kept cost log (`costlog import`) as a ledger entry."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo
from decimal import Decimal
from typing import TYPE_CHECKING

from costlog.ledger.methods import imported
from costlog.models import Entry, ModelUsage

if TYPE_CHECKING:
    from costlog.pricing.table import PriceTable

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass
class Row:
    """A row of the classic log's session table, its cells read and checked."""

    line: int
    session: str | None
    day: date
    model: str
    tasks: int | None
    task_types: dict[str, int]
    cost: Decimal | None
    notes: str | None
    raw: str


def row_id(row: Row) -> str:
    """Deterministic: the same row imports to the same id (re-import is detected)."""
    digest = hashlib.sha1(row.raw.encode("utf-8")).hexdigest()[:8]
    session = _SAFE.sub("-", row.session).strip("-") if row.session else "row"
    return f"manual/{session}-{digest}-imported-{row.day.isoformat()}"


def imported_entry(row: Row, source_name: str, tz: tzinfo, table: PriceTable) -> Entry:
    """The row as an entry marked `manual`, on its day at midnight in the ledger's zone."""
    model = table.canonical(row.model) or row.model
    started = datetime.combine(row.day, time(), tz)
    tasks = row.tasks if row.tasks is not None else (sum(row.task_types.values()) or None)
    return Entry(
        id=row_id(row),
        agent="manual",
        started=started,
        models={model: ModelUsage(requests=0, cost_usd=row.cost, source="manual")},
        cost_usd=row.cost,
        source="manual",
        methods={"cost": imported(source_name)},
        tasks_completed=tasks,
        task_types=dict(row.task_types),
        notes=row.notes,
    )
