"""Simon Willison's `llm`: the `logs.db` SQLite database (`--agent llm`).

Where: `$LLM_USER_PATH/logs.db`, else click's app dir
`${XDG_CONFIG_HOME:-~/.config}/io.datasette.llm/logs.db` on Linux and
`~/Library/Application Support/io.datasette.llm/logs.db` on macOS. Opened read-only
(`mode=ro` URI) so a running `llm` is never disturbed.

Tables read: the legacy `responses` (one row per prompt, `conversation_id`) and, since
LLM 0.32, `turns` (`thread_id`). Turn ids share the id space of response ids, so a row
id present in both counts once (the turn). A session is one conversation / thread; a
row without one is its own session. Columns missing from older databases read as NULL.
llm records no working directory, so `cwd` stays None.

Usage: `input_tokens` / `output_tokens` are what the model plugin passed to
`set_usage`, and `token_details` holds the provider's remaining usage keys, so the
split depends on the provider it came from:
* OpenAI chat (`prompt_tokens_details.cached_tokens`) and Responses
  (`input_tokens_details.cached_tokens`): cached is INSIDE input_tokens -> input =
  input_tokens - cached, cache_read = cached; `*_details.reasoning_tokens` is inside
  output (kept as `reasoning`).
* Gemini (llm-gemini): input_tokens = prompt (+ tool-use prompt), which includes
  `cachedContentTokenCount` -> subtracted; output = candidates + thoughts, so
  `thoughtsTokenCount` is only recorded as `reasoning`.
* Anthropic (llm-anthropic): input_tokens already excludes the cache;
  `cache_read_input_tokens` -> cache_read, `cache_creation_input_tokens` ->
  cache_write_5m (1h part per the `cache_creation` split).
Rows with both counts NULL (logged before llm 0.19, or a model that reports none) are
skipped with one warning per database. Bad counts (not int, negative, absurd) skip the
row with a warning `path:table:id: reason`; bad `token_details` JSON keeps the row with
no cache split and a warning.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import closing
from datetime import datetime
from pathlib import Path
from typing import Any

from costlog.models import Request, Session, Usage
from costlog.safefs import check_log
from costlog.sources import Warn, covers, span
from costlog.sources._sqlite import columns, open_readonly
from costlog.sources._usage import BadUsage, check_cached, count
from costlog.sources.provider_usage import anthropic_cache_writes
from costlog.timeutil import log_time

APP_DIR = "io.datasette.llm"
DB_NAME = "logs.db"

#: table -> its conversation column
_TABLES = {"turns": "thread_id", "responses": "conversation_id"}
_WANTED = (
    "id",
    "model",
    "resolved_model",
    "datetime_utc",
    "input_tokens",
    "output_tokens",
    "token_details",
)


def usage_from_row(input_tokens: Any, output_tokens: Any, details: Mapping[str, Any]) -> Usage:
    """One row's counts, split by the provider keys left in token_details."""
    raw = {"input_tokens": input_tokens, "output_tokens": output_tokens}
    prompt = count(raw, "input_tokens")
    cached = (
        count(details, "prompt_tokens_details", "cached_tokens")
        or count(details, "input_tokens_details", "cached_tokens")
        or count(details, "cachedContentTokenCount")
    )
    usage = Usage(
        input=check_cached(prompt, cached, "input_tokens"),
        output=count(raw, "output_tokens"),
        cache_read=cached + count(details, "cache_read_input_tokens"),
        reasoning=(
            count(details, "completion_tokens_details", "reasoning_tokens")
            or count(details, "output_tokens_details", "reasoning_tokens")
            or count(details, "thoughtsTokenCount")
        ),
    )
    usage.cache_write_5m, usage.cache_write_1h = anthropic_cache_writes(details)
    return usage


def _details(text: Any, where: str, warn: Warn) -> Mapping[str, Any]:
    if text is None or text == "":
        return {}
    try:
        value = json.loads(text) if isinstance(text, str) else None
    except (ValueError, RecursionError):  # RecursionError: deep nesting
        value = None
    if not isinstance(value, dict):
        warn(f"{where}: bad token_details JSON; counted without a cache split")
        return {}
    return value


class _DbReader:
    """All sessions of one logs.db."""

    def __init__(self, path: Path, warn: Warn) -> None:
        self.path = path
        self.warn = warn
        self.sessions: dict[str, Session] = {}
        self.seen_ids: set[str] = set()
        self.without_usage = 0

    def read(self, conversation: str | None = None) -> list[Session]:
        try:
            with closing(open_readonly(self.path)) as connection:
                for table, key in _TABLES.items():
                    self._table(connection, table, key, conversation)
        except sqlite3.Error as exc:
            self.warn(f"{self.path}: not a readable llm database: {exc}")
        if self.without_usage:
            self.warn(f"{self.path}: {self.without_usage} rows without token counts skipped")
        for session in self.sessions.values():
            span(session)
        return list(self.sessions.values())

    def _table(
        self, connection: sqlite3.Connection, table: str, key: str, conversation: str | None
    ) -> None:
        have = columns(connection, table)
        if "id" not in have:
            return
        picked = [f'"{c}"' if c in have else f'NULL AS "{c}"' for c in (*_WANTED, key)]
        sql = f'SELECT {", ".join(picked)} FROM "{table}"'
        params: tuple[str, ...] = ()
        if conversation is not None:
            sql += f' WHERE "{key}" = ? OR "id" = ?' if key in have else ' WHERE "id" = ?'
            params = (conversation, conversation) if key in have else (conversation,)
        for row in connection.execute(sql + ' ORDER BY "datetime_utc", "id"', params):
            self._row(table, row, row[key])

    def _row(self, table: str, row: sqlite3.Row, conversation: Any) -> None:
        row_id = str(row["id"])
        if row_id in self.seen_ids:
            return
        self.seen_ids.add(row_id)
        if row["input_tokens"] is None and row["output_tokens"] is None:
            self.without_usage += 1
            return
        where = f"{self.path}:{table}:{row_id}"
        try:
            usage = usage_from_row(
                row["input_tokens"],
                row["output_tokens"],
                _details(row["token_details"], where, self.warn),
            )
        except BadUsage as exc:
            self.warn(f"{where}: {exc}")
            return
        model = row["resolved_model"] or row["model"] or "unknown"
        request = Request(
            model=str(model),
            usage=usage,
            request_id=row_id,
            timestamp=log_time(row["datetime_utc"], where, self.warn),
        )
        self._session(str(conversation) if conversation else row_id).requests.append(request)

    def _session(self, session_id: str) -> Session:
        session = self.sessions.get(session_id)
        if session is None:
            session = Session(agent="llm", session_id=session_id, paths=[str(self.path)])
            self.sessions[session_id] = session
        return session


def _databases(roots: Sequence[Path], warn: Warn) -> Iterator[Path]:
    for root in roots:
        candidate = root / DB_NAME if root.is_dir() else root
        if candidate.is_file():
            yield candidate
        elif candidate.exists():  # a FIFO or a device: SQLite would block or spin on it
            check_log(candidate, warn)


class LlmAdapter:
    name = "llm"

    def default_roots(self, env: Mapping[str, str], home: Path) -> list[Path]:
        """`$LLM_USER_PATH/logs.db`, else click's Linux and macOS app dirs."""
        if env.get("LLM_USER_PATH"):
            return [Path(env["LLM_USER_PATH"]).expanduser() / DB_NAME]
        config = Path(env["XDG_CONFIG_HOME"]) if env.get("XDG_CONFIG_HOME") else home / ".config"
        return [
            config / APP_DIR / DB_NAME,
            home / "Library" / "Application Support" / APP_DIR / DB_NAME,
        ]

    def scan(
        self,
        roots: Sequence[Path],
        *,
        project: Path | None = None,
        since: datetime | None = None,
        warn: Warn,
    ) -> Iterator[Session]:
        for path in _databases(roots, warn):
            for session in _DbReader(path, warn).read():
                if covers(session, since):
                    yield session

    def find_session(self, roots: Sequence[Path], session_id: str, *, warn: Warn) -> Session | None:
        for path in _databases(roots, warn):
            for session in _DbReader(path, warn).read(session_id):
                if session.session_id == session_id:
                    return session
        return None


ADAPTER = LlmAdapter()
