"""Saving an entry: merged with the recorded one, and the caller's COST_LOG.md written
with it, or nothing written at all."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from costlog import gitrepo as repo_mod
from costlog.config import Config
from costlog.ledger.store import Ledger
from costlog.models import Entry, ModelUsage, Usage
from costlog.recording import store

STARTED = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@dataclass
class _Doc:
    path: Path
    text: str
    changed: bool = True


def _entry(cost: str = "0.1234567", notes: str | None = None) -> Entry:
    usage = Usage(input=10, output=20)
    return Entry(
        id="manual/s1",
        agent="manual",
        started=STARTED,
        models={"m": ModelUsage(requests=1, usage=usage, cost_usd=Decimal(cost), source="manual")},
        cost_usd=Decimal(cost),
        source="manual",
        notes=notes,
    )


def test_the_prepared_document_sees_the_entry_as_stored_and_is_written_after_it(
    repo: Path,
) -> None:
    config = Config()
    seen: list[Entry] = []

    def prepare(entries: Sequence[Entry]) -> _Doc:
        seen.extend(entries)
        return _Doc(config.output_path(repo), f"{len(entries)} session(s)\n")

    found = repo_mod.find(repo)
    result = store.save(found, config, _entry(notes="kept"), prepare=prepare)
    assert [e.cost_usd for e in seen] == [Decimal("0.123457")]  # rounded, as its file holds it
    assert (repo / config.output).read_text() == "1 session(s)\n"
    assert result.changed and result.path.endswith("manual/s1.yaml")
    again = store.save(found, config, _entry(), prepare=prepare)
    assert again.entry.notes == "kept"  # a re-record keeps what it lacks
    assert not again.changed


def test_a_document_that_fails_to_render_leaves_nothing_written(repo: Path) -> None:
    config = Config()

    def prepare(entries: Sequence[Entry]) -> _Doc:
        raise RuntimeError("template error")

    found = repo_mod.find(repo)
    with pytest.raises(RuntimeError):
        store.save(found, config, _entry(), prepare=prepare)
    assert Ledger(found, config.ledger_dir).load_all() == []
    assert not (repo / config.output).exists()
