"""`costlog reconcile`: the ledger against hand-made exports in every documented shape.

The ledger (prices $/MTok: sonnet-4-6 3/15/0.3/3.75, haiku-4-5 1/5, gpt-5 1.25/10/0.125):
  A 2026-11-02 claude-sonnet-4-6  in 100k, out 60k, cache read 1M, write 5m 80k
      = 0.30 + 0.90 + 0.30 + 0.30 = $1.80
  B 2026-11-03 claude-sonnet-4-6  same tokens = $1.80
  C 2026-11-03 claude-haiku-4-5   in 100k, out 100k = 0.10 + 0.50 = $0.60
  D 2026-11-05 claude-opus-4-6    $1.00 (after the exports' last day: not compared)
  E 2026-11-02 gpt-5 (codex)      $0.50

Anthropic cost report (cents): 11-02 sonnet 30.00+90.00+30.0000+39.00 = 189 c = $1.89;
11-03 sonnet 180.00 c = $1.80, haiku 75.5 c = $0.755, web search 10 c = $0.10.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from costlog import config as config_mod
from costlog import gitrepo as repo_mod
from costlog.errors import CostlogError
from costlog.ledger.store import Ledger
from costlog.models import Entry, ModelUsage, Usage
from costlog.pricing.table import PriceTable
from costlog.reconcile import bills as billing
from costlog.reconcile import compare as reconcile
from costlog.reconcile import report
from tests_support import FIXTURES_DIR, invoke

FIX = FIXTURES_DIR / "billing"
SONNET = Usage(input=100_000, output=60_000, cache_read=1_000_000, cache_write_5m=80_000)


def _entry(
    sid: str,
    day: int,
    model: str,
    cost: str,
    usage: Usage | None = None,
    agent: str = "claude-code",
) -> Entry:
    return Entry(
        id=f"{agent}/{sid}",
        agent=agent,
        started=datetime(2026, 11, day, 10, 0, tzinfo=UTC),
        source="actual",
        models={model: ModelUsage(requests=1, usage=usage or Usage(), cost_usd=Decimal(cost))},
        cost_usd=Decimal(cost),
    )


def _ledger() -> list[Entry]:
    return [
        _entry("A", 2, "claude-sonnet-4-6", "1.80", SONNET),
        _entry("B", 3, "claude-sonnet-4-6", "1.80", SONNET),
        _entry("C", 3, "claude-haiku-4-5", "0.60", Usage(input=100_000, output=100_000)),
        _entry("D", 5, "claude-opus-4-6", "1.00"),
        _entry("E", 2, "gpt-5", "0.50", agent="codex"),
    ]


def _run(*names: str, threshold: str = "10") -> reconcile.Result:
    return reconcile.run(_ledger(), [FIX / n for n in names], PriceTable.load(), Decimal(threshold))


def test_anthropic_cost_report_cents_by_day_model_and_month() -> None:
    result = _run("anthropic_cost_report.json")
    days = result.by("day")
    assert (days["2026-11-02"].estimated, days["2026-11-02"].billed) == (
        Decimal("1.80"),
        Decimal("1.89"),
    )
    assert days["2026-11-02"].delta_pct == Decimal("5.0")
    # 11-03: est 1.80 + 0.60 = 2.40, billed 1.80 + 0.755 + 0.10 = 2.655 -> +10.6 %
    assert (days["2026-11-03"].estimated, days["2026-11-03"].billed) == (
        Decimal("2.40"),
        Decimal("2.655"),
    )
    assert days["2026-11-03"].delta_pct == Decimal("10.6")
    models = result.by("model")
    assert models["claude-haiku-4-5"].billed == Decimal("0.755")  # dated id -> canonical
    assert models["claude-sonnet-4-6"].billed == Decimal("3.69")
    assert models["(web_search)"].billed == Decimal("0.10")
    month = result.by("month")["2026-11"]
    assert (month.estimated, month.billed) == (Decimal("4.20"), Decimal("4.545"))
    # gaps over 10 %: haiku +25.8 %, web search billed with no session
    gaps = [(str(d), m, c.delta_pct) for d, m, c in result.gaps()]
    assert gaps == [
        ("2026-11-03", "(web_search)", None),
        ("2026-11-03", "claude-haiku-4-5", Decimal("25.8")),
    ]
    assert result.factors() == {
        "claude-haiku-4-5": Decimal("1.258"),
        "claude-sonnet-4-6": Decimal("1.025"),
    }
    assert result.outside == 1  # D, after the exports' dates
    assert set(result.unbilled) == {"openai"}  # E: no OpenAI export at all


def test_text_output_says_subscription_usage_has_no_bill() -> None:
    text = report.to_text(_run("anthropic_cost_report.json"))
    assert "anthropic: exports cover 2026-11-02 to 2026-11-03 (UTC)" in text
    assert "claude-haiku-4-5" in text and "+25.8%  <-- gap" in text
    assert "openai: 1 ledger session, $0.50 at API prices, has no bill rows" in text
    assert "Subscription usage (Claude Max, ChatGPT-login Codex) has no bill" in text
    assert "1 ledger session falls outside the exports' dates" in text
    assert "total: est $4.20, billed $4.55 (+8.2%, +$0.35)" in text


def test_usage_report_hourly_buckets_priced_and_token_ratios() -> None:
    # two 1h buckets on 11-02: in 60k+40k, out 40k+30k, cache read 1M, write 5m 80k
    # = 0.30 + 70k*15/1M (1.05) + 0.30 + 0.30 = $1.95 against the ledger's $1.80
    result = _run("anthropic_usage_report_1h.json")
    cell = result.cells[(datetime(2026, 11, 2).date(), "claude-sonnet-4-6")]
    assert cell.billed == Decimal("1.95")
    assert cell.billed_tokens == Usage(
        input=100_000, output=70_000, cache_read=1_000_000, cache_write_5m=80_000
    )
    assert cell.basis == {"usage"}
    text = report.to_text(result)
    assert "tokens billed / ledger, claude-sonnet-4-6: input 1.00x, output 1.17x" in text


def test_cost_report_wins_over_usage_for_money_but_tokens_are_kept() -> None:
    result = _run("anthropic_cost_report.json", "anthropic_usage_report_1h.json")
    cell = result.cells[(datetime(2026, 11, 2).date(), "claude-sonnet-4-6")]
    assert cell.billed == Decimal("1.89") and cell.basis == {"cost"}
    assert cell.billed_tokens is not None and cell.billed_tokens.output == 70_000


def test_claude_code_analytics_cents() -> None:
    cell = _run("claude_code_analytics.json").by("model")["claude-sonnet-4-6"]
    assert cell.billed == Decimal("1.75")  # 175 cents
    assert cell.delta_pct == Decimal("-2.8")  # -0.05 / 1.80


def test_openai_costs_dollars_and_usage_inclusive_input() -> None:
    costs = _run("openai_costs.json").by("model")["gpt-5"]
    assert (costs.estimated, costs.billed, costs.delta_pct) == (
        Decimal("0.50"),
        Decimal("0.625"),
        Decimal("25.0"),
    )
    # usage: 200k input incl. 100k cached -> 100k*1.25 + 100k*0.125 + 30k*10 = $0.4375
    usage = _run("openai_completions_usage.json").by("model")["gpt-5"]
    assert usage.billed == Decimal("0.4375")
    assert usage.billed_tokens == Usage(input=100_000, cache_read=100_000, output=30_000)


def test_console_csv_exports() -> None:
    result = _run("anthropic_console_cost.csv")
    assert result.by("month")["2026-11"].billed == Decimal("4.445")  # 1.89 + 1.80 + 0.755
    usage = _run("openai_dashboard_usage.csv").by("model")["gpt-5"]
    assert usage.billed == Decimal("0.4375")  # same numbers as the API usage export


def test_console_display_names_match_the_ledger(tmp_path: Path) -> None:
    (tmp_path / "cost.csv").write_text(
        'Date,Model,Cost (USD)\n2026-11-03,Claude Haiku 4.5,"$0.60"\n'
    )
    cell = _run_paths(tmp_path / "cost.csv").by("model")["claude-haiku-4-5"]
    assert (cell.estimated, cell.billed, cell.delta_pct) == (
        Decimal("0.60"),
        Decimal("0.60"),
        Decimal("0.0"),
    )


def _run_paths(*paths: Path) -> reconcile.Result:
    return reconcile.run(_ledger(), list(paths), PriceTable.load(), Decimal(10))


def test_overlapping_pages_are_counted_once(tmp_path: Path) -> None:
    page = json.loads((FIX / "openai_costs.json").read_text())
    (tmp_path / "pages.json").write_text(json.dumps([page, page]))
    export = billing.read(tmp_path / "pages.json")
    assert len(export.rows) == 2 and export.duplicates == 2
    assert export.warnings == []
    page["has_more"], page["next_page"] = True, "page_2"
    (tmp_path / "part.json").write_text(json.dumps(page))
    result = reconcile.run([], [tmp_path / "part.json"], PriceTable.load(), Decimal(10))
    assert "the last page says has_more" in report.to_text(result)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '{"data": [{"starting_at": "2026-11-02T00:00:00Z", "results": [{"currency": "USD", '
            '"amount": "12,5"}]}]}',
            "bad.json: page 1 data[0].results[0]: `amount` must be a decimal number, not '12,5'",
        ),
        (
            '{"data": [{"starting_at": "yesterday", "results": [{"currency": "USD", '
            '"amount": "1"}]}]}',
            "not an RFC 3339 time",
        ),
        ('{"hello": 1}', "expected an API page with a `data` list"),
        ('{"data": [{"results": [{"foo": 1}]}]}', "not a known usage or cost export"),
        ("{not json", "bad.json:1: not valid JSON"),
    ],
)
def test_malformed_json_is_one_line_naming_file_and_row(
    tmp_path: Path, text: str, message: str
) -> None:
    (tmp_path / "bad.json").write_text(text)
    with pytest.raises(CostlogError) as info:
        billing.read(tmp_path / "bad.json")
    assert message in info.value.one_line()
    assert "\n" not in info.value.one_line()


def test_malformed_csv_names_the_line(tmp_path: Path) -> None:
    (tmp_path / "bad.csv").write_text("date,model,cost_usd\n2026-11-02,x,1\n02/11/2026,x,1\n")
    with pytest.raises(CostlogError, match=r"bad.csv:3: date '02/11/2026' is not YYYY-MM-DD"):
        billing.read(tmp_path / "bad.csv")


def test_cli_json_and_write_factors(repo: Path) -> None:
    ledger = Ledger(repo_mod.find(repo), config_mod.Config().ledger_dir)
    with ledger.lock():
        for entry in _ledger():
            ledger.write(entry)
    (repo / ".costlog" / "config.yaml").write_text("# my settings\nidle_minutes: 45\n")
    out = invoke(
        ["reconcile", str(FIX / "anthropic_cost_report.json"), "--json", "--threshold", "30%"]
    )
    assert out.exit_code == 0, out.output
    doc = json.loads(out.output)
    assert doc["models"]["claude-haiku-4-5"]["billed_usd"] == "0.755"
    assert doc["models"]["claude-haiku-4-5"]["gap"] is False  # 25.8 % < 30 %
    assert doc["months"]["2026-11"]["delta_pct"] == "8.2"
    assert not (repo / ".costlog" / "config.yaml").read_text().count("correction")

    out = invoke(["reconcile", str(FIX / "anthropic_cost_report.json"), "--write-factors"])
    assert out.exit_code == 0, out.output
    assert "wrote 2 correction factor(s) to .costlog/config.yaml" in out.output
    text = (repo / ".costlog" / "config.yaml").read_text()
    assert "# my settings" in text and "idle_minutes: 45" in text
    config = config_mod.load(repo)
    assert config.correction_factors == {"claude-haiku-4-5": "1.258", "claude-sonnet-4-6": "1.025"}


def test_cli_bad_file_writes_nothing(repo: Path, tmp_path: Path) -> None:
    (tmp_path / "bad.csv").write_text("date,model,cost_usd\n2026-11-02,x,abc\n")
    out = invoke(
        [
            "reconcile",
            str(FIX / "anthropic_cost_report.json"),
            str(tmp_path / "bad.csv"),
            "--write-factors",
        ],
    )
    assert out.exit_code == 1
    assert "bad.csv:2: `cost` must be a decimal number" in out.output
    assert not (repo / ".costlog" / "config.yaml").exists()
