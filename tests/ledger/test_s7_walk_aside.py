"""A large ledger is walked in a forked child while its parse cache is read (issue 12,
session 7): from `store.WALK_ASIDE_BYTES` of cache on (lowered to 0 here), a load gives
exactly the files' entries, a file changed or added since the cache was written included;
a link in the ledger is refused with the same message as without the child (which then
fails, and the walk made in the parent says why), and no child is left behind."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from pathlib import Path

import pytest
from golden.ledger import entries  # tests/golden/ledger.py
from ledger_compare import cold, ledger_of, same

from costlog import gitrepo as repo_mod
from costlog.ledger import cache, store
from costlog.ledger.store import Ledger
from costlog.models import Entry
from costlog.safefs import UnsafePath
from tests_support import child_results, no_child_left

LEDGER = ".costlog/sessions"
OFF = 1 << 60  # WALK_ASIDE_BYTES that never forks


@pytest.fixture
def walks(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """What each child's `result` gave (None: it did not answer); two cores assumed; a
    load makes its walk in a child whatever its cache's size."""
    monkeypatch.setattr(store, "WALK_ASIDE_BYTES", 0)
    return child_results(monkeypatch)


def _load(ledger: Ledger) -> list[Entry]:
    loaded = Ledger(ledger.repo, LEDGER).load_all()
    assert no_child_left()
    return loaded


def test_the_childs_walk_loads_exactly_the_files(repo: Path, walks: list[object]) -> None:
    ledger = ledger_of(repo, 12)
    assert same(_load(ledger), cold(ledger))  # no cache yet: no child
    assert walks == []
    assert same(_load(ledger), cold(ledger))  # warm, walked by the child
    assert len(walks) == 1 and isinstance(walks[0], cache.Scan)
    # a file changed since the cache was written, and one added: both are read again
    first, *_ = entries(12)
    with ledger.lock():
        ledger.write(dataclasses.replace(first, cost_usd=Decimal("9.250000")))
        ledger.write(dataclasses.replace(first, id="claude-code/added-later"))
    loaded = _load(ledger)
    assert same(loaded, cold(ledger)) and len(loaded) == 13
    assert len(walks) == 2 and isinstance(walks[1], cache.Scan)
    assert next(e for e in loaded if e.id == first.id).cost_usd == Decimal("9.25")


def test_a_link_in_the_ledger_is_refused_as_without_the_child(
    repo: Path, walks: list[object], monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = ledger_of(repo, 6)
    _load(ledger)  # the cache
    folder = ledger.path_for(entries(6)[0].id).parent
    (folder / "notes").symlink_to(repo / "README.md")
    with pytest.raises(UnsafePath, match="symbolic link") as with_child:
        _load(ledger)
    assert walks == [None]  # the child's walk failed: the parent's said why
    monkeypatch.setattr(store, "WALK_ASIDE_BYTES", OFF)
    with pytest.raises(UnsafePath, match="symbolic link") as alone:
        _load(ledger)
    assert walks == [None]  # no child
    assert with_child.value.one_line() == alone.value.one_line()
    assert "notes" in alone.value.one_line()


def test_a_damaged_cache_of_an_empty_ledger_never_reads_other_yaml(repo: Path) -> None:
    """No ledger folder yet, and a cache of that (empty) walk damaged inside: the walk made
    again is still of the ledger folder, which is not there, never of the whole repo (a
    `.yaml` of the project is not a ledger file)."""
    ledger = Ledger(repo_mod.find(repo), LEDGER)
    assert ledger.load_all() == []  # and the cache of the empty walk is written
    path = ledger.repo.state_dir / "ledger-cache.pickle"
    data = cache.read_file(path)
    columns = data.pop("columns")
    columns["models.name"] = ["damaged"]  # its columns differ in length: not rebuilt
    header = {k: v for k, v in data.items() if k not in ("version", "columns")}
    cache.write_file(path, header, columns)
    (repo / "docker-compose.yaml").write_text("services: {}\n")
    assert Ledger(ledger.repo, LEDGER).load_all() == []
