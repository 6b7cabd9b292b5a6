"""Issue 15, items 3 and 10: one money rule everywhere, and rounded tables that add up.

The ledger below is the issue's case: $2.335 + $2.335 + $2.31 = $6.98, which rounded row by
row reads $2.34 + $2.34 + $2.31 = $6.99 under a $6.98 total. Largest-remainder rounding
gives the first $2.34 and the second $2.33 (equal remainders: the earlier row wins).
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest

from costlog.money import cents_adding_up, format_usd
from tests_support import run

CENTS = re.compile(r"\$(\d[\d,]*\.\d\d)\b")


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        (None, "unpriced"),
        ("0", "$0.00"),
        ("0.0000097", "$0.0000097"),  # the 9.7k-token session that read $0.0000
        ("0.0037", "$0.0037"),
        ("0.004", "$0.0040"),
        ("0.00996", "$0.01"),  # two significant digits round it up to a cent
        ("0.015", "$0.02"),  # half up, not to even
        ("0.05", "$0.05"),
        ("1234.5", "$1,234.50"),
        ("-0.2", "-$0.20"),
    ],
)
def test_one_rule_for_every_amount(amount: str | None, shown: str) -> None:
    assert format_usd(None if amount is None else Decimal(amount)) == shown


def test_largest_remainder_rows_sum_to_the_rounded_total() -> None:
    rows = [Decimal("2.335"), Decimal("2.335"), Decimal("2.31")]
    assert [format_usd(r) for r in rows] == ["$2.34", "$2.34", "$2.31"]  # $6.99: the bug
    shown = cents_adding_up(rows)
    assert shown == [Decimal("2.34"), Decimal("2.33"), Decimal("2.31")]
    assert sum(shown) == Decimal("6.98")


def _record(cost: str, started: str, *extra: str) -> str:
    return run(
        "record", "--model", "claude-sonnet-4-6", "--cost", cost, "--started", started, *extra
    )


def _block(text: str, name: str) -> str:
    return text.split(f"<!-- costlog:begin {name} -->")[1].split(f"<!-- costlog:end {name} -->")[0]


def _cents(cell: str) -> Decimal:
    """The cents a cell shows; `<$0.01` is a row whose share is no whole cent: 0."""
    found = None if cell.strip().startswith("<") else CENTS.search(cell)
    return Decimal(found.group(1).replace(",", "")) if found else Decimal(0)


@pytest.fixture
def ledger(repo: Path) -> str:
    _record("2.335", "2026-10-01T10:00:00Z", "--work-item", "WRK-1")
    _record("2.335", "2026-11-01T10:00:00Z", "--work-item", "WRK-2")
    _record("2.31", "2026-12-01T10:00:00Z")
    out = run(
        "record", "--model", "claude-haiku-4-5", "--cost", "0.0037",
        "--started", "2026-12-01T11:00:00Z", "--work-item", "WRK-3",
    )  # fmt: skip
    assert out.rstrip().endswith("$0.0037 (manual)")  # record's line: the same rule
    return (repo / "COST_LOG.md").read_text()


def test_monthly_rows_add_up_to_the_total_shown(ledger: str) -> None:
    assert "**4 sessions, $6.98 in total**" in ledger
    rows = [line for line in _block(ledger, "monthly").splitlines() if line.startswith("| 2026")]
    totals = [_cents(line.split(" | ")[3]) for line in rows]
    # Dec, Nov, Oct: of the two tied months the earlier one keeps the cent, in any order
    assert totals == [Decimal("2.31"), Decimal("2.33"), Decimal("2.34")]
    assert sum(totals) == Decimal("6.98")


def test_work_item_rows_and_the_no_work_item_line_add_up(ledger: str) -> None:
    block = _block(ledger, "work-items")
    rows = {
        line.split(" | ")[0].strip("| "): line.split(" | ")[2]
        for line in block.splitlines()
        if line.startswith("| WRK-")
    }
    assert rows == {"WRK-1": "$2.34", "WRK-2": "$2.33", "WRK-3": "<$0.01"}
    none = re.search(r"1 session names no work item: (\$[\d.]+)\.", block)
    assert none is not None and none.group(1) == "$2.31"
    assert sum(_cents(c) for c in rows.values()) + _cents(none.group(1)) == Decimal("6.98")


def test_a_cost_under_a_cent_never_reads_zero(ledger: str) -> None:
    sessions = _block(ledger, "sessions")
    [haiku] = [line for line in sessions.splitlines() if "haiku" in line]
    assert "$0.0037 manual" in haiku
    # wherever the Haiku session is counted, it is never $0.00 (only empty columns are)
    for line in ledger.splitlines():
        if "Haiku" in line or "haiku" in line:
            assert not re.search(r"\| 1 \| \$0\.00 |\$0\.0000", line), line
