"""Dates and times given on the command line: ISO 8601 or relative words."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo

_AGO = re.compile(r"(\d+)\s*(d|day|days|w|week|weeks|h|hour|hours)(?:\s+ago)?\Z")


def parse_when(text: str, tz: tzinfo = UTC, *, today: date | None = None) -> datetime:
    """`2026-11-20`, `2026-11-20T09:00:00Z`, `today`, `yesterday`, `7d`, `2 weeks ago`.

    A bare date means the start of that day in `tz`. Naive times are taken in `tz`.
    """
    word = text.strip().lower()
    base = today or datetime.now(tz).date()
    midnight = datetime.combine(base, time(), tz)
    if word == "today":
        return midnight.astimezone(UTC)
    if word == "yesterday":
        return (midnight - timedelta(days=1)).astimezone(UTC)
    if word == "now":
        return datetime.now(UTC).replace(microsecond=0)
    match = _AGO.match(word)
    if match:
        n, unit = int(match.group(1)), match.group(2)[0]
        if unit == "h":
            return datetime.now(UTC).replace(microsecond=0) - timedelta(hours=n)
        days = n * 7 if unit == "w" else n
        return (midnight - timedelta(days=days)).astimezone(UTC)
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"not a date or time: {text!r} (use 2026-11-20, "
                         "2026-11-20T09:00:00Z, today, yesterday or 7d)") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    return value.astimezone(UTC)


def zone(name: str) -> tzinfo:
    """An IANA time zone; ConfigError (exit 1) naming it when unknown."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from costlog.errors import ConfigError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"unknown time zone {name!r}", hint="use an IANA name such as "
                          "Europe/Berlin or UTC") from None
