"""`costlog reprice`: stored costs recomputed with the current table, only when asked.

Prices used (bundled table, $/MTok): claude-sonnet-4-6 from 2026-03-13: input 3, output 15,
cache read 0.3, cache write 5m 3.75, 1h 6 (no tier). claude-sonnet-4-5: same base rates
with a >200k tier (input 6, output 22.5, ...).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from costlog import config as config_mod
from costlog import gitrepo as repo_mod
from costlog.commands import reprice
from costlog.ledger.store import Ledger
from costlog.models import Entry, ModelUsage, Usage
from costlog.pricing.table import PriceTable
from tests_support import invoke

DAY = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
# 1000*3 + 2000*15 + 100000*0.3 + 10000*3.75 = 100,500 micro-dollars per million = $0.1005
USAGE = Usage(input=1000, output=2000, cache_read=100_000, cache_write_5m=10_000)
TRUE_COST = Decimal("0.1005")


def _entry(
    session: str, model: str, cost: Decimal | None, usage: Usage = USAGE, **extra: object
) -> Entry:
    entry = Entry(
        id=f"claude-code/{session}",
        agent="claude-code",
        started=DAY,
        models={model: ModelUsage(requests=3, usage=usage, cost_usd=cost)},
        cost_usd=cost,
        source="actual",
        pricing_table="2026-01-01",
    )
    for key, value in extra.items():
        setattr(entry, key, value)
    return entry


def _save(root: Path, *entries: Entry) -> Ledger:
    ledger = Ledger(repo_mod.find(root), config_mod.Config().ledger_dir)
    with ledger.lock():
        for entry in entries:
            ledger.write(entry)
    return ledger


def test_stale_cost_is_recomputed_with_before_and_after() -> None:
    stale = _entry("aaaa", "claude-sonnet-4-6", Decimal("0.2000"))
    result = reprice.reprice([stale], PriceTable.load(), today=date(2026, 11, 23))
    (change,) = result.changed
    assert change.before == Decimal("0.2000")
    assert change.after == TRUE_COST
    assert change.entry.models["claude-sonnet-4-6"].cost_usd == TRUE_COST
    assert (
        change.entry.methods["repriced"]
        == f"repriced 2026-11-23 with table {PriceTable.load().version}"
    )
    assert result.totals() == (Decimal("0.2000"), TRUE_COST)
    assert stale.cost_usd == Decimal("0.2000")  # the input entry is not modified


def test_correct_cost_is_unchanged() -> None:
    result = reprice.reprice([_entry("bbbb", "claude-sonnet-4-6", TRUE_COST)], PriceTable.load())
    assert result.changed == []


def test_unpriced_entry_is_priced_once_the_model_is_known(repo: Path) -> None:
    (repo / ".costlog").mkdir()
    (repo / ".costlog" / "prices.yaml").write_text(
        "models:\n  mystery-1:\n    provider: other\n    prices:\n"
        "      - {from: 2026-01-01, input: 2, output: 8}\n"
    )
    # 1000*2 + 2000*8 = 18,000 -> $0.018 (no cache tokens)
    usage = Usage(input=1000, output=2000)
    ledger = _save(
        repo, _entry("cccc", "mystery-1", None, usage), _entry("dddd", "unknown-model", None, usage)
    )
    result = reprice.run(repo_mod.find(repo), config_mod.Config())
    assert result.written == 1
    stored = ledger.get("claude-code/cccc")
    assert stored is not None and stored.cost_usd == Decimal("0.018")
    still = ledger.get("claude-code/dddd")
    assert still is not None and still.cost_usd is None
    assert "changed 1 of 2 sessions" in reprice.to_text(result, dry_run=False)


def test_hand_typed_cost_is_never_changed() -> None:
    manual = _entry(
        "eeee", "claude-sonnet-4-6", Decimal("5.00"), methods={"cost": "entered by hand"}
    )
    imported = _entry(
        "ffff",
        "claude-sonnet-4-6",
        Decimal("0.08"),
        Usage(),
        methods={"cost": "imported from COST_LOG.md"},
    )
    result = reprice.reprice([manual, imported], PriceTable.load())
    assert result.changed == []
    assert all(c.skipped for c in result.changes)


def test_tier_priced_cost_is_kept_and_flagged() -> None:
    # claude-sonnet-4-5 has a >200k tier: a stored cost above base rates cannot be redone
    tiered = _entry(
        "gggg",
        "claude-sonnet-4-5",
        Decimal("0.1800"),
        methods={"pricing": "long-context rate (prompt > 200,000 tokens): 1 request"},
    )
    result = reprice.reprice([tiered], PriceTable.load())
    assert result.changed == []
    (change,) = result.flagged
    assert "kept" in change.flags[0] and "$0.100500" in change.flags[0]


def test_dry_run_writes_nothing_and_model_filter(repo: Path) -> None:
    ledger = _save(
        repo,
        _entry("hhhh", "claude-sonnet-4-6", Decimal("0.3")),
        _entry("iiii", "claude-haiku-4-5", Decimal("0.3")),
    )
    path = ledger.path_for("claude-code/hhhh")
    before = path.read_text()
    out = invoke(["reprice", "--dry-run", "--model", "claude-sonnet-4-6"])
    assert out.exit_code == 0, out.output
    assert "$0.3000 -> $0.1005 (-0.1995)" in out.output
    assert "would change 1 of 2 sessions" in out.output
    assert "dry run: nothing written" in out.output
    assert path.read_text() == before
    out = invoke(["reprice", "--model", "claude-sonnet-4-6"])
    assert out.exit_code == 0, out.output
    stored = ledger.get("claude-code/hhhh")
    assert stored is not None and stored.cost_usd == TRUE_COST
    assert "repriced" in stored.methods
    other = ledger.get("claude-code/iiii")
    assert other is not None and other.cost_usd == Decimal("0.3")
    assert (repo / "COST_LOG.md").is_file()
