"""COST_LOG.md itself: what it should be (`document`), writing it (`render`), and proving
that the committed file matches the ledger (`check`)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

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

if TYPE_CHECKING:
    from costlog import forked


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

    `notes` receives (also when the check then fails) the line saying how many entries
    are priced from the repo's own price file, and the costs that cannot be proven.

    From FORK_MIN entries on, the costs are verified in a forked child while this
    process builds the document (costlog.forked); the outcome is as without it: the
    verification's failure is reported before the document's, and a child that fails
    to answer means the costs are verified here.

    `held` receives the entries: a caller that ends the process next keeps them from
    being freed one by one (costlog.cli.run)."""
    from costlog.errors import LedgerError
    from costlog.ledger import check as ledger_check

    try:
        entries = ledger_check.files(Ledger(repo, config.ledger_dir))  # also their names
    except LedgerError as exc:
        raise CheckFailed(f"invalid ledger: {exc.one_line()}") from None
    if held is not None:
        held.append(entries)
    child = _verifying(repo, config, entries, notes is not None)
    try:
        result, late = _document(repo, config, entries)
        verified = child.result() if child is not None else None
    finally:
        if child is not None:
            child.stop()  # reaped already, unless document() itself was interrupted
    if verified is None:  # no child, or it failed to answer: verify here, as without one
        _verify_costs(repo, config, entries, notes)
    else:
        found, failure = verified
        if notes is not None:
            notes.extend(found)
        if failure is not None:
            raise failure
    if late is not None:  # after the verification's failure, as when it ran first
        raise late
    if result is None or result.old is None:
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


#: from how many entries `check` verifies the costs in a forked child while it renders.
#: The child costs the parent ~0.1 s at 100,000 entries (its first write to every page
#: the two share copies it), about half what the verification takes; measured, the
#: child saved nothing at 10,000, 20,000 or 40,000 sessions and ~0.12 s of 1.8 at 100,000
FORK_MIN = 50_000

#: what the child sends back: the notes it added, and the failure it found (or None)
Verified = tuple[list[str], CostlogError | None]


def _verifying(
    repo: Repo, config: Config, entries: Sequence[Entry], noted: bool
) -> forked.Child[Verified] | None:
    """A child verifying the costs (`_verify_costs`) while `check` builds the document,
    on the second core; None below FORK_MIN entries, with one core (the child would
    only take turns with the parent), or when no child can be started.
    Its failure comes back as a result, with the notes added before it, so that `check`
    can report it first, as when it ran before the document."""

    def verify() -> Verified:
        found: list[str] | None = [] if noted else None
        try:
            _verify_costs(repo, config, entries, found)
        except CostlogError as exc:
            return found or [], exc
        return found or [], None

    from costlog import forked  # here: only `check` needs it, not render (the git hooks)

    if len(entries) < FORK_MIN:
        return None
    return forked.start(verify)


def _document(
    repo: Repo, config: Config, entries: Sequence[Entry]
) -> tuple[Rendered | None, Exception | None]:
    """The document `check` compares with, or what building it raised (as CheckFailed,
    but an UnsafePath as it is: a symlink is an error, exit 1, not a stale file), kept
    to be raised only once the costs are verified."""
    from costlog.safefs import UnsafePath

    try:
        return document(repo, config, entries, resolve=False), None
    except UnsafePath as exc:
        return None, exc
    except CostlogError as exc:
        return None, CheckFailed(exc.one_line())
    except Exception as exc:  # a bug: still after the verification's verdict
        return None, exc


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
