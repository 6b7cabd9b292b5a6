"""`costlog doctor`: is this repo's set-up working, and will an agent delete history first?

One line per finding, each with a level (`ok`, `warn`, `error`); exit 0 when every line is
ok, 1 otherwise. What it checks, reading only:

* the config and the ledger load;
* the git hooks costlog installs are there and name a Python that exists, and the
  COST_LOG.md merge driver is registered (costlog.integration.health);
* the SessionEnd queue is not stuck: no claims of processes that died, no items failing
  again and again, nothing waiting for more than a day;
* for each agent `init` set up: its `/end-session` command and SessionEnd handler, and the
  `costlog` they call by name is on PATH;
* retention: sessions of this repo an agent will delete before the ledger has them
  (costlog.commands.retention).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

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
    return findings


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


def exit_code(findings: Sequence[Finding]) -> int:
    """0 when every finding is ok, 1 when any warns or is an error."""
    return 0 if all(f.level == OK for f in findings) else 1
