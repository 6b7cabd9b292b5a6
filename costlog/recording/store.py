"""Saving an entry into the ledger: merged with what is recorded for its session, written
atomically under the ledger lock, or not written at all.

Rendering COST_LOG.md is the caller's: it passes a `prepare` function that renders the
document for the ledger as it will be, and `save` writes that beside the entry.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from costlog import yamlfile
from costlog.config import Config
from costlog.gitrepo import Repo
from costlog.ledger.atomic import atomic_write
from costlog.ledger.format import entry_to_dict, parse_entry
from costlog.ledger.store import Ledger
from costlog.models import Entry
from costlog.safefs import check_repo_path


class Document(Protocol):
    """A file rendered from the ledger (COST_LOG.md), ready to be written."""

    @property
    def path(self) -> Path: ...

    @property
    def text(self) -> str: ...

    @property
    def changed(self) -> bool: ...


#: renders the document for these entries: the whole ledger, the new entry included
Prepare = Callable[[Sequence[Entry]], Document]


@dataclass
class Recorded:
    entry: Entry
    path: str
    changed: bool
    warnings: list[str] = field(default_factory=list)


def merge(old: Entry | None, new: Entry) -> Entry:
    """Re-recording a session updates it in place; hand-entered fields it lacks are kept,
    and so are its author and machine (a later record elsewhere does not move it)."""
    if old is None:
        return new
    new.started = min(old.started, new.started)
    new.tasks_completed = (
        new.tasks_completed if new.tasks_completed is not None else old.tasks_completed
    )
    new.task_types = new.task_types or old.task_types
    new.notes = new.notes or old.notes
    new.work_items = new.work_items or old.work_items
    new.commits = new.commits or old.commits
    new.branch = new.branch or old.branch
    new.author = old.author or new.author  # who and where it was first recorded
    new.machine = old.machine or new.machine
    return new


def save(repo: Repo, config: Config, entry: Entry, *, prepare: Prepare | None = None) -> Recorded:
    """Merge the entry into the ledger and write it, or fail before writing anything. It
    gets its `author` and `machine` here, as the config says to store them.

    Everything that can refuse runs first: a symlinked ledger dir, ledger file or
    COST_LOG.md, a broken ledger file, and with `prepare` the caller's COST_LOG.md for the
    ledger as it will be (a bad template fails there). So a failed `record` leaves no
    entry behind that COST_LOG.md does not show, and nothing to stage. The prepared
    document is written after the entry, under the same lock. Without `prepare` the
    caller renders later; COST_LOG.md is still checked here for the same reason.
    """
    from costlog.recording import identity

    identity.stamp(entry, identity.current(repo, config))  # who and where, as configured
    ledger = Ledger(repo, config.ledger_dir)
    from costlog.recording.attribution import released

    with ledger.lock():
        merged = merge(ledger.get(entry.id), entry)
        path = ledger.path_for(merged.id)
        check_repo_path(repo.root, path)
        check_repo_path(repo.root, config.output_path(repo.root))
        # a commit is one session's: others holding one of this entry's by a weaker link lose it
        moved = released(ledger.load_all(), merged)
        document = None
        if prepare is not None:
            stored = as_stored(merged, ledger.rel(path))
            others = {e.id: e for e in ledger.load_all() if e.id != stored.id}
            others.update((e.id, e) for e, _ in moved)
            entries = [*others.values(), stored]
            entries.sort(key=lambda e: (e.started, e.id))
            document = prepare(entries)
        path, changed = ledger.write(merged)
        for other, _ in moved:
            ledger.write(other)
        if document is not None and document.changed:
            atomic_write(document.path, document.text, repo.state_dir / "tmp", root=repo.root)
    notes = [line for _, lines in moved for line in lines]
    return Recorded(merged, ledger.rel(path), changed, notes)


def as_stored(entry: Entry, rel: str) -> Entry:
    """The entry exactly as its ledger file will hold it (amounts rounded to the
    micro-dollar, ...): COST_LOG.md rendered from it matches a later `costlog check`."""
    return parse_entry(yamlfile.dump(entry_to_dict(entry)), rel)
