"""`costlog init`, `uninstall`, `doctor`, the hidden `hook` the installed hooks run, and
`demo`."""

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
    type=click.Choice(["claude-code", "codex", "gemini", "opencode", "aider"]),
    help="Set up /end-session for this agent (repeatable; default: those found).",
)
@click.option(
    "--ci",
    type=click.Choice(["github"]),
    help="Also write CI workflows: github = .github/workflows/costlog.yml (check, read-only "
    "token) and costlog-comment.yml (the PR comment, safe for forks).",
)
@click.option(
    "--force",
    is_flag=True,
    help="Let --ci replace a workflow that differs (uninstall restores it).",
)
@click.option(
    "--statusline",
    is_flag=True,
    help="Claude Code status line: session, work item, today, month budget "
    "(wraps an existing statusLine; uninstall restores it).",
)
@click.option(
    "--guard",
    is_flag=True,
    help="Claude Code budget guard: warn past budget.session_soft_usd, block prompts and "
    "tool calls past budget.session_hard_usd.",
)
def init(
    dry_run: bool,
    local: bool,
    agents: tuple[str, ...],
    ci: str | None,
    force: bool,
    statusline: bool = False,
    guard: bool = False,
) -> None:
    """Set this repo up: config, ledger, COST_LOG.md, git hooks, merge driver, /end-session.

    Safe to run again. Coexists with existing hooks (kept and still run), husky and the
    pre-commit framework. `costlog uninstall` takes it all back.
    """
    from costlog.commands import setup

    for line in setup.init(
        dry_run=dry_run,
        agents=agents,
        local=local,
        ci=ci,
        force=force,
        statusline=statusline,
        guard=guard,
    ):
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


@click.command()
def doctor() -> None:
    """Check the set-up, one line per finding (ok / warn / error); exit 1 if any is not ok.

    Git hooks and the Python they name, the merge driver, the SessionEnd queue, the agents'
    /end-session commands and hooks and the `costlog` they call, and retention: sessions of
    this repo an agent (Claude Code: `cleanupPeriodDays`) will delete before they are
    recorded.
    """
    from costlog.commands import doctor as doctor_mod

    findings = doctor_mod.run()
    for finding in findings:
        click.echo(finding.line())
    sys.exit(doctor_mod.exit_code(findings))


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
@click.option("--force", is_flag=True, help="Build an earlier demo in DIR again from scratch.")
def demo(directory: Path, force: bool) -> None:
    """Build a throwaway git repo with a few days of sample sessions and render COST_LOG.md.

    Run again on the same DIR, it reuses the demo there (--force builds it again); any
    other non-empty DIR is refused."""
    from costlog.commands import demo as demo_mod

    reused = not force and demo_mod.existing(directory) is not None
    path = demo_mod.build(directory, force=force)
    click.echo(
        f"demo repo: {directory}" + (" (built earlier; --force rebuilds it)" if reused else "")
    )
    click.echo(f"open {path}")


@click.command()
@click.option("--window", is_flag=True, help="Also the active 5-hour window and its time left.")
def statusline(window: bool) -> None:
    """Claude Code's statusLine command: one line from the JSON on stdin.

    `$1.23 session · $8.40 WRK-237 · $14 today · 62% of Nov budget`. Never fails (problems go
    to the state dir's live.log). `init --statusline` registers the faster
    `python -m costlog.integration.statusline`, which skips this CLI's start-up.
    """
    from costlog.integration import statusline as statusline_mod

    sys.exit(statusline_mod.main(["--window"] if window else []))


@click.command()
def guard() -> None:
    """Claude Code's budget guard hook (UserPromptSubmit, PreToolUse): the JSON on stdin.

    Warns once past budget.session_soft_usd, blocks past budget.session_hard_usd; fails
    open. `init --guard` registers the faster `python -m costlog.integration.guard`.
    """
    from costlog.integration import guard as guard_mod

    sys.exit(guard_mod.main())
