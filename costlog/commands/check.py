"""`costlog check`: the ledger is valid, every cost follows from its tokens and price table,
and COST_LOG.md is what the ledger renders to (else CheckFailed, exit 3)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from costlog.config import Config
    from costlog.gitrepo import Repo


def check(
    repo: Repo,
    config: Config,
    notes: list[str] | None = None,
    held: list[object] | None = None,
) -> str:
    """What was checked, when all is well; raises CheckFailed naming what is not. `notes`
    receives lines to show either way (entries priced from the repo's own prices);
    `held`, the ledger's entries, for a caller that ends the process next (costlog.cli)."""
    from costlog import render as renderer

    return renderer.check(repo, config, notes, held=held)
