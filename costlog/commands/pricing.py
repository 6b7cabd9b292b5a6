"""`costlog pricing list|show|import`: the price table in force here (bundled, plus this
repo's overrides), and updating the overrides from LiteLLM's price file."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

from costlog.commands.context import price_table, repo_and_config


def list_text(*, as_json: bool) -> str:
    """Every priced model with its current rates."""
    from costlog.pricing import view

    return view.list_text(price_table(), as_json=as_json)


def show_text(model: str) -> str:
    """One model's dated prices, tiers, aliases and source (JSON)."""
    from costlog.pricing import view

    return view.show_text(price_table(), model)


def import_litellm(
    file: Path,
    *,
    providers: Sequence[str],
    effective: date | None,
    include_suspicious: bool,
    dry_run: bool,
) -> str:
    """Append dated entries to `.costlog/prices.yaml` where LiteLLM's prices differ from
    costlog's (default providers when none are given; from today unless `effective`)."""
    from costlog.ledger.format import now
    from costlog.pricing import litellm

    repo, config = repo_and_config()
    override = repo.root / config.prices_file
    plan, written = litellm.run(
        file,
        price_table(),
        override,
        effective=effective or now().date(),
        providers=tuple(providers) or litellm.DEFAULT_PROVIDERS,
        dry_run=dry_run,
        include_suspicious=include_suspicious,
    )
    return litellm.to_text(
        plan,
        written,
        config.prices_file,
        dry_run=dry_run,
        include_suspicious=include_suspicious,
    )
