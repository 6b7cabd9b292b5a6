"""Anthropic's exports: the usage report, the cost report and Claude Code analytics.

* Usage report (`/v1/organizations/usage_report/messages`, 1m/1h/1d buckets): results with
  `uncached_input_tokens`; token counts, `cache_creation` split by TTL, and a
  `context_window` of `200k-1M` for long-context requests.
* Cost report (`/v1/organizations/cost_report`, 1d): results with `amount` and `currency`;
  `amount` is a decimal string in **cents**.
* Claude Code analytics (`/v1/organizations/usage_report/claude_code`): records with
  `model_breakdown`; `estimated_cost.amount` in **cents** (Anthropic's estimate, not a bill).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import date
from typing import Any

from costlog.errors import CostlogError
from costlog.models import Usage
from costlog.reconcile.rows import (
    CENTS,
    COST,
    PROVIDER_ESTIMATE,
    USAGE,
    BillRow,
    decimal_value,
    iso_day,
    model_of,
    token_count,
)


def usage_result(result: Mapping[str, Any], day: date, where: str) -> BillRow:
    creation = result.get("cache_creation") or {}
    if not isinstance(creation, Mapping):
        raise CostlogError("`cache_creation` must be an object", path=where)
    usage = Usage(
        input=token_count(result, "uncached_input_tokens", where),
        output=token_count(result, "output_tokens", where),
        cache_read=token_count(result, "cache_read_input_tokens", where),
        cache_write_5m=token_count(creation, "ephemeral_5m_input_tokens", where),
        cache_write_1h=token_count(creation, "ephemeral_1h_input_tokens", where),
    )
    return BillRow(
        day,
        "anthropic",
        model_of(result),
        USAGE,
        usage=usage,
        long_context=str(result.get("context_window") or "").startswith("200k"),
    )


def cost_result(result: Mapping[str, Any], day: date, where: str) -> BillRow:
    currency = str(result.get("currency") or "USD").upper()
    if currency != "USD":
        raise CostlogError(f"currency {currency} is not supported (USD only)", path=where)
    cents = decimal_value(result.get("amount"), "amount", where)
    return BillRow(
        day,
        "anthropic",
        model_of(result),
        COST,
        usd=cents / CENTS,
        cost_type=str(result.get("cost_type") or "tokens"),
    )


def analytics_record(item: Mapping[str, Any], label: str) -> Iterator[tuple[str, str, BillRow]]:
    day = iso_day(item.get("date"), f"{label}.date")
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
            input=token_count(tokens, "input", where),
            output=token_count(tokens, "output", where),
            cache_read=token_count(tokens, "cache_read", where),
            cache_write_5m=token_count(tokens, "cache_creation", where),
        )
        usd = (
            decimal_value(cost.get("amount"), "estimated_cost.amount", where) / CENTS
            if "amount" in cost
            else None
        )
        key = f"cca|{item.get('date')}|{actor}|{json.dumps(model, sort_keys=True, default=str)}"
        yield (
            where,
            key,
            BillRow(day, "anthropic", model_of(model), PROVIDER_ESTIMATE, usd=usd, usage=usage),
        )
