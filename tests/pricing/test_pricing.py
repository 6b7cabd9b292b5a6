"""Prices a user can check against the providers' pages, by hand."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from costlog import resources
from costlog.errors import CostlogError
from costlog.models import Request, Usage
from costlog.pricing import build as pricing_build
from costlog.pricing.requests import price_requests
from costlog.pricing.table import PriceTable
from tests_support import invoke

TABLE = PriceTable.load()
M = 1_000_000


def cost(model: str, day: date | None = None, speed: str | None = None, **tokens: int) -> Decimal:
    value = TABLE.request_cost(model, Usage(**tokens), day, speed)
    assert value is not None, model
    return value


def test_shipped_json_is_the_compiled_yaml() -> None:
    """Someone edited prices.yaml without running `python -m costlog.pricing.build`."""
    source = resources.data("prices.yaml").read_text(encoding="utf-8")
    assert pricing_build.compile_text(source) == resources.data("prices.json").read_text()


@pytest.mark.parametrize(
    "model",
    [
        # retired models still in people's history, and this month's
        "claude-3-opus-20240229",
        "claude-3-haiku-20240307",
        "claude-3-5-sonnet-20241022",
        "claude-3-5-haiku-20241022",
        "claude-3-7-sonnet-20250219",
        "claude-opus-4-20250514",
        "claude-opus-4-1-20250805",
        "claude-sonnet-4-20250514",
        "claude-sonnet-4-5-20250929",
        "claude-haiku-4-5-20251001",
        "claude-opus-4-5-20251101",
        "claude-opus-4-6",
        "claude-sonnet-4-6",
        "claude-opus-4-7",
        "gpt-4o",
        "gpt-4o-2024-05-13",
        "gpt-4.1",
        "o3",
        "o4-mini",
        "gpt-5",
        "gpt-5-codex",
        "gpt-5.1-codex-max",
        "gpt-5.1-codex-mini",
        "gpt-5.2",
        "gpt-5.3-codex",
        "gpt-5.4",
        "gpt-5.5",
        "gemini-2.5-pro",
        "gemini-2.5-flash",
        "gemini-3-pro-preview",
        "gemini-3.1-pro-preview",
    ],
)
def test_the_models_people_use_are_priced(model: str) -> None:
    assert TABLE.canonical(model) is not None


@pytest.mark.parametrize(
    ("logged", "canonical"),
    [
        ("claude-sonnet-4-5-20250929", "claude-sonnet-4-5"),
        ("anthropic/claude-sonnet-4-6", "claude-sonnet-4-6"),
        ("bedrock/us.anthropic.claude-sonnet-4-20250514-v1:0", "claude-sonnet-4"),
        ("vertex_ai/claude-opus-4-1@20250805", "claude-opus-4-1"),
        ("claude-sonnet-4-6[1m]", "claude-sonnet-4-6"),
        ("claude-opus-4-6-fast", "claude-opus-4-6"),
        ("gemini/gemini-2.5-pro", "gemini-2.5-pro"),
        ("models/gemini-2.5-flash", "gemini-2.5-flash"),
        ("o3-2025-04-16", "o3"),
        ("gpt-5-2025-08-07", "gpt-5"),
        ("claude-3-5-haiku-latest", "claude-3-5-haiku"),
    ],
)
def test_logged_names_are_normalised(logged: str, canonical: str) -> None:
    assert TABLE.canonical(logged) == canonical


@pytest.mark.parametrize("name", ["claude-opus-4-9", "gpt-7", "<synthetic>", "claude", ""])
def test_unknown_models_are_not_guessed(name: str) -> None:
    """No prefix guessing: an unknown model is unpriced, never an older model's price."""
    assert TABLE.canonical(name) is None
    assert TABLE.request_cost(name, Usage(input=1000)) is None


def test_a_dated_snapshot_keeps_its_own_price() -> None:
    assert cost("gpt-4o-2024-05-13", input=M) == Decimal(5)
    assert cost("gpt-4o-2024-08-06", input=M) == Decimal("2.5")


def test_anthropic_token_kinds_at_their_own_rates() -> None:
    # Sonnet 4.6: $3 in, $15 out, $0.30 cache read, $3.75 5-minute write, $6 1-hour write
    assert cost("claude-sonnet-4-6", input=M) == 3
    assert cost("claude-sonnet-4-6", output=M) == 15
    assert cost("claude-sonnet-4-6", cache_read=M) == Decimal("0.3")
    assert cost("claude-sonnet-4-6", cache_write_5m=M) == Decimal("3.75")
    assert cost("claude-sonnet-4-6", cache_write_1h=M) == 6
    # reasoning is informational (already inside output): never billed twice
    assert cost("claude-sonnet-4-6", output=M, reasoning=M // 2) == 15


def test_o3_is_priced_as_of_the_request_date() -> None:
    assert cost("o3", date(2025, 6, 9), input=M, output=M) == 50  # $10 + $40
    assert cost("o3", date(2025, 6, 10), input=M, output=M) == 10  # $2 + $8 after the cut
    assert cost("o3", date(2025, 1, 1), input=M) == 10  # before the first entry: the first


def test_long_context_rule_charges_the_whole_request_at_the_premium() -> None:
    # Sonnet 4.5: above 200k prompt tokens, every token at $6 in / $22.50 out / $0.60 read
    small = cost(
        "claude-sonnet-4-5", date(2025, 10, 1), input=50_000, cache_read=150_000, output=1_000
    )
    assert small == Decimal("0.15") + Decimal("0.045") + Decimal("0.015")
    big = cost(
        "claude-sonnet-4-5", date(2025, 10, 1), input=50_001, cache_read=150_000, output=1_000
    )
    assert big == Decimal("0.300006") + Decimal("0.09") + Decimal("0.0225")


def test_claude_4_6_premium_ended_on_2026_03_13() -> None:
    tokens = {"input": 250_000, "output": 0}
    assert cost("claude-sonnet-4-6", date(2026, 3, 1), **tokens) == Decimal("1.5")  # $6
    assert cost("claude-sonnet-4-6", date(2026, 3, 13), **tokens) == Decimal("0.75")  # $3


def test_fast_mode_multiplier_from_the_speed_or_the_name() -> None:
    assert cost("claude-opus-4-6", date(2026, 5, 1), "fast", input=M) == 30
    assert cost("claude-opus-4-6-fast", date(2026, 5, 1), input=M) == 30


def test_price_requests_sums_per_request_and_keeps_unpriced_visible() -> None:
    when = datetime(2026, 11, 1, tzinfo=UTC)
    requests = [
        Request("claude-sonnet-4-6", Usage(input=M), when),
        Request("claude-sonnet-4-6-20260217", Usage(output=M), when),
        Request("claude-haiku-4-5-20251001", Usage(input=M), when, estimated_output=10),
    ]
    models, total, _ = price_requests(requests, TABLE)
    assert models["claude-sonnet-4-6"].requests == 2
    assert models["claude-sonnet-4-6"].cost_usd == 18
    assert models["claude-haiku-4-5"].source == "mixed"
    assert total == 19
    models, total, _ = price_requests([*requests, Request("claude-opus-9", Usage(1), when)], TABLE)
    assert models["claude-opus-9"].cost_usd is None and models["claude-opus-9"].usage.input == 1
    assert total is None


def test_repo_override_wins_and_adds_models(tmp_path: Path) -> None:
    override = tmp_path / "prices.yaml"
    override.write_text(
        "version: acme-2026-11\n"
        "models:\n"
        "  claude-sonnet-4-6:\n"
        "    provider: anthropic\n"
        "    prices:\n"
        "      - {from: 2026-01-01, input: 2.4, output: 12}\n"
        "  acme-coder-1:\n"
        "    provider: other\n"
        "    aliases: [acme/coder-1-latest]\n"
        "    prices:\n"
        "      - {from: 2026-01-01, input: 1, output: 2}\n"
    )
    table = PriceTable.load(override)
    assert table.version == "2026-12-02+acme-2026-11"
    assert table.request_cost("claude-sonnet-4-6", Usage(input=M)) == Decimal("2.4")
    # derived from Anthropic's ratios when the override leaves cache prices out
    assert table.request_cost("claude-sonnet-4-6", Usage(cache_write_1h=M)) == Decimal("4.8")
    assert table.request_cost("acme/coder-1-latest", Usage(output=M)) == 2
    assert table.request_cost("claude-haiku-4-5", Usage(input=M)) == 1  # bundled still there


def test_a_broken_override_names_the_file(tmp_path: Path) -> None:
    override = tmp_path / "prices.yaml"
    override.write_text("models:\n  x:\n    prices:\n      - {from: 2026-01-01, input: -1}\n")
    with pytest.raises(CostlogError, match=r"prices\.yaml"):
        PriceTable.load(override)


def test_pricing_cli_lists_and_shows(repo: Path) -> None:
    listing = invoke(["pricing", "list"])
    assert listing.exit_code == 0
    assert "claude-opus-4-1" in listing.output and "gemini-2.5-pro" in listing.output
    shown = invoke(["pricing", "show", "o3-2025-04-16"])
    data = json.loads(shown.output)
    assert [p["input"] for p in data["prices"]] == ["10", "2"]
    assert [p["from"] for p in data["prices"]] == ["2025-04-16", "2025-06-10"]
    missing = invoke(["pricing", "show", "claude-opus-9"])
    assert missing.exit_code == 1 and "no price for model" in missing.output
