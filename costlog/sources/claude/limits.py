"""Rate limits from Claude Code's status-line input, the one place Claude Code gives them.

Claude Code's transcripts carry no rate-limit or plan field (docs/plans.md says what was
looked at). The JSON a `statusLine` command reads on stdin carries, for Claude.ai
subscribers (Pro, Max) and once the session has had its first API response,
`rate_limits.five_hour` and `rate_limits.seven_day`, each `{used_percentage, resets_at}`
(epoch seconds). Nothing else is known: the plan itself is not named there, so it comes
from the config (`plans:`).

Light on purpose: the status line runs on every render of Claude Code's prompt.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from costlog.models import LimitWindow, RateLimits

#: the windows by the names Claude Code gives them, and their length in minutes
WINDOWS = (("five_hour", "primary", 300), ("seven_day", "secondary", 10080))
_MAX_EPOCH = 17_000_000_000


def _window(raw: Any, minutes: int) -> LimitWindow | None:
    if not isinstance(raw, Mapping):
        return None
    used = raw.get("used_percentage")
    if isinstance(used, bool) or not isinstance(used, int | float):
        return None
    try:
        pct = Decimal(str(used))
    except InvalidOperation:
        return None
    if not pct.is_finite() or not 0 <= pct <= 1000:
        return None
    resets = raw.get("resets_at")
    when = None
    if isinstance(resets, int) and not isinstance(resets, bool) and 0 <= resets <= _MAX_EPOCH:
        when = datetime.fromtimestamp(resets, UTC)
    return LimitWindow(pct, minutes, when)


def from_statusline(data: Mapping[str, Any]) -> RateLimits | None:
    """The 5-hour and weekly usage the status-line input reports, or None without any
    (an API-key session, or before the first response): never a guess."""
    raw = data.get("rate_limits")
    if not isinstance(raw, Mapping):
        return None
    out = RateLimits()
    for name, slot, minutes in WINDOWS:
        setattr(out, slot, _window(raw.get(name), minutes))
    if out.primary is None and out.secondary is None:
        return None
    return out
