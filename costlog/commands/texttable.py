"""The aligned text table `scan` and `report` print: a header, a rule, the rows, a rule
and a last (TOTAL) row; the first column left-aligned, numbers right-aligned."""

from __future__ import annotations

from collections.abc import Sequence


def text_table(head: Sequence[str], body: Sequence[Sequence[str]]) -> str:
    """`body` ends with the TOTAL row, which the second rule sets apart."""
    rows = [list(head), *(list(r) for r in body)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines = [
        "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        )
        for r in rows
    ]
    rule = "  ".join("-" * w for w in widths)
    return "\n".join([lines[0], rule, *lines[1:-1], rule, lines[-1]])
