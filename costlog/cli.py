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
from costlog.errors import EXIT_ERROR, CostlogError


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
        except Exception as exc:
            if os.environ.get("COSTLOG_DEBUG"):
                raise
            log = _crash_log()
            raise _Failed(f"internal error: {type(exc).__name__}: {exc} (traceback in {log}; "
                          "please report it)", EXIT_ERROR) from None


def _crash_log() -> str:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "costlog"
    try:
        base.mkdir(parents=True, exist_ok=True)
        path = base / "errors.log"
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(f"--- {datetime.now(UTC).isoformat()} costlog {__version__} "
                         f"{sys.argv[1:]}\n{traceback.format_exc()}\n")
        return str(path)
    except OSError:
        return "stderr (could not write the log)"


def _context() -> tuple[Any, Any]:
    from costlog import config as config_mod
    from costlog import repo as repo_mod

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
def init() -> None:
    """Set this repo up: a commented config file and a first COST_LOG.md."""
    from costlog import setup

    repo, _ = _context()
    for line in setup.init(repo):
        click.echo(line)


# ---------------------------------------------------------------- record


def _decimal(ctx: click.Context, param: click.Parameter, value: str | None) -> Decimal | None:
    if value is None:
        return None
    try:
        amount = Decimal(value.lstrip("$"))
    except InvalidOperation:
        raise click.BadParameter(f"{value!r} is not an amount") from None
    if not amount.is_finite() or amount < 0:
        raise click.BadParameter("must be a finite amount >= 0")
    return amount


def _when(ctx: click.Context, param: click.Parameter, value: str | None) -> datetime | None:
    if value is None:
        return None
    from costlog.timeutil import parse_when

    try:
        return parse_when(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


_TOKENS = click.IntRange(min=0)


@cli.command()
@click.option("--model", help="Model used (record by hand). Without it: auto mode.")
@click.option("--agent", help="Agent (claude-code, codex, gemini, ...): narrows the search in "
              "auto mode; the agent name for a manual record (default `manual`).")
@click.option("--transcript", type=click.Path(dir_okay=False, path_type=Path),
              help="Auto mode: record this session log file.")
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
@click.option("--requests", type=click.IntRange(min=1), default=1, show_default=True,
              help="Model calls the token counts cover.")
@click.option("--started", callback=_when, help="Start time (ISO 8601); default now.")
@click.option("--work-item", "work_items", multiple=True, help="Work item key (repeatable).")
@click.option("--no-render", is_flag=True, help="Only write the ledger; skip COST_LOG.md.")
@click.option("--commit", "make_commit", is_flag=True, help="Commit the ledger file and "
              "COST_LOG.md on their own (default: stage them for your next commit).")
@click.option("--no-stage", is_flag=True, help="Leave the files unstaged.")
def record(model: str | None, agent: str | None, transcript: Path | None,
           session_id: str | None, tasks: int | None,
           task_types: str | None, notes: str | None, cost: Decimal | None,
           input_tokens: int | None, output_tokens: int | None, cache_read_tokens: int | None,
           cache_write_tokens: int | None, cache_write_1h_tokens: int | None, requests: int,
           started: datetime | None, work_items: tuple[str, ...], no_render: bool,
           make_commit: bool, no_stage: bool) -> None:
    """Record a session in the ledger and regenerate COST_LOG.md.

    Auto mode (no --model): finds this repo's agent session (--transcript, --session, the
    agent's session env variable, else the most recent session whose cwd is this repo),
    prices every request, links the commits it made, and records it.

    By hand (--model): priced from --cost, else from token counts with the price table,
    else from the cost estimation guide; marked `manual`.

    The ledger file and COST_LOG.md are staged so they land with your next commit;
    --commit commits them on their own instead.
    """
    from costlog import record as rec
    from costlog.models import Usage

    types = rec.parse_task_types(task_types)
    repo, config = _context()
    counts = (input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,
              cache_write_1h_tokens)
    if model is None:
        if cost is not None or any(c is not None for c in counts):
            raise click.UsageError("--cost and token counts need --model (a record by hand)")
        entry = _record_auto(repo, config, agent, transcript, session_id, no_render,
                             {"tasks_completed": tasks if tasks is not None else
                              (sum(types.values()) if types else None), "task_types": types,
                              "notes": notes, "work_items": list(work_items)})
        _publish(repo, config, entry, make_commit, no_stage, no_render)
        return
    usage = Usage(*(c or 0 for c in counts)) if any(c is not None for c in counts) else None
    manual = rec.ManualSession(
        model=model, agent=agent or "manual", session_id=session_id, tasks=tasks,
        task_types=types, notes=notes, cost=cost, usage=usage,
        requests=requests, started=started, work_items=list(work_items))
    entry, warnings = rec.manual_entry(manual, config, repo.root)
    for warning in warnings:
        click.echo(f"costlog: warning: {warning}", err=True)
    result = rec.save(repo, config, entry, render=not no_render)
    click.echo(rec.summary_line(result.entry))
    _publish(repo, config, result.entry, make_commit, no_stage, no_render)


def _publish(repo: Any, config: Any, entry: Any, make_commit: bool, no_stage: bool,
             no_render: bool) -> None:
    from costlog import gitops
    from costlog.ledger import Ledger

    paths = [Ledger(repo, config.ledger_dir).rel(Ledger(repo, config.ledger_dir)
                                                 .path_for(entry.id))]
    if not no_render:
        paths.append(config.output)
    if make_commit:
        sha = gitops.commit_only(repo.root, paths, f"costlog: record {entry.id}")
        click.echo(f"committed {sha}: {', '.join(paths)}")
    elif not no_stage:
        gitops.stage(repo.root, paths)


def _record_auto(repo: Any, config: Any, agent: str | None, transcript: Path | None,
                 session_id: str | None, no_render: bool, extra: dict[str, Any]) -> Any:
    from costlog import autorecord
    from costlog import record as rec

    problems: list[str] = []
    session = autorecord.locate(repo, session_id=session_id, transcript=transcript,
                                agents=[agent] if agent else [], warn=problems.append)
    entry, warnings = autorecord.record_session(repo, config, session, render=not no_render,
                                                extra=extra)
    _warn_lines(problems + warnings)
    click.echo(rec.summary_line(entry))
    return entry


def _warn_lines(lines: list[str], limit: int = 5) -> None:
    for line in lines[:limit]:
        click.echo(f"costlog: warning: {line}", err=True)
    if len(lines) > limit:
        click.echo(f"costlog: warning: ... and {len(lines) - limit} more problems", err=True)


# ---------------------------------------------------------------- scan


@cli.command()
@click.option("--agent", "agents", multiple=True, help="claude-code, codex, gemini, aider, "
              "opencode, llm, api (repeatable; default: all found).")
@click.option("--path", "paths", multiple=True, type=click.Path(exists=True, path_type=Path),
              help="A data dir (CLAUDE_CONFIG_DIR, CODEX_HOME, ...) or a single log file.")
@click.option("--project", type=click.Path(file_okay=False, path_type=Path),
              help="Only sessions whose cwd is inside this directory.")
@click.option("--since", callback=_when, help="From this date/time (2026-11-01, 7d, yesterday).")
@click.option("--until", callback=_when, help="Before this date/time.")
@click.option("--tz", default="UTC", show_default=True, help="Time zone for days and months.")
@click.option("--by", type=click.Choice(["day", "week", "month", "session", "model",
                                         "project"]), default="day", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="JSON: {totals, rows}.")
@click.option("--csv", "as_csv", is_flag=True, help="CSV, one row per group plus TOTAL.")
def scan(agents: tuple[str, ...], paths: tuple[Path, ...], project: Path | None,
         since: Any, until: Any, tz: str, by: str, as_json: bool, as_csv: bool) -> None:
    """Usage and cost from the agents' own logs; writes no ledger."""
    from costlog import analysis
    from costlog import scan as scan_mod
    from costlog.pricing import PriceTable

    options = scan_mod.Options(agents=agents, paths=paths, project=project, since=since,
                               until=until, tz=analysis.zone(tz), by=by)
    result = scan_mod.run(options, PriceTable.load())
    if as_json:
        click.echo(scan_mod.to_json(result))
    elif as_csv:
        click.echo(scan_mod.to_csv(result), nl=False)
    else:
        click.echo(scan_mod.to_table(result))
    _warn_lines(result.warnings)


# ---------------------------------------------------------------- render / check


@cli.command()
@click.option("--context", "show_context", is_flag=True,
              help="Print the JSON the template receives instead of rendering.")
def render(show_context: bool) -> None:
    """Regenerate COST_LOG.md from the ledger (also fixes a conflicted COST_LOG.md)."""
    from costlog import render as renderer

    repo, config = _context()
    if show_context:
        click.echo(renderer.context_json(repo, config))
        return
    from costlog.ledger import Ledger

    with Ledger(repo, config.ledger_dir).lock():  # a record running now lands first
        result = renderer.render(repo, config)
    state = "updated" if result.changed else "unchanged"
    click.echo(f"{config.output} {state}")


@cli.command()
def check() -> None:
    """Exit 3 if COST_LOG.md differs from what the ledger renders to, or the ledger is invalid."""
    from costlog import render as renderer

    repo, config = _context()
    click.echo(renderer.check(repo, config))


# ---------------------------------------------------------------- analysis


def _entries(since: Any = None, until: Any = None) -> tuple[Any, Any, list[Any]]:
    from costlog import report as report_mod
    from costlog.ledger import Ledger

    repo, config = _context()
    entries = Ledger(repo, config.ledger_dir).load_all()
    return repo, config, report_mod.select(entries, since, until)


@cli.command()
@click.option("--by", type=click.Choice(["day", "week", "month", "agent", "provider", "model",
                                         "work-item", "task-type", "session"]),
              default="month", show_default=True)
@click.option("--since", callback=_when, help="From this date/time (2026-11-01, yesterday, 7d).")
@click.option("--until", callback=_when, help="Before this date/time.")
@click.option("--tz", help="Time zone for days and months (default: the config's).")
@click.option("--json", "as_json", is_flag=True, help="JSON: {by, totals, rows}.")
@click.option("--csv", "as_csv", is_flag=True, help="CSV, one row per group plus TOTAL.")
def report(by: str, since: Any, until: Any, tz: str | None, as_json: bool,
           as_csv: bool) -> None:
    """Spend from the ledger, grouped; the same numbers COST_LOG.md shows."""
    from costlog import analysis
    from costlog import report as report_mod

    _, config, entries = _entries(since, until)
    data = report_mod.as_json(entries, by, analysis.zone(tz or config.timezone))
    if as_json:
        click.echo(report_mod.dumps(data))
    elif as_csv:
        click.echo(report_mod.to_csv(data), nl=False)
    else:
        click.echo(report_mod.to_table(data))


@cli.command()
@click.option("--fail-on", type=click.Choice(["warning", "never"]), default="never",
              show_default=True, help="Exit 4 when any alert is in this state (for CI).")
@click.option("--json", "as_json", is_flag=True)
def budget(fail_on: str, as_json: bool) -> None:
    """The budget alerts table (thresholds in .costlog/config.yaml)."""
    import json

    from costlog import analysis
    from costlog.errors import OverBudget
    from costlog.render import _jsonable

    _, config, entries = _entries()
    rows = analysis.alerts(entries, config, analysis.zone(config.timezone))
    if as_json:
        click.echo(json.dumps(_jsonable(rows), indent=2))
    else:
        for row in rows:
            value = _alert_value(row)
            click.echo(f"{row['state']:<8} {row['alert']}: {value} (threshold "
                       f"{row['threshold']})")
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

    from costlog import analysis

    _, config, entries = _entries()
    rows = analysis.anomalies(entries, config)
    if as_json:
        click.echo(json.dumps([{"id": r["entry"].id, "cost_usd": format(r["cost"], "f"),
                                "ratio": format(r["ratio"], ".2f"), "causes": r["causes"]}
                               for r in rows], indent=2))
        return
    if not rows:
        click.echo(f"no session costs more than {config.anomaly_factor}x the median")
    for r in rows:
        click.echo(f"{r['entry'].id}  ${r['cost']:,.2f}  {r['ratio']:.1f}x median  "
                   f"{'; '.join(r['causes'])}")


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
    from costlog import reprice as reprice_mod

    repo, config = _context()
    result = reprice_mod.run(repo, config, since=since, until=until, model=model,
                             dry_run=dry_run)
    click.echo(reprice_mod.to_text(result, dry_run=dry_run))


# ---------------------------------------------------------------- demo


@cli.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def demo(directory: Path) -> None:
    """Build a throwaway git repo with a few days of sample sessions and render COST_LOG.md."""
    from costlog import demo as demo_mod

    path = demo_mod.build(directory)
    click.echo(f"demo repo: {directory}")
    click.echo(f"open {path}")


# ---------------------------------------------------------------- pricing


@cli.group()
def pricing() -> None:
    """Inspect the price table (bundled, plus this repo's overrides)."""


@pricing.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def pricing_list(as_json: bool) -> None:
    """Every priced model with its current rates ($ per million tokens)."""
    from costlog import pricing_view

    click.echo(pricing_view.list_text(_price_table(), as_json=as_json))


@pricing.command("show")
@click.argument("model")
def pricing_show(model: str) -> None:
    """A model's dated prices, tiers, aliases and source."""
    from costlog import pricing_view

    click.echo(pricing_view.show_text(_price_table(), model))


def _price_table() -> Any:
    from costlog.pricing import PriceTable

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
