"""The template's filters: costs, token counts, shares and table cells as Markdown.

Each returns `Markdown`, so the output hook prints it as it is; `FILTERS` is what the
template environment registers (a name here is a name the template may use).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from costlog.analysis.facts import short_id
from costlog.render.escape import Markdown, md


def usd(value: Any, places: int = 2) -> Markdown:
    """Dollars with thousands separators; four places below a cent, so that a small
    session never reads $0.00. A missing value reads "unpriced", never $0."""
    if value is None or value == "":
        return Markdown("unpriced")
    amount = Decimal(str(value))
    if 0 < amount < Decimal("0.01") and places == 2:
        places = 4
    return Markdown(f"${amount:,.{places}f}")


def cell(value: Any) -> Markdown:
    """Text for a table cell (or anywhere else in the Markdown): see `md`."""
    return md(value)


def work_items(value: Any) -> Markdown:
    """Work-item keys: escaped like any text, but `#12` stays an issue reference."""
    return md(value, refs=True)


def tokens(value: Any) -> Markdown:
    """A token count cut to one decimal of k, M or B: tables compare sizes, not digits."""
    n = int(value or 0)
    for unit, size in (("B", 1_000_000_000), ("M", 1_000_000), ("k", 1_000)):
        if n >= size:
            return Markdown(f"{n / size:.1f}{unit}")
    return Markdown(str(n))


def pct(value: Any) -> Markdown:
    """A share (0.25) as a whole percentage (25%)."""
    return Markdown(f"{Decimal(str(value or 0)) * 100:.0f}%")


def session_cost(row: dict[str, Any]) -> Markdown:
    """A session's cost cell: "unpriced" alone, or the known part + unpriced."""
    if row["cost"] is not None:
        return usd(row["cost"])
    if Decimal(row["known_cost"]):
        return Markdown(f"{usd(row['known_cost'])} + unpriced")
    return Markdown("unpriced")


def spend_cost(row: dict[str, Any]) -> Markdown:
    """A spend row's cost: never a bare $0.00 for tokens that have no price."""
    if row["unpriced"] and not Decimal(row["cost"]):
        return Markdown("unpriced")
    extra = f" + {int(row['unpriced'])} unpriced" if row["unpriced"] else ""
    return Markdown(usd(row["cost"]) + extra)


def short(value: Any) -> Markdown:
    """A session id cut to its first eight characters after the agent (`3f9a2c1d`)."""
    return cell(short_id(str(value)))


FILTERS: dict[str, Callable[..., Markdown]] = {
    "usd": usd,
    "cell": cell,
    "md": cell,
    "work_items": work_items,
    "tokens": tokens,
    "pct": pct,
    "session_cost": session_cost,
    "spend_cost": spend_cost,
    "short": short,
}
