"""Helpers shared by the ledger-cache tests: a ledger read file by file, and an equality
strict enough to tell a cached entry from a parsed one."""

from __future__ import annotations

from dataclasses import fields
from decimal import Decimal
from pathlib import Path

from costlog import gitrepo
from costlog.ledger.format import parse_entry
from costlog.ledger.store import Ledger
from costlog.models import Entry


def same(a: object, b: object) -> bool:
    """Equal, and of the same types; Decimals also with the same digits and exponent
    (`1.5` and `1.500000` are equal numbers that COST_LOG.md writes differently)."""
    if isinstance(a, Decimal) or isinstance(b, Decimal):
        return isinstance(a, Decimal) and isinstance(b, Decimal) and a.as_tuple() == b.as_tuple()
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if hasattr(a, "__dataclass_fields__"):
        return type(a) is type(b) and all(
            same(getattr(a, f.name), getattr(b, f.name)) for f in fields(a)
        )
    return bool(a == b) and type(a) is type(b)


def ledger_of(repo: Path, n: int) -> Ledger:
    """A ledger in `repo` holding the first `n` golden entries (tests/golden/ledger.py)."""
    from golden.ledger import entries

    ledger = Ledger(gitrepo.find(repo), ".costlog/sessions")
    with ledger.lock():
        for entry in entries(n):
            ledger.write(entry)
    return ledger


def cold(ledger: Ledger) -> list[Entry]:
    """The ledger read file by file, with no cache."""
    out = [parse_entry(Path(n).read_text(), ledger.rel(Path(n))) for n in ledger.file_names()]
    return sorted(out, key=lambda e: (e.started, e.id))
