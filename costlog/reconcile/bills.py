"""Reading providers' usage and cost exports (FORMATS.md §11), offline, into plain rows.

costlog never calls these APIs: it reads files a user downloaded, or JSON pages a CI job
with the admin key saved. The shape of each file is detected from its content:

* Anthropic usage report (`/v1/organizations/usage_report/messages`, 1m/1h/1d buckets):
  results with `uncached_input_tokens`; token counts.
* Anthropic cost report (`/v1/organizations/cost_report`, 1d): results with `amount` and
  `currency`; `amount` is a decimal string in **cents**.
* Claude Code analytics (`/v1/organizations/usage_report/claude_code`): records with
  `model_breakdown`; `estimated_cost.amount` in **cents** (Anthropic's estimate, not a bill).
* OpenAI costs (`/v1/organization/costs`): results with `amount: {value, currency}`;
  `value` in **dollars**; the model is the first part of `line_item`.
* OpenAI completions usage (`/v1/organization/usage/completions`): results with
  `input_cached_tokens`; `input_tokens` **includes** the cached ones.
* Console CSV (Anthropic Console, OpenAI dashboard): a header row with a date column and
  cost or token columns; USD.

A JSON file may hold one page (`{"data": [...], "has_more": ...}`), a list of pages, or
one page per line (JSONL). Numbers are read as Decimal, never float. Every bucket is put on
its UTC day (`starting_at` / `start_time`); 1m and 1h buckets add up to their day.

CSV columns are matched case-insensitively: day from `date`, `usage_date_utc`, `day`,
`start_time` (ISO date or Unix seconds); model from `model`, `model_version` or
`line_item`; dollars from `cost_usd`, `cost`, `amount_usd`, `amount`, `cost (usd)`;
tokens from `uncached_input_tokens`/`input_tokens` (with `input_cached_tokens`: OpenAI's
inclusive input), `output_tokens`, `cache_read_input_tokens`,
`cache_creation_input_tokens`/`cache_write_5m_tokens`, `cache_write_1h_tokens`.

Any malformed file, page or row is one CostlogError naming the file and row/line.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from costlog.errors import CostlogError
from costlog.models import Usage

CENTS = Decimal(100)

#: how the billed number of a row was obtained
COST = "cost"  # the provider's cost report: what the bill says
USAGE = "usage"  # billed token counts (priced later with costlog's table)
PROVIDER_ESTIMATE = "provider-estimate"  # Claude Code analytics' own estimated cost


@dataclass
class BillRow:
    day: date
    provider: str  # anthropic | openai
    model: str | None  # as the export writes it; None when the export is not by model
    kind: str  # COST | USAGE | PROVIDER_ESTIMATE
    usd: Decimal | None = None
    usage: Usage | None = None
    #: the long-context bucket ("200k-1M") of Anthropic's usage report
    long_context: bool = False
    cost_type: str | None = None  # web_search, code_execution, ...
    where: str = ""


@dataclass
class Export:
    path: str
    shape: str
    rows: list[BillRow] = field(default_factory=list)
    duplicates: int = 0
    warnings: list[str] = field(default_factory=list)


SHAPES = {
    "anthropic-usage": "Anthropic usage report",
    "anthropic-cost": "Anthropic cost report",
    "claude-code-analytics": "Claude Code analytics",
    "openai-costs": "OpenAI costs",
    "openai-usage": "OpenAI completions usage",
    "csv": "console CSV export",
    "empty": "an export with no results",
}


def read(path: Path) -> Export:
    """One export file, its shape detected; CostlogError names the file and row."""
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise CostlogError(f"cannot read: {exc}", path=where) from None
    if not text.strip():
        raise CostlogError("empty file", path=where)
    if text.lstrip()[0] in "[{":
        return _read_json(text, where)
    return read_csv(text, where)


# ---------------------------------------------------------------- JSON


def _pages(text: str, where: str) -> list[Any]:
    try:
        doc = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as first:
        pages = []
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                pages.append(json.loads(line, parse_float=Decimal))
            except json.JSONDecodeError:
                line_no = first.lineno if number == 1 else number
                raise CostlogError(
                    f"not valid JSON ({first.msg})", path=where, line=line_no
                ) from None
        return pages
    return doc if isinstance(doc, list) else [doc]


def _read_json(text: str, where: str) -> Export:
    pages = _pages(text, where)
    if not pages:
        raise CostlogError("no API pages in the file", path=where)
    records: list[tuple[str, Any]] = []
    for p, page in enumerate(pages):
        if not isinstance(page, Mapping) or not isinstance(page.get("data"), list):
            raise CostlogError(
                f"page {p + 1}: expected an API page with a `data` list",
                path=where,
                hint="export the API's JSON response as is",
            )
        records.extend((f"page {p + 1} data[{i}]", item) for i, item in enumerate(page["data"]))
    shape = _detect([item for _, item in records], where)
    export = Export(where, shape)
    if pages[-1].get("has_more"):
        export.warnings.append(
            f"{where}: the last page says has_more: the export stops "
            f"before its end (fetch next_page {pages[-1].get('next_page')!r}"
            " too)"
        )
    seen: set[str] = set()
    for label, item in records:
        for row_label, key, row in _rows(shape, item, f"{where}: {label}"):
            if key in seen:
                export.duplicates += 1
                continue
            seen.add(key)
            row.where = row_label
            export.rows.append(row)
    return export


def _detect(items: list[Any], where: str) -> str:
    for item in items:
        if not isinstance(item, Mapping):
            continue
        if "model_breakdown" in item:
            return "claude-code-analytics"
        for result in item.get("results") or ():
            if not isinstance(result, Mapping):
                continue
            if "uncached_input_tokens" in result:
                return "anthropic-usage"
            if "input_cached_tokens" in result or str(result.get("object", "")).startswith(
                "organization.usage.completions"
            ):
                return "openai-usage"
            amount = result.get("amount")
            if isinstance(amount, Mapping):
                return "openai-costs"
            if amount is not None and "currency" in result:
                return "anthropic-cost"
    if all(isinstance(i, Mapping) and i.get("results") == [] for i in items):
        return "empty"
    raise CostlogError(
        "not a known usage or cost export (Anthropic usage/cost report, "
        "Claude Code analytics, OpenAI costs/completions usage)",
        path=where,
    )


def _rows(shape: str, item: Any, label: str) -> Iterator[tuple[str, str, BillRow]]:
    if not isinstance(item, Mapping):
        raise CostlogError("expected an object", path=label)
    if shape == "claude-code-analytics":
        yield from _analytics(item, label)
        return
    day = _bucket_day(item, label)
    results = item.get("results")
    if not isinstance(results, list):
        raise CostlogError("expected a `results` list", path=label)
    start = str(item.get("starting_at") or item.get("start_time"))
    for r, result in enumerate(results):
        where = f"{label}.results[{r}]"
        if not isinstance(result, Mapping):
            raise CostlogError("expected an object", path=where)
        key = f"{shape}|{start}|{json.dumps(result, sort_keys=True, default=str)}"
        yield where, key, _RESULT[shape](result, day, where)


def _bucket_day(item: Mapping[str, Any], label: str) -> date:
    if "starting_at" in item:
        return _iso_day(item["starting_at"], f"{label}.starting_at")
    if "start_time" in item:
        return _unix_day(item["start_time"], f"{label}.start_time")
    raise CostlogError("bucket without `starting_at` or `start_time`", path=label)


def _iso_day(value: Any, where: str) -> date:
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise CostlogError(f"not an RFC 3339 time: {value!r}", path=where) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).date()


def _unix_day(value: Any, where: str) -> date:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise CostlogError(f"not Unix seconds: {value!r}", path=where)
    return datetime.fromtimestamp(int(value), UTC).date()


def _int(result: Mapping[str, Any], key: str, where: str) -> int:
    value = result.get(key, 0)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise CostlogError(f"`{key}` must be a token count, not {value!r}", path=where)
    return value


def _decimal(value: Any, key: str, where: str) -> Decimal:
    if isinstance(value, bool):
        value = None
    try:
        amount = Decimal(str(value)) if isinstance(value, str | int | Decimal) else None
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite():
        raise CostlogError(f"`{key}` must be a decimal number, not {value!r}", path=where)
    return amount


def _model(result: Mapping[str, Any], key: str = "model") -> str | None:
    value = result.get(key)
    return str(value) if value else None


def _anthropic_usage(result: Mapping[str, Any], day: date, where: str) -> BillRow:
    creation = result.get("cache_creation") or {}
    if not isinstance(creation, Mapping):
        raise CostlogError("`cache_creation` must be an object", path=where)
    usage = Usage(
        input=_int(result, "uncached_input_tokens", where),
        output=_int(result, "output_tokens", where),
        cache_read=_int(result, "cache_read_input_tokens", where),
        cache_write_5m=_int(creation, "ephemeral_5m_input_tokens", where),
        cache_write_1h=_int(creation, "ephemeral_1h_input_tokens", where),
    )
    return BillRow(
        day,
        "anthropic",
        _model(result),
        USAGE,
        usage=usage,
        long_context=str(result.get("context_window") or "").startswith("200k"),
    )


def _anthropic_cost(result: Mapping[str, Any], day: date, where: str) -> BillRow:
    currency = str(result.get("currency") or "USD").upper()
    if currency != "USD":
        raise CostlogError(f"currency {currency} is not supported (USD only)", path=where)
    cents = _decimal(result.get("amount"), "amount", where)
    return BillRow(
        day,
        "anthropic",
        _model(result),
        COST,
        usd=cents / CENTS,
        cost_type=str(result.get("cost_type") or "tokens"),
    )


def _openai_costs(result: Mapping[str, Any], day: date, where: str) -> BillRow:
    amount = result.get("amount")
    if not isinstance(amount, Mapping):
        raise CostlogError("`amount` must be {value, currency}", path=where)
    currency = str(amount.get("currency") or "usd").lower()
    if currency != "usd":
        raise CostlogError(f"currency {currency} is not supported (USD only)", path=where)
    dollars = _decimal(amount.get("value"), "amount.value", where)
    line_item = str(result.get("line_item") or "")
    model = line_item.split(",")[0].strip() or None
    return BillRow(day, "openai", model, COST, usd=dollars)


def _openai_usage(result: Mapping[str, Any], day: date, where: str) -> BillRow:
    inclusive = _int(result, "input_tokens", where)
    cached = _int(result, "input_cached_tokens", where)
    if cached > inclusive:
        raise CostlogError(
            f"`input_cached_tokens` {cached} exceeds `input_tokens` {inclusive}", path=where
        )
    usage = Usage(
        input=inclusive - cached, cache_read=cached, output=_int(result, "output_tokens", where)
    )
    return BillRow(day, "openai", _model(result), USAGE, usage=usage)


_RESULT = {
    "anthropic-usage": _anthropic_usage,
    "anthropic-cost": _anthropic_cost,
    "openai-costs": _openai_costs,
    "openai-usage": _openai_usage,
}


def _analytics(item: Mapping[str, Any], label: str) -> Iterator[tuple[str, str, BillRow]]:
    day = _iso_day(item.get("date"), f"{label}.date")
    breakdown = item.get("model_breakdown")
    if not isinstance(breakdown, list):
        raise CostlogError("`model_breakdown` must be a list", path=label)
    actor = json.dumps(item.get("actor"), sort_keys=True, default=str)
    for m, model in enumerate(breakdown):
        where = f"{label}.model_breakdown[{m}]"
        if not isinstance(model, Mapping):
            raise CostlogError("expected an object", path=where)
        tokens = model.get("tokens") or {}
        cost = model.get("estimated_cost") or {}
        if not isinstance(tokens, Mapping) or not isinstance(cost, Mapping):
            raise CostlogError("`tokens` and `estimated_cost` must be objects", path=where)
        usage = Usage(
            input=_int(tokens, "input", where),
            output=_int(tokens, "output", where),
            cache_read=_int(tokens, "cache_read", where),
            cache_write_5m=_int(tokens, "cache_creation", where),
        )
        usd = (
            _decimal(cost.get("amount"), "estimated_cost.amount", where) / CENTS
            if "amount" in cost
            else None
        )
        key = f"cca|{item.get('date')}|{actor}|{json.dumps(model, sort_keys=True, default=str)}"
        yield (
            where,
            key,
            BillRow(day, "anthropic", _model(model), PROVIDER_ESTIMATE, usd=usd, usage=usage),
        )


# ---------------------------------------------------------------- CSV

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
        usd = _decimal(text, "cost", f"{where}:{line}")
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
        return _iso_day(text if "T" in text or " " in text else text[:10], where)
    except CostlogError:
        raise CostlogError(f"date {text!r} is not YYYY-MM-DD", path=where, line=line) from None
