"""`costlog doctor`: is this repo's set-up working, and will an agent delete history first?

One line per finding, each with a level (`ok`, `warn`, `error`); exit 0 when every line is
ok, 1 otherwise. What it checks, reading only:

* the config and the ledger load;
* the git hooks costlog installs are there and name a Python that exists, and the
  COST_LOG.md merge driver is registered (costlog.integration.health);
* the SessionEnd queue is not stuck: no claims of processes that died, no items failing
  again and again, nothing waiting for more than a day;
* for each agent `init` set up: its `/end-session` command and SessionEnd handler, and the
  costlog they run is there (this clone's launcher, said once whatever the agents);
* unrecorded: sessions of this repo in Claude Code's and Codex's logs that are neither in
  the ledger nor queued (`costlog backfill` records them);
* retention: sessions of this repo an agent will delete before the ledger has them
  (costlog.commands.retention);
* formats: record types in each agent's newest logs that costlog neither reads nor lists as
  left unread on purpose (costlog.sources.formats), named with their line counts.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from costlog.config import Config
from costlog.errors import CostlogError
from costlog.gitrepo import Repo
from costlog.integration.health import ERROR, OK, WARN, Finding


def run() -> list[Finding]:
    """The findings for the repository around the current directory."""
    from costlog import gitrepo

    return doctor(gitrepo.find())


def doctor(
    repo: Repo, *, env: Mapping[str, str] | None = None, now: float | None = None
) -> list[Finding]:
    from costlog import config as config_mod
    from costlog.integration import health

    environ = os.environ if env is None else env
    findings: list[Finding] = []
    try:
        config: Config | None = config_mod.load(repo.root)
    except CostlogError as exc:
        config = None
        findings.append(Finding(ERROR, "config", exc.one_line()))
    findings += health.git_hooks(repo)
    findings += health.merge_driver(repo)
    findings += health.session_queue(repo, now)
    findings += health.agents(repo, environ)
    if config is not None:
        findings += _retention(repo, config, environ, now)
        findings += unrecorded(repo, config, environ, now)
    findings += formats(environ)
    return findings


#: how many of each agent's newest logs `formats` reads
FORMAT_SAMPLE = 10


def formats(env: Mapping[str, str]) -> list[Finding]:
    """Record types in the agents' newest logs that costlog neither reads nor knows to
    leave: a new agent version's format, which may hold usage costlog then misses (listed
    for a look, not an error)."""
    from costlog import sources
    from costlog.sources import formats as formats_mod

    home = Path(env.get("HOME") or Path.home())
    out = []
    for agent in ("claude-code", "codex", "gemini"):
        roots = sources.get(agent).default_roots(env, home)
        logs = formats_mod.newest_logs(agent, roots, FORMAT_SAMPLE)
        if not logs:
            continue
        files, unknown = formats_mod.summary(agent, logs)
        where = f"{agent}, {files} newest log{'s' if files != 1 else ''}"
        if unknown:
            kinds = ", ".join(f"{k} ({n} line{'s' if n != 1 else ''})" for k, n in unknown.items())
            text = f"{where}: record types costlog does not know: {kinds}"
        else:
            text = f"{where}: every record type known"
        out.append(Finding(OK, "formats", text))
    return out


def _retention(
    repo: Repo, config: Config, env: Mapping[str, str], now: float | None
) -> list[Finding]:
    from costlog.commands import retention
    from costlog.ledger.store import Ledger

    try:
        recorded = {e.id for e in Ledger(repo, config.ledger_dir).load_all()}
    except CostlogError as exc:
        return [Finding(ERROR, "ledger", exc.one_line())]
    n = len(recorded)
    out = [Finding(OK, "ledger", f"{n} session{'s' if n != 1 else ''} recorded")]
    for found in retention.exposures(repo, config, env=env, now=now, recorded=recorded):
        out += [Finding(WARN, "retention", problem) for problem in found.problems]
        if not found.deletes:
            continue
        if found.at_risk:
            out.append(Finding(WARN, "retention", found.warning()))
        else:
            out.append(Finding(OK, "retention", found.fine()))
    return out


def unrecorded(
    repo: Repo, config: Config, env: Mapping[str, str], now: float | None = None
) -> list[Finding]:
    """Sessions of this repo in the agents' logs that are neither in the ledger nor queued
    (nor still being written): what `costlog backfill` would record. Claude Code's
    transcripts and Codex's rollouts are told apart by their first lines; only the files
    of sessions found missing are read whole, to make sure each has calls of its own."""
    import time

    from costlog.integration import queue
    from costlog.ledger.store import Ledger

    try:
        recorded = {e.id for e in Ledger(repo, config.ledger_dir).load_all()}
    except CostlogError:
        return []  # the ledger line already says what is wrong
    skip = recorded | queue.health(repo.state_dir).keys
    before = (time.time() if now is None else now) - config.idle_minutes * 60
    counts = {
        agent: n
        for agent, n in (
            ("claude-code", _claude_missing(repo, env, skip, before)),
            ("codex", _codex_missing(repo, env, skip, before)),
        )
        if n
    }
    total = sum(counts.values())
    if not total:
        return [
            Finding(
                OK,
                "unrecorded",
                "every session of this repo in the agents' logs is recorded or queued",
            )
        ]
    each = ", ".join(f"{agent} {n}" for agent, n in counts.items())
    return [
        Finding(
            WARN,
            "unrecorded",
            f"{total} session{'s' if total != 1 else ''} of this repo in the agents' logs "
            f"{'are' if total != 1 else 'is'} not in the ledger nor queued ({each}): "
            "`costlog backfill` records them",
        )
    ]


def _recent(path: Path, before: float) -> bool:
    try:
        return path.stat().st_mtime >= before
    except OSError:
        return True  # gone or unreadable: not counted


def _with_calls(repo: Repo, agent: str, files: list[Path], ids: set[str]) -> int:
    """Of `ids`, how many the adapter reads from `files` as sessions with calls of their
    own in this repo (as backfill would record them)."""
    from costlog import sources
    from costlog.gitrepo import relative_cwd

    if not files:
        return 0
    found = {
        s.session_id
        for s in sources.get(agent).scan(files, project=repo.root, warn=lambda _m: None)
        if s.requests and relative_cwd(repo, s.cwd) is not None
    }
    return len(found & ids)


def _claude_missing(repo: Repo, env: Mapping[str, str], skip: set[str], before: float) -> int:
    from costlog.sources.claude import retention
    from costlog.sources.claude.paths import default_roots
    from costlog.yamlfile import clean_text

    home = Path(env.get("HOME") or Path.home())
    roots = [r for r in default_roots(env, home) if r.is_dir()]
    missing = [
        listed
        for listed in retention.repo_sessions(roots, repo.root)
        if clean_text(f"claude-code/{listed.session_id}") not in skip
        and listed.newest < before
        and listed.paths
    ]
    files = [listed.paths[0] for listed in missing]
    return _with_calls(repo, "claude-code", files, {m.session_id for m in missing})


def _codex_missing(repo: Repo, env: Mapping[str, str], skip: set[str], before: float) -> int:
    """Codex rollouts name their cwd in their first lines: the adapter reads only this
    repo's families, through its incremental cache (as `scan` and `backfill` do)."""
    from costlog import sources
    from costlog.gitrepo import relative_cwd
    from costlog.yamlfile import clean_text

    adapter = sources.get("codex")
    home = Path(env.get("HOME") or Path.home())
    roots = [r for r in adapter.default_roots(env, home) if r.is_dir()]
    if not roots:
        return 0
    return sum(
        1
        for s in adapter.scan(roots, project=repo.root, warn=lambda _m: None)
        if s.requests
        and relative_cwd(repo, s.cwd) is not None
        and clean_text(f"codex/{s.session_id}") not in skip
        and not any(_recent(Path(p), before) for p in s.paths)
    )


def exit_code(findings: Sequence[Finding]) -> int:
    """0 when every finding is ok, 1 when any warns or is an error."""
    return 0 if all(f.level == OK for f in findings) else 1
