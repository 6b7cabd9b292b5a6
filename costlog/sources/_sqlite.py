"""Reading an agent's SQLite database without disturbing the agent (`llm`, `opencode`)."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

from costlog.safefs import NOT_REGULAR, kind


def open_readonly(path: Path) -> sqlite3.Connection:
    """A read-only connection (`mode=ro` URI): a running agent's database is left alone."""
    try:  # SQLite's own open would block on a FIFO: a regular file only
        mode = os.stat(path).st_mode
    except OSError as exc:
        raise sqlite3.OperationalError(exc.strerror or str(exc)) from None
    if not stat.S_ISREG(mode):
        raise sqlite3.OperationalError(f"{NOT_REGULAR} ({kind(mode)})")
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    connection.row_factory = sqlite3.Row
    return connection


def columns(connection: sqlite3.Connection, table: str) -> set[str]:
    """The columns `table` has (empty when the table does not exist)."""
    return {row[1] for row in connection.execute(f'PRAGMA table_info("{table}")')}
