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

from costlog import attribution, sources
from costlog.config import Config
from costlog.errors import CostlogError
from costlog.ledger import Ledger
from costlog.models import Entry, Session
from costlog.repo import Repo, relative_cwd

if TYPE_CHECKING:
    from costlog.pricing import PriceTable

ENV_SESSION = {"claude-code": "CLAUDE_CODE_SESSION_ID", "codex": "CODEX_THREAD_ID",
               "gemini": "GEMINI_SESSION_ID"}
Warn = Callable[[str], None]
#: the post-commit hook only picks up idle sessions this recent (seconds)
RECENT = 2 * 24 * 3600


def _roots(adapter: sources.Adapter, env: Mapping[str, str]) -> list[Path]:
    home = Path(env.get("HOME") or Path.home())
    return [p for p in adapter.default_roots(env, home) if p.exists()]


def _adapters(agents: Sequence[str]) -> list[sources.Adapter]:
    if agents:
        return [sources.get(a) for a in agents]
    return list(sources.available())


def locate(repo: Repo, *, session_id: str | None = None, transcript: Path | None = None,
           agents: Sequence[str] = (), env: Mapping[str, str] | None = None,
           warn: Warn) -> Session:
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
        raise CostlogError(f"no session {session_id!r} in the agents' logs",
                           hint="check the id, or pass --transcript PATH")
    latest = latest_session(repo, adapters, environ, warn)
    if latest is None:
        raise CostlogError(f"no agent session found whose cwd is in {repo.root}",
                           hint="pass --session ID or --transcript PATH, or --model to "
                           "record by hand")
    return latest


def _from_transcript(path: Path, adapters: Sequence[sources.Adapter], session_id: str | None,
                     warn: Warn) -> Session:
    if not path.is_file():
        raise CostlogError("transcript not found", path=path)
    for adapter in adapters:
        try:
            found = [s for s in adapter.scan([path], warn=lambda _m: None)
                     if s.requests and (session_id is None or s.session_id == session_id)]
        except Exception:  # an adapter that does not understand this format
            continue
        if found:
            # re-read with warnings on, from the adapter that understood it
            chosen = [s for s in adapter.scan([path], warn=warn)
                      if s.requests and (session_id is None or s.session_id == session_id)]
            return max(chosen, key=lambda s: len(s.requests))
    raise CostlogError("no agent usage found in this file", path=path,
                       hint="is it a Claude Code, Codex or Gemini session log?")


def latest_session(repo: Repo, adapters: Sequence[sources.Adapter], env: Mapping[str, str],
                   warn: Warn) -> Session | None:
    best: Session | None = None
    for adapter in adapters:
        roots = _roots(adapter, env)
        if not roots:
            continue
        for session in adapter.scan(roots, project=repo.root, warn=warn):
            if relative_cwd(repo, session.cwd) is None or not session.requests:
                continue
            if best is None or _last(session) > _last(best):
                best = session
    return best


def _last(session: Session) -> str:
    when = session.ended or session.started
    return when.isoformat() if when else ""


def to_entry(session: Session, repo: Repo, config: Config, table: PriceTable,
             others: Sequence[Entry] = ()) -> Entry:
    from costlog.pricing import price_requests

    if not session.requests:
        raise CostlogError(f"session {session.session_id} has no recorded model usage")
    per_model, total, rules = price_requests(session.requests, table)
    started = session.started or min(r.timestamp for r in session.requests if r.timestamp)
    commits, items = attribution.attribute(session, repo, config, others)
    sources_used = {mu.source for mu in per_model.values()}
    source = sources_used.pop() if len(sources_used) == 1 else "mixed"
    methods = dict(session.methods)
    if rules:
        methods["pricing"] = ", ".join(rules)
    return Entry(
        id=f"{session.agent}/{session.session_id}", agent=session.agent, started=started,
        ended=session.ended, models=per_model, cost_usd=total, source=source,
        methods=methods, pricing_table=table.version,
        cwd=relative_cwd(repo, session.cwd), branch=session.branch,
        subagents=session.subagents, commits=commits, work_items=items,
    )


def record_session(repo: Repo, config: Config, session: Session, *, render: bool = True,
                   extra: Mapping[str, object] | None = None) -> tuple[Entry, list[str]]:
    """Price, attribute and write one session; returns (entry, warnings)."""
    from costlog import record as rec
    from costlog.pricing import PriceTable

    table = PriceTable.load(config.prices_path(repo.root))
    others = Ledger(repo, config.ledger_dir).load_all()
    entry = to_entry(session, repo, config, table, others)
    for key, value in (extra or {}).items():
        if value not in (None, {}, [], ""):
            setattr(entry, key, value)
    warnings = list(session.warnings)
    if entry.unpriced_models:
        warnings.append(f"no price for {', '.join(entry.unpriced_models)}: tokens kept, cost "
                        "marked unpriced (add it to .costlog/prices.yaml, then `costlog "
                        "reprice`)")
    result = rec.save(repo, config, entry, render=render)
    return result.entry, warnings


# ---------------------------------------------------------------- from the post-commit hook


def process_pending(repo: Repo, *, env: Mapping[str, str] | None = None,
                    now_ts: float | None = None) -> list[str]:
    """Record what the SessionEnd hooks queued and sessions idle longer than configured.

    Returns one line per session recorded. Cheap when there is nothing to do: the idle check
    only stats this repo's Claude Code log files and compares them with what it saw last.
    """
    import time

    from costlog import config as config_mod
    from costlog import queue
    from costlog import record as rec

    environ = os.environ if env is None else env
    config = config_mod.load(repo.root)
    items = queue.drain(repo.state_dir)
    now = time.time() if now_ts is None else now_ts
    idle = idle_transcripts(repo, config, environ, now)
    if not items and not idle:
        return []
    done: list[str] = []
    problems: list[str] = []
    seen: set[str] = set()
    for item in items:
        transcript = item.get("transcript_path")
        path = Path(transcript) if isinstance(transcript, str) and transcript else None
        try:
            session = locate(repo, session_id=item.get("session_id") or None,
                             transcript=path if path and path.exists() else None,
                             agents=[str(item["agent"])] if item.get("agent") else [],
                             env=environ, warn=problems.append)
        except CostlogError as exc:
            problems.append(exc.one_line())
            continue
        entry, _ = record_session(repo, config, session, render=False)
        seen.add(entry.id)
        done.append(rec.summary_line(entry))
    for path in idle:
        try:
            session = _from_transcript(path, _adapters(["claude-code"]), None, problems.append)
        except CostlogError as exc:
            problems.append(exc.one_line())
            continue
        if relative_cwd(repo, session.cwd) is None or \
                f"{session.agent}/{session.session_id}" in seen:
            continue
        entry, _ = record_session(repo, config, session, render=False)
        done.append(rec.summary_line(entry))
    _remember_idle(repo, idle)
    if done:
        from costlog import render

        render.render(repo, config)
    return done


def claude_project_dirs(repo: Repo, env: Mapping[str, str]) -> list[Path]:
    """Claude Code keeps a project's logs in a dir named after its cwd (non-alphanumerics
    -> '-'); sessions started in a subdirectory have a longer name with the same prefix."""
    import re

    home = Path(env.get("HOME") or Path.home())
    configured = env.get("CLAUDE_CONFIG_DIR")
    bases = [Path(p) / "projects" for p in configured.split(",")] if configured else \
        [home / ".claude" / "projects", home / ".config" / "claude" / "projects"]
    prefix = re.sub(r"[^A-Za-z0-9]", "-", str(repo.root))
    found = []
    for base in bases:
        try:
            found += [d for d in base.iterdir() if d.name.startswith(prefix) and d.is_dir()]
        except OSError:
            continue
    return found


def idle_transcripts(repo: Repo, config: Config, env: Mapping[str, str],
                     now: float) -> list[Path]:
    """This repo's Claude Code transcripts that changed since last seen and are now idle."""
    import json

    seen_path = repo.state_dir / "idle-seen.json"
    try:
        seen = json.loads(seen_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        seen = {}
    limit = config.idle_minutes * 60
    out = []
    for folder in claude_project_dirs(repo, env):
        for path in folder.glob("*.jsonl"):
            try:
                mtime = path.stat().st_mtime
            except OSError:
                continue
            # older history is for `costlog backfill`, not for a commit hook
            if limit <= now - mtime <= RECENT and seen.get(str(path)) != mtime:
                out.append(path)
    return out


def _remember_idle(repo: Repo, paths: Sequence[Path]) -> None:
    import json

    from costlog.ledger import atomic_write

    if not paths:
        return
    seen_path = repo.state_dir / "idle-seen.json"
    try:
        seen = json.loads(seen_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        seen = {}
    for path in paths:
        try:
            seen[str(path)] = path.stat().st_mtime
        except OSError:
            continue
    atomic_write(seen_path, json.dumps(seen))
