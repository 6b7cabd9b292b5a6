"""What nearly every command starts from: this repository, its config and its price table."""

from __future__ import annotations

from typing import TYPE_CHECKING

from costlog.errors import CostlogError

if TYPE_CHECKING:
    from costlog.config import Config
    from costlog.gitrepo import Repo
    from costlog.pricing.table import PriceTable


def repo_and_config() -> tuple[Repo, Config]:
    """The git repository around the current directory and its `.costlog/config.yaml`."""
    from costlog import config as config_mod
    from costlog import gitrepo

    repo = gitrepo.find()
    return repo, config_mod.load(repo.root)


def price_table() -> PriceTable:
    """The bundled table, with this repo's `.costlog/prices.yaml` on top when run inside a
    repo; outside one (`costlog scan`, `costlog pricing`) the bundled table alone."""
    from costlog.pricing.table import PriceTable

    try:
        repo, config = repo_and_config()
        override = config.prices_path(repo.root)
    except CostlogError:
        override = None
    return PriceTable.load(override)
