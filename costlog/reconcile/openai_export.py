"""OpenAI's exports: organization costs and completions usage.

* Costs (`/v1/organization/costs`): results with `amount: {value, currency}`; `value` in
  **dollars**; the model is the first part of `line_item`.
* Completions usage (`/v1/organization/usage/completions`): results with
  `input_cached_tokens`; `input_tokens` **includes** the cached ones, so costlog's uncached
  input is their difference.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from costlog.errors import CostlogError
from costlog.models import Usage
from costlog.reconcile.rows import COST, USAGE, BillRow, decimal_value, model_of, token_count


def costs_result(result: Mapping[str, Any], day: date, where: str) -> BillRow:
    amount = result.get("amount")
    if not isinstance(amount, Mapping):
        raise CostlogError("`amount` must be {value, currency}", path=where)
    currency = str(amount.get("currency") or "usd").lower()
    if currency != "usd":
        raise CostlogError(f"currency {currency} is not supported (USD only)", path=where)
    dollars = decimal_value(amount.get("value"), "amount.value", where)
    line_item = str(result.get("line_item") or "")
    model = line_item.split(",")[0].strip() or None
    return BillRow(day, "openai", model, COST, usd=dollars)


def usage_result(result: Mapping[str, Any], day: date, where: str) -> BillRow:
    inclusive = token_count(result, "input_tokens", where)
    cached = token_count(result, "input_cached_tokens", where)
    if cached > inclusive:
        raise CostlogError(
            f"`input_cached_tokens` {cached} exceeds `input_tokens` {inclusive}", path=where
        )
    output = token_count(result, "output_tokens", where)
    usage = Usage(input=inclusive - cached, cache_read=cached, output=output)
    return BillRow(day, "openai", model_of(result), USAGE, usage=usage)
