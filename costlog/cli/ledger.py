"""Commands that write or check the ledger and COST_LOG.md: `render`, `check`, `backfill`,
`import`, `reprice`, and `pr-summary`, which reads what a branch added."""

from __future__ import annotations

import os
import sys
from datetime import datetime
from pathlib import Path

import click

from costlog.cli import params


@click.command()
@click.option(
    "--context",
    "show_context",
    is_flag=True,
    help="Print the JSON the template receives instead of rendering.",
)
def render(show_context: bool) -> None:
    """Regenerate COST_LOG.md from the ledger (also fixes a conflicted COST_LOG.md)."""
    from costlog.cli import held
    from costlog.commands import render as render_cmd
    from costlog.commands.context import repo_and_config

    repo, config = repo_and_config()
    if show_context:
        click.echo(render_cmd.context_json(repo, config))
        return
    click.echo(render_cmd.render(repo, config, held()))


@click.command()
def check() -> None:
    """Exit 3 if the ledger is invalid, a cost does not follow from its tokens and price
    table, or COST_LOG.md differs from what the ledger renders to."""
    from costlog.cli import held
    from costlog.commands import check as check_cmd
    from costlog.commands.context import repo_and_config

    repo, config = repo_and_config()
    notes: list[str] = []
    try:
        click.echo(check_cmd.check(repo, config, notes, held()))
    finally:  # shown when the check fails too, before its error
        for note in notes:
            click.echo(note, err=True)


@click.command("pr-summary")
@click.option(
    "--base", default="origin/main", show_default=True, help="The branch the PR merges into."
)
def pr_summary(base: str) -> None:
    """Markdown for a PR comment: sessions and cost this branch adds, by model and work item.

    Found from the ledger files the branch adds (not commit shas), so squash and rebase
    merges keep them.
    """
    from costlog.commands import prsummary
    from costlog.commands.context import repo_and_config

    repo, config = repo_and_config()
    click.echo(prsummary.summary(repo, config, base), nl=False)


@click.command()
@click.option(
    "--since", callback=params.when, help="Sessions from this date/time (2026-11-01, 30d)."
)
@click.option("--until", callback=params.when, help="Sessions started before this date/time.")
@click.option(
    "--agent",
    "agents",
    multiple=True,
    callback=params.agent_names,
    help="claude-code, codex, gemini, aider, "
    "opencode, llm, api, rundir (repeatable; default: all found).",
)
@click.option(
    "--dry-run", is_flag=True, help="Print what it would record and the totals; write nothing."
)
@click.option("--json", "as_json", is_flag=True, help="The summary as JSON.")
def backfill(
    since: datetime | None,
    until: datetime | None,
    agents: tuple[str, ...],
    dry_run: bool,
    as_json: bool,
) -> None:
    """Record every session of this repo still in the agents' logs, and its run directories.

    Reads each agent's data dir (CLAUDE_CONFIG_DIR, CODEX_HOME, ...) for sessions whose cwd
    is inside this repo, plus the runner logs under `rundir.runs_dir` (.system/runs), and
    records those not yet in the ledger, then renders COST_LOG.md once. Claude Code deletes
    transcripts after `cleanupPeriodDays` (30 days by default): older sessions are gone.
    Safe to re-run: sessions already recorded are skipped; logs that grew are updated.
    """
    from costlog.commands import backfill as backfill_mod
    from costlog.commands import backfill_report
    from costlog.commands.context import repo_and_config

    params.window(since, until)
    repo, config = repo_and_config()
    options = backfill_mod.Options(since=since, until=until, agents=agents, dry_run=dry_run)
    show = sys.stderr.isatty() and not os.environ.get("COSTLOG_NO_PROGRESS")
    result = backfill_mod.run(repo, config, options, progress=params.progress if show else None)
    if show:
        click.echo("\r\033[K", nl=False, err=True)
    click.echo(backfill_report.to_json(result) if as_json else backfill_report.to_text(result))
    params.warn_lines(result.warnings)
    if not dry_run:  # what is still unrecorded after the run (normally nothing)
        from costlog.commands import retention

        for line in retention.warnings(repo, config):
            params.warn(line)


@click.command("import")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_(source: Path) -> None:
    """Import a hand-kept COST_LOG.md (classic format) into the ledger, once.

    Each session row becomes a `manual` entry; COST_LOG.md gets generated blocks in place
    of its tables and keeps every other section as written. Refuses a second import.
    """
    from costlog.commands import importer
    from costlog.commands.context import repo_and_config

    repo, config = repo_and_config()
    click.echo(importer.to_text(importer.run(repo, config, source)))


@click.command()
@click.option("--since", callback=params.when, help="Sessions from this date/time.")
@click.option("--until", callback=params.when, help="Sessions before this date/time.")
@click.option("--model", help="Only this model's costs.")
@click.option("--dry-run", is_flag=True, help="Show before/after; write nothing.")
def reprice(
    since: datetime | None, until: datetime | None, model: str | None, dry_run: bool
) -> None:
    """Recompute stored costs with the current price table (before/after, then write).

    Lines are repriced at base rates on the session's date; costs typed by hand are never
    changed, and costs that include per-request long-context rates are kept and flagged.
    """
    from costlog.commands import reprice as reprice_mod
    from costlog.commands.context import repo_and_config

    params.window(since, until)
    repo, config = repo_and_config()
    result = reprice_mod.run(repo, config, since=since, until=until, model=model, dry_run=dry_run)
    click.echo(reprice_mod.to_text(result, dry_run=dry_run))
