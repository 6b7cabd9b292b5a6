"""Every model the pinned Claude Code and Codex can select has a dated, cited price, or is
marked as having none published (issue 16).

tests/fixtures/cli_models.yaml lists the models, extracted from the installed CLIs' bundles
(how is written at its top). A new pinned version that adds a model fails here until the
model is priced in costlog/data/prices.yaml or listed there under `unpriced:`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from costlog import yamlfile
from costlog.models import Request, Usage
from costlog.pricing.requests import price_requests
from costlog.pricing.table import PriceTable
from tests_support import FIXTURES_DIR, invoke

TABLE = PriceTable.load()
CLI = yamlfile.load_text((FIXTURES_DIR / "cli_models.yaml").read_text(), path="cli_models.yaml")
CLAUDE = [str(m) for m in CLI["claude-code"]["models"]]
CODEX = [str(m["slug"]) for m in CLI["codex"]["models"]]
M = 1_000_000
K = 100_000  # OpenAI prompts stay under the 272k long-context line


def test_the_fixture_holds_the_pinned_versions_and_their_defaults() -> None:
    assert CLI["claude-code"]["version"] == "2.1.332"
    assert CLI["codex"]["version"] == "0.171.0"
    assert CLI["claude-code"]["default"] in CLAUDE
    assert CLI["codex"]["default"] in CODEX
    assert len(CLAUDE) >= 20 and len(CODEX) >= 10  # a broken extraction yields a short list


@pytest.mark.parametrize("model", CLAUDE + CODEX + list(CLI["claude-code"]["aliases"].values()))
def test_every_selectable_model_is_priced_or_marked(model: str) -> None:
    priced = TABLE.model(model)
    marked = TABLE.known_unpriced(model)
    assert priced is not None or marked is not None, (
        f"{model}: selectable in a pinned CLI but neither priced nor listed as unpriced"
        " in costlog/data/prices.yaml"
    )
    if priced is not None:
        assert priced.source, f"{model}: a price needs its source"
        assert priced.prices[0].effective > date(2000, 1, 1), f"{model}: a price needs its date"
    else:
        assert marked is not None and marked.checked >= date(2026, 12, 1) and marked.reason


@pytest.mark.parametrize(
    ("model", "usage", "expected"),
    [
        # Claude Code's default: $4 / $20, cache read $0.20, writes $5 (5m) / $8 (1h)
        (
            "claude-opus-5-5",
            Usage(input=M, output=M, cache_read=M, cache_write_5m=M, cache_write_1h=M),
            Decimal("37.2"),
        ),
        # Codex's default: $2 / $10, cached $0.10, cache writes $2.50
        ("gpt-6.2-sol", Usage(input=K, output=K, cache_read=K), Decimal("1.21")),
        # above 272k input the whole request pays 2x input and cache, 1.5x output
        ("gpt-6.2-sol", Usage(input=300_000, output=100_000), Decimal("2.7")),
        ("gpt-6-astra", Usage(input=K, output=K, cache_read=K), Decimal("6.1")),
        ("gpt-6-luna", Usage(input=K, output=K, cache_read=K), Decimal("0.061")),
        ("gpt-6.1-terra", Usage(input=K, output=K, cache_read=K), Decimal("0.605")),
        ("claude-fable-5-2", Usage(input=M, output=M, cache_write_1h=M), Decimal("64")),
        # Haiku 5.5 above a 100k prompt: the whole request at $0.50 / $2.50
        ("claude-haiku-5-5", Usage(input=150_000, output=M), Decimal("2.575")),
        ("claude-haiku-5-5", Usage(input=50_000, output=M), Decimal("0.505")),
    ],
)
def test_defaults_and_new_models_cost_what_the_providers_publish(
    model: str, usage: Usage, expected: Decimal
) -> None:
    assert TABLE.request_cost(model, usage, date(2026, 12, 1)) == expected


def test_fast_mode_on_gpt_6_doubles_the_price() -> None:
    usage = Usage(input=K, output=K)
    assert TABLE.request_cost("gpt-6.2-sol", usage, None, "priority") == Decimal("2.4")


def test_a_session_on_a_marked_model_is_unpriced_never_zero() -> None:
    request = Request(
        model="gpt-daybreak-blue-latest",
        usage=Usage(input=1_000, output=500),
        timestamp=datetime(2026, 12, 1, tzinfo=UTC),
    )
    models, total, _rules = price_requests([request], TABLE)
    assert total is None
    assert models["gpt-daybreak-blue-latest"].cost_usd is None


def test_pricing_show_says_no_price_is_published_and_since_when() -> None:
    shown = invoke(["pricing", "show", "gpt-daybreak-red-latest"])
    assert shown.exit_code == 1
    assert "no price for model 'gpt-daybreak-red-latest': none published as of 2026-12-02" in (
        shown.output
    )


def test_a_price_published_later_takes_the_model_off_the_unpriced_list(tmp_path: Path) -> None:
    override = tmp_path / "prices.yaml"
    override.write_text(
        "models:\n"
        "  gpt-daybreak-blue-latest:\n"
        "    provider: openai\n"
        "    prices:\n"
        "      - {from: 2026-12-01, input: 4, output: 20}\n"
    )
    table = PriceTable.load(override)
    assert table.known_unpriced("gpt-daybreak-blue-latest") is None
    assert table.request_cost("gpt-daybreak-blue-latest", Usage(input=M)) == 4
    assert table.known_unpriced("gpt-daybreak-red-latest") is not None
