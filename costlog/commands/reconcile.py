"""`costlog reconcile FILE...`: the ledger against the provider's bill, from exported files.

The comparison is costlog.reconcile's; this loads the ledger and the price table, and with
`--write-factors` stores billed / estimated per model in the config.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from costlog.errors import CostlogError

if TYPE_CHECKING:
    from costlog.config import Config
    from costlog.gitrepo import Repo
    from costlog.reconcile.compare import Result


def run(repo: Repo, config: Config, files: Sequence[Path], threshold: str | None) -> Result:
    """Read every export, then compare; `threshold` as typed (`10%`), else the config's."""
    from costlog.ledger.store import Ledger
    from costlog.pricing.table import PriceTable
    from costlog.reconcile import compare

    limit = compare.parse_threshold(threshold) if threshold else config.reconcile_threshold_pct
    table = PriceTable.load(config.prices_path(repo.root))
    entries = Ledger(repo, config.ledger_dir).load_all()
    return compare.run(entries, list(files), table, limit)


def to_text(result: Result) -> str:
    from costlog.reconcile import report

    return report.to_text(result)


def to_json(result: Result) -> str:
    from costlog.reconcile import report

    return report.to_json(result)


def write_factors(repo: Repo, result: Result) -> str:
    """Store the correction factors in `.costlog/config.yaml`; the line to print."""
    from costlog.commands.factors import write_factors

    factors = result.factors()
    if not factors:
        raise CostlogError("no model has both ledger sessions and bill rows: no factor to write")
    path = write_factors(repo.root, factors)
    return f"wrote {len(factors)} correction factor(s) to {path.relative_to(repo.root)}"
