"""`costlog query "SQL"`: DuckDB over the export of the given repositories, in memory.

The rows `export` would write (docs/export.md) are the table `sessions` of an in-memory
database, so an ad-hoc question (cost per work item this quarter, across every repo)
needs no file and no server. The SQL is the user's own, typed on their command line; the
ledgers it reads are not, but they reach DuckDB only as typed values, never as SQL.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from costlog.commands import engine, export
from costlog.commands.repos import Loaded

FORMATS = ("table", "csv", "json")


def query(loaded: Loaded, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    """(column names, rows) of `sql` over the table `sessions`."""
    con = engine.database(export.rows(loaded), "costlog query")
    return engine.run_sql(con, sql)


def _plain(value: Any) -> Any:
    """A result value as JSON holds it: exact decimals as strings, times in ISO 8601."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return export.ITEM_SEPARATOR.join(_cell(v) for v in value)
    plain = _plain(value)
    return plain if isinstance(plain, str) else json.dumps(plain)


def to_json(names: Sequence[str], found: Sequence[tuple[Any, ...]]) -> str:
    return json.dumps([dict(zip(names, map(_plain, row), strict=True)) for row in found], indent=2)


def to_csv(names: Sequence[str], found: Sequence[tuple[Any, ...]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(names)
    writer.writerows([_cell(v) for v in row] for row in found)
    return out.getvalue()


def to_table(names: Sequence[str], found: Sequence[tuple[Any, ...]]) -> str:
    """Aligned columns, numbers to the right, NULL spelled out; then the row count."""
    body = [["NULL" if v is None else _cell(v) for v in row] for row in found]
    numeric = [
        all(isinstance(row[i], int | float | Decimal) or row[i] is None for row in found)
        for i in range(len(names))
    ]
    widths = [max([len(n), *(len(r[i]) for r in body)]) for i, n in enumerate(names)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.rjust(w) if num else c.ljust(w)
            for c, w, num in zip(cells, widths, numeric, strict=True)
        ).rstrip()

    rule = "  ".join("-" * w for w in widths)
    count = f"({len(found)} row{'' if len(found) == 1 else 's'})"
    return "\n".join([line(names), rule, *(line(r) for r in body), count])
