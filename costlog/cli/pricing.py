"""Commands about money in and out of the table: `pricing list|show|import`, and `reconcile`
and `calibrate`, which compare costlog's numbers with bills and with logged usage."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from costlog.cli import params


@click.group()
def pricing() -> None:
    """Inspect the price table (bundled, plus this repo's overrides); import LiteLLM's."""


@pricing.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def pricing_list(as_json: bool) -> None:
    """Every priced model with its current rates ($ per million tokens)."""
    from costlog.commands import pricing as pricing_cmd

    click.echo(pricing_cmd.list_text(as_json=as_json))


@pricing.command("show")
@click.argument("model")
def pricing_show(model: str) -> None:
    """A model's dated prices, tiers, aliases and source."""
    from costlog.commands import pricing as pricing_cmd

    click.echo(pricing_cmd.show_text(model))


@pricing.command("import")
@click.argument("source", type=click.Choice(["litellm"]))
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--provider",
    "providers",
    multiple=True,
    help="LiteLLM providers to take (repeatable; default anthropic, openai, gemini).",
)
@click.option(
    "--effective", callback=params.when, help="Date the new prices apply from (default today)."
)
@click.option("--include-suspicious", is_flag=True, help="Also apply values flagged as suspicious.")
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
def pricing_import(
    source: str,
    file: Path,
    providers: tuple[str, ...],
    effective: datetime | None,
    include_suspicious: bool,
    dry_run: bool,
) -> None:
    """Update .costlog/prices.yaml from LiteLLM's model_prices_and_context_window.json.

    Appends a dated entry where a price differs from what costlog uses (history is never
    rewritten) and flags suspicious values.
    """
    from costlog.commands import pricing as pricing_cmd

    text = pricing_cmd.import_litellm(
        file,
        providers=providers,
        effective=effective.date() if effective else None,
        include_suspicious=include_suspicious,
        dry_run=dry_run,
    )
    click.echo(text)


@click.command()
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--threshold",
    help="Flag gaps above this share of the estimate, e.g. 10% "
    "(default: `reconcile_threshold_pct` in the config, 10).",
)
@click.option("--json", "as_json", is_flag=True, help="JSON: days, models, months, gaps.")
@click.option(
    "--write-factors",
    is_flag=True,
    help="Store billed/estimated per model as `correction_factors` in .costlog/config.yaml.",
)
def reconcile(
    files: tuple[Path, ...], threshold: str | None, as_json: bool, write_factors: bool
) -> None:
    """Compare the ledger with the provider's bill, from exported files (offline).

    Reads Anthropic usage/cost reports, Claude Code analytics, OpenAI costs and completions
    usage (API JSON as returned, or the consoles' CSV); joins by UTC day and model.
    """
    from costlog.commands import reconcile as reconcile_cmd
    from costlog.commands.context import repo_and_config

    repo, config = repo_and_config()
    result = reconcile_cmd.run(repo, config, files, threshold)
    click.echo(reconcile_cmd.to_json(result) if as_json else reconcile_cmd.to_text(result))
    if write_factors:
        click.echo(reconcile_cmd.write_factors(repo, result), err=as_json)


@click.command()
@click.option(
    "--path",
    "paths",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="Claude Code transcripts or data dirs (default: this repo's sessions in "
    "CLAUDE_CONFIG_DIR / ~/.claude).",
)
@click.option(
    "--write",
    is_flag=True,
    help="Store the fitted factors as `estimate_factors` "
    "in .costlog/config.yaml; later estimates use them and say so.",
)
def calibrate(paths: tuple[Path, ...], write: bool) -> None:
    """Measure the token estimator against sessions with real usage, per family and part.

    Hides each response's logged usage, estimates it from the transcript, and compares.
    """
    from costlog.commands import calibrate as calibrate_cmd
    from costlog.commands.context import repo_and_config

    repo, config = repo_and_config()
    result = calibrate_cmd.run(config, calibrate_cmd.find_transcripts(list(paths), repo.root))
    click.echo(calibrate_cmd.to_text(result))
    if write:
        click.echo(calibrate_cmd.write(repo, result))
