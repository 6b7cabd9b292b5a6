"""`costlog init`, `costlog uninstall` and `costlog hook`: set this repo up, take it back, and
what the installed hooks run. The work is in costlog.integration; these find the repo."""

from __future__ import annotations

from collections.abc import Sequence
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from costlog.gitrepo import Repo


def init(
    *,
    dry_run: bool,
    agents: Sequence[str],
    local: bool,
    ci: str | None = None,
    force: bool = False,
) -> list[str]:
    """Set the repo up (or, with `dry_run`, list what it would touch); the lines to print."""
    from costlog import gitrepo
    from costlog.integration import setup

    repo = gitrepo.find()
    lines = setup.init(repo, dry_run=dry_run, agents=agents, local=local, ci=ci, force=force)
    return lines + retention_warnings(repo)


def retention_warnings(repo: Repo) -> list[str]:
    """`warning: ...` lines for sessions of this repo an agent will delete unrecorded (see
    costlog.commands.retention); none when the config cannot be read."""
    from costlog import config as config_mod
    from costlog.commands import retention
    from costlog.errors import CostlogError

    try:
        config = config_mod.load(repo.root)
    except CostlogError:
        return []
    return [f"warning: {line}" for line in retention.warnings(repo, config)]


def uninstall(*, dry_run: bool) -> list[str]:
    """Remove what `init` added; the lines to print."""
    from costlog import gitrepo
    from costlog.integration import setup

    return setup.uninstall(gitrepo.find(), dry_run=dry_run)


def hook(name: str, args: Sequence[str], stdin: IO[str]) -> int:
    """Run one installed hook; its exit code (0 unless a merge driver must fail the merge)."""
    from costlog.integration import hookrun

    return hookrun.run(name, args, stdin)
