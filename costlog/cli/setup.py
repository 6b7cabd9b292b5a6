"""`costlog init`, `uninstall`, the hidden `hook` the installed hooks run, and `demo`."""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.command()
@click.option("--dry-run", is_flag=True, help="List every file it would touch; change nothing.")
@click.option(
    "--local",
    is_flag=True,
    help="Claude Code hook in .claude/settings.local.json "
    "(just you) instead of .claude/settings.json (the team).",
)
@click.option(
    "--agent",
    "agents",
    multiple=True,
    type=click.Choice(["claude-code", "codex", "gemini"]),
    help="Set up /end-session for this agent (repeatable; default: those found).",
)
def init(dry_run: bool, local: bool, agents: tuple[str, ...]) -> None:
    """Set this repo up: config, ledger, COST_LOG.md, git hooks, merge driver, /end-session.

    Safe to run again. Coexists with existing hooks (kept and still run), husky and the
    pre-commit framework. `costlog uninstall` takes it all back.
    """
    from costlog.commands import setup

    for line in setup.init(dry_run=dry_run, agents=agents, local=local):
        click.echo(line)


@click.command()
@click.option("--dry-run", is_flag=True, help="List what it would remove; change nothing.")
def uninstall(dry_run: bool) -> None:
    """Remove what `costlog init` added: hooks, merge driver, agent commands and hooks.

    Files init changed are put back byte for byte; recorded sessions (the ledger and
    COST_LOG.md) are your data and stay.
    """
    from costlog.commands import setup

    for line in setup.uninstall(dry_run=dry_run):
        click.echo(line)


@click.command(hidden=True, context_settings={"ignore_unknown_options": True})
@click.argument("name")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def hook(name: str, args: tuple[str, ...]) -> None:
    """What the installed hooks run: post-commit, post-rewrite, post-merge, session-end,
    merge-driver. Never fails a git command (errors go to .git/costlog/hook.log)."""
    from costlog.commands import setup

    sys.exit(setup.hook(name, args, sys.stdin))


@click.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def demo(directory: Path) -> None:
    """Build a throwaway git repo with a few days of sample sessions and render COST_LOG.md."""
    from costlog.commands import demo as demo_mod

    path = demo_mod.build(directory)
    click.echo(f"demo repo: {directory}")
    click.echo(f"open {path}")
