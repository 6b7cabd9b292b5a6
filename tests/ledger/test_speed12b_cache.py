"""The faster parse cache (issue 12) gives back exactly what the ledger files say."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from golden.ledger import entries  # tests/golden/ledger.py
from ledger_compare import cold, same

from costlog import gitrepo as repo_mod
from costlog import render
from costlog.config import Budget, Config
from costlog.ledger import cache
from costlog.ledger.store import Ledger
from tests_support import GOLDEN_DIR

CACHE = "ledger-cache.pickle"
#: the golden file's config (tests/render/test_golden.py)
CONFIG = Config(budget=Budget(monthly_usd=Decimal("25"), rolling_7d_usd=Decimal("15")))


def test_warm_load_is_the_files_field_for_field(repo: Path) -> None:
    found = repo_mod.find(repo)
    ledger = Ledger(found, ".costlog/sessions")
    with ledger.lock():
        for entry in entries():
            ledger.write(entry)
    # a hand-edited file: the same amount written two ways must stay two ways
    path = ledger.path_for("manual/hand-1")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "schema: 1\nid: manual/hand-1\nagent: manual\nstarted: 2026-10-02 09:00:00\n"
        "models:\n  claude-sonnet-4-6:\n    requests: 1\n    output: 100\n"
        "    cost_usd: '1.5'\ncost_usd: '1.500000'\n"
    )
    truth = cold(ledger)
    first = Ledger(found, ".costlog/sessions").load_all()  # parses, fills the cache
    assert (found.state_dir / CACHE).exists()
    warm = Ledger(found, ".costlog/sessions").load_all()  # from the cache only
    assert len(truth) == len(warm) == 301
    for want, a, b in zip(truth, first, warm, strict=True):
        assert same(want, a), want.id
        assert same(want, b), want.id
    hand = next(e for e in warm if e.id == "manual/hand-1")
    assert (
        str(hand.cost_usd) == "1.500000" and str(hand.models["claude-sonnet-4-6"].cost_usd) == "1.5"
    )


def test_render_from_the_cache_is_the_golden_file(repo: Path) -> None:
    found = repo_mod.find(repo)
    ledger = Ledger(found, ".costlog/sessions")
    with ledger.lock():
        for entry in entries():
            ledger.write(entry)
    golden = (GOLDEN_DIR / "COST_LOG.md").read_text()
    assert render.render(found, CONFIG).text == golden  # cold: every file parsed
    assert (found.state_dir / CACHE).exists()
    again = render.render(found, CONFIG)  # warm: every entry from the cache
    assert again.text == golden and not again.changed


def test_a_cache_of_other_records_is_rebuilt(repo: Path) -> None:
    """A cache written when the records had other fields (an older costlog) is never used:
    its entries would come back without the new field."""
    found = repo_mod.find(repo)
    ledger = Ledger(found, ".costlog/sessions")
    with ledger.lock():
        for entry in entries(5):
            ledger.write(entry)
    ledger.load_all()
    path = found.state_dir / CACHE
    data = cache.read_file(path)
    assert data["version"] == cache._CACHE_VERSION
    data["columns"]["notes"] = ["from a stale cache"] * len(data["columns"]["notes"])
    data["version"] = data["version"].replace("Entry:id,", "Entry:")  # fields as they once were
    cache.write_file(path, data, data.pop("columns"))
    loaded = Ledger(found, ".costlog/sessions").load_all()
    assert all(e.notes != "from a stale cache" for e in loaded)
    assert same(loaded, cold(ledger))
