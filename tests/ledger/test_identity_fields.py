"""The ledger's `author` and `machine` (issue 14): optional, so every older entry stays
valid and is written back byte for byte; when present, one plain line each, and a
hand-edited value that is not is named with its file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from costlog import gitrepo as repo_mod
from costlog import yamlfile
from costlog.errors import LedgerError
from costlog.ledger.format import entry_to_dict, parse_entry
from costlog.ledger.store import Ledger
from tests_support import run

OLD = """\
schema: 1
id: manual/old-1
agent: manual
started: "2025-03-04T00:00:00Z"
source: manual
methods: {cost: "imported from COST_LOG.md (hand-kept, task-based estimate)"}
models:
  claude-sonnet-4-6: {requests: 1, input: 0, output: 0, cache_read: 0, cache_write_5m: 0, \
cache_write_1h: 0, reasoning: 0, cost_usd: "0.080000", source: manual}
cost_usd: "0.080000"
"""


def test_an_old_entry_without_them_loads_and_writes_back_byte_for_byte() -> None:
    entry = parse_entry(OLD, "manual/old-1.yaml")
    assert entry.author is None and entry.machine is None
    assert yamlfile.dump(entry_to_dict(entry)) == OLD


def test_they_round_trip_after_branch(repo: Path) -> None:
    entry = parse_entry(OLD, "manual/old-1.yaml")
    entry.author, entry.machine = "Zoë O'Brien-Müller", "0a1b2c3d4e5f"
    ledger = Ledger(repo_mod.find(repo), ".costlog/sessions")
    path, _ = ledger.write(entry)
    text = path.read_text()
    assert 'author: "Zoë O\'Brien-Müller"\nmachine: "0a1b2c3d4e5f"\nsource: manual' in text
    assert ledger.get(entry.id) == entry


def line_of(text: str, key: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if line.startswith(key))


@pytest.mark.parametrize(
    ("key", "value", "said"),
    [
        ("author", '"Eve\\nMallory"', "one line"),
        ("author", '"Eve\\u202eevil"', "no control characters"),
        ("author", '"' + "x" * 201 + '"', "at most 200"),
        ("author", '"   "', "one line"),
        ("author", "[a, b]", "expected text"),
        ("machine", '"my laptop"', "machine hash or host name"),
        ("machine", '"<img>"', "machine hash or host name"),
        ("machine", "12", "expected text"),
    ],
)
def test_a_bad_value_is_named_with_file_and_line(
    repo: Path, key: str, value: str, said: str
) -> None:
    text = OLD.replace("source: manual\n", f"{key}: {value}\nsource: manual\n", 1)
    with pytest.raises(LedgerError) as info:
        parse_entry(text, ".costlog/sessions/manual/old-1.yaml")
    assert said in info.value.message and f"`{key}`" in info.value.message
    assert info.value.line == line_of(text, f"{key}:")
    folder = repo / ".costlog" / "sessions" / "manual"
    folder.mkdir(parents=True)
    (folder / "old-1.yaml").write_text(text)
    out = run("report", code=1)
    assert f".costlog/sessions/manual/old-1.yaml:{line_of(text, key)}:" in out
