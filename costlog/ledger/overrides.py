"""The line `costlog check` prints about entries priced from the repo's own price file.

A repo may override the bundled price table (`.costlog/prices.yaml`: negotiated prices,
a model costlog does not know yet). That is legitimate, and check verifies such entries
against the override, but the override is repo content too: a zero price there would let
any cost pass. It is committed and visible in review, so check does not fail on it; it
says, on every run, how many entries are priced from that file and which of its models
cost less there than in the bundled table, so that a reviewer sees it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from costlog.models import Entry
from costlog.pricing.rates import RATE_FIELDS, ModelPrices
from costlog.pricing.table import PriceTable


def override_note(
    entries: Iterable[Entry], table: PriceTable, bundled: PriceTable, prices_file: str
) -> str | None:
    """`note: 3 entries priced from .costlog/prices.yaml (claude-sonnet-4-6 below the
    bundled price)`, or None when no entry is priced from the repo's file."""
    if table is bundled:
        return None
    overridden: dict[str, ModelPrices | None] = {}
    cheaper: set[str] = set()
    unknown: set[str] = set()
    seen: set[tuple[str, date]] = set()
    count = 0
    for entry in entries:
        if not entry.pricing_table or "+" not in entry.pricing_table:
            continue  # priced with the bundled table alone (verify.Verifier._view)
        used = False
        for name in entry.models:
            if name not in overridden:
                mine = table.model(name)
                overridden[name] = mine if mine is not bundled.model(name) else None
            mine = overridden[name]
            if mine is None:
                continue
            used = True
            day = entry.started.date()
            if (mine.name, day) in seen:
                continue
            seen.add((mine.name, day))
            theirs = bundled.model(mine.name)
            if theirs is None:
                unknown.add(mine.name)
            elif _below(mine, theirs, day):
                cheaper.add(mine.name)
        count += used
    if not count:
        return None
    what = f"{', '.join(sorted(cheaper)) or 'none'} below the bundled price"
    if unknown:
        what += f"; {', '.join(sorted(unknown))} not in the bundled table"
    return (
        f"note: {count} {'entry' if count == 1 else 'entries'} priced from {prices_file} ({what})"
    )


def _below(mine: ModelPrices, theirs: ModelPrices, day: date) -> bool:
    """Any rate of `mine` in force on `day` is lower than the bundled one (base or tier)."""
    ours, bundled = mine.at(day), theirs.at(day)
    if any(getattr(ours, k) < getattr(bundled, k) for k in RATE_FIELDS):
        return True
    for tier in ours.tiers:
        match = [t for t in bundled.tiers if t.above == tier.above]
        if match and any(getattr(tier, k) < getattr(match[0], k) for k in RATE_FIELDS):
            return True
    return False
