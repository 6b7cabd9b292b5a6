"""Console CSV exports (Anthropic Console, OpenAI dashboard): one row per day (and model), USD.

Columns are matched case-insensitively: day from `date`, `usage_date_utc`, `day`,
`start_time` (ISO date or Unix seconds); model from `model`, `model_version` or
`line_item`; dollars from `cost_usd`, `cost`, `amount_usd`, `amount`, `cost (usd)`;
tokens from `uncached_input_tokens`/`input_tokens` (with `input_cached_tokens`: OpenAI's
inclusive input), `output_tokens`, `cache_read_input_tokens`,
`cache_creation_input_tokens`/`cache_write_5m_tokens`, `cache_write_1h_tokens`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime

from costlog.errors import CostlogError
from costlog.models import Usage
from costlog.reconcile.rows import COST, USAGE, BillRow, Export, decimal_value, iso_day

_CSV_DAY = ("date", "usage_date_utc", "usage_date", "day", "start_time", "date (utc)")
_CSV_MODEL = ("model", "model_version", "line_item", "model name")
_CSV_USD = ("cost_usd", "cost", "amount_usd", "amount", "cost (usd)", "total cost (usd)")
_CSV_TOKENS = {
    "uncached_input_tokens": "input",
    "input_tokens": "input",
    "output_tokens": "output",
    "cache_read_input_tokens": "cache_read",
    "input_cached_tokens": "cache_read",
    "cache_creation_input_tokens": "cache_write_5m",
    "cache_write_5m_tokens": "cache_write_5m",
    "cache_write_1h_tokens": "cache_write_1h",
}


def _pick(header: dict[str, int], names: tuple[str, ...]) -> int | None:
    return next((header[n] for n in names if n in header), None)


def read_csv(text: str, where: str) -> Export:
    """A console CSV export: one row per day (and model); see the module doc for columns."""
    reader = csv.reader(io.StringIO(text))
    try:
        head = next(reader)
    except (StopIteration, csv.Error) as exc:
        raise CostlogError(f"not a CSV file ({exc})", path=where) from None
    header = {h.strip().lower(): i for i, h in enumerate(head)}
    day_col, model_col = _pick(header, _CSV_DAY), _pick(header, _CSV_MODEL)
    usd_col = _pick(header, _CSV_USD)
    token_cols = {field_: header[name] for name, field_ in _CSV_TOKENS.items() if name in header}
    if day_col is None or (usd_col is None and not token_cols):
        raise CostlogError(
            "not a known usage or cost export: a CSV needs a date column and "
            "a cost or token columns",
            path=where,
            line=1,
            hint=f"columns found: {', '.join(head)}",
        )
    openai_input = "input_cached_tokens" in header
    export = Export(where, "csv")
    for line, cells in enumerate(reader, 2):
        if not any(c.strip() for c in cells):
            continue
        export.rows.extend(
            _csv_rows(cells, line, where, day_col, model_col, usd_col, token_cols, openai_input)
        )
    return export


def _csv_rows(
    cells: list[str],
    line: int,
    where: str,
    day_col: int,
    model_col: int | None,
    usd_col: int | None,
    token_cols: dict[str, int],
    openai_input: bool,
) -> Iterator[BillRow]:
    def cell(index: int) -> str:
        if index >= len(cells):
            raise CostlogError(
                f"row has {len(cells)} cells, the header more", path=where, line=line
            )
        return cells[index].strip()

    day = _csv_day(cell(day_col), where, line)
    model = (cell(model_col).split(",")[0].strip() or None) if model_col is not None else None
    provider = (
        "openai"
        if openai_input or (model or "").lower().startswith(("gpt", "o1", "o3", "o4", "codex"))
        else "anthropic"
    )
    if usd_col is not None and cell(usd_col):
        text = cell(usd_col).lstrip("$").replace(",", "")
        usd = decimal_value(text, "cost", f"{where}:{line}")
        yield BillRow(day, provider, model, COST, usd=usd, where=f"{where}:{line}")
    if token_cols:
        counts: dict[str, int] = {}
        for name, index in token_cols.items():
            text = cell(index).replace(",", "") or "0"
            if not text.isdigit():
                raise CostlogError(
                    f"token count {text!r} is not a whole number", path=where, line=line
                )
            counts[name] = counts.get(name, 0) + int(text)
        usage = Usage(**counts)
        if openai_input:
            usage.input -= usage.cache_read
        yield BillRow(day, provider, model, USAGE, usage=usage, where=f"{where}:{line}")


def _csv_day(text: str, where: str, line: int) -> date:
    if text.isdigit():
        return datetime.fromtimestamp(int(text), UTC).date()
    try:
        return iso_day(text if "T" in text or " " in text else text[:10], where)
    except CostlogError:
        raise CostlogError(f"date {text!r} is not YYYY-MM-DD", path=where, line=line) from None
