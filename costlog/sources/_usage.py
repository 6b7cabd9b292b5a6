"""The limits a logged token count must keep, and the checks every adapter applies to one.

A count in an agent log is trusted only if it is a plain non-negative integer (not a
boolean, not a float, not a string) no larger than a limit. A number past the limit is a
corrupt line or a forged one, not usage: counting it would put an absurd amount in the
ledger. The same limits hold for every log format.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: tokens one request may read or write: no model reads or writes 20M tokens in one call,
#: so a larger count is corrupt data (read at call time by `count`, so a test may raise it)
MAX_TOKENS = 20_000_000
#: a running total over a whole session may be large, but not this large
MAX_TOTAL_TOKENS = 10**12


class BadUsage(ValueError):
    """A usage object whose numbers cannot be trusted (the caller warns and skips it)."""


def token_count(value: object, limit: int = MAX_TOKENS) -> int | None:
    """`value` when it is a token count: a non-negative int (not a bool) at most `limit`;
    else None."""
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if 0 <= value <= limit else None


def count_problem(value: object, limit: int | None = None) -> str | None:
    """Why `value` is not a token count at most `limit` (MAX_TOKENS when not given), as
    the end of a sentence naming the field; None when it is one."""
    if isinstance(value, bool) or not isinstance(value, int):
        return f"is not an integer: {value!r}"
    if value < 0:
        return f"is negative: {value}"
    if value > (MAX_TOKENS if limit is None else limit):
        return f"is absurd: {value}"
    return None


def count(obj: Mapping[str, Any], *path: str) -> int:
    """The token count at `path` in `obj`: missing or null is 0; anything that is not a
    count (see `count_problem`) raises BadUsage naming the dotted path."""
    value: Any = obj
    for key in path:
        if not isinstance(value, Mapping):
            return 0
        value = value.get(key)
    if value is None:
        return 0
    problem = count_problem(value)
    if problem is not None:
        raise BadUsage(f"{'.'.join(path)} {problem}")
    return int(value)


def check_cached(total: int, cached: int, what: str) -> int:
    """`total - cached` for formats whose input count includes the cached part; BadUsage
    when the cached part is larger than its whole."""
    if cached > total:
        raise BadUsage(f"cached tokens ({cached}) exceed {what} ({total})")
    return total - cached
