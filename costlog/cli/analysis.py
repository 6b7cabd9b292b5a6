"""Commands that read without writing: `report`, `budget` and `anomalies` over the ledger,
and `scan` over the agents' own logs."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING

import click
from click.core import ParameterSource

from costlog.cli import params
from costlog.cli.export import chosen, repo_options

if TYPE_CHECKING:
    from costlog.blocks import Point
    from costlog.commands.repos import Loaded
    from costlog.commands.texttable import View
    from costlog.config import Config
    from costlog.models import Entry


def _entries(
    since: datetime | None = None, until: datetime | None = None
) -> tuple[Config, Sequence[Entry]]:
    from costlog.commands import report as report_mod
    from costlog.commands.context import repo_and_config

    repo, config = repo_and_config()
    return config, report_mod.load(repo, config, since, until)


def _terminal_options(command: Callable[..., None]) -> Callable[..., None]:
    """`--breakdown`, `--order`, `--compact`: how `scan` and `report` lay out their rows."""
    for option in reversed(
        [
            click.option("--breakdown", is_flag=True, help="Each row's models on lines under it."),
            click.option(
                "--order",
                type=click.Choice(["asc", "desc"]),
                help="Row order: asc = oldest (or cheapest) first, desc = newest (or "
                "costliest) first (default: dates ascending, other groups costliest first).",
            ),
            click.option(
                "--compact",
                is_flag=True,
                help="Fewer columns, for a narrow terminal (chosen by itself below 100 columns).",
            ),
        ]
    ):
        command = option(command)
    return command


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
            "block",
            "plan",
        ]
    ),
    default="month",
    show_default=True,
    help="block: 5-hour windows, each session placed whole at its start. plan: plan fees "
    "against the API-equivalent value, and rate-limit usage.",
)
@click.option(
    "--since", callback=params.when, help="From this date/time (2026-11-01, yesterday, 7d)."
)
@click.option("--until", callback=params.when, help="Before this date/time.")
@click.option(
    "--tz",
    callback=params.time_zone,
    help="Time zone for days, months and times, e.g. UTC (default: this machine's; "
    "COST_LOG.md keeps the config's).",
)
@_terminal_options
@click.option("--json", "as_json", is_flag=True, help="JSON: {by, totals, rows}.")
@click.option("--csv", "as_csv", is_flag=True, help="CSV, one row per group plus TOTAL.")
@click.option("--active", "only_active", is_flag=True, help="With --by block: the active one only.")
@click.option(
    "--session",
    "session_query",
    metavar="ID",
    help="Only this session: its id, the short id tables show, or a prefix (default --by model).",
)
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
    only_active: bool = False,
    session_query: str | None = None,
    breakdown: bool = False,
    order: str | None = None,
    compact: bool = False,
) -> None:
    """Spend from the ledger, grouped: the sessions and totals COST_LOG.md shows, with days
    and months in this machine's time zone (as scan, git and ccusage) unless --tz."""
    from costlog.commands import report as report_mod
    from costlog.commands.localzone import local_zone
    from costlog.commands.repos import load
    from costlog.timeutil import zone

    params.window(since, until)
    params.one_format(json=as_json, csv=as_csv)
    _blocks_only(by, only_active, breakdown)
    view_tz = zone(tz) if tz else local_zone()
    loaded = load(chosen(repos, repos_from), since, until)
    if session_query is not None:
        loaded, by = _one_session(loaded, session_query, by)
    if by == "block":
        from costlog.commands import blocks as blocks_mod

        entries = [e for _, part in loaded.parts for e in part]
        planned = blocks_mod.on_plan_ids([(s.config, e) for s, e in loaded.parts])
        points = blocks_mod.ledger_points(entries, planned)
        _show_blocks(points, only_active, as_json, as_csv, blocks_mod.LEDGER_BASIS, view_tz)
        return
    from costlog.commands import plans as plans_mod

    plan_parts = [(s.config, e, view_tz) for s, e in loaded.parts]
    if by == "plan":
        if as_csv:
            raise click.UsageError("--by plan has no CSV form: use --json")
        plan_data = plans_mod.as_json(plan_parts)
        click.echo(plans_mod.dumps(plan_data) if as_json else plans_mod.to_table(plan_data))
        return
    parts = [(s.label, e, view_tz) for s, e in loaded.parts]
    on_plan = plans_mod.on_plan(plan_parts)  # their cost is API-equivalent
    named = {i: p.name for i, p in on_plan.items()} if by == "session" else None
    ids = _ledger_ids(loaded) if by == "session" else []  # short ids as COST_LOG.md's
    data = report_mod.as_json_parts(
        parts, by, breakdown=breakdown, order=order, plans=named, ledger_ids=ids
    )
    if as_json:
        click.echo(report_mod.dumps(data))
    elif as_csv:
        click.echo(report_mod.to_csv(data), nl=False)
    else:
        click.echo(report_mod.to_table(data, _view(compact), view_tz))
        note = plans_mod.label_note(on_plan)
        if note:
            click.echo(note)


@click.command()
@click.option(
    "--fail-on",
    type=click.Choice(["warning", "review", "never"]),
    default="never",
    show_default=True,
    help="Exit 4 (for CI) on a spend alert (warning), or on that or a routing check (review).",
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
    callback=params.time_zone,
    help="Time zone for days, months and times, e.g. UTC (default: this machine's).",
)
@click.option(
    "--by",
    type=click.Choice(
        ["day", "week", "month", "session", "model", "project", "agent", "provider", "block"]
    ),
    default="day",
    show_default=True,
    help="block: 5-hour windows (ccusage `blocks` rules), burn rate, projection.",
)
@click.option("--active", "only_active", is_flag=True, help="With --by block: the active one only.")
@_terminal_options
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
    only_active: bool = False,
    breakdown: bool = False,
    order: str | None = None,
    compact: bool = False,
) -> None:
    """Usage and cost from the agents' own logs; writes no ledger."""
    from costlog.commands import scan as scan_mod
    from costlog.commands.localzone import local_zone
    from costlog.timeutil import zone

    params.window(since, until)
    params.one_format(json=as_json, csv=as_csv)
    _blocks_only(by, only_active, breakdown)
    options = scan_mod.Options(
        agents=agents,
        paths=paths,
        project=project,
        since=since,
        until=until,
        tz=zone(tz) if tz else local_zone(),
        by=by,
        breakdown=breakdown,
    )
    table, sessions, problems = scan_mod.inputs(options, otel)
    if by == "block":
        from costlog.commands import blocks as blocks_mod

        warnings: list[str] = []
        stream = (
            sessions if sessions is not None else scan_mod.sessions_for(options, warnings.append)
        )
        points = blocks_mod.scan_points(stream, table, options)
        block_tz = options.tz or zone("UTC")
        _show_blocks(points, only_active, as_json, as_csv, blocks_mod.SCAN_BASIS, block_tz)
        params.warn_lines(warnings + problems)
        return
    result = scan_mod.run(options, table, sessions)
    result.order = order
    if as_json:
        click.echo(scan_mod.to_json(result))
    elif as_csv:
        click.echo(scan_mod.to_csv(result), nl=False)
    else:
        click.echo(scan_mod.to_table(result, _view(compact)))
        if result.on_plan:  # the log names a plan: list prices are not what was paid
            n = len(result.on_plan)
            click.echo(
                f"{n} session{'s' if n != 1 else ''} ran on a subscription plan (the log says "
                "so): the cost shown is API-equivalent, not money paid"
            )
    params.warn_lines(result.warnings + problems)


def _view(compact: bool) -> View:
    """How this terminal shows a table: colour on a terminal unless NO_COLOR is set
    (no-color.org), its width, compact when asked or narrower than 100 columns, box
    characters where the output's encoding has them."""
    import os
    import shutil
    import sys

    from costlog.commands import texttable

    out = sys.stdout
    tty = out.isatty()
    width = shutil.get_terminal_size().columns if tty else None
    encoding = (getattr(out, "encoding", None) or "utf-8").lower().replace("-", "")
    return texttable.View(
        color=tty and not os.environ.get("NO_COLOR"),
        width=width,
        compact=compact or (width is not None and width < texttable.NARROW),
        unicode=encoding in ("utf8", "utf16", "utf32"),
    )


def _ledger_ids(loaded: Loaded) -> list[str]:
    """Every id of the sources' ledgers, from file names alone (~10 ms for 10,000)."""
    from costlog.analysis.shortids import ledger_ids
    from costlog.ledger.store import Ledger

    return [i for s, _ in loaded.parts for i in ledger_ids(Ledger(s.repo, s.config.ledger_dir))]


def _one_session(loaded: Loaded, query: str, by: str) -> tuple[Loaded, str]:
    """The repos' entries cut to the one session `--session` names; grouped by model unless
    `--by` says otherwise."""
    from dataclasses import replace

    from costlog.commands import report as report_mod

    every = [e for _, part in loaded.parts for e in part]
    hit = {e.id for e in report_mod.one_session(every, query)}
    parts = [(source, [e for e in part if e.id in hit]) for source, part in loaded.parts]
    source = click.get_current_context().get_parameter_source("by")
    return replace(loaded, parts=parts), ("model" if source is ParameterSource.DEFAULT else by)


def _blocks_only(by: str, only_active: bool, breakdown: bool) -> None:
    if only_active and by != "block":
        raise click.UsageError("--active goes with --by block")
    if by == "block" and breakdown:  # a window's models are listed in its JSON and CSV rows
        raise click.UsageError("--breakdown does not go with --by block: use --json or --csv")


def _show_blocks(
    points: Sequence[Point],
    only_active: bool,
    as_json: bool,
    as_csv: bool,
    basis: str,
    tz: tzinfo,
) -> None:
    from datetime import UTC
    from datetime import datetime as clock

    from costlog.commands import blocks as blocks_mod

    now = clock.now(UTC)
    found = blocks_mod.windows(points, only_active, now)
    if as_json:
        click.echo(blocks_mod.to_json(found, now, basis, tz))
    elif as_csv:
        click.echo(blocks_mod.to_csv(found, now, basis, tz), nl=False)
    elif not found:
        click.echo("no active 5-hour block" if only_active else "no usage in range")
    else:
        click.echo(blocks_mod.to_table(found, now, basis, tz))
