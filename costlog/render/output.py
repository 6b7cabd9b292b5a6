"""COST_LOG.md itself: what it should be (`document`), writing it (`render`), and proving
that the committed file matches the ledger (`check`)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from costlog.config import Config
from costlog.errors import CheckFailed, CostlogError
from costlog.gitrepo import Repo
from costlog.ledger.atomic import atomic_write
from costlog.ledger.store import Ledger
from costlog.models import Entry
from costlog.pricing.table import PriceTable
from costlog.render.blocks import first_difference, resolve_conflicts, splice
from costlog.render.context import build_context
from costlog.render.template import load_template, render_text


@dataclass
class Rendered:
    path: Path
    text: str
    old: str | None

    @property
    def changed(self) -> bool:
        return self.text != self.old


def document(
    repo: Repo,
    config: Config,
    entries: Sequence[Entry] | None = None,
    *,
    resolve: bool = True,
    held: list[object] | None = None,
) -> Rendered:
    """What COST_LOG.md should be: existing hand-written text + freshly rendered blocks.

    COST_LOG.md (or a directory on the way to it) that is a symlink is refused before
    anything else (UnsafePath): its target's text would land in the repo. `held`
    receives the entries it loads (`check`'s `held`)."""
    from costlog.safefs import read_repo_text

    path = config.output_path(repo.root)
    old = read_repo_text(repo.root, path)
    if entries is None:
        entries = Ledger(repo, config.ledger_dir).load_all()
        if held is not None:
            held.append(entries)
    table = PriceTable.load(config.prices_path(repo.root))
    context = build_context(entries, config, price_table=table.version, table=table)
    fresh = render_text(context, load_template(repo, config), repo.state_dir / "template-cache")
    if old is None:
        return Rendered(path, fresh, None)
    base = resolve_conflicts(old, config.output) if resolve else old
    return Rendered(path, splice(base, fresh, config.output), old)


def render(
    repo: Repo,
    config: Config,
    entries: Sequence[Entry] | None = None,
    *,
    held: list[object] | None = None,
) -> Rendered:
    """Write COST_LOG.md when it changes; `held` as for `check`."""
    result = document(repo, config, entries, held=held)
    if result.changed:
        atomic_write(result.path, result.text, repo.state_dir / "tmp", root=repo.root)
    return result


def check(
    repo: Repo,
    config: Config,
    notes: list[str] | None = None,
    *,
    held: list[object] | None = None,
) -> str:
    """Raise CheckFailed unless the ledger is valid and COST_LOG.md is what it renders to.

    `notes` receives, as soon as it is known (so also when the check then fails), the
    line saying how many entries are priced from the repo's own price file. `held`
    receives the entries: a caller that ends the process next keeps them from being
    freed one by one (costlog.cli.run)."""
    from costlog.errors import LedgerError
    from costlog.ledger import check as ledger_check
    from costlog.safefs import UnsafePath

    try:
        entries = ledger_check.files(Ledger(repo, config.ledger_dir))  # also their names
    except LedgerError as exc:
        raise CheckFailed(f"invalid ledger: {exc.one_line()}") from None
    if held is not None:
        held.append(entries)
    _verify_costs(repo, config, entries, notes)
    try:
        result = document(repo, config, entries, resolve=False)
    except UnsafePath:
        raise  # a symlink is an error (exit 1), not a stale file
    except CostlogError as exc:
        raise CheckFailed(exc.one_line()) from None
    if result.old is None:
        raise CheckFailed(f"{config.output} is missing", hint="run `costlog render` and commit it")
    if result.changed:
        line, block = first_difference(result.old, result.text)
        what = f"block {block!r} differs from the ledger" if block else "differs from the ledger"
        raise CheckFailed(
            f"{what} (stale, or edited inside a generated block)",
            path=config.output,
            line=line,
            hint="run `costlog render` and commit the result",
        )
    n = len(entries)
    return f"ok: {config.output} matches {n} ledger session{'' if n == 1 else 's'}"


def _verify_costs(
    repo: Repo, config: Config, entries: Sequence[Entry], notes: list[str] | None
) -> None:
    """Every cost must follow from its tokens and the entry's price table, and a guide
    estimate from the estimation guide (costlog.ledger.check): a ledger edited by hand
    and rendered again is consistent, but not honest."""
    from costlog.analysis.guide_history import GuideHistory
    from costlog.ledger import check as ledger_check
    from costlog.ledger.overrides import override_note
    from costlog.safefs import UnsafePath

    try:
        table = PriceTable.load(config.prices_path(repo.root))
    except UnsafePath:
        raise  # a symlink is an error (exit 1), as in document()
    except CostlogError as exc:
        raise CheckFailed(exc.one_line()) from None
    note = override_note(entries, table, PriceTable.load(), config.prices_file)
    if note is not None and notes is not None:
        notes.append(note)
    ledger_check.costs(
        Ledger(repo, config.ledger_dir), entries, table, GuideHistory(entries, config), notes
    )


def context_json(repo: Repo, config: Config) -> str:
    entries = Ledger(repo, config.ledger_dir).load_all()
    table = PriceTable.load(config.prices_path(repo.root))
    context = build_context(entries, config, price_table=table.version, table=table)
    return json.dumps(context, indent=2, ensure_ascii=False)
