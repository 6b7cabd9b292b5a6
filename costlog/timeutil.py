"""Dates and times given on the command line: ISO 8601 or relative words."""

from __future__ import annotations

import re
from collections.abc import Callable
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
        raise ValueError(
            f"not a date or time: {text!r} (use 2026-11-20, "
            "2026-11-20T09:00:00Z, today, yesterday or 7d)"
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+05:00 is before year 1 in UTC
        raise ValueError(f"{text!r} is out of range") from None


def zone(name: str) -> tzinfo:
    """An IANA time zone; ConfigError (exit 1) naming it when unknown."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from costlog.errors import ConfigError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"unknown time zone {name!r}", hint="use an IANA name such as Europe/Berlin or UTC"
        ) from None


# ---------------------------------------------------------------- times read from logs

#: the years a log or ledger time may fall in. Anything else is a corrupt line: year 1 or
#: 9999 would overflow the moment it is shifted by a time zone or a time window, and no
#: agent ran before 1970.
FIRST_YEAR = 1970
LAST_YEAR = 2100
_EPOCH_MIN = datetime(FIRST_YEAR, 1, 1, tzinfo=UTC).timestamp()
_EPOCH_MAX = datetime(LAST_YEAR + 1, 1, 1, tzinfo=UTC).timestamp()
#: Unix times above this are milliseconds (as seconds they would be past the year 5000)
_MS_ABOVE = 1e11


def in_range(value: datetime) -> bool:
    """Whether an aware or naive datetime falls in FIRST_YEAR..LAST_YEAR."""
    return FIRST_YEAR <= value.year <= LAST_YEAR


def parse_log_time(value: object, *, naive: tzinfo | None = UTC) -> datetime | None:
    """A timestamp from an agent log as an aware UTC datetime, or None. Never raises.

    Takes ISO 8601 text (`Z` or an offset; a date and time with a space or a `T`) and Unix
    seconds or milliseconds. Naive times are taken in `naive` (None: the local zone, as
    aider writes them). None for anything unparseable or outside FIRST_YEAR..LAST_YEAR, so
    the caller can warn about that one line and go on.
    """
    if isinstance(value, str):
        return _from_text(value, naive)
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return from_epoch(value / 1000 if value > _MS_ABOVE else value)
        except OverflowError:  # an int too large for a float
            return None
    return None


#: what an adapter says about a line whose time it could not use
BAD_TIME = "timestamp is not a time in 1970-2100, ignored"


def log_time(value: object, where: str, warn: Callable[[str], None]) -> datetime | None:
    """`parse_log_time`, warning `<where>: ...` (file:line) when a time is there but
    unusable; an absent one (None, "") is no problem. The value itself is not repeated:
    it is log content."""
    when = parse_log_time(value)
    if when is None and value is not None and value != "":
        warn(f"{where}: {BAD_TIME}")
    return when


def from_epoch(seconds: float) -> datetime | None:
    """Unix seconds as an aware UTC datetime, or None outside the accepted years (or NaN)."""
    if not _EPOCH_MIN <= seconds < _EPOCH_MAX:  # False for NaN too
        return None
    return datetime.fromtimestamp(seconds, UTC)


def _from_text(text: str, naive: tzinfo | None) -> datetime | None:
    text = text.strip()
    if not 10 <= len(text) <= 40:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    if not in_range(value):  # before any shift: year 1 or 9999 would overflow below
        return None
    try:
        if value.tzinfo is None:
            value = value.replace(tzinfo=naive) if naive is not None else value.astimezone()
        value = value.astimezone(UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return value if in_range(value) else None
