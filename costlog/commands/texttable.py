"""The tables `scan` and `report` print on a terminal: boxed and aligned, as ccusage draws
them, with a rule above the last (TOTAL) row, optional breakdown lines (the models under
each row) and colour only when asked for (the CLI asks on a terminal without NO_COLOR).

Drawn with rich, imported here on first use only: `scan` and `report` pay its ~30 ms, the
git hooks and every other command never load it. Every cell is plain text (rich's markup
is never parsed), so a model named `claude-sonnet-4-6[1m]` or a session note with
brackets reads as written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class View:
    """How a terminal table is drawn: `width` is the terminal's (None: as wide as the table
    needs, for a pipe or a file), `compact` the fewer columns for a narrow one, `unicode`
    whether the output can show box-drawing characters."""

    color: bool = False
    width: int | None = None
    compact: bool = False
    unicode: bool = True


PLAIN = View()

#: below this many columns a terminal gets the compact table unless --compact says so anyway
#: (ccusage's threshold)
NARROW = 100

#: what a wide-open width means to rich: tables are never wider than their content
_UNLIMITED = 10_000


def text_table(
    head: Sequence[str],
    body: Sequence[Sequence[str]],
    *,
    details: Mapping[int, Sequence[Sequence[str]]] | None = None,
    left: int = 1,
    view: View = PLAIN,
) -> str:
    """`body` ends with the TOTAL row, which a rule sets apart. `details[i]` are lines
    drawn dimmed under `body[i]` (its first cell indented: a model under its day). The
    first `left` columns are text, left-aligned; the rest are numbers, right-aligned."""
    import io

    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(
        box=box.SQUARE if view.unicode else box.ASCII2,
        safe_box=not view.unicode,
        header_style="bold cyan" if view.color else "",
        highlight=False,
    )
    for i, name in enumerate(head):
        table.add_column(Text(name), justify="left" if i < left else "right", overflow="fold")
    details = details or {}
    bullet = "└ " if view.unicode else "- "
    last = len(body) - 1
    for i, row in enumerate(body):
        under = details.get(i, ())
        total = i == last
        table.add_row(
            *(Text(cell) for cell in row),
            style="bold" if view.color and total else None,
            end_section=i == last - 1 and not under,
        )
        for n, line in enumerate(under):
            cells = [f"  {bullet}{line[0]}", *line[1:]]
            table.add_row(
                *(Text(cell) for cell in cells),
                style="dim" if view.color else None,
                end_section=i == last - 1 and n == len(under) - 1,
            )
    out = io.StringIO()
    console = Console(
        file=out,
        width=view.width or _UNLIMITED,
        force_terminal=view.color,
        color_system="standard" if view.color else None,
        no_color=not view.color,
        highlight=False,
        markup=False,
        emoji=False,
        legacy_windows=False,
        soft_wrap=False,
    )
    console.print(table)
    return "\n".join(line.rstrip() for line in out.getvalue().rstrip("\n").split("\n"))
