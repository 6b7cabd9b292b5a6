"""`costlog record` without numbers: find this repo's agent session, read, price, record.

How the session is found, first match wins:
1. `--transcript PATH`: that log file, read by whichever adapter understands it;
2. `--session ID` (with `--agent` to narrow): the session with that id in the agents' logs;
3. the agents' own environment: `CLAUDE_CODE_SESSION_ID`, `CODEX_THREAD_ID`,
   `GEMINI_SESSION_ID`;
4. the most recent session whose cwd is inside this repo.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from costlog import sources
from costlog.config import Config
from costlog.errors import ConfigError, CostlogError, LedgerError
from costlog.gitrepo import Repo, relative_cwd
from costlog.ledger.store import Ledger
from costlog.models import Entry, Session
from costlog.recording import attribution
from costlog.safefs import UnsafePath
from costlog.sources.claude.idle import idle_transcripts
from costlog.sources.claude.idle import remember as _remember_idle
from costlog.yamlfile import clean_text

if TYPE_CHECKING:
    from costlog.integration import queue as queue_mod
    from costlog.pricing.table import PriceTable
    from costlog.sources.claude import enrich as truth

ENV_SESSION = {
    "claude-code": "CLAUDE_CODE_SESSION_ID",
    "codex": "CODEX_THREAD_ID",
    "gemini": "GEMINI_SESSION_ID",
}
Warn = Callable[[str], None]


def _roots(adapter: sources.Adapter, env: Mapping[str, str]) -> list[Path]:
    home = Path(env.get("HOME") or Path.home())
    return [p for p in adapter.default_roots(env, home) if p.exists()]


def _adapters(agents: Sequence[str]) -> list[sources.Adapter]:
    if agents:
        return [sources.get(a) for a in agents]
    return list(sources.available())


def locate(
    repo: Repo,
    *,
    session_id: str | None = None,
    transcript: Path | None = None,
    agents: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    warn: Warn,
) -> Session:
    environ = os.environ if env is None else env
    adapters = _adapters(agents)
    if transcript is not None:
        return _from_transcript(transcript, adapters, session_id, warn)
    if session_id is None:
        for adapter in adapters:
            var = ENV_SESSION.get(adapter.name)
            if var and environ.get(var):
                found = adapter.find_session(_roots(adapter, environ), environ[var], warn=warn)
                if found is not None:
                    return found
    if session_id is not None:
        for adapter in adapters:
            found = adapter.find_session(_roots(adapter, environ), session_id, warn=warn)
            if found is not None:
                return found
        raise CostlogError(
            f"no session {session_id!r} in the agents' logs",
            hint="check the id, or pass --transcript PATH",
        )
    latest = latest_session(repo, adapters, environ, warn)
    if latest is None:
        raise CostlogError(
            f"no agent session found whose cwd is in {repo.root}",
            hint="pass --session ID or --transcript PATH, or --model to record by hand",
        )
    return latest


def _from_transcript(
    path: Path, adapters: Sequence[sources.Adapter], session_id: str | None, warn: Warn
) -> Session:
    if not path.is_file():
        raise CostlogError("transcript not found", path=path)
    for adapter in _likely_first(adapters, path):
        problems: list[str] = []
        try:
            found = [
                s
                for s in adapter.scan([path], warn=problems.append)
                if s.requests and (session_id is None or s.session_id == session_id)
            ]
        except Exception:  # an adapter that does not understand this format
            continue
        if found:  # only the adapter that understood the file may warn about it
            for line in problems:
                warn(line)
            return max(found, key=lambda s: len(s.requests))
    raise CostlogError(
        "no agent usage found in this file",
        path=path,
        hint="is it a Claude Code, Codex or Gemini session log?",
    )


def _likely_first(adapters: Sequence[sources.Adapter], path: Path) -> list[sources.Adapter]:
    """Try first the adapter whose data dir holds the file (one read instead of several)."""
    home = Path.home()
    resolved = path.resolve()

    def holds(adapter: sources.Adapter) -> bool:
        for root in adapter.default_roots(os.environ, home):
            try:
                resolved.relative_to(root.resolve())
            except (ValueError, OSError):
                continue
            return True
        return False

    return sorted(adapters, key=lambda a: not holds(a))


def latest_session(
    repo: Repo, adapters: Sequence[sources.Adapter], env: Mapping[str, str], warn: Warn
) -> Session | None:
    best: Session | None = None
    best_adapter: sources.Adapter | None = None
    for adapter in adapters:
        roots = _roots(adapter, env)
        if not roots:
            continue
        for session in adapter.scan(roots, project=repo.root, warn=warn):
            if relative_cwd(repo, session.cwd) is None or not session.requests:
                continue
            if best is None or _last(session) > _last(best):
                best, best_adapter = session, adapter
    if best is not None and best_adapter is not None:
        # scans may come from a cache without prompt/tool text: re-read this one session
        fresh = best_adapter.find_session(
            _roots(best_adapter, env), best.session_id, warn=lambda _m: None
        )
        return fresh if fresh is not None and fresh.requests else best
    return best


def _last(session: Session) -> str:
    when = session.ended or session.started
    return when.isoformat() if when else ""


def to_entry(
    session: Session,
    repo: Repo,
    config: Config,
    table: PriceTable,
    others: Sequence[Entry] = (),
    truth_sources: truth.Sources | None = None,
) -> Entry:
    """Price and attribute a session. With `truth_sources`, a Claude Code session is first
    reconciled with OpenTelemetry events / `~/.claude.json` (sources.claude.enrich; its problems
    are added to `session.warnings`)."""
    from costlog.pricing.table import price_requests

    _clean(session)
    if not session.requests:
        raise CostlogError(f"session {session.session_id} has no recorded model usage")
    if config.estimate_factors:  # fitted by `costlog calibrate --write`; says so in methods
        from costlog.estimate import calibration as calibrate

        calibrate.apply_factors(session, calibrate.configured_factors(config))
    if truth_sources is not None:  # after calibration: it must not rescale these numbers
        from costlog.sources.claude import enrich as truth_mod

        session = truth_mod.apply(session, truth_sources, table, session.warnings.append).session
    per_model, total, rules = price_requests(session.requests, table)
    started = session.started or min(
        (r.timestamp for r in session.requests if r.timestamp), default=session.ended
    )
    if started is None:  # every time in its log was unusable (each line warned about)
        raise CostlogError(
            f"session {session.session_id} has no usable time",
            path=session.paths[0] if session.paths else None,
        )
    commits, items = attribution.attribute(session, repo, config, others)
    sources_used = {mu.source for mu in per_model.values()}
    source = sources_used.pop() if len(sources_used) == 1 else "mixed"
    methods = dict(session.methods)
    if rules:
        methods["pricing"] = ", ".join(rules)
    return Entry(
        id=f"{session.agent}/{session.session_id}",
        agent=session.agent,
        started=started,
        ended=session.ended,
        models=per_model,
        cost_usd=total,
        source=source,
        methods=methods,
        pricing_table=table.version,
        cwd=relative_cwd(repo, session.cwd),
        branch=session.branch,
        subagents=session.subagents,
        commits=commits,
        work_items=items,
    )


def _clean(session: Session) -> None:
    """Text from a log that UTF-8 cannot hold (a lone surrogate: half of a JSON-escaped pair)
    or that no file name or YAML reader takes (NUL) is replaced, here, before the entry,
    its file name, the summary line or COST_LOG.md see it."""
    session.session_id = clean_text(session.session_id)
    if session.cwd is not None:
        session.cwd = clean_text(session.cwd)
    if session.branch is not None:
        session.branch = clean_text(session.branch)
    for request in session.requests:
        request.model = clean_text(request.model)


def record_session(
    repo: Repo,
    config: Config,
    session: Session,
    *,
    render: bool = True,
    extra: Mapping[str, object] | None = None,
    otel: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> tuple[Entry, list[str]]:
    """Price, attribute and write one session; returns (entry, warnings).

    A Claude Code session is reconciled with the better local sources first (claude.enrich):
    the OTel export `otel` (else COSTLOG_OTEL_FILE, else config `claude_otel_file`) and
    Claude Code's `~/.claude.json`."""
    from costlog.pricing.table import PriceTable
    from costlog.recording import manual as rec
    from costlog.sources.claude import enrich as truth_mod

    table = PriceTable.load(config.prices_path(repo.root))
    others = Ledger(repo, config.ledger_dir).load_all()
    sources = (
        truth_mod.find_sources(
            explicit_otel=otel,
            configured_otel=config.claude_otel_file,
            env=os.environ if env is None else env,
            root=repo.root,
        )
        if session.agent == truth_mod.AGENT
        else None
    )
    entry = to_entry(session, repo, config, table, others, truth_sources=sources)
    for key, value in (extra or {}).items():
        if value not in (None, {}, [], ""):
            setattr(entry, key, value)
    warnings = list(session.warnings)
    if entry.unpriced_models:
        warnings.append(
            f"no price for {', '.join(entry.unpriced_models)}: tokens kept, cost "
            "marked unpriced (add it to .costlog/prices.yaml, then `costlog "
            "reprice`)"
        )
    result = rec.save(repo, config, entry, render=render)
    return result.entry, warnings


# ---------------------------------------------------------------- from the post-commit hook


def process_pending(
    repo: Repo,
    *,
    env: Mapping[str, str] | None = None,
    now_ts: float | None = None,
    on_record: Callable[[str], None] | None = None,
    before_release: Callable[[], None] | None = None,
) -> list[str]:
    """Record what the SessionEnd hooks queued and sessions idle longer than configured.

    Returns one line per session recorded (and one per session it could not record);
    `on_record` gets each ledger file written (repo-relative), `before_release` runs once
    they are all written and COST_LOG.md rendered (the hook stages them there). Cheap when
    there is nothing to do: a stat of the queue and of this repo's Claude Code logs, before
    any config, adapter or template is loaded.

    The queue is claimed, not emptied (integration.queue): an item leaves the disk only after
    its entry is in the ledger and `before_release` ran, so a run killed at any point
    loses nothing, and the next run records the rest (recording a session again rewrites
    its one file). A queued item whose session cannot be read or recorded is queued again
    with a try counted, and after MAX_TRIES dropped with a line here and in the hook log;
    it never holds up the others. A failure that is not the item's (a broken ledger,
    config or price table, a full disk) stops the run and puts every item not yet
    recorded back as it was.
    """
    import time

    from costlog.integration import queue

    environ = os.environ if env is None else env
    now = time.time() if now_ts is None else now_ts
    if not queue.pending(repo.state_dir) and not idle_transcripts(repo, 0, environ, now):
        return []
    from costlog import config as config_mod

    config = config_mod.load(repo.root)
    claim = queue.claim(repo.state_dir)
    run = _Pending(repo, config, environ, on_record, claim)
    run.left = list(claim.items)
    try:
        idle = idle_transcripts(repo, config.idle_minutes, environ, now)
        if not claim.items and not claim.recorded and not claim.dropped and not idle:
            claim.release()
            return []
        if claim.items:
            run.check_repo()
        run.adopt()
        for index, item in enumerate(claim.items):
            run.left = claim.items[index:]
            run.queued(item)
        run.left = []
        for path in idle:
            run.idle(path)
        _remember_idle(repo, idle)
        if run.written:
            from costlog import render

            render.render(repo, config)
        if before_release is not None:
            before_release()
    except BaseException:
        claim.release(requeue=[*run.retry, *run.left])
        raise
    claim.release(requeue=run.retry)
    return run.lines


#: how often a queued session is tried before it is dropped (with a line saying so)
MAX_TRIES = 3


class _Pending:
    """One post-commit run over the queue and the idle logs."""

    def __init__(
        self,
        repo: Repo,
        config: Config,
        env: Mapping[str, str],
        on_record: Callable[[str], None] | None,
        claim: queue_mod.Claim,
    ) -> None:
        self.repo, self.config, self.env = repo, config, env
        self.on_record = on_record
        self.claim = claim
        self.lines: list[str] = []
        self.seen: set[str] = set()
        self.written = False
        self.retry: list[dict[str, object]] = []
        self.left: list[dict[str, object]] = []

    def check_repo(self) -> None:
        """Fail the whole run, trying no item, when the ledger or price table is broken:
        that is not any one session's fault, and must not use up their tries."""
        from costlog.pricing.table import PriceTable

        PriceTable.load(self.config.prices_path(self.repo.root))
        Ledger(self.repo, self.config.ledger_dir).load_all()

    def adopt(self) -> None:
        """What a killed run left: entries it wrote (render and stage them again) and
        items whose runs kept being killed (dropped, said here and in the hook log)."""
        for token, path in self.claim.recorded:
            self.seen.add(token.rsplit("@", 1)[0])
            if path and (self.repo.root / path).is_file():
                self.written = True
                if self.on_record is not None:
                    self.on_record(path)
        for item in self.claim.dropped:
            self._give_up(item, f"its runs were interrupted {item.get('interrupted')} times")

    def queued(self, item: dict[str, object]) -> None:
        transcript = item.get("transcript_path")
        path = Path(transcript) if isinstance(transcript, str) and transcript else None
        sid = item.get("session_id")
        self.claim.mark("start", item)
        try:
            session = locate(
                self.repo,
                session_id=str(sid) if sid else None,
                transcript=path if path and path.exists() else None,
                agents=[str(item["agent"])] if item.get("agent") else [],
                env=self.env,
                warn=self._skipped,
            )
        except Exception as exc:  # its log is gone, unreadable, or not understood
            self._failed(item, exc)
            return
        try:
            written = self._record(session)
        except (LedgerError, ConfigError, UnsafePath, OSError):
            raise  # the repo's fault, not this item's: the run stops, the item stays queued
        except Exception as exc:  # e.g. a session without usage
            self._failed(item, exc)
            return
        self.claim.mark("done", item, written)

    def _skipped(self, line: str) -> None:
        """Of a log's warnings the hook shows only a file left unread because it is not a
        regular file (a FIFO planted among the logs would otherwise go unnoticed)."""
        from costlog.safefs import NOT_REGULAR

        if NOT_REGULAR in line and line not in self.lines:
            self.lines.append(line)

    def _failed(self, item: dict[str, object], exc: Exception) -> None:
        tries = _tries(item) + 1
        if tries < MAX_TRIES:
            self.retry.append({**item, "tries": tries})
            return
        reason = (
            exc.one_line()
            if isinstance(exc, CostlogError)
            else f"{type(exc).__name__}: {_first_line(exc)}"
        )
        self._give_up(item, f"{reason} (tried {tries} times)")

    def _give_up(self, item: dict[str, object], reason: str) -> None:
        from costlog.integration import hookrun

        line = f"gave up on queued session {item.get('session_id')}: {reason}"
        self.lines.append(line)
        hookrun.note(self.repo.state_dir, line)

    def idle(self, path: Path) -> None:
        try:
            session = _from_transcript(path, _adapters(["claude-code"]), None, lambda _m: None)
        except CostlogError:
            return
        if (
            relative_cwd(self.repo, session.cwd) is None
            or f"{session.agent}/{session.session_id}" in self.seen
        ):
            return
        try:
            self._record(session)
        except (LedgerError, ConfigError, UnsafePath, OSError):
            raise  # the repo's fault, not this log's: the run stops
        except Exception as exc:  # this log alone (a bug is named by its type, not hidden)
            from costlog.integration import hookrun

            reason = (
                exc.one_line()
                if isinstance(exc, CostlogError)
                else f"{type(exc).__name__}: {_first_line(exc)}"
            )
            line = f"could not record {path}: {reason}"
            self.lines.append(line)
            hookrun.note(self.repo.state_dir, line)

    def _record(self, session: Session) -> str:
        """Write the session's entry; returns its ledger file (repo-relative)."""
        from costlog.recording import manual as rec

        entry, _ = record_session(self.repo, self.config, session, render=False, env=self.env)
        self.seen.add(entry.id)
        self.written = True
        self.lines.append(rec.summary_line(entry))
        ledger = Ledger(self.repo, self.config.ledger_dir)
        written = ledger.rel(ledger.path_for(entry.id))
        if self.on_record is not None:
            self.on_record(written)
        return written


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else ""


def _tries(item: dict[str, object]) -> int:
    try:
        return max(0, int(str(item.get("tries") or 0)))
    except ValueError:
        return 0
