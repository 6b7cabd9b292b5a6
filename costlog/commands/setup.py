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
    statusline: bool = False,
    guard: bool = False,
) -> list[str]:
    """Set the repo up (or, with `dry_run`, list what it would touch); the lines to print."""
    from costlog import gitrepo
    from costlog.integration import setup

    repo = gitrepo.find()
    _refuse_classic_log(repo)
    lines = setup.init(
        repo,
        dry_run=dry_run,
        agents=agents,
        local=local,
        ci=ci,
        force=force,
        statusline=statusline,
        guard=guard,
    )
    return lines + retention_warnings(repo)


def _refuse_classic_log(repo: Repo) -> None:
    """Stop before anything is written when COST_LOG.md is a hand-kept classic log.

    Rendering over it would add the generated tables under the hand-kept ones (two Budget
    Alerts tables), and the hooks init installs would do so on the next commit. Importing
    it here would turn a set-up command into one that rewrites a hand-written file and adds
    ledger entries without being asked. So init names the one command that does that on
    purpose, and sets up after it; a dry run says the same."""
    from costlog import config as config_mod
    from costlog.commands.classic_log import is_classic
    from costlog.errors import CostlogError
    from costlog.safefs import read_repo_text

    try:
        config = config_mod.load(repo.root)
    except CostlogError:
        return  # setup.init reports the config itself
    text = read_repo_text(repo.root, config.output_path(repo.root))
    if text is not None and is_classic(text):
        raise CostlogError(
            "is a hand-kept cost log (it has a session table and no costlog blocks): "
            "nothing set up",
            path=config.output,
            hint=f"run `costlog import {config.output}` first: its sessions go into the "
            "ledger and its tables become generated blocks, your other text is kept; "
            "then `costlog init`",
        )


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
