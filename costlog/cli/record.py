"""`costlog record`: its options; the work is in costlog.commands.record."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path

import click

from costlog.cli import params


@click.command()
@click.option("--model", help="Model used (record by hand). Without it: auto mode.")
@click.option(
    "--agent",
    help="Agent (claude-code, codex, gemini, ...): narrows the search in "
    "auto mode; the agent name for a manual record (default `manual`).",
)
@click.option(
    "--transcript",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Auto mode: record this session log file.",
)
@click.option(
    "--from-json",
    "from_json",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Record a headless run from its result JSON (`claude -p --output-format "
    "json`, e.g. an agent run in CI).",
)
@click.option("--session", "session_id", help="Session id; re-recording the same id updates it.")
@click.option("--tasks", type=click.IntRange(min=0), help="Tasks completed.")
@click.option("--task-types", help='Task types, e.g. "3 code, 1 docs".')
@click.option("--notes", help="A short note for the session log.")
@click.option("--cost", callback=params.amount, help="Cost in USD, if you know it.")
@click.option("--input-tokens", type=params.TOKENS, help="Uncached input tokens.")
@click.option("--output-tokens", type=params.TOKENS, help="Output tokens (incl. reasoning).")
@click.option("--cache-read-tokens", type=params.TOKENS, help="Cached input tokens read.")
@click.option("--cache-write-tokens", type=params.TOKENS, help="Cache writes, 5-minute TTL.")
@click.option("--cache-write-1h-tokens", type=params.TOKENS, help="Cache writes, 1-hour TTL.")
@click.option(
    "--requests",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Model calls the token counts cover.",
)
@click.option("--started", callback=params.started, help="Start time (ISO 8601); default now.")
@click.option(
    "--since",
    "since_ref",
    metavar="REF",
    help="With --model and no numbers: "
    "estimate from the commits REF..HEAD (default: since the last recorded session).",
)
@click.option("--work-item", "work_items", multiple=True, help="Work item key (repeatable).")
@click.option("--no-render", is_flag=True, help="Only write the ledger; skip COST_LOG.md.")
@click.option(
    "--commit",
    "make_commit",
    is_flag=True,
    help="Commit the ledger file and "
    "COST_LOG.md on their own (default: stage them for your next commit).",
)
@click.option("--no-stage", is_flag=True, help="Leave the files unstaged.")
@click.option(
    "--otel",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Auto mode, Claude Code: its OpenTelemetry events exported to this file "
    "(JSONL); exact per-request tokens and cost replace the transcript's, auxiliary "
    "calls are added (default: $COSTLOG_OTEL_FILE, else config claude_otel_file).",
)
def record(
    model: str | None,
    agent: str | None,
    transcript: Path | None,
    from_json: Path | None,
    session_id: str | None,
    tasks: int | None,
    task_types: str | None,
    notes: str | None,
    cost: Decimal | None,
    input_tokens: int | None,
    output_tokens: int | None,
    cache_read_tokens: int | None,
    cache_write_tokens: int | None,
    cache_write_1h_tokens: int | None,
    requests: int,
    started: datetime | None,
    work_items: tuple[str, ...],
    no_render: bool,
    make_commit: bool,
    no_stage: bool,
    since_ref: str | None,
    otel: Path | None = None,
) -> None:
    """Record a session in the ledger and regenerate COST_LOG.md.

    Auto mode (no --model): finds this repo's agent session (--transcript, --session, the
    agent's session env variable, else the most recent session whose cwd is this repo),
    prices every request, links the commits it made, and records it.

    By hand (--model): priced from --cost, else from token counts with the price table,
    else from the cost estimation guide; marked `manual`.

    The ledger file and COST_LOG.md are staged so they land with your next commit;
    --commit commits them on their own instead.
    """
    from costlog.commands import record as record_cmd
    from costlog.commands.context import repo_and_config

    options = record_cmd.prepare(
        record_cmd.Options(
            model=model,
            agent=agent,
            transcript=transcript,
            from_json=from_json,
            session_id=session_id,
            tasks=tasks,
            task_types=task_types,
            notes=notes,
            cost=cost,
            counts=(
                input_tokens,
                output_tokens,
                cache_read_tokens,
                cache_write_tokens,
                cache_write_1h_tokens,
            ),
            requests=requests,
            started=started,
            since_ref=since_ref,
            work_items=work_items,
            no_render=no_render,
            make_commit=make_commit,
            no_stage=no_stage,
            otel=otel,
        )
    )
    repo, config = repo_and_config()
    if options.from_json is None and options.model is None and options.by_hand_numbers:
        raise click.UsageError("--cost and token counts need --model (a record by hand)")
    if since_ref is not None:
        _check_since(repo.root, since_ref, options.by_hand_numbers)
    echo = record_cmd.Echo(out=click.echo, warn=params.warn, warn_many=params.warn_lines)
    record_cmd.record(repo, config, options, echo)


def _check_since(root: Path, ref: str, numbers: bool) -> None:
    """`--since` picks commits to estimate from: with --cost or token counts there is
    nothing to estimate, and a ref git does not know is a bad value (usage errors, 2)."""
    from costlog import gitrepo
    from costlog.errors import CostlogError

    if numbers:
        raise click.UsageError(
            "--since estimates from commits; it cannot go with --cost or token counts"
        )
    try:
        gitrepo.rev_list(root, "--max-count=1", f"{ref}^{{commit}}", "--")
    except CostlogError:
        raise click.BadParameter(
            f"{ref!r} is not a commit in this repository", param_hint="--since"
        ) from None
