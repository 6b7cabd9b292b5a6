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

from costlog import sources
from costlog.config import Config
from costlog.errors import CostlogError
from costlog.gitrepo import Repo, relative_cwd
from costlog.ledger.store import Ledger
from costlog.models import Entry, Session
from costlog.recording import store
from costlog.recording.builders.session import session_entry
from costlog.recording.store import Prepare

ENV_SESSION = {
    "claude-code": "CLAUDE_CODE_SESSION_ID",
    "codex": "CODEX_THREAD_ID",
    "gemini": "GEMINI_SESSION_ID",
}
Warn = Callable[[str], None]
#: in the warning about a reader that crashed on a file (the hooks show those lines too)
READER_FAILED = "reader failed on"


def _roots(adapter: sources.Adapter, env: Mapping[str, str]) -> list[Path]:
    home = Path(env.get("HOME") or Path.home())
    return [p for p in adapter.default_roots(env, home) if p.exists()]


def adapters_for(agents: Sequence[str]) -> list[sources.Adapter]:
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
    adapters = adapters_for(agents)
    if transcript is not None:
        return from_transcript(transcript, adapters, session_id, warn)
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


def from_transcript(
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
        except (CostlogError, OSError):  # this reader refuses the file or cannot read it
            continue
        except Exception as exc:  # a bug in that reader: said, never read as "no usage"
            warn(f"{adapter.name} {READER_FAILED} {path}: {type(exc).__name__}: {first_line(exc)}")
            continue
        if found:  # only the adapter that understood the file may warn about it
            for line in problems:
                warn(line)
            if adapter.name == "aider":  # one file holds every run: the newest is this one
                return max(found, key=_last)
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


def record_session(
    repo: Repo,
    config: Config,
    session: Session,
    *,
    prepare: Prepare | None = None,
    extra: Mapping[str, object] | None = None,
    otel: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> tuple[Entry, list[str]]:
    """Price, attribute and save one session (`prepare`: as `recording.store.save`);
    returns (entry, warnings).

    A Claude Code session is reconciled with the better local sources first (claude.enrich):
    the OTel export `otel` (else COSTLOG_OTEL_FILE, else config `claude_otel_file`) and
    Claude Code's `~/.claude.json`."""
    from costlog.pricing.table import PriceTable
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
    entry = session_entry(session, repo, config, table, others, truth_sources=sources)
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
    result = store.save(repo, config, entry, prepare=prepare)
    return result.entry, warnings + result.warnings


def first_line(exc: BaseException) -> str:
    """An exception's first line of text, for a one-line message."""
    text = str(exc).strip().splitlines()
    return text[0] if text else ""
