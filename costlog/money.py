"""How every view writes an amount of money: one rule, so a cost reads the same in
COST_LOG.md, `report`, `scan`, `pr-summary` and `record`'s line (docs/money.md).

- Always a `$`; whole cents, rounded half up, with thousands separators, from one cent up.
- Below a cent, two significant digits (`$0.0037`), so a session that cost something never
  reads `$0.00`; only zero does.
- No price at all reads `unpriced`, never `$0`.

Tables whose rows add up to a shown total round the rows with `cents_adding_up` instead,
so that the cents shown add up to the total shown; ties go by each row's key, so a row
reads the same in every view and order (`format_rows_usd` for a table's cost cells).

Only `decimal` is imported: `record`'s line is printed from the git hooks.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
UNPRICED = "unpriced"
#: what a row shows when it cost something but its share of the rounded total is $0.00
UNDER_A_CENT = "<$0.01"


def format_usd(amount: Decimal | None) -> str:
    """`$1,234.50`, `$0.05`, `$0.0037`, `$0.00` (zero only), `-$0.20`, `unpriced` (None)."""
    if amount is None:
        return UNPRICED
    value = Decimal(amount)
    if not value.is_finite():
        return UNPRICED
    sign = "-" if value < 0 else ""
    value = abs(value)
    if value == 0:
        return "$0.00"
    if value < CENT:
        # two significant digits; 0.00996 rounds to a cent and is written as one
        digits = value.quantize(Decimal(1).scaleb(value.adjusted() - 1), rounding=ROUND_HALF_UP)
        if digits < CENT:
            return f"{sign}${format(digits, 'f')}"
    return f"{sign}${value.quantize(CENT, rounding=ROUND_HALF_UP):,.2f}"


def cents(amount: Decimal) -> Decimal:
    """An amount rounded half up to whole cents, as `format_usd` shows it from a cent up."""
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


def cents_adding_up(
    amounts: Sequence[Decimal], total: Decimal | None = None, keys: Sequence[str] | None = None
) -> list[Decimal]:
    """Each amount in whole cents such that they sum to the total in cents (largest
    remainder): every amount is first rounded down to a cent, then the cents still missing
    go one each to the amounts that lost the most. Ties go by the rows' `keys` (a month, a
    work item), not by their place in the table, so a row reads the same however the
    table is sorted (`--order`) and wherever it is shown; without keys, to the earlier row.
    The total defaults to the amounts' own sum; a table showing it under its rows then adds
    up."""
    values = [Decimal(a) for a in amounts]
    names = list(keys) if keys is not None else [""] * len(values)
    whole = sum(values, Decimal(0)) if total is None else Decimal(total)
    target = int(cents(whole) / CENT)
    floors = [int((v / CENT).to_integral_value(rounding=ROUND_FLOOR)) for v in values]
    order = sorted(range(len(values)), key=lambda i: (floors[i] - values[i] / CENT, names[i], i))
    missing = target - sum(floors)
    if order and missing > 0:
        for n in range(missing):
            floors[order[n % len(order)]] += 1
    for i in reversed(order):  # a total below the rows' floors: take back from the least lost
        if missing >= 0:
            break
        take = min(max(floors[i], 0), -missing)
        floors[i] -= take
        missing += take
    return [Decimal(f) * CENT for f in floors]


def format_rows_usd(
    amounts: Sequence[Decimal], total: Decimal, keys: Sequence[str] | None = None
) -> list[str]:
    """The cost cells of a table whose rows add up to `total`, as it is shown under them.

    Rows are rounded together (`cents_adding_up`) only where that is needed and can work:
    a lone row, or rows under a total below a cent (which `format_usd` shows to two
    significant digits), read exactly as the total does, each by `format_usd`."""
    values = [Decimal(a) for a in amounts]
    if len(values) <= 1 or abs(Decimal(total)) < CENT:
        return [format_usd(v) for v in values]
    shown = cents_adding_up(values, total, keys)
    return [format_row_usd(s, v) for s, v in zip(shown, values, strict=True)]


def format_row_usd(shown: Decimal, amount: Decimal | None) -> str:
    """A table row rounded by `cents_adding_up`: its cents, or `<$0.01` when the row cost
    something yet its share of the rounded total is no whole cent."""
    if amount is None:
        return UNPRICED
    if Decimal(shown) == 0 and Decimal(amount) != 0:
        return UNDER_A_CENT
    return format_usd(Decimal(shown))
