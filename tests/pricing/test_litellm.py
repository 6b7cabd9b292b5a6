"""`costlog pricing import litellm FILE` on a small hand-made LiteLLM JSON.

The fixture, per token -> per million: claude-sonnet-4-6 3.5e-06 -> $3.50 in (costlog: $3),
1.75e-05 -> $17.50 out; claude-3-5-haiku-20241022 carries LiteLLM's known bad 1h cache
write 6e-06 -> $6 (should be 2 x 0.8 = $1.60); o3 at 1e-05 -> $10 is a 5x jump from
costlog's $2; gpt-5.9 is new; gpt-5 and gemini-2.5-pro equal costlog's prices;
claude-sonnet-4-5 lacks the >200k tier; a Bedrock entry and an embedding are ignored.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from costlog.errors import CostlogError
from costlog.models import Usage
from costlog.pricing import litellm as litellm_import
from costlog.pricing.table import PriceTable
from tests_support import FIXTURES_DIR, invoke

FIXTURE = FIXTURES_DIR / "litellm" / "model_prices_small.json"
DAY = date(2026, 11, 23)


def _plan() -> litellm_import.Plan:
    return litellm_import.plan(litellm_import.read(FIXTURE), PriceTable.load(), DAY)


def test_plan_lists_changes_new_models_and_flags() -> None:
    plan = _plan()
    by_model = {c.model: c for c in plan.changes}
    assert sorted(by_model) == ["claude-3-5-haiku", "claude-sonnet-4-6", "gpt-5.9", "o3"]
    sonnet = by_model["claude-sonnet-4-6"]
    assert sonnet.after == {
        "input": Decimal("3.5"),
        "output": Decimal("17.5"),
        "cache_read": Decimal("0.35"),
        "cache_write_5m": Decimal("4.375"),
        "cache_write_1h": Decimal("7"),
    }
    assert not sonnet.suspicious
    assert by_model["gpt-5.9"].new_model
    assert by_model["gpt-5.9"].tiers == [
        {"above": 272_000, "input": Decimal("4"), "output": Decimal("24")}
    ]
    haiku = by_model["claude-3-5-haiku"]
    assert "1h cache write 6 is not 2x input (1.6)" in haiku.flags
    assert any("`claude-3-5-haiku-latest` disagrees" in n for n in haiku.info)
    assert "input jumps more than 3x: 2 -> 10" in by_model["o3"].flags
    assert plan.notes == [
        "claude-sonnet-4-5: LiteLLM has no long-context tier; costlog's >200,000 tier is kept"
    ]


def test_import_appends_dated_entries_and_keeps_history(repo: Path) -> None:
    out = invoke(["pricing", "import", "litellm", str(FIXTURE), "--effective", "2026-11-23"])
    assert out.exit_code == 0, out.output
    assert "changed claude-sonnet-4-6: input 3 -> 3.5, output 15 -> 17.5" in out.output
    assert "new model gpt-5.9: input 2, output 16, cache_read 0.2" in out.output
    assert "skipped o3" in out.output and "skipped claude-3-5-haiku" in out.output
    assert "2 suspicious skipped" in out.output
    assert "wrote 2 to .costlog/prices.yaml" in out.output
    table = PriceTable.load(repo / ".costlog" / "prices.yaml")
    million_in = Usage(input=1_000_000)
    # history kept: before the new entry the old price, from it the new one
    assert table.request_cost("claude-sonnet-4-6", million_in, date(2026, 11, 20)) == 3
    assert table.request_cost("claude-sonnet-4-6", million_in, DAY) == Decimal("3.5")
    # the launch entry (with its >200k tier) is untouched: 100k tokens at $3 = $0.30
    assert table.request_cost(
        "claude-sonnet-4-6", Usage(input=100_000), date(2026, 3, 1)
    ) == Decimal("0.3")
    assert table.request_cost("gpt-5.9", Usage(output=1_000_000), DAY) == 16
    # the suspicious values were not applied
    assert table.request_cost("o3", million_in, DAY) == 2
    # a second import finds nothing to change
    again = invoke(["pricing", "import", "litellm", str(FIXTURE), "--effective", "2026-11-23"])
    assert "0 model(s) to update" in again.output


def test_dry_run_writes_nothing_and_include_suspicious(repo: Path) -> None:
    out = invoke(["pricing", "import", "litellm", str(FIXTURE), "--dry-run"])
    assert out.exit_code == 0 and "dry run: nothing written" in out.output
    assert not (repo / ".costlog" / "prices.yaml").exists()
    out = invoke(
        [
            "pricing",
            "import",
            "litellm",
            str(FIXTURE),
            "--include-suspicious",
            "--effective",
            "2026-11-23",
        ],
    )
    assert "wrote 4 to" in out.output
    table = PriceTable.load(repo / ".costlog" / "prices.yaml")
    assert table.request_cost("o3", Usage(input=1_000_000), DAY) == 10


def test_comments_of_an_existing_override_survive(repo: Path) -> None:
    (repo / ".costlog").mkdir()
    (repo / ".costlog" / "prices.yaml").write_text(
        "# our negotiated prices\nmodels:\n  in-house-1:\n    provider: other\n"
        "    prices:\n      - {from: 2026-01-01, input: 1, output: 2}\n"
    )
    litellm_import.run(
        FIXTURE,
        PriceTable.load(repo / ".costlog" / "prices.yaml"),
        repo / ".costlog" / "prices.yaml",
        effective=DAY,
    )
    text = (repo / ".costlog" / "prices.yaml").read_text()
    assert text.startswith("# our negotiated prices\n")
    assert "in-house-1:" in text and "gpt-5.9:" in text


def test_bad_value_names_file_and_model(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text(
        '{"claude-x": {"input_cost_per_token": "abc", '
        '"output_cost_per_token": 1e-06, '
        '"litellm_provider": "anthropic", "mode": "chat"}}'
    )
    with pytest.raises(
        CostlogError,
        match=r"bad.json: claude-x: `input_cost_per_token` is "
        "not a price per token: 'abc'",
    ):
        litellm_import.read(tmp_path / "bad.json")
    (tmp_path / "broken.json").write_text('{"a": ')
    with pytest.raises(CostlogError, match=r"broken.json:1: not valid JSON"):
        litellm_import.read(tmp_path / "broken.json")
