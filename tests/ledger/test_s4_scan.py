"""The ledger cache keyed by one walk (issue 12, session 4): each folder listed once and
every entry in it stat-ed by name. The walk finds what the listing finds, a warm load is
still exactly the files, and the cache stays readable by the layout before it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from golden.ledger import entries  # tests/golden/ledger.py
from ledger_compare import cold, same

from costlog import gitrepo as repo_mod
from costlog.ledger import cache
from costlog.ledger.store import Ledger
from costlog.models import Entry
from costlog.safefs import UnsafePath

CACHE = "ledger-cache.pickle"
LEDGER = ".costlog/sessions"


def _ledger(repo: Path, n: int) -> Ledger:
    ledger = Ledger(repo_mod.find(repo), LEDGER)
    with ledger.lock():
        for entry in entries(n):
            ledger.write(entry)
    return ledger


def _load(ledger: Ledger) -> list[Entry]:
    return Ledger(ledger.repo, LEDGER).load_all()


def _scan(ledger: Ledger) -> cache.Scan:
    return Ledger(ledger.repo, LEDGER)._scan()


def _count_parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files the cache reads from now on (each name once per read)."""
    read: list[str] = []
    real = cache._read

    def counting(prefix: str, rel: str) -> Entry:
        read.append(rel)
        return real(prefix, rel)

    monkeypatch.setattr(cache, "_read", counting)
    return read


def _odd_tree(ledger: Ledger) -> None:
    """Ledger files where the walk has to look at each entry: beside a subfolder whose
    names sort between theirs, in a folder named like a ledger file, next to dot-files,
    other files and a FIFO (skipped, as the listing skips them)."""
    ids = [e.id for e in entries(12)]
    top = ledger.dir
    for n, where in enumerate(("a/x.yaml", "a/b/y.yaml", "a/b-c/z.yaml", "w.yaml/v.yaml")):
        target = top / where
        target.parent.mkdir(parents=True, exist_ok=True)
        ledger.path_for(ids[n]).rename(target)
    (top / "a" / ".hidden.yaml").write_text("not read\n")
    (top / "a" / "notes.txt").write_text("not a ledger file\n")
    (top / "README.md").write_text("# sessions\n")
    os.mkfifo(top / "a" / "pipe")


def test_the_walk_finds_what_the_listing_finds(repo: Path) -> None:
    ledger = _ledger(repo, 12)
    _odd_tree(ledger)
    rels, sig = _scan(ledger).sorted()
    assert rels == ledger.file_names(relative=True)
    assert len(rels) == 12 and all(len(column) == 12 for column in sig)
    # and the signature is each file's, in that order
    stats = [os.lstat(ledger.repo.root / rel) for rel in rels]
    assert list(sig[0]) == [st.st_size for st in stats]
    assert list(sig[2]) == [st.st_ino for st in stats]
    truth = cold(ledger)
    assert same(_load(ledger), truth)  # cold
    assert same(_load(ledger), truth)  # warm


def test_a_warm_load_reads_nothing_and_writes_nothing(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = _ledger(repo, 30)
    truth = cold(ledger)
    _load(ledger)
    path = ledger.repo.state_dir / CACHE
    written = path.stat().st_mtime_ns
    read = _count_parses(monkeypatch)
    assert same(_load(ledger), truth)
    assert read == [] and path.stat().st_mtime_ns == written


def test_a_change_in_a_new_or_nested_folder_is_read_again(repo: Path) -> None:
    ledger = _ledger(repo, 12)
    _odd_tree(ledger)
    _load(ledger)
    extra = entries(13)[12]
    extra.id = f"{extra.agent}/added-1"
    with ledger.lock():
        ledger.write(extra)
    moved = ledger.dir / "new-agent" / "deep" / "added-1.yaml"
    moved.parent.mkdir(parents=True)
    ledger.path_for(extra.id).rename(moved)  # a folder the cache has never seen
    assert extra.id in {e.id for e in _load(ledger)}
    assert same(_load(ledger), cold(ledger))
    # an edit in place, two folders down, that keeps size and mtime: ctime tells
    unchanged = _load(ledger)
    nested = ledger.dir / "a" / "b" / "y.yaml"
    text = nested.read_text()
    before = os.stat(nested)
    digit = text.index("requests: ") + len("requests: ")
    nested.write_text(text[:digit] + ("2" if text[digit] != "2" else "3") + text[digit + 1 :])
    os.utime(nested, ns=(before.st_atime_ns, before.st_mtime_ns))
    warm = _load(ledger)
    assert same(warm, cold(ledger)) and not same(warm, unchanged)


def test_a_folder_swapped_for_a_link_is_refused_when_warm(repo: Path, tmp_path: Path) -> None:
    ledger = _ledger(repo, 6)
    _load(ledger)
    agent = ledger.path_for(entries(6)[0].id).parent
    elsewhere = tmp_path / "elsewhere"
    agent.rename(elsewhere)
    agent.symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(UnsafePath, match="symbolic link") as raised:
        _load(ledger)
    assert agent.name in raised.value.one_line()


def test_a_link_beside_the_files_is_refused_even_if_not_yaml(repo: Path) -> None:
    ledger = _ledger(repo, 6)
    _load(ledger)
    folder = ledger.path_for(entries(6)[0].id).parent
    (folder / "notes").symlink_to(repo / "README.md")
    with pytest.raises(UnsafePath, match="symbolic link") as raised:
        _load(ledger)
    assert "notes" in raised.value.one_line()
    with pytest.raises(UnsafePath, match="symbolic link"):
        ledger.file_names()  # as the plain listing refuses it


def test_a_cache_of_the_layout_before_is_kept_file_by_file(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cache without the walk's key (costlog before it) parses no file: each entry is
    kept by its file's signature, and the cache is written again with the key."""
    ledger = _ledger(repo, 30)
    truth = cold(ledger)
    _load(ledger)
    path = ledger.repo.state_dir / CACHE
    data = cache.read_file(path)
    del data["key"], data["walk_sig"]
    cache.write_file(path, data, data.pop("columns"))
    read = _count_parses(monkeypatch)
    assert same(_load(ledger), truth)
    assert read == []
    assert "key" in cache.read_file(path)
    written = path.stat().st_mtime_ns
    assert same(_load(ledger), truth) and path.stat().st_mtime_ns == written  # warm again


def test_a_listing_in_another_order_parses_nothing(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A folder that lists its files in another order (some file systems do) is not a
    change: the walk misses, and every entry is kept by its signature."""
    ledger = _ledger(repo, 30)
    truth = cold(ledger)
    _load(ledger)
    path = ledger.repo.state_dir / CACHE
    data = cache.read_file(path)
    data["key"] = [
        (folder, "\0".join(reversed(names.split("\0")))) for folder, names in data["key"]
    ]
    cache.write_file(path, data, data.pop("columns"))
    read = _count_parses(monkeypatch)
    assert same(_load(ledger), truth)
    assert read == []


def test_the_cache_keeps_the_layout_before_for_its_reader(repo: Path) -> None:
    """The names, their signature and the order are kept as before the walk's key (so a
    costlog of that layout reads this cache as its own, and is not slowed down by it)."""
    ledger = _ledger(repo, 20)
    _odd_tree(ledger)
    loaded = _load(ledger)
    data = cache.read_file(ledger.repo.state_dir / CACHE)
    rels = ledger.file_names(relative=True)
    assert data["names"] == "\0".join(rels)
    stats = [os.lstat(ledger.repo.root / rel) for rel in rels]
    want = (
        [st.st_size for st in stats],
        [st.st_mtime_ns for st in stats],
        [st.st_ino for st in stats],
        [st.st_ctime_ns for st in stats],
    )
    assert [list(column) for column in data["sig"]] == [list(column) for column in want]
    ids = [e.id for e in cold(ledger)]
    by_file = cache._rebuild(data["columns"])
    assert [by_file[i].id for i in data["order"]] == ids == [e.id for e in loaded]


def test_a_ledger_at_the_repo_root_names_its_files_as_the_listing_does(repo: Path) -> None:
    ledger = Ledger(repo_mod.find(repo), ".")
    with ledger.lock():
        for entry in entries(5):
            ledger.write(entry)
    rels, _sig = ledger._scan().sorted()
    assert rels == ledger.file_names(relative=True) and len(rels) == 5
    assert not rels[0].startswith((".", os.sep))
    truth = cold(ledger)
    for _ in range(2):  # cold, then warm
        again = Ledger(ledger.repo, ".")
        assert same(again.load_all(), truth)
        assert sorted(again.homes.values()) == rels


def test_a_folder_that_became_a_link_after_its_listing_is_not_followed(
    repo: Path, tmp_path: Path
) -> None:
    """Between a folder's listing and the walk's opening of a subfolder, the subfolder
    may be swapped for a link: it is opened without following links, and refused."""
    ledger = _ledger(repo, 3)
    agent = ledger.path_for(entries(3)[0].id).parent
    elsewhere = tmp_path / "elsewhere"
    agent.rename(elsewhere)
    agent.symlink_to(elsewhere, target_is_directory=True)
    scan = cache.Scan(f"{repo}{os.sep}")
    rel = str(agent.relative_to(repo))
    with pytest.raises(UnsafePath, match="symbolic link") as raised:
        scan.walk(rel)  # as if it had been a folder when its parent was listed
    assert rel in raised.value.one_line() and scan.count == 0
