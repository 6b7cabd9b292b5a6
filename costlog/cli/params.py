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


def time_zone(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """An IANA time zone name (checked here, so a typo is a usage error)."""
    if value is None:
        return None
    from costlog.errors import CostlogError
    from costlog.timeutil import zone

    try:
        zone(value)
    except CostlogError as exc:
        raise click.BadParameter(exc.one_line()) from None
    return value


def agent_names(
    ctx: click.Context, param: click.Parameter, value: tuple[str, ...]
) -> tuple[str, ...]:
    """Agent names with a log adapter (`--agent`, repeatable)."""
    if not value:
        return value
    from costlog import sources

    if all(sources.is_builtin(name) for name in value):
        return value  # the plug-in look-up (importlib.metadata) costs ~50 ms at start-up
    known = sources.names()
    for name in value:
        if name not in known:
            raise click.BadParameter(f"unknown agent {name!r} (known: {', '.join(known)})")
    return value


def window(since: datetime | None, until: datetime | None) -> None:
    """`--since` must come before `--until`: the other way round nothing can match."""
    if since is not None and until is not None and since >= until:
        raise click.UsageError(
            f"--since ({since.isoformat()}) is not before --until ({until.isoformat()})"
        )


def one_format(**flags: bool) -> None:
    """At most one output format (`--json`, `--csv`) may be given."""
    given = [f"--{name}" for name, on in flags.items() if on]
    if len(given) > 1:
        raise click.UsageError(f"{' and '.join(given)} exclude each other: give one")


TOKENS = click.IntRange(min=0)


def warn(line: str) -> None:
    click.echo(f"costlog: warning: {line}", err=True)


def warn_lines(lines: list[str], limit: int = 5) -> None:
    """The first `limit` warnings, then how many more (a scan may meet thousands). Each
    distinct line once: two readers (or two passes) meeting one problem say it once."""
    lines = list(dict.fromkeys(lines))
    for line in lines[:limit]:
        warn(line)
    if len(lines) > limit:
        click.echo(f"costlog: warning: ... and {len(lines) - limit} more problems", err=True)


def progress(message: str) -> None:
    """One progress line on stderr, overwritten by the next."""
    click.echo(f"\r\033[K{message}", nl=False, err=True)
