"""ledger.batch: many ledger files written at once (backfill) as safely as one by one."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from costlog.ledger import batch
from costlog.ledger.atomic import sweep_temp_files
from costlog.safefs import UnsafePath


def test_every_file_is_written_whole_and_no_temp_file_is_left(tmp_path: Path) -> None:
    tmp = tmp_path / ".git" / "costlog" / "tmp"
    staged = batch.Staged(tmp_path, tmp)
    for n in range(20):  # two agents' folders may hold files of the same name
        for agent in ("claude-code", "codex"):
            staged.put(tmp_path / "ledger" / agent / f"s{n}.yaml", f"id: {agent}/s{n}\n" * 50)
    staged.write()
    assert (tmp_path / "ledger" / "codex" / "s7.yaml").read_text() == "id: codex/s7\n" * 50
    assert len(list((tmp_path / "ledger").rglob("*.yaml"))) == 40
    assert os.listdir(tmp) == []
    assert staged.texts == {}


def test_the_last_text_staged_for_a_file_wins(tmp_path: Path) -> None:
    staged = batch.Staged(tmp_path, tmp_path / "tmp")
    target = tmp_path / "ledger" / "codex" / "a.yaml"
    staged.put(target, "commits: [one]\n")
    staged.put(target, "commits: []\n")  # it gave its commit up to a later session
    staged.write()
    assert target.read_text() == "commits: []\n"


def test_an_unchanged_file_is_not_rewritten(tmp_path: Path) -> None:
    target = tmp_path / "ledger" / "a.yaml"
    target.parent.mkdir(parents=True)
    target.write_text("same\n")
    before = os.stat(target)
    staged = batch.Staged(tmp_path, tmp_path / "tmp")
    staged.put(target, "same\n")
    staged.write()
    assert os.stat(target).st_ino == before.st_ino  # not replaced by a new file


def test_a_symlink_on_the_way_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "ledger").mkdir()
    (tmp_path / "ledger" / "codex").symlink_to(elsewhere)
    staged = batch.Staged(tmp_path, tmp_path / "tmp")
    staged.put(tmp_path / "ledger" / "claude-code" / "a.yaml", "a\n")
    staged.put(tmp_path / "ledger" / "codex" / "b.yaml", "b\n")
    with pytest.raises(UnsafePath):
        staged.write()
    assert not (tmp_path / "ledger" / "claude-code" / "a.yaml").exists()
    assert os.listdir(elsewhere) == []


def test_a_dead_writers_temp_files_are_swept(tmp_path: Path) -> None:
    """A temp file of a batch whose process died is named so the lock's sweep finds it."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    dead = 2**22 + 12345  # above any pid this machine hands out
    stale = tmp / f".a.yaml.3.{dead}.tmp"
    stale.write_text("half")
    sweep_temp_files(tmp)
    assert not stale.exists()
