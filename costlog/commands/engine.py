"""DuckDB, the optional query engine behind `export --format parquet` and `query`.

DuckDB is an extra (`pip install 'costlog[duckdb]'`), imported here and only when one of
those two commands runs: never by the hooks, never by `--help`. The export's rows become a
table `sessions` in an in-memory database, typed as docs/export.md says, without any
file written: each batch of rows goes in as one JSON text that DuckDB's `from_json` casts
to the schema's types (a row-by-row insert is a hundred times slower).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path
from types import ModuleType
from typing import Any

from costlog.commands.export import COLUMNS
from costlog.errors import CostlogError

EXTRA = "pip install 'costlog[duckdb]'"
TABLE = "sessions"
_BATCH = 5_000  # rows per JSON text: larger batches are no faster, and cost memory


def duckdb(needed_for: str) -> ModuleType:
    """The duckdb module, or a one-line error naming the extra that brings it."""
    try:
        import duckdb as module
    except ImportError:
        raise CostlogError(
            f"{needed_for} needs DuckDB, which is not installed", hint=EXTRA
        ) from None
    return module


def database(found: Iterable[dict[str, Any]], needed_for: str) -> Any:
    """An in-memory DuckDB connection holding the rows as the table `sessions`."""
    module = duckdb(needed_for)
    con = module.connect(":memory:")
    with contextlib.suppress(module.Error):  # a build without ICU knows only UTC anyway
        con.execute("SET TimeZone = 'UTC'")
    con.execute(f"CREATE TABLE {TABLE} ({', '.join(f'{n} {t}' for n, t in COLUMNS)})")
    shape = json.dumps({name: kind for name, kind in COLUMNS})
    insert = (
        f"INSERT INTO {TABLE} SELECT r.* FROM (SELECT unnest(from_json(?::JSON, '[{shape}]')) AS r)"
    )
    dumps = json.JSONEncoder(separators=(",", ":")).encode
    for batch in _batches(found):
        con.execute(insert, [dumps(batch)])
    return con


def _batches(found: Iterable[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    it = iter(found)
    while batch := list(islice(it, _BATCH)):
        yield batch


def write_parquet(con: Any, path: Path) -> None:
    """The table `sessions` as one Parquet file (zstd), column types as documented."""
    quoted = str(path).replace("'", "''")
    con.execute(f"COPY {TABLE} TO '{quoted}' (FORMAT parquet, COMPRESSION zstd)")


def run_sql(con: Any, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    """(column names, rows) of the user's SQL; a DuckDB error is one line, exit 1."""
    module = duckdb("costlog query")
    try:
        result = con.execute(sql)
        if result.description is None:  # a statement with no result set
            return [], []
        names = [d[0] for d in result.description]
        return names, result.fetchall()
    except module.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CostlogError(
            f"SQL: {first}", hint=f"the table is `{TABLE}`; see docs/export.md"
        ) from None
