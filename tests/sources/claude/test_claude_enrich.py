"""Reconciling a Claude Code transcript with OTel events and `~/.claude.json` (issue 3)."""

from __future__ import annotations

import json
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from costlog import config as config_mod
from costlog.models import Request, Session, Usage
from costlog.pricing.requests import price_requests
from costlog.pricing.table import PriceTable
from costlog.sources.claude import enrich as truth
from costlog.sources.claude.adapter import ADAPTER
from costlog.sources.claude.otel import read_events
from costlog.sources.claude.state import LastSession, last_session
from tests_support import FIXTURES_DIR, invoke

FIXTURES = FIXTURES_DIR / "claude-otel"
TRANSCRIPT = FIXTURES / "projects" / "-work-app" / "sess-otel-1.jsonl"
SID = "sess-otel-1"
OTEL_OUTPUTS = [412, 1290, 233]
SONNET_COST = Decimal("0.08793")  # the three requests' logged cost_usd, = list price
HAIKU_COST = Decimal("0.0022")  # two auxiliary calls: 0.00038 + 0.00182


@pytest.fixture(scope="module")
def table() -> PriceTable:
    return PriceTable.load()


def transcript_session(path: Path = TRANSCRIPT) -> Session:
    (session,) = ADAPTER.scan([path], warn=lambda _m: None, use_cache=False)
    return session


def events(name: str = "otlp.jsonl") -> list[Any]:
    return list(read_events(FIXTURES / name, lambda _m: None))


def state(cwd: str = "/work/app") -> LastSession:
    found = last_session(FIXTURES / "claude.json", cwd, lambda _m: None)
    assert found is not None
    return found


def sonnet(session: Session) -> list[Any]:
    return [r for r in session.requests if r.model == "claude-sonnet-4-6"]


# ---------------------------------------------------------------- OpenTelemetry


def test_the_transcript_alone_has_placeholder_outputs() -> None:
    session = transcript_session()
    assert [r.usage.output - r.estimated_output for r in session.requests] == [8, 12, 5]
    assert all(r.estimated_output for r in session.requests)
    assert "placeholder" in session.methods["output"]


def test_otel_replaces_placeholder_outputs_exactly_and_adds_auxiliary_calls(
    table: PriceTable,
) -> None:
    original = transcript_session()
    result = truth.reconcile(original, events=events(), table=table)
    session = result.session
    assert [r.usage.output for r in sonnet(session)] == OTEL_OUTPUTS
    assert all(r.estimated_output == 0 and r.source == "actual" for r in session.requests)
    assert [r.logged_cost_usd for r in sonnet(session)] == [
        Decimal("0.042195"),
        Decimal("0.031359"),
        Decimal("0.014376"),
    ]
    # the 1-hour cache write of the first request keeps the transcript's split
    assert sonnet(session)[0].usage.cache_write_1h == 5000
    aux = [r for r in session.requests if r.model != "claude-sonnet-4-6"]
    assert [(r.request_id, r.usage.input, r.usage.output) for r in aux] == [
        ("req_T1", 310, 14),
        ("req_T2", 1520, 60),
    ]
    assert session.methods["residual"] == (
        "OTel: 2 auxiliary requests, $0.0022, not in the transcript (added)"
    )
    assert result.lines == [session.methods["residual"]]
    assert session.methods["otel"].startswith(
        "3 of 3 transcript requests take their tokens and cost from OpenTelemetry "
        "api_request events (3 joined on request id); output +"
    )
    assert "output" not in session.methods  # no estimate is left
    models, total, _ = price_requests(session.requests, table)
    assert total == SONNET_COST + HAIKU_COST
    assert models["claude-sonnet-4-6"].usage.output == sum(OTEL_OUTPUTS)
    assert models["claude-haiku-4-5"].requests == 2
    # the input session is not changed
    assert original.requests[0].estimated_output > 0 and "otel" not in original.methods


def test_events_of_other_sessions_are_neither_joined_nor_added() -> None:
    session = truth.reconcile(transcript_session(), events=events()).session
    assert "req_X" not in {r.request_id for r in session.requests}
    assert len(session.requests) == 5


def test_an_export_without_request_ids_is_joined_on_shape_and_says_so() -> None:
    session = truth.reconcile(transcript_session(), events=events("plain.jsonl")).session
    assert [r.usage.output for r in sonnet(session)] == OTEL_OUTPUTS
    assert (
        "3 joined on model, time and prompt tokens (the export has no request ids)"
        in session.methods["otel"]
    )
    assert session.methods["residual"] == (
        "OTel: 1 auxiliary request, $0.0018, not in the transcript (added)"
    )


def test_requests_without_an_event_keep_the_transcript_numbers_and_it_is_said() -> None:
    some = [e for e in events() if e.request_id != "req_B"]
    session = truth.reconcile(transcript_session(), events=some).session
    outputs = [r.usage.output for r in sonnet(session)]
    assert outputs[0] == 412 and outputs[2] == 233
    assert sonnet(session)[1].estimated_output > 0
    assert "2 of 3 transcript requests" in session.methods["otel"]
    assert "1 had no event and keep the transcript's numbers" in session.methods["otel"]
    assert "placeholder" in session.methods["output"]


def test_an_advisor_call_sharing_the_request_id_keeps_its_own_numbers() -> None:
    session = transcript_session()
    executor = session.requests[0]
    advisor = Request(
        model="claude-opus-4-6",
        usage=Usage(input=900, output=300),
        timestamp=executor.timestamp,
        request_id=executor.request_id,
    )
    session.requests.insert(0, advisor)
    fixed = truth.reconcile(session, events=events()).session
    by_model = {r.model: r for r in fixed.requests if r.request_id == "req_A"}
    assert by_model["claude-sonnet-4-6"].usage.output == 412
    assert by_model["claude-opus-4-6"].usage == Usage(input=900, output=300)


# ---------------------------------------------------------------- ~/.claude.json


def test_state_totals_replace_placeholder_outputs_and_the_residual_is_reported(
    table: PriceTable,
) -> None:
    result = truth.reconcile(transcript_session(), state=state(), table=table)
    session = result.session
    outs = sonnet(session)
    assert sum(r.usage.output for r in outs) == 1935
    assert [r.usage.output - r.estimated_output for r in outs] == [8, 12, 5]
    assert sum(r.estimated_output for r in outs) == 1935 - 25
    assert "~/.claude.json lastModelUsage" in session.methods["output"]
    expected = (
        "~/.claude.json (Claude Code's own totals for this session) minus this "
        "record: claude-haiku-4-5: input +1,830, output +74, +$0.0022 (auxiliary "
        "calls, advisor, lost sub-agent finals; reported, not added)"
    )
    assert session.methods["state_residual"] == expected
    assert result.lines == [expected]
    assert price_requests(session.requests, table)[1] == SONNET_COST


def test_final_transcript_outputs_are_kept_and_only_the_difference_reported(
    tmp_path: Path, table: PriceTable
) -> None:
    lines = []
    for raw in TRANSCRIPT.read_text().splitlines():
        line = json.loads(raw)
        if line["type"] == "assistant":
            line["message"]["stop_reason"] = "end_turn"
            line["message"]["usage"]["output_tokens"] = {"msg_A": 400, "msg_B": 1290, "msg_C": 233}[
                line["message"]["id"]
            ]
        lines.append(json.dumps(line))
    path = tmp_path / "projects" / "-work-app" / f"{SID}.jsonl"
    path.parent.mkdir(parents=True)
    path.write_text("\n".join(lines) + "\n")
    session = truth.reconcile(transcript_session(path), state=state(), table=table).session
    assert [r.usage.output for r in sonnet(session)] == [400, 1290, 233]
    assert "output" not in session.methods
    assert (
        session.methods["state_residual"]
        .split("record: ")[1]
        .startswith(
            "claude-haiku-4-5: input +1,830, output +74, +$0.0022; "
            "claude-sonnet-4-6: output +12, +$0.0002 ("
        )
    )


def test_otel_and_state_together_leave_no_residual(table: PriceTable) -> None:
    result = truth.reconcile(transcript_session(), events=events(), state=state(), table=table)
    assert "state_residual" not in result.session.methods
    assert result.lines == ["OTel: 2 auxiliary requests, $0.0022, not in the transcript (added)"]


def test_without_last_model_usage_the_session_totals_are_compared(table: PriceTable) -> None:
    full = state()
    totals_only = LastSession(
        session_id=SID, project="/work/app", usage=full.usage, cost_usd=full.cost_usd
    )
    session = truth.reconcile(transcript_session(), state=totals_only, table=table).session
    # all 2,009 output tokens land on the transcript's model (74 were Haiku's, priced here
    # at Sonnet's rate: $0.0022 - 74 x $15/M = $0.0011 left)
    assert sum(r.usage.output for r in session.requests) == 2009
    assert (
        session.methods["state_residual"]
        .split("record: ")[1]
        .startswith("all models: input +1,830, +$0.0011 (")
    )


def test_state_of_another_session_is_ignored(table: PriceTable) -> None:
    other = LastSession(session_id="someone-else", project="/work/app", models=state().models)
    result = truth.reconcile(transcript_session(), state=other, table=table)
    assert result.lines == []
    assert [r.usage for r in result.session.requests] == [
        r.usage for r in transcript_session().requests
    ]


def test_no_source_changes_nothing() -> None:
    original = transcript_session()
    result = truth.reconcile(original)
    assert result.lines == []
    assert result.session.requests == original.requests
    assert result.session.methods == original.methods
    assert truth.apply(original, truth.Sources(), None, lambda _m: None).session is original


# ---------------------------------------------------------------- costlog record / scan


def setup_transcript(repo: Path, home: Path) -> Path:
    """The fixture transcript as a Claude Code session of this repo."""
    folder = home / ".claude" / "projects" / re_encode(str(repo))
    folder.mkdir(parents=True)
    path = folder / f"{SID}.jsonl"
    path.write_text(
        TRANSCRIPT.read_text().replace('"cwd":"/work/app"', f'"cwd":{json.dumps(str(repo))}')
    )
    return path


def re_encode(cwd: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in cwd)


def ledger_doc(repo: Path) -> dict[str, Any]:
    (path,) = (repo / ".costlog" / "sessions").rglob("*.yaml")
    doc: dict[str, Any] = YAML(typ="safe").load(path.read_text())
    return doc


def run(*args: str) -> Any:
    result = invoke(list(args))
    assert result.exit_code == 0, result.output
    return result


def test_record_with_otel_records_the_events_numbers_and_reports_the_residual(
    repo: Path, isolated_home: Path
) -> None:
    path = setup_transcript(repo, isolated_home)
    out = run(
        "record", "--transcript", str(path), "--otel", str(FIXTURES / "otlp.jsonl"), "--no-stage"
    ).output
    assert "residual: OTel: 2 auxiliary requests, $0.0022, not in the transcript" in out
    doc = ledger_doc(repo)
    models = doc["models"]
    assert models["claude-sonnet-4-6"]["output"] == sum(OTEL_OUTPUTS)
    assert models["claude-haiku-4-5"]["requests"] == 2
    assert Decimal(str(doc["cost_usd"])) == SONNET_COST + HAIKU_COST
    assert "OTel: 2 auxiliary requests" in doc["methods"]["residual"]
    written = "".join(
        p.read_text(errors="replace")
        for p in [
            *(repo / ".costlog").rglob("*"),
            *(isolated_home / ".cache").rglob("*"),
            repo / "COST_LOG.md",
        ]
        if p.is_file()
    )
    assert "SECRET" not in written and "fix the failing test" not in written


def test_record_reads_the_state_file_and_prints_one_residual_line(
    repo: Path, isolated_home: Path
) -> None:
    path = setup_transcript(repo, isolated_home)
    doc = json.loads((FIXTURES / "claude.json").read_text())
    doc["projects"] = {str(repo): doc["projects"]["/work/app"]}
    (isolated_home / ".claude.json").write_text(json.dumps(doc))
    out = run("record", "--transcript", str(path), "--no-stage").output
    lines = [line for line in out.splitlines() if "residual:" in line]
    assert lines == [
        "  residual: ~/.claude.json (Claude Code's own totals for this session) "
        "minus this record: claude-haiku-4-5: input +1,830, output +74, +$0.0022 "
        "(auxiliary calls, advisor, lost sub-agent finals; reported, not added)"
    ]
    recorded = ledger_doc(repo)
    assert recorded["models"]["claude-sonnet-4-6"]["output"] == 1935
    assert "state_residual" in recorded["methods"]
    assert "oauth" not in json.dumps(recorded, default=str).lower()


def test_record_without_better_sources_is_unchanged(repo: Path, isolated_home: Path) -> None:
    path = setup_transcript(repo, isolated_home)
    out = run("record", "--transcript", str(path), "--no-stage").output
    assert "residual" not in out
    doc = ledger_doc(repo)
    session = transcript_session()
    assert doc["models"]["claude-sonnet-4-6"]["output"] == sum(
        r.usage.output for r in session.requests
    )
    assert set(doc["methods"]) <= {"output", "pricing"}


def test_the_configured_otel_file_is_used(repo: Path, isolated_home: Path) -> None:
    path = setup_transcript(repo, isolated_home)
    shutil.copy(FIXTURES / "otlp.jsonl", repo / "otel.jsonl")
    (repo / ".costlog").mkdir(exist_ok=True)
    (repo / ".costlog" / "config.yaml").write_text("claude_otel_file: otel.jsonl\n")
    run("record", "--transcript", str(path), "--no-stage")
    assert ledger_doc(repo)["models"]["claude-sonnet-4-6"]["output"] == 1935


def test_scan_with_otel_counts_the_events(isolated_home: Path) -> None:
    out = run(
        "scan",
        "--agent",
        "claude-code",
        "--path",
        str(TRANSCRIPT),
        "--otel",
        str(FIXTURES / "otlp.jsonl"),
        "--json",
    ).output
    assert "OTel: 2 auxiliary requests in 1 session, $0.0022, not in the transcripts" in out
    totals = json.loads(out[: out.rindex("}") + 1])["totals"]
    assert totals["output_tokens"] == sum(OTEL_OUTPUTS) + 74
    assert totals["requests"] == 5
    assert Decimal(totals["cost_usd"]) == SONNET_COST + HAIKU_COST


def test_the_default_config_text_has_the_otel_setting() -> None:
    line = next(
        x for x in config_mod.DEFAULT_TEXT.splitlines() if x.startswith("# claude_otel_file:")
    )
    data = YAML(typ="safe").load(line[2:])
    assert config_mod.from_dict(data).claude_otel_file == config_mod.Config().claude_otel_file
