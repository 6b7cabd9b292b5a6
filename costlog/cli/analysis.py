"""Commands that read without writing: `report`, `budget` and `anomalies` over the ledger,
and `scan` over the agents' own logs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from costlog.cli import params
from costlog.cli.export import chosen, repo_options

if TYPE_CHECKING:
    from costlog.config import Config
    from costlog.models import Entry


def _entries(
    since: datetime | None = None, until: datetime | None = None
) -> tuple[Config, Sequence[Entry]]:
    from costlog.commands import report as report_mod
    from costlog.commands.context import repo_and_config

    repo, config = repo_and_config()
    return config, report_mod.load(repo, config, since, until)


@click.command()
@click.option(
    "--by",
    type=click.Choice(
        [
            "day",
            "week",
            "month",
            "agent",
            "provider",
            "model",
            "work-item",
            "task-type",
            "session",
            "author",
            "machine",
            "repo",
        ]
    ),
    default="month",
    show_default=True,
)
@click.option(
    "--since", callback=params.when, help="From this date/time (2026-11-01, yesterday, 7d)."
)
@click.option("--until", callback=params.when, help="Before this date/time.")
@click.option(
    "--tz",
    callback=params.time_zone,
    help="Time zone for days and months (default: each repo's config's).",
)
@click.option("--json", "as_json", is_flag=True, help="JSON: {by, totals, rows}.")
@click.option("--csv", "as_csv", is_flag=True, help="CSV, one row per group plus TOTAL.")
@repo_options
def report(
    by: str,
    since: datetime | None,
    until: datetime | None,
    tz: str | None,
    as_json: bool,
    as_csv: bool,
    repos: tuple[str, ...] = (),
    repos_from: Path | None = None,
) -> None:
    """Spend from the ledger, grouped; the same numbers COST_LOG.md shows."""
    from costlog.commands import report as report_mod
    from costlog.commands.repos import load
    from costlog.timeutil import zone

    params.window(since, until)
    params.one_format(json=as_json, csv=as_csv)
    loaded = load(chosen(repos, repos_from), since, until)
    parts = [(s.label, e, zone(tz or s.config.timezone)) for s, e in loaded.parts]
    data = report_mod.as_json_parts(parts, by)
    if as_json:
        click.echo(report_mod.dumps(data))
    elif as_csv:
        click.echo(report_mod.to_csv(data), nl=False)
    else:
        click.echo(report_mod.to_table(data))


@click.command()
@click.option(
    "--fail-on",
    type=click.Choice(["warning", "never"]),
    default="never",
    show_default=True,
    help="Exit 4 when any alert is in this state (for CI).",
)
@click.option("--json", "as_json", is_flag=True)
def budget(fail_on: str, as_json: bool) -> None:
    """The budget alerts table (thresholds in .costlog/config.yaml)."""
    from costlog.commands import budget as budget_cmd

    config, entries = _entries()
    rows = budget_cmd.alerts(entries, config)
    if as_json:
        click.echo(budget_cmd.to_json(rows))
    elif rows:
        click.echo(budget_cmd.to_text(rows))
    budget_cmd.fail_on(rows, fail_on)


@click.command()
@click.option("--json", "as_json", is_flag=True)
def anomalies(as_json: bool) -> None:
    """Sessions costing more than the configured factor x the median, with likely causes."""
    from costlog.commands import anomalies as anomalies_cmd

    config, entries = _entries()
    rows = anomalies_cmd.find(entries, config)
    if as_json:
        click.echo(anomalies_cmd.to_json(rows))
    else:
        click.echo(anomalies_cmd.to_text(rows, config))


@click.command()
@click.option(
    "--agent",
    "agents",
    multiple=True,
    callback=params.agent_names,
    help="claude-code, codex, gemini, aider, opencode, llm, api (repeatable; default: all found).",
)
@click.option(
    "--path",
    "paths",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="A data dir (CLAUDE_CONFIG_DIR, CODEX_HOME, ...) or a single log file.",
)
@click.option(
    "--project",
    type=click.Path(file_okay=False, path_type=Path),
    help="Only sessions whose cwd is inside this directory.",
)
@click.option(
    "--since", callback=params.when, help="From this date/time (2026-11-01, 7d, yesterday)."
)
@click.option("--until", callback=params.when, help="Before this date/time.")
@click.option(
    "--tz",
    default="UTC",
    show_default=True,
    callback=params.time_zone,
    help="Time zone for days and months.",
)
@click.option(
    "--by",
    type=click.Choice(["day", "week", "month", "session", "model", "project"]),
    default="day",
    show_default=True,
)
@click.option("--json", "as_json", is_flag=True, help="JSON: {totals, rows}.")
@click.option("--csv", "as_csv", is_flag=True, help="CSV, one row per group plus TOTAL.")
@click.option(
    "--otel",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="COSTLOG_OTEL_FILE",
    help="Claude Code's OpenTelemetry events exported "
    "to this file (JSONL): exact per-request tokens and cost, auxiliary calls added.",
)
def scan(
    agents: tuple[str, ...],
    paths: tuple[Path, ...],
    project: Path | None,
    since: datetime | None,
    until: datetime | None,
    tz: str,
    by: str,
    as_json: bool,
    as_csv: bool,
    otel: Path | None = None,
) -> None:
    """Usage and cost from the agents' own logs; writes no ledger."""
    from costlog.commands import scan as scan_mod
    from costlog.timeutil import zone

    params.window(since, until)
    params.one_format(json=as_json, csv=as_csv)
    options = scan_mod.Options(
        agents=agents, paths=paths, project=project, since=since, until=until, tz=zone(tz), by=by
    )
    table, sessions, problems = scan_mod.inputs(options, otel)
    result = scan_mod.run(options, table, sessions)
    if as_json:
        click.echo(scan_mod.to_json(result))
    elif as_csv:
        click.echo(scan_mod.to_csv(result), nl=False)
    else:
        click.echo(scan_mod.to_table(result))
    params.warn_lines(result.warnings + problems)
