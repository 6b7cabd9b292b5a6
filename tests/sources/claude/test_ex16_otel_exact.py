"""`--otel` as exact as the transcript (issue 16): an auxiliary call's cache writes keep
their 5m/1h split, and `scan --otel --json` shows Claude Code's exact micro-dollar costs.

The transcript is the real one Claude Code 2.1.332 wrote; the OTel export is built from it
(one `api_request` per response, as the current client emits them, with the
`cache_creation_5m_tokens` / `_1h_tokens` split) plus one title call the transcript never
logs, whose `cost_usd` is a float printed with its noise and `cost_usd_micros` exact.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from costlog.sources.claude.otel import read_events
from tests_support import FIXTURES_DIR, invoke

SID = "74bd4e93-bcd3-44cf-9b4c-8e2113b8c318"
TRANSCRIPT = FIXTURES_DIR / "claude-code" / "real-2.1.332" / f"{SID}.jsonl"
TITLE: dict[str, Any] = {
    "event.name": "api_request",
    "session.id": SID,
    "event.timestamp": "2026-12-01T21:07:06.700Z",
    "model": "claude-haiku-5-5",
    "request_id": "req_title1",
    "input_tokens": 300,
    "output_tokens": 12,
    "cache_read_tokens": 0,
    "cache_creation_tokens": 15360,
    "cache_creation_5m_tokens": 5120,
    "cache_creation_1h_tokens": 10240,
    "cost_usd": "0.111825999999999995",
    "cost_usd_micros": 111826,
    "query_source": "generate_session_title",
}


def _events(title: dict[str, Any]) -> list[dict[str, Any]]:
    out, seen = [], set()
    for line in TRANSCRIPT.read_text().splitlines():
        record = json.loads(line)
        if record.get("type") != "assistant" or record["requestId"] in seen:
            continue
        seen.add(record["requestId"])
        usage = record["message"]["usage"]
        out.append(
            {
                "event.name": "api_request",
                "session.id": SID,
                "event.timestamp": record["timestamp"],
                "model": record["message"]["model"],
                "request_id": record["requestId"],
                "input_tokens": usage["input_tokens"],
                "output_tokens": usage["output_tokens"],
                "cache_read_tokens": usage["cache_read_input_tokens"],
                "cache_creation_tokens": usage["cache_creation_input_tokens"],
                "cache_creation_5m_tokens": usage["cache_creation"]["ephemeral_5m_input_tokens"],
                "cache_creation_1h_tokens": usage["cache_creation"]["ephemeral_1h_input_tokens"],
            }
        )
    return [*out, title]


def _export(tmp_path: Path, title: dict[str, Any] = TITLE) -> Path:
    path = tmp_path / "otel.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in _events(title)))
    return path


def _scan(otel: Path) -> dict[str, Any]:
    args = ["--agent", "claude-code", "--path", str(TRANSCRIPT), "--otel", str(otel)]
    result = invoke(["scan", *args, "--json", "--by", "model"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_an_event_keeps_its_cache_split_and_exact_cost(tmp_path: Path) -> None:
    warnings: list[str] = []
    *_, title = read_events(_export(tmp_path), warnings.append)
    assert warnings == []
    assert (title.usage.cache_write_5m, title.usage.cache_write_1h) == (5_120, 10_240)
    assert title.cost_usd == Decimal("0.111826")


def test_scan_otel_json_has_the_split_and_exact_costs(tmp_path: Path) -> None:
    out = _scan(_export(tmp_path))
    rows = {r["model"]: r for r in out["rows"]}
    haiku, opus = rows["claude-haiku-5-5"], rows["claude-opus-5-5"]
    assert (haiku["cache_write_5m_tokens"], haiku["cache_write_1h_tokens"]) == (5_120, 10_240)
    assert haiku["cost_usd"] == "0.111826"  # Claude Code's own cost, not 0.1118259999...
    # the transcript's own requests: tokens and the split unchanged, priced by the table
    assert (opus["cache_write_5m_tokens"], opus["cache_write_1h_tokens"]) == (4_026, 8_052)
    assert opus["cost_usd"] == "0.117666"
    assert out["totals"]["cost_usd"] == "0.229492"


def test_a_float_cost_alone_loses_only_its_printing_noise(tmp_path: Path) -> None:
    title = {k: v for k, v in TITLE.items() if k != "cost_usd_micros"}
    rows = {r["model"]: r for r in _scan(_export(tmp_path, title))["rows"]}
    assert rows["claude-haiku-5-5"]["cost_usd"] == "0.111826"


def test_an_event_without_the_split_puts_all_its_writes_in_5m(tmp_path: Path) -> None:
    # older Claude Code versions send one total: nothing to split it by for an auxiliary call
    title = {k: v for k, v in TITLE.items() if not k.startswith("cache_creation_")}
    title["cache_creation_tokens"] = 15_360
    *_, event = read_events(_export(tmp_path, title), lambda _m: None)
    assert (event.usage.cache_write_5m, event.usage.cache_write_1h) == (15_360, 0)
