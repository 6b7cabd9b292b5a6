"""The template's filters: costs, token counts, shares and table cells as Markdown.

Each returns `Markdown`, so the output hook prints it as it is; `FILTERS` is what the
template environment registers (a name here is a name the template may use).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from costlog.analysis.facts import short_id
from costlog.money import UNPRICED, format_row_usd, format_usd
from costlog.render.escape import Markdown, code, md


def usd(value: Any, places: int | None = None) -> Markdown:
    """Money by the one rule of `costlog.money.format_usd` (docs/money.md): `$0.21`, a
    non-zero cost under a cent in two significant digits, "unpriced" for no price. A
    repository's own template may still ask for fixed `places` (the bundled one never
    does); even then a cost that is not zero never reads as zero."""
    if value is None or value == "":
        return Markdown(UNPRICED)
    amount = Decimal(str(value))
    if places is None or places <= 2 or amount == 0:
        return Markdown(format_usd(amount))
    fixed = amount.quantize(Decimal(1).scaleb(-min(int(places), 12)), rounding=ROUND_HALF_UP)
    return Markdown(f"${fixed:,}" if fixed else format_usd(amount))


def row_usd(row: Any, key: str = "cost") -> Markdown:
    """A row of a table that adds up to its total: the cents the context rounded it to
    (`<key>_shown`, largest remainder), `<$0.01` for a cost under its share of a cent."""
    if not isinstance(row, dict) or row.get(key) is None:
        return Markdown(UNPRICED)
    shown = row.get(f"{key}_shown")
    if shown is None:
        return usd(row[key])
    return Markdown(format_row_usd(Decimal(str(shown)), Decimal(str(row[key]))))


def plural(count: Any, singular: str, many: str | None = None) -> Markdown:
    """`1 session`, `2 sessions`: the count and its noun, escaped like any text."""
    n = int(count or 0)
    word = singular if n == 1 else (many if many is not None else singular + "s")
    return Markdown(f"{n:,} {md(word)}")


def cell(value: Any) -> Markdown:
    """Text for a table cell (or anywhere else in the Markdown): see `md`."""
    return md(value)


#: U+2011, a hyphen no browser breaks a line at: `2026-10-29` and `WRK-237` in a squeezed
#: table cell stay whole instead of wrapping after the hyphen
NB_HYPHEN = "\u2011"


def work_items(value: Any, whole: bool = False) -> Markdown:
    """Work-item keys: escaped like any text, but `#12` stays an issue reference; `whole`
    keeps each key on one line (`nowrap`), breaking only after the commas between keys."""
    text = md(value, refs=True)
    return Markdown(text.replace("-", NB_HYPHEN)) if whole else text


def nowrap(value: Any) -> Markdown:
    """A date or an id that must not wrap in a narrow column: escaped, hyphens made
    non-breaking (the text reads and sorts the same)."""
    return Markdown(md(value).replace("-", NB_HYPHEN))


#: the count in front of each task type of `3 code, 1 docs` (as analysis.task_types_text writes)
_TYPE_COUNT = re.compile(r"(?:^|, )(\d{1,12}) ")


def session_tasks(row: dict[str, Any]) -> Markdown:
    """A session's tasks in one cell: its task types (`3 code, 1 docs`, whose counts add
    up to the tasks), the bare count without types, or both when they disagree."""
    tasks, types = row.get("tasks"), row.get("task_types") or ""
    if not types:
        return Markdown("" if tasks is None else str(int(tasks)))
    typed = sum(int(n) for n in _TYPE_COUNT.findall(str(types)))
    if tasks is None or int(tasks) == typed:
        return cell(types)
    return Markdown(f"{int(tasks)}: {cell(types)}")


def sourced_cost(row: dict[str, Any]) -> Markdown:
    """A session's cost cell with where it came from when that is not the agent's own
    record: `$0.32 estimated`, `$0.12 parsed`, `$0.20 manual`; `$0.21` for `actual`."""
    text = session_cost(row)
    source = str(row.get("source") or "")
    if not source or source == "actual" or text == UNPRICED:
        return text
    return Markdown(f"{text} {cell(source)}")


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
    """A session id as tables show it (`3f9a2c1d`, `1202-0130-ab1`): its stable short id."""
    return cell(short_id(str(value)))


FILTERS: dict[str, Callable[..., Markdown]] = {
    "usd": usd,
    "row_usd": row_usd,
    "plural": plural,
    "cell": cell,
    "md": cell,
    "work_items": work_items,
    "nowrap": nowrap,
    "session_tasks": session_tasks,
    "sourced_cost": sourced_cost,
    "tokens": tokens,
    "pct": pct,
    "session_cost": session_cost,
    "spend_cost": spend_cost,
    "short": short,
    # a message costlog wrote (a path:line, `keys`) shown verbatim, not escaped to bits
    "code": code,
}
