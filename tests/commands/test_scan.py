"""`costlog scan` grouping: days in the user's time zone, exactly."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from costlog.commands import scan
from costlog.models import Request, Session, Usage
from costlog.pricing.table import PriceTable
from costlog.timeutil import zone
from tests_support import run


def _session(*times: datetime) -> Session:
    return Session(
        "claude-code",
        "s1",
        requests=[Request("claude-sonnet-4-6", Usage(input=1_000_000), t) for t in times],
    )


def test_days_split_at_local_midnight_in_a_half_hour_zone() -> None:
    # Asia/Kolkata is UTC+05:30: 18:29 UTC is 23:59 there, 18:31 UTC is 00:01 next day
    before = datetime(2026, 11, 20, 18, 29, tzinfo=UTC)
    after = datetime(2026, 11, 20, 18, 31, tzinfo=UTC)
    options = scan.Options(by="day", tz=zone("Asia/Kolkata"))
    result = scan.run(options, PriceTable.load(), [_session(before, after)])
    assert sorted(result.rows) == ["2026-11-20", "2026-11-21"]
    assert result.rows["2026-11-21"].cost_usd == Decimal(3)  # $3 per million input tokens
    assert result.totals.cost_usd == Decimal(6) and result.totals.requests == 2


def test_requests_sharing_a_plan_are_priced_exactly_as_one_by_one() -> None:
    table = PriceTable.load()
    times = [datetime(2026, 11, 20, 9, m, tzinfo=UTC) for m in range(7)]
    session = Session(
        "claude-code",
        "s1",
        requests=[
            Request(
                "claude-sonnet-4-5",
                Usage(input=1234 * (i + 1), output=77 * i, cache_read=150_000 + 20_000 * i),
                t,
            )
            for i, t in enumerate(times)
        ],
    )  # the later ones cross the 200k long-context line
    result = scan.run(scan.Options(by="model"), table, [session])
    one_by_one = sum(
        (
            table.request_cost(r.model, r.usage, r.timestamp.date()) or Decimal(0)
            for r in session.requests
        ),
        Decimal(0),
    )
    assert result.totals.cost_usd == one_by_one


def test_scan_in_a_repo_uses_its_price_overrides(repo: Path, tmp_path: Path) -> None:

    log = tmp_path / "calls.jsonl"
    log.write_text(
        json.dumps(
            {
                "model": "acme-coder-1",
                "created": 1763629200,
                "usage": {"prompt_tokens": 1_000_000, "completion_tokens": 0},
            }
        )
        + "\n"
    )
    before = json.loads(run("scan", "--agent", "api", "--path", str(log), "--json"))
    assert before["totals"]["unpriced_requests"] == 1
    (repo / ".costlog").mkdir()
    (repo / ".costlog" / "prices.yaml").write_text(
        "models:\n  acme-coder-1:\n    provider: other\n    prices:\n"
        "      - {from: 2026-01-01, input: 2, output: 4}\n"
    )
    after = json.loads(run("scan", "--agent", "api", "--path", str(log), "--json"))
    assert after["totals"]["unpriced_requests"] == 0
    assert after["totals"]["cost_usd"] == "2"


_EVERY_AGENT = ("claude-code", "codex", "gemini", "aider", "opencode", "llm", "api", "rundir")


def test_every_adapter_warns_about_a_file_it_cannot_use(tmp_path: Path) -> None:
    # a JSON file that is no agent's log: each reader says so, none prints a bare empty table
    other = tmp_path / "other.json"
    other.write_text('{"hello": 1}\n', encoding="utf-8")
    for agent in _EVERY_AGENT:
        output = run("scan", "--agent", agent, "--path", str(other))
        warnings = [line for line in output.splitlines() if "costlog: warning:" in line]
        assert len(warnings) == 1, (agent, output)
        assert str(other) in warnings[0], (agent, output)


def test_the_api_reader_names_an_empty_folder_and_a_file_out_of_range(tmp_path: Path) -> None:
    empty = tmp_path / "logs"
    empty.mkdir()
    output = run("scan", "--agent", "api", "--path", str(empty))
    assert f"warning: {empty}: no api usage found (not a log the api reader knows?)" in output
    log = tmp_path / "calls.jsonl"
    log.write_text(
        '{"timestamp": "2026-11-20T09:00:00Z", "model": "gpt-5",'
        ' "usage": {"prompt_tokens": 54, "completion_tokens": 20}}\n',
        encoding="utf-8",
    )
    assert "warning" not in run("scan", "--agent", "api", "--path", str(log))
    later = run("scan", "--agent", "api", "--path", str(log), "--since", "2026-11-21")
    assert f"{log}: no api usage found in the range or project asked for" in later


def test_a_path_another_reader_can_use_is_not_warned_about_without_agent(tmp_path: Path) -> None:
    log = tmp_path / "calls.jsonl"
    log.write_text(
        '{"timestamp": "2026-11-20T09:00:00Z", "model": "gpt-5",'
        ' "usage": {"prompt_tokens": 54, "completion_tokens": 20}}\n',
        encoding="utf-8",
    )
    output = run("scan", "--agent", "api", "--agent", "aider", "--path", str(log))
    assert "no api or aider usage found" not in output


def test_a_warning_met_twice_is_printed_once(tmp_path: Path) -> None:
    junk = tmp_path / "junk.jsonl"
    junk.write_text("not json at all\n", encoding="utf-8")
    output = run("scan", "--agent", "api", "--path", str(junk), "--path", str(junk))
    assert output.count(f"warning: {junk}:1: corrupt line (not JSON") == 1, output


def test_rows_summed_per_group_match_every_request_counted_on_its_own() -> None:
    """A session's requests are summed per (row, model, plan) before they reach a row:
    a mix of tiered and flat models, a logged cost, an unknown model and a request with
    no time (the session's start stands in) gives the rows and last activity a request by
    request count gives."""
    table = PriceTable.load()
    start = datetime(2026, 11, 20, 23, 50, tzinfo=UTC)
    at = [datetime(2026, 11, 21, 0, m, tzinfo=UTC) for m in range(0, 50, 7)]
    requests = [
        Request("claude-sonnet-4-5", Usage(input=5_000, cache_read=190_000 + 9_000 * i), t)
        for i, t in enumerate(at)  # crosses the 200k long-context line on the way
    ]
    requests += [
        Request("gpt-5", Usage(input=40_000, cache_read=3_000, output=900), at[1]),
        Request("gpt-5", Usage(input=10, output=20), None),  # counted at the session's start
        Request("no-such-model-7", Usage(input=123), at[2]),  # unpriced
        Request("gpt-5", Usage(input=1), at[3], logged_cost_usd=Decimal("0.4200001")),
        Request("claude-sonnet-4-5", Usage(output=5), at[4], logged_cost_usd=Decimal("1.5")),
    ]
    session = Session("codex", "s1", started=start, requests=requests)
    for by in ("day", "session", "model"):
        result = scan.run(scan.Options(by=by, breakdown=True), table, [session])
        # (cost, requests, unpriced, input tokens, last activity) per row, one by one
        expected: dict[str, tuple[Decimal, int, int, int, datetime]] = {}
        for r in requests:
            when = r.timestamp or start
            key = {"day": when.date().isoformat(), "session": "codex/s1"}.get(
                by, table.canonical(r.model) or r.model
            )
            cost, count, unpriced, given, last = expected.get(key, (Decimal(0), 0, 0, 0, when))
            price = r.logged_cost_usd
            if price is None:
                price = table.request_cost(r.model, r.usage, when.date())
            expected[key] = (
                cost + (price or 0),
                count + 1,
                unpriced + (price is None),
                given + r.usage.input,
                max(last, when),
            )
        got = {
            key: (b.cost_usd, b.requests, b.unpriced_requests, b.input_tokens, b.last)
            for key, b in result.rows.items()
        }
        assert got == expected, by
        assert sum(d.requests for row in result.details.values() for d in row.values()) == len(
            requests
        )
