"""Option types and callbacks the commands share, and the shared ways of printing."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation

import click


def amount(ctx: click.Context, param: click.Parameter, value: str | None) -> Decimal | None:
    """A dollar amount (`1.25`, `$1.25`) costlog can store."""
    if value is None:
        return None
    try:
        money = Decimal(value.lstrip("$"))
    except InvalidOperation:
        raise click.BadParameter(f"{value!r} is not an amount") from None
    from costlog.ledger.format import MAX_COST

    if not money.is_finite() or money < 0 or money > MAX_COST:
        raise click.BadParameter(f"must be an amount from 0 to {MAX_COST:,}")
    return money


def when(ctx: click.Context, param: click.Parameter, value: str | None) -> datetime | None:
    """A date or time: ISO 8601, `yesterday`, `7d`, ..."""
    if value is None:
        return None
    from costlog.timeutil import parse_when

    try:
        return parse_when(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def started(ctx: click.Context, param: click.Parameter, value: str | None) -> datetime | None:
    """A start time costlog can store and read back: 1970-2100 (year 1 or 9999 would
    overflow the moment it is shown in a time zone)."""
    moment = when(ctx, param, value)
    from costlog.timeutil import FIRST_YEAR, LAST_YEAR, in_range

    if moment is not None and not in_range(moment):
        raise click.BadParameter(f"{value!r} is not between {FIRST_YEAR} and {LAST_YEAR}")
    return moment


TOKENS = click.IntRange(min=0)


def warn(line: str) -> None:
    click.echo(f"costlog: warning: {line}", err=True)


def warn_lines(lines: list[str], limit: int = 5) -> None:
    """The first `limit` warnings, then how many more (a scan may meet thousands)."""
    for line in lines[:limit]:
        warn(line)
    if len(lines) > limit:
        click.echo(f"costlog: warning: ... and {len(lines) - limit} more problems", err=True)


def progress(message: str) -> None:
    """One progress line on stderr, overwritten by the next."""
    click.echo(f"\r\033[K{message}", nl=False, err=True)
