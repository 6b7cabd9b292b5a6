"""Sessions an agent will delete before the ledger has them: the warning `costlog doctor`,
`init` and `backfill` give.

Of the agents costlog reads, Claude Code deletes its transcripts by itself
(`cleanupPeriodDays`, 30 days by default; costlog.sources.claude.retention). Codex keeps
its rollouts until the user removes them, so there is nothing to warn about there. For
each agent with a retention setting: this repo's sessions still in its logs (the cheap
listing, not a full read), minus the ids already in the ledger, minus the ones still being
written (changed within `idle_minutes`: the post-commit hook will take them), and how many
of those are due within SOON_DAYS.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from costlog.config import Config
from costlog.gitrepo import Repo
from costlog.ledger.store import Ledger
from costlog.models import Session
from costlog.yamlfile import clean_text

if TYPE_CHECKING:
    from costlog.sources.claude.retention import Listed

SOON_DAYS = 7
_DAY = 86400.0


@dataclass
class Exposure:
    """One agent's sessions of this repo that its retention will delete unrecorded."""

    agent: str
    #: how the agent is called in a sentence
    label: str
    #: what it deletes when, and the setting: "Claude Code deletes transcripts after ..."
    rule: str
    #: sessions of this repo in the agent's logs
    on_disk: int = 0
    #: of those, not in the ledger (and not still being written)
    unrecorded: int = 0
    #: of the unrecorded, due for deletion within SOON_DAYS
    soon: int = 0
    #: not counted: still being written
    active: int = 0
    problems: list[str] = field(default_factory=list)
    #: False when only `problems` are to be said (the setting could not be used)
    deletes: bool = True

    @property
    def at_risk(self) -> bool:
        return self.deletes and self.unrecorded > 0

    def warning(self) -> str:
        """The one line: how many, when, and what to run."""
        n = self.unrecorded
        head = (
            f"{n} {self.label} session{'s' if n != 1 else ''} of this repo "
            f"{'are' if n != 1 else 'is'} not recorded yet and {self.rule}"
        )
        if self.soon:
            head += (f", {self.soon} of them" if n != 1 else ", due") + f" within {SOON_DAYS} days"
        return f"{head}: run `costlog backfill` to keep them"

    def fine(self) -> str:
        """The line when nothing is at risk."""
        kept = (
            f"all {self.on_disk} {self.label} session{'s' if self.on_disk != 1 else ''} "
            "of this repo on disk are recorded"
            if self.on_disk
            else f"no unrecorded {self.label} sessions of this repo"
        )
        if self.active:
            kept += f" ({self.active} still active)"
        return f"{kept}; {self.rule}"


def exposures(
    repo: Repo,
    config: Config,
    *,
    env: Mapping[str, str] | None = None,
    now: float | None = None,
    recorded: set[str] | None = None,
) -> list[Exposure]:
    """Per agent with a retention setting whose logs are on this machine: the count.
    `recorded` (the ledger's ids) is loaded when not given; a broken ledger raises."""
    environ = os.environ if env is None else env
    when = time.time() if now is None else now
    if recorded is None:
        recorded = {e.id for e in Ledger(repo, config.ledger_dir).load_all()}
    out = []
    for check in (_claude, _gemini):
        found = check(repo, config, environ, when, recorded)
        if found is not None:
            out.append(found)
    return out


def _claude(
    repo: Repo, config: Config, env: Mapping[str, str], now: float, recorded: set[str]
) -> Exposure | None:
    from costlog.sources.claude import retention
    from costlog.sources.claude.paths import default_roots
    from costlog.sources.claude.sessions import AGENT

    home = Path(env.get("HOME") or Path.home())
    roots = [r for r in default_roots(env, home) if r.is_dir()]
    if not roots:
        return None
    rule = retention.period(retention.settings_files(roots, repo.root))
    where = f" in {rule.source}" if rule.source is not None else ""
    text = (
        f"Claude Code deletes transcripts at every start ({retention.SETTING}: 0{where})"
        if rule.days == 0
        else f"Claude Code deletes transcripts after {rule.days} days ({retention.SETTING}{where})"
    )
    found = Exposure(AGENT, "Claude Code", text, problems=list(rule.problems))
    idle = config.idle_minutes * 60
    waiting: list[Listed] = []
    for listed in retention.repo_sessions(roots, repo.root):
        found.on_disk += 1
        if clean_text(f"{AGENT}/{listed.session_id}") in recorded:
            continue
        if now - listed.newest < idle:
            found.active += 1
            continue
        waiting.append(listed)
    real = _confirmed(repo, waiting)
    found.on_disk -= len(waiting) - len(real)
    for listed in real:
        found.unrecorded += 1
        if listed.oldest + rule.days * _DAY - now <= SOON_DAYS * _DAY:
            found.soon += 1
    return found


def _confirmed(repo: Repo, waiting: list[Listed]) -> list[Listed]:
    """Of the listed sessions not in the ledger, those the adapter makes sessions to record
    (with calls of their own, cwd in this repo), as backfill would: their own files read
    afresh, the rest of their project through the adapter's cache."""
    if not waiting:
        return []
    from costlog import sources
    from costlog.gitrepo import relative_cwd

    files = [listed.paths[0] for listed in waiting if listed.paths]
    keep = {
        s.session_id
        for s in sources.get("claude-code").scan(files, warn=lambda _m: None)
        if s.requests and relative_cwd(repo, s.cwd) is not None
    }
    return [listed for listed in waiting if listed.session_id in keep]


def _gemini(
    repo: Repo, config: Config, env: Mapping[str, str], now: float, recorded: set[str]
) -> Exposure | None:
    """Gemini chats hold their session ids inside, so this reads this project's chats
    through the adapter (they are small, and only this repo's are opened)."""
    from costlog import sources
    from costlog.gitrepo import relative_cwd
    from costlog.sources.gemini import retention

    adapter = sources.get("gemini")
    home = Path(env.get("HOME") or Path.home())
    roots = [r for r in adapter.default_roots(env, home) if r.is_dir()]
    if not roots:
        return None
    rule = retention.policy(retention.settings_files(roots, repo.root))
    if not rule.deletes:
        if not rule.problems:
            return None
        return Exposure("gemini", "Gemini CLI", "", problems=[*rule.problems], deletes=False)
    where = f" in {rule.source}" if rule.source is not None else ""
    limits = []
    if rule.max_age_text:
        limits.append(f"after {_period(rule.max_age_text)}")
    if rule.max_count:
        limits.append(f"beyond the newest {rule.max_count} per project")
    text = f"Gemini CLI deletes chats {' and '.join(limits)} ({retention.SETTING}{where})"
    found = Exposure("gemini", "Gemini CLI", text, problems=list(rule.problems))
    sessions = [
        s
        for s in adapter.scan(roots, project=repo.root, warn=lambda _m: None)
        if s.requests and relative_cwd(repo, s.cwd) is not None
    ]
    # newest first within each project's chats dir: maxCount keeps the head of this order
    rank: dict[str, int] = {}
    by_project: dict[str, list[tuple[float, str]]] = {}
    for s in sessions:
        last = _last(s)
        folder = str(Path(s.paths[0]).parent.parent) if s.paths else ""
        by_project.setdefault(folder, []).append((last, s.session_id))
    for items in by_project.values():
        for place, (_when, sid) in enumerate(sorted(items, reverse=True)):
            rank[sid] = place
    idle = config.idle_minutes * 60
    for s in sessions:
        found.on_disk += 1
        if clean_text(f"{s.agent}/{s.session_id}") in recorded:
            continue
        last = _last(s)
        if now - last < idle:
            found.active += 1
            continue
        found.unrecorded += 1
        due_by_age = rule.max_age is not None and last + rule.max_age - now <= SOON_DAYS * _DAY
        due_by_count = rule.max_count is not None and rank.get(s.session_id, 0) >= rule.max_count
        found.soon += due_by_age or due_by_count
    return found


def _last(session: Session) -> float:
    """When a chat was last updated, as Gemini CLI ages it (epoch seconds; 0 unknown)."""
    when = session.ended or session.started
    return when.timestamp() if when is not None else 0.0


def _period(text: str) -> str:
    """ "30d" as "30 days", "24h" as "24 hours", "1m" as "1 month (30 days)"."""
    n, unit = int(text[:-1]), text[-1]
    name = {"h": "hour", "d": "day", "w": "week", "m": "month"}[unit]
    return f"{n} {name}{'s' if n != 1 else ''}"


def warnings(repo: Repo, config: Config, *, env: Mapping[str, str] | None = None) -> list[str]:
    """The warning lines for `init` and `backfill`: only where something is at risk, and
    nothing at all when the check itself cannot run (those commands have done their job;
    `costlog doctor` says what is wrong)."""
    from costlog.errors import CostlogError

    try:
        found = exposures(repo, config, env=env)
    except (CostlogError, OSError):
        return []
    return [e.warning() for e in found if e.at_risk]
