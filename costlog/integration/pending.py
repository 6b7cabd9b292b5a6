"""What the post-commit hook records: the sessions the SessionEnd hooks queued, and the
Claude Code logs that went idle, each written into the ledger; then COST_LOG.md once.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from costlog.config import Config
from costlog.errors import ConfigError, CostlogError, LedgerError
from costlog.gitrepo import Repo, relative_cwd
from costlog.integration import queue
from costlog.ledger.store import Ledger
from costlog.models import Session
from costlog.recording import auto
from costlog.recording.auto import READER_FAILED, first_line
from costlog.recording.summary import summary_line
from costlog.safefs import NOT_REGULAR, UnsafePath
from costlog.sources.claude.idle import idle_transcripts
from costlog.sources.claude.idle import remember as _remember_idle

if TYPE_CHECKING:
    from costlog.integration.queue import Claim


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
        claim: Claim,
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
        if item.get("session_id") and f"{item.get('agent')}/{item['session_id']}" in self.seen:
            self.claim.mark("done", item)  # queued again (OpenCode queues each idle): done
            return
        transcript = item.get("transcript_path")
        path = Path(transcript) if isinstance(transcript, str) and transcript else None
        sid = item.get("session_id")
        self.claim.mark("start", item)
        try:
            session = auto.locate(
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
        regular file (a FIFO planted among the logs would otherwise go unnoticed) and a
        reader that crashed on a file (a bug, never to be read as "no usage found")."""
        if (NOT_REGULAR in line or READER_FAILED in line) and line not in self.lines:
            self.lines.append(line)

    def _failed(self, item: dict[str, object], exc: Exception) -> None:
        tries = _tries(item) + 1
        if tries < MAX_TRIES:
            self.retry.append({**item, "tries": tries})
            return
        reason = (
            exc.one_line()
            if isinstance(exc, CostlogError)
            else f"{type(exc).__name__}: {first_line(exc)}"
        )
        self._give_up(item, f"{reason} (tried {tries} times)")

    def _give_up(self, item: dict[str, object], reason: str) -> None:
        from costlog.integration import hookrun

        line = f"gave up on queued session {item.get('session_id')}: {reason}"
        self.lines.append(line)
        hookrun.note(self.repo.state_dir, line)

    def idle(self, path: Path) -> None:
        try:
            session = auto.from_transcript(
                path, auto.adapters_for(["claude-code"]), None, self._skipped
            )
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
                else f"{type(exc).__name__}: {first_line(exc)}"
            )
            line = f"could not record {path}: {reason}"
            self.lines.append(line)
            hookrun.note(self.repo.state_dir, line)

    def _record(self, session: Session) -> str:
        """Write the session's entry; returns its ledger file (repo-relative)."""
        entry, _ = auto.record_session(self.repo, self.config, session, env=self.env)
        self.seen.add(entry.id)
        self.written = True
        self.lines.append(summary_line(entry))
        ledger = Ledger(self.repo, self.config.ledger_dir)
        written = ledger.rel(ledger.path_for(entry.id))
        if self.on_record is not None:
            self.on_record(written)
        return written


def _tries(item: dict[str, object]) -> int:
    try:
        return max(0, int(str(item.get("tries") or 0)))
    except ValueError:
        return 0
