"""The columnar parse cache (issue 12, R2): a warm load is exactly the ledger files, and
any change to a file, however small, is read again."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from golden.ledger import entries  # tests/golden/ledger.py
from ledger_compare import cold, same

from costlog import gitrepo as repo_mod
from costlog.errors import LedgerError
from costlog.ledger import cache
from costlog.ledger import check as ledger_check
from costlog.ledger.store import Ledger
from costlog.models import Entry
from costlog.safefs import UnsafePath

CACHE = "ledger-cache.pickle"


def _ledger(repo: Path, n: int | None = None) -> Ledger:
    found = repo_mod.find(repo)
    ledger = Ledger(found, ".costlog/sessions")
    with ledger.lock():
        for entry in entries() if n is None else entries(n):
            ledger.write(entry)
    return ledger


def _load(ledger: Ledger) -> list[Entry]:
    return Ledger(ledger.repo, ".costlog/sessions").load_all()


def test_every_kind_of_change_is_read_again(repo: Path) -> None:
    ledger = _ledger(repo)
    assert same(_load(ledger), cold(ledger))  # cold: fills the cache
    cache = ledger.repo.state_dir / CACHE
    written = cache.stat().st_mtime_ns
    assert same(_load(ledger), cold(ledger))  # warm: nothing changed, nothing rewritten
    assert cache.stat().st_mtime_ns == written

    # an edit in place that keeps the size and the modification time (as `touch -r`
    # or a careless tool would): only the change time tells
    path = ledger.path_for(entries()[7].id)
    text = path.read_text()
    before = os.stat(path)
    digit = text.index("requests: ") + len("requests: ")  # one digit of one count
    swapped = "2" if text[digit] != "2" else "3"
    path.write_text(text[:digit] + swapped + text[digit + 1 :])
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = os.stat(path)
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == (
        before.st_size,
        before.st_mtime_ns,
        before.st_ino,
    )
    warm = _load(ledger)
    assert same(warm, cold(ledger))
    changed = next(e for e in warm if e.id == entries()[7].id)
    assert any(str(mu.requests).startswith(swapped) for mu in changed.models.values())

    # a file removed, one added, one renamed to the same place (new inode)
    gone = ledger.path_for(entries()[3].id)
    gone.unlink()
    extra = entries()[5]
    extra.id = f"{extra.agent}/added-by-hand-1"
    with ledger.lock():
        ledger.write(extra)
    moved = ledger.path_for(entries()[9].id)
    copy = moved.with_name("copy.tmp")
    copy.write_bytes(moved.read_bytes())
    copy.replace(moved)
    warm = _load(ledger)
    assert same(warm, cold(ledger))
    ids = {e.id for e in warm}
    assert entries()[3].id not in ids and extra.id in ids
    assert same(_load(ledger), cold(ledger))  # and warm again from the rewritten cache


def test_sorted_by_start_then_id_as_before(repo: Path) -> None:
    ledger = _ledger(repo)
    for _ in range(2):  # cold, then warm (the order comes from the cache)
        loaded = _load(ledger)
        assert [(e.started, e.id) for e in loaded] == sorted((e.started, e.id) for e in loaded)
        assert len(loaded) == 300


def test_a_link_in_place_of_a_ledger_file_is_refused_when_warm(repo: Path, tmp_path: Path) -> None:
    ledger = _ledger(repo, 5)
    _load(ledger)
    path = ledger.path_for(entries(5)[2].id)
    outside = tmp_path / "elsewhere.yaml"
    outside.write_bytes(path.read_bytes())
    path.unlink()
    path.symlink_to(outside)
    with pytest.raises(UnsafePath) as raised:
        _load(ledger)
    assert path.name in raised.value.one_line()


def test_a_fifo_in_place_of_a_ledger_file_is_refused_when_warm(repo: Path) -> None:
    ledger = _ledger(repo, 5)
    _load(ledger)
    path = ledger.path_for(entries(5)[1].id)
    path.unlink()
    os.mkfifo(path)
    with pytest.raises(UnsafePath, match="not a regular file"):
        _load(ledger)


def test_an_id_in_two_files_is_named_when_warm(repo: Path) -> None:
    ledger = _ledger(repo, 5)
    _load(ledger)
    path = ledger.path_for(entries(5)[0].id)
    twin = path.with_name("zz-twin.yaml")
    twin.write_bytes(path.read_bytes())
    with pytest.raises(LedgerError) as raised:
        _load(ledger)
    message = raised.value.one_line()
    assert "is in two files" in message and "zz-twin.yaml" in message


@pytest.mark.parametrize("damage", ["order", "columns", "short"])
def test_a_damaged_cache_of_this_version_is_rebuilt(repo: Path, damage: str) -> None:
    ledger = _ledger(repo, 20)
    truth = cold(ledger)
    _load(ledger)
    path = ledger.repo.state_dir / CACHE
    data = cache.read_file(path)
    if damage == "order":
        data["order"] = [0] * len(data["order"])  # every slot the first entry
    elif damage == "columns":
        data["columns"]["models.count"] = [2] * len(data["columns"]["models.count"])
    else:
        data["columns"]["id"] = data["columns"]["id"][:-1]
    cache.write_file(path, data, data.pop("columns"))
    assert same(_load(ledger), truth)
    assert same(_load(ledger), truth)


def test_check_still_names_a_misplaced_file_and_a_case_twin(repo: Path) -> None:
    """`check`'s one cheap pass over a tidy ledger must not hide an untidy one."""
    ledger = _ledger(repo, 20)
    assert len(ledger_check.files(ledger)) == 20
    first = entries(20)[4]
    path = ledger.path_for(first.id)
    session = first.id.split("/", 1)[1]
    twin = path.with_name(f"{session.upper()}.yaml")
    assert twin.name != path.name
    twin.write_text(path.read_text().replace(session, session.upper()))
    with pytest.raises(LedgerError, match="only in case"):
        ledger_check.files(Ledger(ledger.repo, ".costlog/sessions"))
    twin.unlink()
    moved = path.with_name("somewhere-else.yaml")
    path.rename(moved)
    with pytest.raises(LedgerError, match="whose file is") as raised:
        ledger_check.files(Ledger(ledger.repo, ".costlog/sessions"))
    assert "somewhere-else.yaml" in raised.value.one_line()


def test_stat_numbers_beyond_64_bits_still_load(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Some file systems report inode numbers that no machine int holds: the signature
    falls back to plain ints, and the cache still works and still sees changes."""

    class Narrow(list[int]):
        def __init__(self, kind: str) -> None:
            super().__init__()

        def extend(self, values: object) -> None:
            raise OverflowError("too big")

    ledger = _ledger(repo, 10)
    truth = cold(ledger)
    monkeypatch.setattr(cache, "array", Narrow)
    assert same(_load(ledger), truth)
    assert same(_load(ledger), truth)
    path = ledger.path_for(entries(10)[3].id)
    text = path.read_text()
    digit = text.index("requests: ") + len("requests: ")
    path.write_text(text[:digit] + ("2" if text[digit] != "2" else "3") + text[digit + 1 :])
    changed = _load(ledger)
    assert same(changed, cold(ledger)) and not same(changed, truth)
