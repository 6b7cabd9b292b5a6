"""The ledger store: round trips, validation errors with file and line, the parse cache."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from costlog import gitrepo as repo_mod
from costlog.errors import LedgerError
from costlog.ledger.format import parse_entry
from costlog.ledger.store import Ledger
from costlog.models import Commit, Entry, ModelUsage, Usage


def make_entry(session: str = "5f0c2a9e-1111", cost: str = "1.3725") -> Entry:
    return Entry(
        id=f"claude-code/{session}",
        agent="claude-code",
        started=datetime(2026, 11, 20, 9, 0, tzinfo=UTC),
        ended=datetime(2026, 11, 20, 10, 1, 12, tzinfo=UTC),
        models={
            "claude-sonnet-4-6": ModelUsage(
                41, Usage(246, 17410, 1840233, 0, 88110, 0), Decimal("1.3426")
            ),
            "claude-haiku-4-5": ModelUsage(9, Usage(120, 2210, 0, 15000, 0, 0), Decimal("0.0299")),
        },
        cost_usd=Decimal(cost),
        source="actual",
        pricing_table="2026-11-22",
        branch="feature/WRK-237-cost",
        subagents=2,
        commits=[Commit("3f9c2e1a7b", "Add cost | table", 4, 120, 8, "tool-output")],
        work_items=["WRK-237"],
        tasks_completed=3,
        task_types={"code": 2, "docs": 1},
        notes="Stripe connector + tests",
    )


def test_entry_round_trips_through_a_file(repo: Path) -> None:
    ledger = Ledger(repo_mod.find(repo), ".costlog/sessions")
    entry = make_entry()
    path, changed = ledger.write(entry)
    assert changed
    assert path == repo / ".costlog/sessions/claude-code/5f0c2a9e-1111.yaml"
    back = ledger.get(entry.id)
    assert back == entry
    text = path.read_text()
    assert 'cost_usd: "1.372500"' in text
    assert "claude-sonnet-4-6: {requests: 41, input: 246, output: 17410" in text


def test_rewriting_the_same_entry_leaves_the_file_alone(repo: Path) -> None:
    ledger = Ledger(repo_mod.find(repo), ".costlog/sessions")
    path, _ = ledger.write(make_entry())
    before = path.stat().st_mtime_ns, path.stat().st_ino
    _, changed = ledger.write(make_entry())
    assert not changed
    assert (path.stat().st_mtime_ns, path.stat().st_ino) == before


def test_invalid_field_names_file_and_line(repo: Path) -> None:
    ledger = Ledger(repo_mod.find(repo), ".costlog/sessions")
    path, _ = ledger.write(make_entry())
    text = path.read_text().replace("subagents: 2", "subagents: -5")
    path.write_text(text)
    with pytest.raises(LedgerError) as info:
        ledger.load_all()
    line = text.splitlines().index("subagents: -5") + 1
    assert info.value.one_line().startswith(
        f".costlog/sessions/claude-code/5f0c2a9e-1111.yaml:{line}: field `subagents`"
    )


@pytest.mark.parametrize("items", ["[[a], {b: c}]", "[null]", "[WRK-1, {b: c}]"])
def test_work_items_must_be_names(repo: Path, items: str) -> None:
    """A hand-edited ledger once showed ['a'], None and {'b': 'c'} in COST_LOG.md."""
    ledger = Ledger(repo_mod.find(repo), ".costlog/sessions")
    path, _ = ledger.write(make_entry())
    text = path.read_text()
    assert "work_items: [WRK-237]" in text
    text = text.replace("work_items: [WRK-237]", f"work_items: {items}")
    path.write_text(text)
    with pytest.raises(LedgerError) as info:
        ledger.load_all()
    line = next(n for n, x in enumerate(text.splitlines(), 1) if x.startswith("work_items"))
    assert f"5f0c2a9e-1111.yaml:{line}: field `work_items`: expected a list of names" in (
        info.value.one_line()
    )


def test_truncated_file_is_reported_not_skipped(repo: Path) -> None:
    ledger = Ledger(repo_mod.find(repo), ".costlog/sessions")
    path, _ = ledger.write(make_entry())
    path.write_text(path.read_text()[:200])
    with pytest.raises(LedgerError) as info:
        ledger.load_all()
    assert "5f0c2a9e-1111.yaml" in info.value.one_line()


def test_newer_schema_asks_for_an_upgrade() -> None:
    with pytest.raises(LedgerError, match="newer than this costlog"):
        parse_entry('schema: 2\nid: a/b\nagent: a\nstarted: "2026-01-01T00:00:00Z"\n', "x.yaml")


def test_unpriced_model_keeps_tokens_and_null_cost(repo: Path) -> None:
    ledger = Ledger(repo_mod.find(repo), ".costlog/sessions")
    entry = make_entry()
    entry.models["mystery-model"] = ModelUsage(2, Usage(10, 20), None)
    entry.cost_usd = None
    path, _ = ledger.write(entry)
    assert "mystery-model: {requests: 2, input: 10, output: 20" in path.read_text()
    back = ledger.get(entry.id)
    assert back is not None
    assert back.cost_usd is None
    assert back.unpriced_models == ["mystery-model"]


def test_warm_load_uses_cache_and_sees_changes(repo: Path) -> None:
    found = repo_mod.find(repo)
    ledger = Ledger(found, ".costlog/sessions")
    for i in range(5):
        ledger.write(make_entry(f"s{i}"))
    first = ledger.load_all()
    assert (found.state_dir / "ledger-cache.pickle").exists()
    ledger.write(make_entry("s2", cost="9.5"))
    second = ledger.load_all()
    assert [e.id for e in first] == [e.id for e in second]
    assert next(e for e in second if e.id.endswith("s2")).cost_usd == Decimal("9.5")


def test_hand_edited_file_in_block_style_is_accepted(repo: Path) -> None:
    ledger = Ledger(repo_mod.find(repo), ".costlog/sessions")
    path = ledger.path_for("manual/x1")
    path.parent.mkdir(parents=True)
    path.write_text(
        "schema: 1\nid: manual/x1\nagent: manual\nstarted: 2026-11-20 09:00:00\n"
        "models:\n  claude-sonnet-4-6:\n    requests: 1\n    output: 100\n"
        "    cost_usd: '0.05'\ncost_usd: '0.05'\n"
    )
    [entry] = ledger.load_all()
    assert entry.cost_usd == Decimal("0.05")
    assert entry.started == datetime(2026, 11, 20, 9, tzinfo=UTC)
