"""`costlog record`: one session into the ledger, in one of four ways.

* `--from-json FILE`: a headless run's result JSON (`claude -p --output-format json`).
* Auto mode (no `--model`): the agent's own session log, found by `--transcript`,
  `--session`, the agent's session variable or the newest session of this repo.
* By hand (`--model`) with `--cost` or token counts: priced from them.
* By hand with no numbers, for an agent without logs: estimated from its commits' diffs
  (`--since`, or `--agent` without `--tasks`); else from the estimation guide.

The ledger file and COST_LOG.md are then staged for the next commit, committed on their own
(`--commit`), or left alone (`--no-stage`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from costlog.config import Config
    from costlog.gitrepo import Repo
    from costlog.models import Entry, Usage
    from costlog.recording.builders.manual import GuideRate
    from costlog.recording.store import Prepare

Say = Callable[[str], None]


class Echo:
    """Where `record` says what it did, in order: `out` for results, `warn` for warnings
    (the CLI prints them to stdout and, prefixed, to stderr), `warn_many` for several at
    once (a reader's problems; the CLI shows the first few). A plain class, not a
    dataclass: `costlog record` starts a little faster."""

    __slots__ = ("out", "warn", "warn_many")

    def __init__(self, out: Say, warn: Say, warn_many: Callable[[list[str]], None]) -> None:
        self.out, self.warn, self.warn_many = out, warn, warn_many


@dataclass(eq=False)
class Options:
    """`costlog record`'s options as given (`prepare` cleans them). Neither frozen nor
    compared (nothing needs it), which keeps the class quick to create at start-up."""

    model: str | None = None
    agent: str | None = None
    transcript: Path | None = None
    from_json: Path | None = None
    session_id: str | None = None
    tasks: int | None = None
    task_types: str | None = None
    notes: str | None = None
    cost: Decimal | None = None
    #: input, output, cache read, cache write 5m, cache write 1h (None: not given)
    counts: tuple[int | None, ...] = (None, None, None, None, None)
    requests: int = 1
    started: datetime | None = None
    since_ref: str | None = None
    work_items: tuple[str, ...] = ()
    no_render: bool = False
    make_commit: bool = False
    no_stage: bool = False
    otel: Path | None = None
    #: `task_types` parsed (filled by `prepare`)
    types: dict[str, int] = field(default_factory=dict)

    @property
    def by_hand_numbers(self) -> bool:
        """A cost or a token count was given: only a record by hand can take them."""
        return self.cost is not None or any(c is not None for c in self.counts)


def prepare(options: Options) -> Options:
    """Checked and cleaned options: a known agent name, text that can be written, parsed
    task types. Raises CostlogError before the repo is looked at."""
    from costlog import sources
    from costlog.yamlfile import clean_text

    agent = options.agent
    if agent is not None:  # it names a ledger folder: a known agent, or by hand a plain name
        agent = sources.check_agent(
            agent, custom=options.model is not None and options.from_json is None
        )
    # undecodable bytes in argv arrive as lone surrogates, which nothing can write or print
    session_id, model, notes = (
        None if v is None else clean_text(v)
        for v in (options.session_id, options.model, options.notes)
    )
    if session_id is not None and not session_id.strip():
        session_id = None  # `--session ''`: none given, find the session as in auto mode
    return replace(
        options,
        agent=agent,
        session_id=session_id,
        model=model,
        notes=notes,
        work_items=tuple(clean_text(w) for w in options.work_items),
        types=_task_types(options.tasks, options.task_types),
    )


#: counts written as words, the usual slip in `--task-types "three code"`
_NUMBER_WORDS = frozenset(
    {"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"}
    | {"ten", "eleven", "twelve", "a", "an"}
)


def _task_types(tasks: int | None, text: str | None) -> dict[str, int]:
    """`--task-types` parsed and checked against `--tasks`: a count goes first, as digits
    (`"3 code"`), and the counts add up to `--tasks` when both are given. Usage errors."""
    from costlog.errors import EXIT_USAGE, CostlogError
    from costlog.recording.builders.manual import parse_task_types

    hint = 'write them like "3 code, 1 docs"'
    try:
        types = parse_task_types(text)
    except CostlogError as exc:
        raise CostlogError(
            f"--task-types: {exc.message}", hint=hint, exit_code=EXIT_USAGE
        ) from None
    for name in types:
        words = name.split()
        if any(w.isdigit() or (w in _NUMBER_WORDS and len(words) > 1) for w in words):
            raise CostlogError(
                f"--task-types: cannot read task type {name!r}: the count goes first, as digits",
                hint=hint,
                exit_code=EXIT_USAGE,
            )
    if tasks is not None and types and sum(types.values()) != tasks:
        raise CostlogError(
            f"--tasks {tasks} does not match --task-types {text!r} ({sum(types.values())} tasks)",
            hint="give counts that add up to --tasks, or leave --tasks out",
            exit_code=EXIT_USAGE,
        )
    return types


def record(repo: Repo, config: Config, options: Options, echo: Echo) -> Entry:
    """Record one session as `options` say (see module doc); returns the entry written."""
    extra: dict[str, Any] = {
        "tasks_completed": options.tasks,
        "task_types": options.types,
        "notes": options.notes,
        "work_items": list(options.work_items),
    }
    if options.from_json is not None:
        entry = _from_json(repo, config, options, extra, echo)
    elif options.model is None:
        if extra["tasks_completed"] is None and options.types:
            extra["tasks_completed"] = sum(options.types.values())
        entry = _auto(repo, config, options, extra, echo)
    else:
        entry = _by_hand(repo, config, options, echo)
    _publish(repo, config, entry, options, echo)
    return entry


def _from_json(
    repo: Repo, config: Config, options: Options, extra: dict[str, Any], echo: Echo
) -> Entry:
    from costlog.recording import headless

    assert options.from_json is not None
    entry = headless.record(
        repo,
        config,
        options.from_json,
        model=options.model,
        extra=extra,
        prepare=_cost_log(repo, config, options),
    )
    _say(repo, config, entry, echo)
    return entry


def _auto(repo: Repo, config: Config, options: Options, extra: dict[str, Any], echo: Echo) -> Entry:
    from costlog.recording import auto as autorecord
    from costlog.sources.claude import enrich as truth

    problems: list[str] = []
    session = autorecord.locate(
        repo,
        session_id=options.session_id,
        transcript=options.transcript,
        agents=[options.agent] if options.agent else [],
        warn=problems.append,
    )
    entry, warnings = autorecord.record_session(
        repo,
        config,
        session,
        prepare=_cost_log(repo, config, options),
        extra=extra,
        otel=options.otel,
    )
    echo.warn_many(list(dict.fromkeys(problems + warnings)))  # a reader may say both
    _say(repo, config, entry, echo)
    for line in truth.report_lines(entry.methods):
        echo.out(f"  {line}")
    return entry


def _by_hand(repo: Repo, config: Config, options: Options, echo: Echo) -> Entry:
    from costlog.models import Usage
    from costlog.recording import store
    from costlog.recording.builders.manual import ManualSession, manual_entry

    counts = options.counts
    usage = Usage(*(c or 0 for c in counts)) if any(c is not None for c in counts) else None
    if _from_diffs(options, usage):
        from costlog.recording.builders import diffs as diffestimate

        assert options.model is not None
        entry, warnings = diffestimate.estimate_entry(
            repo,
            config,
            agent=options.agent or "manual",
            model=options.model,
            since=options.since_ref,
            session_id=options.session_id,
        )
        entry.tasks_completed, entry.task_types = options.tasks, options.types
        entry.notes = options.notes
        entry.work_items = list(dict.fromkeys([*options.work_items, *entry.work_items]))
    else:
        assert options.model is not None
        manual = ManualSession(
            model=options.model,
            agent=options.agent or "manual",
            session_id=options.session_id,
            tasks=options.tasks,
            task_types=options.types,
            notes=options.notes,
            cost=options.cost,
            usage=usage,
            requests=options.requests,
            started=options.started,
            work_items=list(options.work_items),
        )
        entry, warnings = manual_entry(
            manual, config, repo.root, guide_rate=_guide_rate(repo, config)
        )
        _branch_and_work_items(repo, config, entry)
    for warning in warnings:
        echo.warn(warning)
    result = store.save(repo, config, entry, prepare=_cost_log(repo, config, options))
    _say(repo, config, result.entry, echo)
    return result.entry


def _say(repo: Repo, config: Config, entry: Entry, echo: Echo) -> None:
    """The record line, after a warning when the session starts in the future."""
    from costlog.recording.summary import future_start, summary_line

    warning = future_start(entry)
    if warning:
        echo.warn(warning)
    echo.out(summary_line(entry, _short(repo, config, entry)))


def _short(repo: Repo, config: Config, entry: Entry) -> str:
    """The entry's short id among the ledger's, as COST_LOG.md shows it."""
    from costlog.analysis.shortids import ShortIds, ledger_ids
    from costlog.ledger.store import Ledger

    ids = ledger_ids(Ledger(repo, config.ledger_dir))
    return ShortIds([*ids, entry.id]).of(entry.id)


def _cost_log(repo: Repo, config: Config, options: Options) -> Prepare | None:
    """COST_LOG.md rendered for the ledger with the new entry in it, before anything is
    written (a bad template then leaves no entry behind); None with --no-render."""
    if options.no_render:
        return None
    from costlog import render

    return lambda entries: render.document(repo, config, entries)


def _guide_rate(repo: Repo, config: Config) -> GuideRate:
    """The estimation guide COST_LOG.md shows (measured from this ledger where there is
    enough data, seeded from the config otherwise), computed on first use."""
    from costlog import analysis
    from costlog.errors import CostlogError
    from costlog.ledger.store import Ledger

    rows: list[list[dict[str, Any]]] = []

    def rate(model: str, task_type: str) -> Decimal | None:
        if not rows:
            try:
                entries = Ledger(repo, config.ledger_dir).load_all()
            except CostlogError:  # a broken ledger: the seeds still price the session
                entries = []  # (`costlog check` reports it)
            rows.append(analysis.guide(entries, config))
        return analysis.guide_rate(rows[0], model, task_type)

    return rate


def _branch_and_work_items(repo: Repo, config: Config, entry: Entry) -> None:
    """A record by hand gets the checked-out branch and the work items its name carries,
    as every other record does (`feature/WRK-400-export`: WRK-400), after any given."""
    from costlog import gitrepo
    from costlog.recording.attribution import WorkItems

    entry.branch = gitrepo.current_branch(repo.root)
    found = WorkItems(config).find(entry.branch or "")
    entry.work_items = list(dict.fromkeys([*entry.work_items, *found]))


def _from_diffs(options: Options, usage: Usage | None) -> bool:
    """A record by hand with no numbers for an agent without logs (Cursor, Copilot, ...):
    estimate it from its commits' diffs (--since, or --agent without --tasks)."""
    if options.cost is not None or usage is not None:
        return False
    return options.since_ref is not None or (
        options.agent not in (None, "manual") and options.tasks is None and not options.types
    )


def _publish(repo: Repo, config: Config, entry: Entry, options: Options, echo: Echo) -> None:
    """Stage the ledger file and COST_LOG.md, or commit them on their own."""
    from costlog import gitrepo
    from costlog.ledger.store import Ledger

    ledger = Ledger(repo, config.ledger_dir)
    paths = [ledger.rel(ledger.path_for(entry.id))]
    if not options.no_render:
        paths.append(config.output)
    if options.make_commit:
        sha = gitrepo.commit_only(repo.root, paths, f"costlog: record {entry.id}")
        echo.out(f"committed {sha}: {', '.join(paths)}")
    elif not options.no_stage:
        gitrepo.stage(repo.root, paths)
