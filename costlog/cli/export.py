"""Commands over many repositories: `export` (rows for an engine or a warehouse) and
`query` (DuckDB over those rows), and the `--repo` / `--repos-from` options they share
with `report`."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from costlog.cli import params

if TYPE_CHECKING:
    from costlog.commands.repos import Source

F = TypeVar("F", bound=Callable[..., Any])


def repo_options(command: F) -> F:
    """`--repo PATH` (repeatable, globs) and `--repos-from FILE`."""
    command = click.option(
        "--repos-from",
        type=click.Path(dir_okay=False, path_type=Path),
        help="A file naming one repository (path or glob) a line; # comments; "
        "relative paths are relative to the file.",
    )(command)
    return click.option(
        "--repo",
        "repos",
        multiple=True,
        metavar="PATH",
        help="A repository to read instead of the current one (repeatable; globs and ~ "
        "expanded). A session in several of them counts once.",
    )(command)


def chosen(repos: tuple[str, ...], repos_from: Path | None) -> list[Source]:
    from costlog.commands import repos as repos_mod

    return repos_mod.sources(repos, repos_from)


@click.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["jsonl", "csv", "parquet"]),
    default="jsonl",
    show_default=True,
)
@repo_options
@click.option("--since", callback=params.when, help="Sessions started from this date/time.")
@click.option("--until", callback=params.when, help="Sessions started before this date/time.")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write here (replaced whole) instead of standard output; Parquet needs it.",
)
def export(
    fmt: str,
    repos: tuple[str, ...],
    repos_from: Path | None,
    since: datetime | None,
    until: datetime | None,
    output: Path | None,
) -> None:
    """One row per session x model, for a query engine or a warehouse (docs/export.md)."""
    from costlog.commands import export as export_mod
    from costlog.commands import repos as repos_mod

    params.window(since, until)
    if fmt == "parquet" and output is None:
        raise click.UsageError("Parquet is binary: give --output FILE")
    loaded = repos_mod.load(chosen(repos, repos_from), since, until)
    count = export_mod.export(loaded, fmt, output, sys.stdout)
    if output is not None:
        shared = f"; {loaded.shared} shared copies counted once" if loaded.shared else ""
        click.echo(f"costlog: {count} rows to {output}{shared}", err=True)


@click.command()
@click.argument("sql")
@repo_options
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
)
def query(sql: str, repos: tuple[str, ...], repos_from: Path | None, fmt: str) -> None:
    """Run SQL (DuckDB) over the export of the repositories: the table is `sessions`."""
    from costlog.commands import query as query_mod
    from costlog.commands import repos as repos_mod

    loaded = repos_mod.load(chosen(repos, repos_from))
    names, found = query_mod.query(loaded, sql)
    if not names:
        return
    if fmt == "json":
        click.echo(query_mod.to_json(names, found))
    elif fmt == "csv":
        click.echo(query_mod.to_csv(names, found), nl=False)
    else:
        click.echo(query_mod.to_table(names, found))
