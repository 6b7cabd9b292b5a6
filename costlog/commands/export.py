"""`costlog export`: the ledgers as rows for a query engine or a warehouse, one per
session × model, in a documented, versioned schema (docs/export.md).

The schema only grows: a column is never renamed, retyped or dropped without a new
`schema_version`, so a warehouse table loaded from version 1 keeps loading. Money is exact:
`cost_usd` is the ledger's micro-dollar amount as a decimal string (JSONL, CSV) or a
DECIMAL(18,6) (Parquet), and null for a model with no known price, never 0.

A session's rows add up to exactly what `report` counts for it. When its recorded total is
not the sum of its models' known costs (a session recorded with a total only, a total given
beside an unpriced model, a total rounded apart from its parts) one more row with a null
`model` carries the difference; a session with no models at all is that one row.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
from collections.abc import Iterable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from costlog import analysis
from costlog.commands.repos import Loaded
from costlog.errors import EXIT_USAGE, CostlogError
from costlog.ledger.format import money, stamp
from costlog.models import Entry

SCHEMA_VERSION = 1
FORMATS = ("jsonl", "csv", "parquet")
#: the columns in order, with their engine types (DuckDB names; docs/export.md maps them)
COLUMNS: tuple[tuple[str, str], ...] = (
    ("schema_version", "INTEGER"),
    ("repo", "VARCHAR"),
    ("entry_id", "VARCHAR"),
    ("agent", "VARCHAR"),
    ("session_id", "VARCHAR"),
    ("author", "VARCHAR"),
    ("machine", "VARCHAR"),
    ("started", "TIMESTAMPTZ"),
    ("ended", "TIMESTAMPTZ"),
    ("branch", "VARCHAR"),
    ("model", "VARCHAR"),
    ("provider", "VARCHAR"),
    ("input_tokens", "BIGINT"),
    ("output_tokens", "BIGINT"),
    ("cache_read_tokens", "BIGINT"),
    ("cache_write_5m_tokens", "BIGINT"),
    ("cache_write_1h_tokens", "BIGINT"),
    ("reasoning_tokens", "BIGINT"),
    ("requests", "BIGINT"),
    ("cost_usd", "DECIMAL(18,6)"),
    ("model_source", "VARCHAR"),
    ("entry_source", "VARCHAR"),
    ("pricing_table", "VARCHAR"),
    ("plan", "VARCHAR"),
    ("work_items", "VARCHAR[]"),
    ("commits", "BIGINT"),
)
NAMES = tuple(name for name, _ in COLUMNS)
#: the per-model counts (0 on a session's remainder row)
COUNTS = NAMES[NAMES.index("input_tokens") : NAMES.index("requests") + 1]
#: how a CSV cell joins a session's work items (a key never holds one: see docs/export.md)
ITEM_SEPARATOR = ";"
ZERO = Decimal(0)


def rows(loaded: Loaded) -> Iterator[dict[str, Any]]:
    """Every row of the export, repository by repository, sessions by start time."""
    from costlog.commands.plans import on_plan
    from costlog.timeutil import zone

    for source, entries in loaded.parts:
        config = source.config
        planned = on_plan([(config, entries, zone(config.timezone))])
        for entry in entries:
            plan = planned.get(entry.id)
            yield from entry_rows(entry, source.label, plan.key if plan else None)


def entry_rows(entry: Entry, repo: str, plan: str | None = None) -> Iterator[dict[str, Any]]:
    """One session's rows: one per model, and the remainder row the module docstring
    describes when its total is more (or less) than its models' known costs. `plan` is the
    subscription plan the session ran on (its cost is then API-equivalent), else None."""
    agent, _, session_id = entry.id.partition("/")
    common = {
        "schema_version": SCHEMA_VERSION,
        "repo": repo,
        "entry_id": entry.id,
        "agent": entry.agent,
        "session_id": session_id or agent,
        "author": entry.author,
        "machine": entry.machine,
        "started": stamp(entry.started),
        "ended": None if entry.ended is None else stamp(entry.ended),
        "branch": entry.branch,
    }
    tail = {
        "entry_source": entry.source,
        "pricing_table": entry.pricing_table,
        "plan": plan,
        "work_items": list(entry.work_items),
        "commits": len(entry.commits),
    }
    known = ZERO
    for model, mu in sorted(entry.models.items()):
        u = mu.usage
        known += mu.cost_usd or ZERO
        yield {
            **common,
            "model": model,
            "provider": analysis.provider_of(model),
            "input_tokens": u.input,
            "output_tokens": u.output,
            "cache_read_tokens": u.cache_read,
            "cache_write_5m_tokens": u.cache_write_5m,
            "cache_write_1h_tokens": u.cache_write_1h,
            "reasoning_tokens": u.reasoning,
            "requests": mu.requests,
            "cost_usd": None if mu.cost_usd is None else money(mu.cost_usd),
            "model_source": mu.source,
            **tail,
        }
    rest = analysis.cost(entry) - known
    if rest or not entry.models:
        yield {
            **common,
            "model": None,
            "provider": None,
            **dict.fromkeys(COUNTS, 0),
            "cost_usd": None if entry.cost_usd is None else money(rest),
            "model_source": None,
            **tail,
        }


def write_jsonl(found: Iterable[dict[str, Any]], out: IO[str]) -> int:
    """One JSON object a line, keys in schema order; returns the number of rows."""
    count = 0
    dumps = json.JSONEncoder(separators=(",", ":")).encode
    for row in found:
        out.write(dumps(row))
        out.write("\n")
        count += 1
    return count


def write_csv(found: Iterable[dict[str, Any]], out: IO[str]) -> int:
    """A header, then one line a row: null is an empty cell, work items are joined."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(NAMES)
    count = 0
    for row in found:
        items = row["work_items"]
        writer.writerow(
            [ITEM_SEPARATOR.join(items) if name == "work_items" else row[name] for name in NAMES]
        )
        count += 1
    return count


def export(loaded: Loaded, fmt: str, output: Path | None, stdout: IO[str]) -> int:
    """Write the rows in `fmt` to `output` (replaced whole, never left half written) or
    to `stdout`; returns the number of rows. Parquet needs a file and DuckDB."""
    found = rows(loaded)
    if fmt == "parquet":
        from costlog.commands import engine

        if output is None:
            raise CostlogError("Parquet is binary: give --output FILE", exit_code=EXIT_USAGE)
        con = engine.database(found, "--format parquet")
        count = int(con.execute(f"SELECT count(*) FROM {engine.TABLE}").fetchone()[0])
        with _replacing(output) as tmp:
            engine.write_parquet(con, tmp)
        return count
    write = write_jsonl if fmt == "jsonl" else write_csv
    if output is None:
        return write(found, stdout)
    with _replacing(output) as tmp, open(tmp, "w", encoding="utf-8", newline="") as out:
        return write(found, out)


@contextlib.contextmanager
def _replacing(output: Path) -> Iterator[Path]:
    """A temp file beside `output`, renamed over it once complete; removed on failure."""
    tmp = output.with_name(f".{output.name}.{os.getpid()}.tmp")
    try:
        yield tmp
        os.replace(tmp, output)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
