"""`costlog render`: regenerate COST_LOG.md from the ledger, or show what its template gets."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from costlog.config import Config
    from costlog.gitrepo import Repo


def render(repo: Repo, config: Config, held: list[object] | None = None) -> str:
    """Render under the ledger lock (a record running now lands first); says whether the
    file changed. `held` receives the ledger's entries, for a caller that ends the
    process next and so need not free them (costlog.cli)."""
    from costlog import render as renderer
    from costlog.ledger.store import Ledger

    with Ledger(repo, config.ledger_dir).lock():
        result = renderer.render(repo, config, held=held)
    state = "updated" if result.changed else "unchanged"
    return f"{config.output} {state}"


def context_json(repo: Repo, config: Config) -> str:
    """The JSON the template receives (`costlog render --context`)."""
    from costlog import render as renderer

    return renderer.context_json(repo, config)
