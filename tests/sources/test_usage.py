"""One set of limits for logged token counts, and the checks every adapter applies."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import costlog.sources
from costlog.sources._usage import (
    MAX_TOKENS,
    BadUsage,
    check_cached,
    count,
    count_problem,
    token_count,
)


@pytest.mark.parametrize("value", [-1, 1.0, "5", True, None, MAX_TOKENS + 1])
def test_what_is_not_a_token_count(value: object) -> None:
    assert token_count(value) is None
    assert count_problem(value) is not None


def test_a_token_count() -> None:
    assert token_count(0) == 0 and token_count(MAX_TOKENS) == MAX_TOKENS
    assert token_count(10**9, limit=10**12) == 10**9
    assert count_problem(MAX_TOKENS) is None


def test_count_reads_a_path_and_names_it_when_bad() -> None:
    usage = {"details": {"cached": 3}, "input": None}
    assert count(usage, "details", "cached") == 3
    assert count(usage, "input") == 0 and count(usage, "missing", "deeper") == 0
    with pytest.raises(BadUsage, match=r"^details\.cached is negative: -1$"):
        count({"details": {"cached": -1}}, "details", "cached")
    with pytest.raises(BadUsage, match="is absurd: 20000001"):
        count({"n": 20_000_001}, "n")
    with pytest.raises(BadUsage, match="is not an integer: '7'"):
        count({"n": "7"}, "n")


def test_a_cached_part_is_never_larger_than_its_whole() -> None:
    assert check_cached(10, 4, "input_tokens") == 6
    with pytest.raises(BadUsage, match=r"cached tokens \(11\) exceed input_tokens \(10\)"):
        check_cached(10, 11, "input_tokens")


def test_no_adapter_defines_its_own_cap() -> None:
    """The 20M cap was defined four times under three names; now only here."""
    root = Path(costlog.sources.__file__).parent
    cap = re.compile(r"\b20_?000_?000\b")
    own = [p for p in root.rglob("*.py") if p.name != "_usage.py" and cap.search(p.read_text())]
    assert own == []
