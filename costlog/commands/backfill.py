"""`costlog backfill`: record every session of this repo the agents still have on disk.

What it reads: each agent's own data dirs (honouring `CLAUDE_CONFIG_DIR`, `CODEX_HOME`,
...; Claude Code deletes transcripts older than `cleanupPeriodDays`, 30 days by default,
so older sessions are gone unless that setting was raised), keeping the sessions whose
cwd is inside this repository, plus the repo's run directories (`rundir`, see
costlog.sources.rundir). Each session not yet in the ledger is priced as of its date,
linked to its commits and work items (costlog.recording.attribution) and written as one
ledger file under the ledger lock; COST_LOG.md is rendered once at the end.

Idempotent and incremental:
* a session whose id is in the ledger with the same request count and end time is
  skipped (nothing re-priced, no git call); one whose log grew is recorded again, in place;
* the adapters' own incremental caches make re-reading an unchanged log cheap (Claude
  Code); on top of that, a fingerprint of each agent's log files (path, size, mtime) is
  kept in `.git/costlog/backfill.json` (backfill_state): an agent whose files have not
  changed since the last complete backfill, and whose sessions are all still in the
  ledger, is not scanned.

Attribution needs the prompt and tool text (commit shas in tool output, edited files,
work-item keys in the first prompt), which no cache keeps. Claude Code's and Codex's scans
take them from the one read of a file that is not in their cache (`attribution=`), so a
cold backfill reads each log once; Codex, whose read with that text is several times
slower, only for a log that may have a commit of the repo in its span (by its first and
last line: `_facts_worth_reading`). A session about to be recorded without them (served by
the cache, grown, a wrong guess, another agent) is re-read from its own files, unless they
cannot change its entry (`_uses_facts`: no commit in its window, no prompt searched).
Those texts stay in memory. The commits of all the sessions to record come from a few
`git log` runs (attribution.CommitLog), the claims on them from an index
(attribution.Claims), and the entries are written together (ledger.batch) under one hold
of the ledger lock.

The summary it prints is backfill_report's.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from costlog import sources
from costlog.commands import backfill_state as state_file
from costlog.config import Config
from costlog.errors import CostlogError
from costlog.gitrepo import Repo, relative_cwd
from costlog.ledger.format import stamp
from costlog.ledger.store import Ledger
from costlog.models import Entry, Session
from costlog.recording import identity
from costlog.recording.builders.session import session_entry
from costlog.sources.progress import allowed as shown_progress
from costlog.sources.progress import quiet as quiet_progress
from costlog.yamlfile import clean_text

if TYPE_CHECKING:
    from costlog.pricing.table import PriceTable
    from costlog.recording.attribution import CommitLog, CommitTimes

Progress = Callable[[str], None]
_LAST = datetime.max.replace(tzinfo=UTC)
#: how far back `_facts_worth_reading` knows the commits (older logs: read with their text)
_RECENT = timedelta(days=400)
#: how much of a log's end `_last_logged_time` looks at
_TAIL = 1 << 16
_TIME = re.compile(rb'"timestamp"\s*:\s*"([^"\\]{1,64})"')


@dataclass
class Options:
    since: datetime | None = None
    until: datetime | None = None
    agents: Sequence[str] = ()
    dry_run: bool = False

    @property
    def complete(self) -> bool:
        """A run over all of history (its fingerprints may be trusted next time)."""
        return self.since is None and self.until is None and not self.dry_run


@dataclass
class Result:
    #: entries written (or, with --dry-run, that would be)
    recorded: list[Entry] = field(default_factory=list)
    #: of those, how many replaced an entry whose log had grown
    updated: int = 0
    #: sessions of this repo already in the ledger, unchanged
    unchanged: int = 0
    #: agents not scanned because nothing changed since the last backfill
    skipped_agents: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    dry_run: bool = False


# ---------------------------------------------------------------- the run


def run(
    repo: Repo,
    config: Config,
    options: Options,
    *,
    env: Mapping[str, str] | None = None,
    progress: Progress | None = None,
) -> Result:
    """Scan, price, attribute and record; render COST_LOG.md once at the end."""
    from costlog.pricing.table import PriceTable

    environ = os.environ if env is None else env
    ledger = Ledger(repo, config.ledger_dir)
    known = {e.id: e for e in ledger.load_all()}
    table = PriceTable.load(config.prices_path(repo.root))
    state = state_file.load(repo)
    result = Result(dry_run=options.dry_run)
    job = _Job(repo, config, options, table, known, result, progress or (lambda _m: None))
    todo: list[tuple[sources.Adapter, list[Path], Any]] = []
    for adapter in _adapters(options.agents):
        roots = _roots(adapter, repo, config, environ)
        if not roots:
            continue
        mark = state_file.fingerprint(roots, config)
        saved = state.get(adapter.name)
        if options.complete and state_file.unchanged(saved, mark, known):
            assert isinstance(saved, dict)
            result.skipped_agents.append(adapter.name)
            result.unchanged += len(saved["ids"])
            continue
        todo.append((adapter, roots, mark))
    try:
        for n, (adapter, roots, mark) in enumerate(todo):
            after = todo[n + 1][:2] if n + 1 < len(todo) else None
            with shown_progress():  # a big cold read says how far it is (on a terminal)
                job.progress(f"reading {adapter.name} logs")  # (started earlier if ahead)
                reading, job.ahead = job.ahead or _Reading(job, adapter, roots), None
                ids = job.agent(adapter, reading, after)
            if options.complete and adapter.name not in job.incomplete:
                state[adapter.name] = {"fingerprint": mark, "ids": sorted(ids)}
    finally:
        if job.ahead is not None:  # a stop while recording: the reading started is stopped
            job.ahead.close()
    if result.recorded and not options.dry_run:
        from costlog import render

        with ledger.lock():
            render.render(repo, config)
    if not options.dry_run:
        state_file.save(repo, state)
    return result


class _Reading:
    """One agent's sessions as its adapter reads them, started ahead of the agent's turn:
    its first session is asked for at once, which starts its reads (worker processes read
    on while this process records the agent before it). Until its turn (`sessions`), what
    it warns about is held back, so warnings keep the order of a run one agent at a time,
    and so does a reader's error: it is raised from `sessions`."""

    def __init__(self, job: _Job, adapter: sources.Adapter, roots: list[Path]) -> None:
        self.job = job
        self.held: list[str] | None = []  # None from its turn on
        self.found = job._sessions(adapter, roots, self._warn)
        self.first: list[Session] = []
        self.error: Exception | None = None
        try:
            session = next(self.found, None)
        except Exception as exc:  # said in its turn, as `_Job.agent` says any such error
            self.error = exc
        else:
            if session is not None:
                self.first.append(session)

    def _warn(self, message: str) -> None:
        if self.held is None:
            self.job.result.warnings.append(message)
        else:
            self.held.append(message)

    def close(self) -> None:
        self.found.close()

    def sessions(self) -> Iterator[Session]:
        self.job.result.warnings.extend(self.held or ())
        self.held = None
        if self.error is not None:
            raise self.error
        yield from self.first
        if self.first:
            yield from self.found


def _adapters(agents: Sequence[str]) -> list[sources.Adapter]:
    if agents:
        return [sources.get(name) for name in dict.fromkeys(agents)]
    return list(sources.available())


def _roots(
    adapter: sources.Adapter, repo: Repo, config: Config, env: Mapping[str, str]
) -> list[Path]:
    if adapter.name == "rundir":  # the runs of *this* repo, whatever the current directory
        candidates = [repo.root / config.rundir.runs_dir]
    else:
        home = Path(env.get("HOME") or Path.home())
        candidates = adapter.default_roots(env, home)
    return [p for p in candidates if p.exists()]


class _Job:
    """One backfill: turns each agent's sessions into ledger entries."""

    def __init__(
        self,
        repo: Repo,
        config: Config,
        options: Options,
        table: PriceTable,
        known: dict[str, Entry],
        result: Result,
        progress: Progress,
    ) -> None:
        self.repo, self.config, self.options, self.table = repo, config, options, table
        self.known, self.result, self.progress = known, result, progress
        from costlog.recording.attribution import Claims

        #: who holds which commit, kept in step with `known`
        self.claims = Claims(known)
        #: Claude Code's better local sources, found once (None: not looked for yet)
        self.truth_sources: Any = None
        #: when the repo's recent commits were made (asked once, when first needed)
        self.commit_times: CommitTimes | None = None
        self.ledger = Ledger(repo, config.ledger_dir)
        from costlog.ledger.batch import Staged

        #: the ledger files of the sessions being recorded, written together
        self.staged = Staged(repo.root, self.ledger.tmp_dir)
        #: agents whose scan stopped early: their fingerprint is not kept (read again)
        self.incomplete: set[str] = set()
        #: who backfills and where (asked once, when the first entry is written)
        self.identity: identity.Identity | None = None
        #: the next agent's sessions, being read while this one's are recorded (`agent`)
        self.ahead: _Reading | None = None

    def agent(
        self,
        adapter: sources.Adapter,
        reading: _Reading,
        after: tuple[sources.Adapter, list[Path]] | None,
    ) -> set[str]:
        """Record this agent's new sessions (`reading` reads them); returns the ids of all
        its sessions here. Once they are read (all, or as many as a reader's error left)
        and read again for attribution where needed, the next agent's (`after`) start to
        be read (`ahead`), by its worker processes while these are recorded on one core.
        (So no process is forked while that reading's worker pool and its threads run:
        only recording is done then.)"""
        ids: set[str] = set()
        todo: list[Session] = []
        try:
            for session in reading.sessions():
                entry_id = clean_text(f"{session.agent}/{session.session_id}")  # as stored
                ids.add(entry_id)
                if _same(self.known.get(entry_id), session):
                    self.result.unchanged += 1
                else:
                    todo.append(session)
        except Exception as exc:  # a reader's bug: record what it read, then the others
            self.result.warnings.append(
                f"{adapter.name}: reading its logs stopped early ({type(exc).__name__}: "
                f"{_first_line(exc)}); the sessions read so far are recorded, please report it"
            )
            self.incomplete.add(adapter.name)
        todo.sort(key=lambda s: (s.started or s.ended or _LAST, s.session_id))
        commit_log: CommitLog | None = None
        if todo:
            from costlog.recording.attribution import CommitLog, window

            commit_log = CommitLog(self.repo)
            commit_log.prefetch(w for w in map(window, todo) if w is not None)
            bare = _bare([s for s in todo if self._uses_facts(s, commit_log)])
            if bare:
                self.progress(f"re-reading {len(bare)} {adapter.name} sessions for attribution")
                _enrich(adapter, bare)
        if after is not None:
            with quiet_progress():  # its line is drawn in its turn only
                self.ahead = _Reading(self, *after)
        if commit_log is not None:
            self._record_all(adapter.name, todo, commit_log)
        return ids

    def _uses_facts(self, session: Session, commit_log: CommitLog) -> bool:
        """Whether the session's prompt and tool text can change its entry. For Claude Code
        and Codex they serve attribution only: with no work-item prefixes for prompts, a
        session without a commit in its window (as attribution sees it) gets none whatever
        its text says, so its log need not be read again for it. Other agents' texts may
        serve more (a run directory's work order): always."""
        from costlog.recording.attribution import window
        from costlog.sources.claude import enrich as truth

        if session.agent not in (truth.AGENT, "codex") or self.config.work_item_prefixes:
            return True
        truth_sources = self._truth(session)
        if truth_sources is not None and truth_sources.otel is not None:
            return True  # its OpenTelemetry events may widen the session's span
        span = window(session)
        return span is not None and bool(commit_log.between(*span))

    def _facts_worth_reading(self, path: Path, started: datetime | None) -> bool:
        """Asked by a scan before it reads a log not in its cache: read its prompt and tool
        text too (a slower read, for Codex)? Not when, going by its first and last line,
        no commit of this repo falls in its span and no prompt is searched for work items.
        Only a guess made early: after the read `_uses_facts` decides, from the span as
        read, and a log left without its text when it is needed is read again."""
        if self.config.work_item_prefixes or started is None:
            return True
        end = _last_logged_time(path)
        if end is None:
            return True
        if self.commit_times is None:
            from costlog.recording.attribution import CommitTimes

            self.commit_times = CommitTimes(self.repo, datetime.now(UTC) - _RECENT)
        return self.commit_times.any_between(started, max(end, started))

    def _record_all(self, name: str, todo: Sequence[Session], commit_log: CommitLog) -> None:
        """Record these sessions in order, their commits from the batched git log, under
        one hold of the ledger lock (none for a dry run)."""
        if self.options.dry_run:
            for done, session in enumerate(todo, 1):
                self.progress(f"recording {name} sessions: {done}/{len(todo)}")
                self._record(session, commit_log)
            return
        if self.identity is None:
            self.identity = identity.current(self.repo, self.config)
        with self.ledger.lock():
            try:
                for done, session in enumerate(todo, 1):
                    self.progress(f"recording {name} sessions: {done}/{len(todo)}")
                    self._record(session, commit_log)
            finally:  # what was recorded before a stop is kept, as written one by one
                self.progress(f"writing {name} sessions")
                self.staged.write()

    def _sessions(
        self, adapter: sources.Adapter, roots: list[Path], warn: Callable[[str], None]
    ) -> Generator[Session]:
        extra: dict[str, Any] = (
            {"attribution": self._facts_worth_reading} if _collects(adapter) else {}
        )
        found = adapter.scan(
            roots,
            project=self.repo.root,
            since=self.options.since,
            warn=warn,
            **extra,
        )
        for session in found:
            if relative_cwd(self.repo, session.cwd) is None or not session.requests:
                continue
            if _in_window(session, self.options):
                yield session

    def _truth(self, session: Session) -> Any:
        """Claude Code's better local sources (OTel export, ~/.claude.json), as `record`
        uses them; None for other agents."""
        import os

        from costlog.sources.claude import enrich as truth

        if session.agent != truth.AGENT:
            return None
        if self.truth_sources is None:  # the same for every session of the run
            self.truth_sources = truth.find_sources(
                explicit_otel=None,
                configured_otel=self.config.claude_otel_file,
                env=os.environ,
                root=self.repo.root,
            )
        return self.truth_sources

    def _record(self, session: Session, commit_log: CommitLog) -> None:
        """Price, attribute and write one session (under the ledger lock, held by
        `_record_all`). What is wrong with this session alone (its log, or a bug met on it)
        is a warning naming its file and the others go on; a broken ledger or disk
        (CostlogError, OSError while writing) stops the run."""
        try:
            entry = session_entry(
                session,
                self.repo,
                self.config,
                self.table,
                self.claims,
                truth_sources=self._truth(session),
                commit_log=commit_log,
            )
            _pin_work_order(entry, session, self.config)
        except Exception as exc:
            self.result.warnings += session.warnings
            self.result.warnings.append(_not_recorded(session, exc))
            return
        self.result.warnings += session.warnings
        old = self.known.get(entry.id)
        if not self.options.dry_run:
            from costlog.recording.store import merge

            assert self.identity is not None  # asked by _record_all
            identity.stamp(entry, self.identity)
            try:
                entry = merge(self.ledger.get(entry.id), entry)
                self._stage(entry)
                for other, lines in self.claims.released(entry):
                    self._stage(other)  # it held one of this entry's commits weakly
                    self.claims.put(other)
                    self.result.warnings += lines
            except (CostlogError, OSError):
                raise
            except Exception as exc:  # e.g. a value the writer cannot hold
                self.result.warnings.append(_not_recorded(session, exc))
                return
        self.result.updated += old is not None
        self.result.recorded.append(entry)
        self.claims.put(entry)

    def _stage(self, entry: Entry) -> None:
        """The entry's file as `Ledger.write` would write it, written with the others at
        the end of `_record_all` (ledger.batch); a value the writer cannot hold fails here."""
        from costlog import yamlfile
        from costlog.ledger.format import entry_to_dict

        self.staged.put(self.ledger.path_for(entry.id), yamlfile.dump(entry_to_dict(entry)))


def _not_recorded(session: Session, exc: Exception) -> str:
    """One line: the session's log file, its id, and why (the exception type when it is
    not one of costlog's own messages, so that a bug is reported, not hidden)."""
    where = session.paths[0] if session.paths else f"{session.agent} session"
    reason = (
        exc.one_line()
        if isinstance(exc, CostlogError)
        else f"{type(exc).__name__}: {_first_line(exc)}"
    )
    return f"{where}: session {session.session_id} not recorded: {reason}"


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0][:200] if lines else ""


def _in_window(session: Session, options: Options) -> bool:
    when = session.started or session.ended
    if when is None:
        return options.since is None and options.until is None
    if options.since is not None and (session.ended or when) < options.since:
        return False
    return options.until is None or when < options.until


def _same(entry: Entry | None, session: Session) -> bool:
    """The ledger already holds this session as its log is now (same calls, same end)."""
    if entry is None:
        return False
    requests = sum(mu.requests for mu in entry.models.values())
    ended = None if session.ended is None else stamp(session.ended)
    recorded_end = None if entry.ended is None else stamp(entry.ended)
    # a log that knows no end (aider's history) cannot be newer than an entry that does
    return requests == len(session.requests) and ended in (recorded_end, None)


def _collects(adapter: sources.Adapter) -> bool:
    """Whether the adapter's scan takes `attribution=True` (Claude Code's and Codex's do;
    an adapter of a third party need not)."""
    import inspect

    try:
        return "attribution" in inspect.signature(adapter.scan).parameters
    except (TypeError, ValueError):
        return False


def _bare(sessions: Sequence[Session]) -> dict[str, Session]:
    """The sessions a cached read left without attribution fields, by id, that have files
    to read them from."""
    return {
        s.session_id: s
        for s in sessions
        if not (s.first_prompt or s.tool_output_refs or s.edited_files)
        and any(Path(p).is_file() for p in s.paths)
    }


def _enrich(adapter: sources.Adapter, bare: Mapping[str, Session]) -> None:
    """Fill the in-memory attribution fields a cached read leaves empty: one more read of
    these sessions' own files (given as single files, which adapters read afresh)."""
    paths = [Path(p) for s in bare.values() for p in dict.fromkeys(s.paths)]
    paths = [p for p in dict.fromkeys(paths) if p.is_file()]
    try:
        fresh = list(adapter.scan(paths, warn=lambda _m: None))
    except Exception:  # an adapter that cannot read single files: attribute by time only
        return
    for other in fresh:
        session = bare.get(other.session_id)
        if session is None:
            continue
        session.first_prompt = session.first_prompt or other.first_prompt
        session.tool_output_refs |= other.tool_output_refs
        session.edited_files |= other.edited_files


def _last_logged_time(path: Path) -> datetime | None:
    """The time on a JSON-lines log's last whole line, or None (a guess: see
    `_Job._facts_worth_reading`)."""
    from costlog.safefs import open_log
    from costlog.timeutil import parse_log_time

    try:
        with open_log(path) as fh:
            end = fh.seek(0, 2)
            fh.seek(max(end - _TAIL, 0))
            tail = fh.read(_TAIL)
    except OSError:
        return None
    lines = tail.rstrip(b"\n").rsplit(b"\n", 1)
    found = _TIME.search(lines[-1]) if len(lines) == 2 or end <= _TAIL else None
    return parse_log_time(found.group(1).decode("ascii", "replace")) if found else None


def _pin_work_order(entry: Entry, session: Session, config: Config) -> None:
    """A runner's run serves exactly one work order: that is its work item."""
    if session.agent != "rundir":
        return
    from costlog.sources.rundir import workorders as rundir

    key = rundir.work_item(session, config.rundir)
    if key:
        entry.work_items = [key]
