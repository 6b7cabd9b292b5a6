"""What every bill export is read into: `BillRow`s of one `Export`, and the value readers
the formats share.

A row's `kind` says how its billed number was obtained: the provider's cost report (what
the bill says), billed token counts (priced later with costlog's table), or Claude Code
analytics' own estimate. Amounts are Decimal, never float; every day is a UTC day.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
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


def iso_day(value: Any, where: str) -> date:
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise CostlogError(f"not an RFC 3339 time: {value!r}", path=where) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).date()


def unix_day(value: Any, where: str) -> date:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise CostlogError(f"not Unix seconds: {value!r}", path=where)
    return datetime.fromtimestamp(int(value), UTC).date()


def token_count(result: Mapping[str, Any], key: str, where: str) -> int:
    value = result.get(key, 0)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise CostlogError(f"`{key}` must be a token count, not {value!r}", path=where)
    return value


def decimal_value(value: Any, key: str, where: str) -> Decimal:
    if isinstance(value, bool):
        value = None
    try:
        amount = Decimal(str(value)) if isinstance(value, str | int | Decimal) else None
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite():
        raise CostlogError(f"`{key}` must be a decimal number, not {value!r}", path=where)
    return amount


def model_of(result: Mapping[str, Any], key: str = "model") -> str | None:
    value = result.get(key)
    return str(value) if value else None
