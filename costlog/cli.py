"""The click commands: each parses its options, calls one core function, prints.

All errors pass through `CostlogGroup.invoke`, the one place that maps them to a one-line
message and an exit code (see costlog.errors for the codes).
"""

from __future__ import annotations

import os
import sys
import traceback
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, NoReturn

import click

from costlog import __version__
from costlog.errors import EXIT_ERROR, CostlogError, from_os_error


class _Failed(click.ClickException):
    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code  # type: ignore[misc]

    def show(self, file: Any = None) -> None:
        click.echo(f"costlog: error: {self.message}", err=True)


class CostlogGroup(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CostlogError as exc:
            raise _Failed(exc.one_line(), exc.exit_code) from None
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except KeyboardInterrupt:
            raise click.exceptions.Exit(130) from None
        except BrokenPipeError:  # `costlog report | head`: the reader left; say nothing
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            raise click.exceptions.Exit(1) from None
        except OSError as exc:  # a full disk, a read-only dir, a missing permission
            if os.environ.get("COSTLOG_DEBUG"):
                raise
            failed = from_os_error(exc)
            raise _Failed(failed.one_line(), failed.exit_code) from None
        except Exception as exc:
            if os.environ.get("COSTLOG_DEBUG"):
                raise
            log = _crash_log()
            raise _Failed(
                f"internal error: {type(exc).__name__}: {exc} (traceback in {log}; "
                "please report it)",
                EXIT_ERROR,
            ) from None


def _crash_log() -> str:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "costlog"
    try:
        base.mkdir(parents=True, exist_ok=True)
        path = base / "errors.log"
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(
                f"--- {datetime.now(UTC).isoformat()} costlog {__version__} "
                f"{sys.argv[1:]}\n{traceback.format_exc()}\n"
            )
        return str(path)
    except OSError:
        return "stderr (could not write the log)"


def _context() -> tuple[Any, Any]:
    from costlog import config as config_mod
    from costlog import gitrepo as repo_mod

    repo = repo_mod.find()
    return repo, config_mod.load(repo.root)


@click.group(cls=CostlogGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="costlog")
def cli() -> None:
    """Keep an honest, reviewable ledger of what AI coding agents cost, in this repo.

    The ledger (.costlog/sessions/, one YAML file per session) is the source of truth;
    COST_LOG.md is generated from it. Exit codes: 0 ok, 1 error, 2 usage error,
    3 check failed, 4 over budget.
    """


# ---------------------------------------------------------------- init


@cli.command()
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
    from costlog import gitrepo as repo_mod
    from costlog.integration import setup

    for line in setup.init(repo_mod.find(), dry_run=dry_run, agents=agents, local=local):
        click.echo(line)


@cli.command()
@click.option("--dry-run", is_flag=True, help="List what it would remove; change nothing.")
def uninstall(dry_run: bool) -> None:
    """Remove what `costlog init` added: hooks, merge driver, agent commands and hooks.

    Files init changed are put back byte for byte; recorded sessions (the ledger and
    COST_LOG.md) are your data and stay.
    """
    from costlog import gitrepo as repo_mod
    from costlog.integration import setup

    for line in setup.uninstall(repo_mod.find(), dry_run=dry_run):
        click.echo(line)


@cli.command(hidden=True, context_settings={"ignore_unknown_options": True})
@click.argument("name")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def hook(name: str, args: tuple[str, ...]) -> None:
    """What the installed hooks run: post-commit, post-rewrite, post-merge, session-end,
    merge-driver. Never fails a git command (errors go to .git/costlog/hook.log)."""
    from costlog.integration import hookrun

    sys.exit(hookrun.run(name, args, sys.stdin))


# ---------------------------------------------------------------- record


def _decimal(ctx: click.Context, param: click.Parameter, value: str | None) -> Decimal | None:
    if value is None:
        return None
    try:
        amount = Decimal(value.lstrip("$"))
    except InvalidOperation:
        raise click.BadParameter(f"{value!r} is not an amount") from None
    from costlog.ledger.store import MAX_COST

    if not amount.is_finite() or amount < 0 or amount > MAX_COST:
        raise click.BadParameter(f"must be an amount from 0 to {MAX_COST:,}")
    return amount


def _when(ctx: click.Context, param: click.Parameter, value: str | None) -> datetime | None:
    if value is None:
        return None
    from costlog.timeutil import parse_when

    try:
        return parse_when(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _started(ctx: click.Context, param: click.Parameter, value: str | None) -> datetime | None:
    """A start time costlog can store and read back: 1970-2100 (year 1 or 9999 would
    overflow the moment it is shown in a time zone)."""
    when = _when(ctx, param, value)
    from costlog.timeutil import FIRST_YEAR, LAST_YEAR, in_range

    if when is not None and not in_range(when):
        raise click.BadParameter(f"{value!r} is not between {FIRST_YEAR} and {LAST_YEAR}")
    return when


_TOKENS = click.IntRange(min=0)


@cli.command()
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
@click.option("--cost", callback=_decimal, help="Cost in USD, if you know it.")
@click.option("--input-tokens", type=_TOKENS, help="Uncached input tokens.")
@click.option("--output-tokens", type=_TOKENS, help="Output tokens (incl. reasoning).")
@click.option("--cache-read-tokens", type=_TOKENS, help="Cached input tokens read.")
@click.option("--cache-write-tokens", type=_TOKENS, help="Cache writes, 5-minute TTL.")
@click.option("--cache-write-1h-tokens", type=_TOKENS, help="Cache writes, 1-hour TTL.")
@click.option(
    "--requests",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Model calls the token counts cover.",
)
@click.option("--started", callback=_started, help="Start time (ISO 8601); default now.")
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
    from costlog import sources
    from costlog.models import Usage
    from costlog.recording import manual as rec
    from costlog.yamlfile import clean_text

    if agent is not None:  # it names a ledger folder: a known agent, or by hand a plain name
        agent = sources.check_agent(agent, custom=model is not None and from_json is None)
    # undecodable bytes in argv arrive as lone surrogates, which nothing can write or print
    session_id, model, notes = (
        None if v is None else clean_text(v) for v in (session_id, model, notes)
    )
    work_items = tuple(clean_text(w) for w in work_items)
    types = rec.parse_task_types(task_types)
    repo, config = _context()
    if from_json is not None:
        from costlog.recording import headless

        entry = headless.record(
            repo,
            config,
            from_json,
            model=model,
            extra={
                "tasks_completed": tasks,
                "task_types": types,
                "notes": notes,
                "work_items": list(work_items),
            },
            render=not no_render,
        )
        click.echo(rec.summary_line(entry))
        _publish(repo, config, entry, make_commit, no_stage, no_render)
        return
    counts = (
        input_tokens,
        output_tokens,
        cache_read_tokens,
        cache_write_tokens,
        cache_write_1h_tokens,
    )
    if model is None:
        if cost is not None or any(c is not None for c in counts):
            raise click.UsageError("--cost and token counts need --model (a record by hand)")
        entry = _record_auto(
            repo,
            config,
            agent,
            transcript,
            session_id,
            no_render,
            {
                "tasks_completed": tasks
                if tasks is not None
                else (sum(types.values()) if types else None),
                "task_types": types,
                "notes": notes,
                "work_items": list(work_items),
            },
            otel=otel,
        )
        _publish(repo, config, entry, make_commit, no_stage, no_render)
        return
    usage = Usage(*(c or 0 for c in counts)) if any(c is not None for c in counts) else None
    if _from_diffs(since_ref, agent, cost, usage, tasks, types):
        from costlog.recording import diffs as diffestimate

        entry, warnings = diffestimate.estimate_entry(
            repo,
            config,
            agent=agent or "manual",
            model=model,
            since=since_ref,
            session_id=session_id,
        )
        entry.tasks_completed, entry.task_types, entry.notes = tasks, types, notes
        entry.work_items = list(dict.fromkeys([*work_items, *entry.work_items]))
    else:
        manual = rec.ManualSession(
            model=model,
            agent=agent or "manual",
            session_id=session_id,
            tasks=tasks,
            task_types=types,
            notes=notes,
            cost=cost,
            usage=usage,
            requests=requests,
            started=started,
            work_items=list(work_items),
        )
        entry, warnings = rec.manual_entry(manual, config, repo.root)
    for warning in warnings:
        click.echo(f"costlog: warning: {warning}", err=True)
    result = rec.save(repo, config, entry, render=not no_render)
    click.echo(rec.summary_line(result.entry))
    _publish(repo, config, result.entry, make_commit, no_stage, no_render)


def _from_diffs(
    since_ref: str | None,
    agent: str | None,
    cost: Decimal | None,
    usage: Any,
    tasks: int | None,
    types: dict[str, int],
) -> bool:
    """A record by hand with no numbers for an agent without logs (Cursor, Copilot, ...):
    estimate it from its commits' diffs (--since, or --agent without --tasks)."""
    if cost is not None or usage is not None:
        return False
    return since_ref is not None or (agent not in (None, "manual") and tasks is None and not types)


def _publish(
    repo: Any, config: Any, entry: Any, make_commit: bool, no_stage: bool, no_render: bool
) -> None:
    from costlog import gitops
    from costlog.ledger.store import Ledger

    paths = [
        Ledger(repo, config.ledger_dir).rel(Ledger(repo, config.ledger_dir).path_for(entry.id))
    ]
    if not no_render:
        paths.append(config.output)
    if make_commit:
        sha = gitops.commit_only(repo.root, paths, f"costlog: record {entry.id}")
        click.echo(f"committed {sha}: {', '.join(paths)}")
    elif not no_stage:
        gitops.stage(repo.root, paths)


def _record_auto(
    repo: Any,
    config: Any,
    agent: str | None,
    transcript: Path | None,
    session_id: str | None,
    no_render: bool,
    extra: dict[str, Any],
    otel: Path | None = None,
) -> Any:
    from costlog.recording import auto as autorecord
    from costlog.recording import manual as rec
    from costlog.sources.claude import enrich as truth

    problems: list[str] = []
    session = autorecord.locate(
        repo,
        session_id=session_id,
        transcript=transcript,
        agents=[agent] if agent else [],
        warn=problems.append,
    )
    entry, warnings = autorecord.record_session(
        repo, config, session, render=not no_render, extra=extra, otel=otel
    )
    _warn_lines(list(dict.fromkeys(problems + warnings)))  # a reader may say both
    click.echo(rec.summary_line(entry))
    for line in truth.report_lines(entry.methods):
        click.echo(f"  {line}")
    return entry


def _warn_lines(lines: list[str], limit: int = 5) -> None:
    for line in lines[:limit]:
        click.echo(f"costlog: warning: {line}", err=True)
    if len(lines) > limit:
        click.echo(f"costlog: warning: ... and {len(lines) - limit} more problems", err=True)


# ---------------------------------------------------------------- scan


@cli.command()
@click.option(
    "--agent",
    "agents",
    multiple=True,
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
@click.option("--since", callback=_when, help="From this date/time (2026-11-01, 7d, yesterday).")
@click.option("--until", callback=_when, help="Before this date/time.")
@click.option("--tz", default="UTC", show_default=True, help="Time zone for days and months.")
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
    since: Any,
    until: Any,
    tz: str,
    by: str,
    as_json: bool,
    as_csv: bool,
    otel: Path | None = None,
) -> None:
    """Usage and cost from the agents' own logs; writes no ledger."""
    from costlog.commands import scan as scan_mod
    from costlog.timeutil import zone

    options = scan_mod.Options(
        agents=agents, paths=paths, project=project, since=since, until=until, tz=zone(tz), by=by
    )
    table = _price_table()  # inside a repo, its .costlog/prices.yaml counts here too
    problems: list[str] = []
    sessions = None
    if otel is not None:
        from costlog.sources.claude import enrich as truth

        sessions = truth.with_otel(
            scan_mod.sessions_for(options, problems.append), otel, table, problems.append
        )
    from costlog.gcpause import gc_paused

    with gc_paused():  # hundreds of thousands of small acyclic records
        result = scan_mod.run(options, table, sessions)
    if as_json:
        click.echo(scan_mod.to_json(result))
    elif as_csv:
        click.echo(scan_mod.to_csv(result), nl=False)
    else:
        click.echo(scan_mod.to_table(result))
    _warn_lines(result.warnings + problems)


# ---------------------------------------------------------------- backfill


@cli.command()
@click.option("--since", callback=_when, help="Sessions from this date/time (2026-11-01, 30d).")
@click.option("--until", callback=_when, help="Sessions started before this date/time.")
@click.option(
    "--agent",
    "agents",
    multiple=True,
    help="claude-code, codex, gemini, aider, "
    "opencode, llm, api, rundir (repeatable; default: all found).",
)
@click.option(
    "--dry-run", is_flag=True, help="Print what it would record and the totals; write nothing."
)
@click.option("--json", "as_json", is_flag=True, help="The summary as JSON.")
def backfill(since: Any, until: Any, agents: tuple[str, ...], dry_run: bool, as_json: bool) -> None:
    """Record every session of this repo still in the agents' logs, and its run directories.

    Reads each agent's data dir (CLAUDE_CONFIG_DIR, CODEX_HOME, ...) for sessions whose cwd
    is inside this repo, plus the runner logs under `rundir.runs_dir` (.system/runs), and
    records those not yet in the ledger, then renders COST_LOG.md once. Claude Code deletes
    transcripts after `cleanupPeriodDays` (30 days by default): older sessions are gone.
    Safe to re-run: sessions already recorded are skipped; logs that grew are updated.
    """
    from costlog.commands import backfill as backfill_mod

    repo, config = _context()
    options = backfill_mod.Options(since=since, until=until, agents=agents, dry_run=dry_run)
    show = sys.stderr.isatty() and not os.environ.get("COSTLOG_NO_PROGRESS")
    result = backfill_mod.run(repo, config, options, progress=_progress if show else None)
    if show:
        click.echo("\r\033[K", nl=False, err=True)
    click.echo(backfill_mod.to_json(result) if as_json else backfill_mod.to_text(result))
    _warn_lines(result.warnings)


def _progress(message: str) -> None:
    click.echo(f"\r\033[K{message}", nl=False, err=True)


# ---------------------------------------------------------------- render / check


@cli.command()
@click.option(
    "--context",
    "show_context",
    is_flag=True,
    help="Print the JSON the template receives instead of rendering.",
)
def render(show_context: bool) -> None:
    """Regenerate COST_LOG.md from the ledger (also fixes a conflicted COST_LOG.md)."""
    from costlog import render as renderer

    repo, config = _context()
    if show_context:
        click.echo(renderer.context_json(repo, config))
        return
    from costlog.ledger.store import Ledger

    with Ledger(repo, config.ledger_dir).lock():  # a record running now lands first
        result = renderer.render(repo, config)
    state = "updated" if result.changed else "unchanged"
    click.echo(f"{config.output} {state}")


@cli.command()
def check() -> None:
    """Exit 3 if the ledger is invalid, a cost does not follow from its tokens and price
    table, or COST_LOG.md differs from what the ledger renders to."""
    from costlog import render as renderer

    repo, config = _context()
    click.echo(renderer.check(repo, config))


@cli.command("pr-summary")
@click.option(
    "--base", default="origin/main", show_default=True, help="The branch the PR merges into."
)
def pr_summary(base: str) -> None:
    """Markdown for a PR comment: sessions and cost this branch adds, by model and work item.

    Found from the ledger files the branch adds (not commit shas), so squash and rebase
    merges keep them.
    """
    from costlog.commands import prsummary

    repo, config = _context()
    click.echo(prsummary.summary(repo, config, base), nl=False)


# ---------------------------------------------------------------- analysis


def _entries(since: Any = None, until: Any = None) -> tuple[Any, Any, list[Any]]:
    from costlog.commands import report as report_mod

    repo, config = _context()
    return repo, config, report_mod.load(repo, config, since, until)


@cli.command()
@click.option(
    "--by",
    type=click.Choice(
        ["day", "week", "month", "agent", "provider", "model", "work-item", "task-type", "session"]
    ),
    default="month",
    show_default=True,
)
@click.option("--since", callback=_when, help="From this date/time (2026-11-01, yesterday, 7d).")
@click.option("--until", callback=_when, help="Before this date/time.")
@click.option("--tz", help="Time zone for days and months (default: the config's).")
@click.option("--json", "as_json", is_flag=True, help="JSON: {by, totals, rows}.")
@click.option("--csv", "as_csv", is_flag=True, help="CSV, one row per group plus TOTAL.")
def report(by: str, since: Any, until: Any, tz: str | None, as_json: bool, as_csv: bool) -> None:
    """Spend from the ledger, grouped; the same numbers COST_LOG.md shows."""
    from costlog.commands import report as report_mod

    _, config, entries = _entries(since, until)
    from costlog.timeutil import zone

    data = report_mod.as_json(entries, by, zone(tz or config.timezone))
    if as_json:
        click.echo(report_mod.dumps(data))
    elif as_csv:
        click.echo(report_mod.to_csv(data), nl=False)
    else:
        click.echo(report_mod.to_table(data))


@cli.command()
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
    import json

    from costlog.analysis import core as analysis
    from costlog.errors import OverBudget
    from costlog.render import _jsonable

    _, config, entries = _entries()
    from costlog.timeutil import zone

    rows = analysis.alerts(entries, config, zone(config.timezone))
    if as_json:
        click.echo(json.dumps(_jsonable(rows), indent=2))
    else:
        for row in rows:
            value = _alert_value(row)
            click.echo(f"{row['state']:<8} {row['alert']}: {value} (threshold {row['threshold']})")
    fired = [r["alert"] for r in rows if r["state"] == "warning"]
    if fail_on == "warning" and fired:
        raise OverBudget(f"{len(fired)} budget alert(s): {'; '.join(fired)}")


def _alert_value(row: dict[str, Any]) -> str:
    if row["unit"] == "usd":
        return f"${row['value']:,.2f}"
    if row["unit"] == "share":
        return f"{row['value']:.0%}"
    return str(int(row["value"]))


@cli.command()
@click.option("--json", "as_json", is_flag=True)
def anomalies(as_json: bool) -> None:
    """Sessions costing more than the configured factor x the median, with likely causes."""
    import json

    from costlog.analysis import core as analysis

    _, config, entries = _entries()
    rows = analysis.anomalies(entries, config)
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "id": r["entry"].id,
                        "cost_usd": format(r["cost"], "f"),
                        "ratio": format(r["ratio"], ".2f"),
                        "causes": r["causes"],
                    }
                    for r in rows
                ],
                indent=2,
            )
        )
        return
    if not rows:
        click.echo(f"no session costs more than {config.anomaly_factor}x the median")
    for r in rows:
        click.echo(
            f"{r['entry'].id}  ${r['cost']:,.2f}  {r['ratio']:.1f}x median  "
            f"{'; '.join(r['causes'])}"
        )


# ---------------------------------------------------------------- reprice


@cli.command()
@click.option("--since", callback=_when, help="Sessions from this date/time.")
@click.option("--until", callback=_when, help="Sessions before this date/time.")
@click.option("--model", help="Only this model's costs.")
@click.option("--dry-run", is_flag=True, help="Show before/after; write nothing.")
def reprice(since: Any, until: Any, model: str | None, dry_run: bool) -> None:
    """Recompute stored costs with the current price table (before/after, then write).

    Lines are repriced at base rates on the session's date; costs typed by hand are never
    changed, and costs that include per-request long-context rates are kept and flagged.
    """
    from costlog.commands import reprice as reprice_mod

    repo, config = _context()
    result = reprice_mod.run(repo, config, since=since, until=until, model=model, dry_run=dry_run)
    click.echo(reprice_mod.to_text(result, dry_run=dry_run))


# ---------------------------------------------------------------- import


@cli.command("import")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_(source: Path) -> None:
    """Import a hand-kept COST_LOG.md (classic format) into the ledger, once.

    Each session row becomes a `manual` entry; COST_LOG.md gets generated blocks in place
    of its tables and keeps every other section as written. Refuses a second import.
    """
    from costlog.commands import importer

    repo, config = _context()
    click.echo(importer.to_text(importer.run(repo, config, source)))


# ---------------------------------------------------------------- reconcile


@cli.command()
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
    from costlog.ledger.store import Ledger
    from costlog.pricing.table import PriceTable
    from costlog.reconcile import compare as rec

    repo, config = _context()
    limit = rec.parse_threshold(threshold) if threshold else config.reconcile_threshold_pct
    table = PriceTable.load(config.prices_path(repo.root))
    entries = Ledger(repo, config.ledger_dir).load_all()
    result = rec.run(entries, list(files), table, limit)
    click.echo(rec.to_json(result) if as_json else rec.to_text(result))
    if write_factors:
        factors = result.factors()
        if not factors:
            raise CostlogError(
                "no model has both ledger sessions and bill rows: no factor to write"
            )
        path = rec.write_factors(repo.root, factors)
        click.echo(
            f"wrote {len(factors)} correction factor(s) to {path.relative_to(repo.root)}",
            err=as_json,
        )


# ---------------------------------------------------------------- calibrate


@cli.command()
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
    from costlog.estimate import calibration as cal
    from costlog.reconcile import compare as rec

    repo, config = _context()
    result = cal.run(config, cal.find_transcripts(list(paths), repo.root))
    click.echo(cal.to_text(result))
    if write:
        factors = cal.factors(result.fits)
        if not factors:
            raise CostlogError("nothing to write: no response with real usage was found")
        path = rec.write_factors(repo.root, factors, key="estimate_factors")
        click.echo(
            f"wrote estimate factors for {len(factors)} famil"
            f"{'y' if len(factors) == 1 else 'ies'} to {path.relative_to(repo.root)}"
        )


# ---------------------------------------------------------------- demo


@cli.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def demo(directory: Path) -> None:
    """Build a throwaway git repo with a few days of sample sessions and render COST_LOG.md."""
    from costlog.commands import demo as demo_mod

    path = demo_mod.build(directory)
    click.echo(f"demo repo: {directory}")
    click.echo(f"open {path}")


# ---------------------------------------------------------------- pricing


@cli.group()
def pricing() -> None:
    """Inspect the price table (bundled, plus this repo's overrides); import LiteLLM's."""


@pricing.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def pricing_list(as_json: bool) -> None:
    """Every priced model with its current rates ($ per million tokens)."""
    from costlog.pricing import view as pricing_view

    click.echo(pricing_view.list_text(_price_table(), as_json=as_json))


@pricing.command("show")
@click.argument("model")
def pricing_show(model: str) -> None:
    """A model's dated prices, tiers, aliases and source."""
    from costlog.pricing import view as pricing_view

    click.echo(pricing_view.show_text(_price_table(), model))


@pricing.command("import")
@click.argument("source", type=click.Choice(["litellm"]))
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--provider",
    "providers",
    multiple=True,
    help="LiteLLM providers to take (repeatable; default anthropic, openai, gemini).",
)
@click.option("--effective", callback=_when, help="Date the new prices apply from (default today).")
@click.option("--include-suspicious", is_flag=True, help="Also apply values flagged as suspicious.")
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
def pricing_import(
    source: str,
    file: Path,
    providers: tuple[str, ...],
    effective: Any,
    include_suspicious: bool,
    dry_run: bool,
) -> None:
    """Update .costlog/prices.yaml from LiteLLM's model_prices_and_context_window.json.

    Appends a dated entry where a price differs from what costlog uses (history is never
    rewritten) and flags suspicious values.
    """
    from costlog.ledger.store import now
    from costlog.pricing import litellm as litellm_import

    repo, config = _context()
    override = repo.root / config.prices_file
    day = effective.date() if effective else now().date()
    plan, written = litellm_import.run(
        file,
        _price_table(),
        override,
        effective=day,
        providers=providers or litellm_import.DEFAULT_PROVIDERS,
        dry_run=dry_run,
        include_suspicious=include_suspicious,
    )
    click.echo(
        litellm_import.to_text(
            plan,
            written,
            config.prices_file,
            dry_run=dry_run,
            include_suspicious=include_suspicious,
        )
    )


def _price_table() -> Any:
    from costlog.pricing.table import PriceTable

    try:
        repo, config = _context()
        override = config.prices_path(repo.root)
    except CostlogError:
        override = None
    return PriceTable.load(override)


def main() -> NoReturn:
    cli.main(prog_name="costlog")
    sys.exit(0)


if __name__ == "__main__":
    main()
