"""The numbers one transcript line's usage carries, checked before they are counted.

A count is trusted only if it is a plain non-negative integer no larger than the shared
per-request limit: a negative, non-integer or absurd count is a corrupt line, so the whole
line is rejected with a warning that names the field. Absent and null counts are 0.
Cache writes are kept apart by lifetime (5-minute and 1-hour) from `usage.cache_creation`;
without that split all of `cache_creation_input_tokens` is a 5-minute write.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from costlog.sources._usage import MAX_TOKENS as MAX_TOKENS  # also `linestruct`'s limit

#: (input, output, cache_read, write_5m, write_1h, reasoning)
Numbers = tuple[int, int, int, int, int, int]

#: `usage.speed` values, stored as their index (0: not logged)
SPEEDS = (None, "standard", "fast", "priority")
#: the field each checked value comes from, in the order they are checked
_FIELDS = (
    "input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
    "ephemeral_5m_input_tokens",
    "ephemeral_1h_input_tokens",
    "thinking_tokens",
)


def usage_numbers(usage: Mapping[str, Any]) -> Numbers | str:
    """The counts of one usage object (a line's `message.usage`, or one advisor step of
    `usage.iterations[]`), or why the line is rejected."""
    if "input_tokens" not in usage and "output_tokens" not in usage:
        return "usage without input_tokens/output_tokens"
    get = usage.get
    write = get("cache_creation_input_tokens")
    split = get("cache_creation")
    if type(split) is dict and (
        "ephemeral_5m_input_tokens" in split or "ephemeral_1h_input_tokens" in split
    ):
        five, hour = split.get("ephemeral_5m_input_tokens"), split.get("ephemeral_1h_input_tokens")
    else:
        five, hour = write, 0
    details = get("output_tokens_details")
    return checked_counts(
        [
            get("input_tokens"),
            get("output_tokens"),
            get("cache_read_input_tokens"),
            write,
            five,
            hour,
            details.get("thinking_tokens") if type(details) is dict else 0,
        ]
    )


def checked_counts(values: list[Any]) -> Numbers | str:
    """The counts (input, output, cache read, cache write, of which 5m and 1h, thinking)
    as Numbers, or why the line is rejected; None counts as 0 (`values` is changed)."""
    for i, value in enumerate(values):
        if type(value) is int:  # not a bool: True is no token count
            if 0 <= value <= MAX_TOKENS:
                continue
            return f"{_FIELDS[i]}={value} is out of range"
        if value is None:
            values[i] = 0
            continue
        return f"{_FIELDS[i]} is a {type(value).__name__}, not a token count"
    return values[0], values[1], values[2], values[4], values[5], values[6]


def speed_code(usage: Mapping[str, Any]) -> int:
    """`usage.speed` as its index in SPEEDS (0 when absent or unknown)."""
    return speed_index(usage.get("speed"))


def speed_index(value: Any) -> int:
    """A `speed` value as its index in SPEEDS (0 when absent or unknown)."""
    return SPEEDS.index(value) if value in SPEEDS[1:] else 0


def logged_cost(value: Any) -> str | None:
    """An old transcript's `costUSD`, kept as its repr; None when it is not a cost."""
    # NaN, Infinity and 1e400 (inf) are corrupt numbers, not costs
    if (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and 0 <= value < float("inf")
    ):
        return repr(value)
    return None
