"""API JSON exports: pages as the admin APIs return them, read into rows.

A file may hold one page (`{"data": [...], "has_more": ...}`), a list of pages, or one page
per line (JSONL). Numbers are read as Decimal. The file's shape is detected from its
content; every bucket is put on its UTC day (`starting_at` / `start_time`), so 1m and 1h
buckets add up to their day. A result repeated by overlapping pages is counted once.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from costlog.errors import CostlogError
from costlog.reconcile import anthropic_export, openai_export
from costlog.reconcile.rows import BillRow, Export, iso_day, unix_day

_RESULT: dict[str, Callable[[Mapping[str, Any], date, str], BillRow]] = {
    "anthropic-usage": anthropic_export.usage_result,
    "anthropic-cost": anthropic_export.cost_result,
    "openai-costs": openai_export.costs_result,
    "openai-usage": openai_export.usage_result,
}


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


def read_json(text: str, where: str) -> Export:
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
        yield from anthropic_export.analytics_record(item, label)
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
        return iso_day(item["starting_at"], f"{label}.starting_at")
    if "start_time" in item:
        return unix_day(item["start_time"], f"{label}.start_time")
    raise CostlogError("bucket without `starting_at` or `start_time`", path=label)
