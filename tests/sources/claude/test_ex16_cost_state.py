"""Claude Code's `cost-state` transcript lines (issue 16): its own session totals, title and
summary calls included, with the cache split. What the transcript lacks is added once, as
labelled auxiliary usage; never twice (not again from an OTel export or ~/.claude.json).

The transcript is the real one Claude Code 2.1.332 wrote (4 responses of claude-opus-5-5;
its cost-state equals them). A title call to claude-haiku-5-5 is added to the cost-state
line where a test needs one, as Claude Code counts it.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from costlog import gitrepo as repo_mod
from costlog.ledger.store import Ledger
from costlog.models import Entry
from tests_support import FIXTURES_DIR, run

SID = "74bd4e93-bcd3-44cf-9b4c-8e2113b8c318"
REAL = FIXTURES_DIR / "claude-code" / "real-2.1.332" / f"{SID}.jsonl"
TITLE = {
    "inputTokens": 300,
    "outputTokens": 12,
    "thinkingTokens": 0,
    "cacheReadInputTokens": 0,
    "cacheCreationInputTokens": 15_360,
    "cacheCreationEphemeral5mInputTokens": 5_120,
    "cacheCreationEphemeral1hInputTokens": 10_240,
    "webSearchRequests": 0,
    "costUSD": 0.111826,
}
# claude-haiku-5-5: 300 x $0.10 + 12 x $0.50 + 5,120 x $0.125 + 10,240 x $0.20 per million
TITLE_COST = Decimal("0.002724")
OPUS_COST = Decimal("0.117666")  # the four responses at the table's claude-opus-5-5 rates


def _transcript(tmp_path: Path, edit: Any = None) -> Path:
    lines = []
    for line in REAL.read_text().splitlines():
        record = json.loads(line)
        if record.get("type") == "cost-state" and edit is not None:
            edit(record)
            line = json.dumps(record)
        lines.append(line)
    path = tmp_path / f"{SID}.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def _with_title(record: dict[str, Any]) -> None:
    record["modelUsage"]["claude-haiku-5-5"] = dict(TITLE)


def _record(repo: Path, transcript: Path, *extra: str) -> tuple[Entry, str]:
    out = run("record", "--transcript", str(transcript), *extra)
    [entry] = Ledger(repo_mod.find(repo), ".costlog/sessions").load_all()
    return entry, out


def test_a_cost_state_equal_to_the_transcript_adds_nothing(repo: Path, tmp_path: Path) -> None:
    entry, _ = _record(repo, _transcript(tmp_path))
    assert list(entry.models) == ["claude-opus-5-5"]
    assert "auxiliary" not in entry.methods and "cost_state" not in entry.methods
    assert entry.cost_usd == OPUS_COST


def test_the_title_call_is_added_once_with_its_cache_split(repo: Path, tmp_path: Path) -> None:
    entry, out = _record(repo, _transcript(tmp_path, _with_title))
    title = entry.models["claude-haiku-5-5"]
    assert title.requests == 1
    assert (title.usage.input, title.usage.output) == (300, 12)
    assert (title.usage.cache_write_5m, title.usage.cache_write_1h) == (5_120, 10_240)
    assert title.cost_usd == TITLE_COST
    assert entry.models["claude-opus-5-5"].requests == 4  # the transcript's, unchanged
    assert entry.cost_usd == OPUS_COST + TITLE_COST
    assert "claude-haiku-5-5: input +300, output +12" in entry.methods["auxiliary"]
    assert "cache write 5m +5,120, cache write 1h +10,240" in entry.methods["auxiliary"]
    assert "added once as auxiliary usage" in out
    run("check")  # the stored money agrees with the table's price of the stored tokens


def test_an_otel_export_holding_the_title_call_does_not_add_it_again(
    repo: Path, tmp_path: Path
) -> None:
    event = {
        "event.name": "api_request",
        "session.id": SID,
        "event.timestamp": "2026-12-01T21:07:06.700Z",
        "model": "claude-haiku-5-5",
        "request_id": "req_title1",
        "input_tokens": 300,
        "output_tokens": 12,
        "cache_creation_tokens": 15_360,
        "cache_creation_5m_tokens": 5_120,
        "cache_creation_1h_tokens": 10_240,
        "cost_usd_micros": 2_724,
    }
    otel = tmp_path / "otel.jsonl"
    otel.write_text(json.dumps(event) + "\n")
    entry, _ = _record(repo, _transcript(tmp_path, _with_title), "--otel", str(otel))
    title = entry.models["claude-haiku-5-5"]
    assert title.requests == 1 and title.usage.input == 300
    assert "auxiliary" not in entry.methods  # the export already had it
    assert "OTel: 1 auxiliary request" in entry.methods["residual"]


def test_the_claude_json_residual_is_not_reported_as_well(
    repo: Path, tmp_path: Path, isolated_home: Path
) -> None:
    transcript = _transcript(tmp_path, _with_title)
    opus = json.loads(
        next(line for line in REAL.read_text().splitlines() if '"cost-state"' in line)
    )["modelUsage"]["claude-opus-5-5"]
    state = {
        "projects": {
            str(repo): {
                "lastSessionId": SID,
                "lastModelUsage": {"claude-opus-5-5": opus, "claude-haiku-5-5": TITLE},
            }
        }
    }
    (isolated_home / ".claude.json").write_text(json.dumps(state))
    # the session's cwd is where the real run was: record it from this repo's point of view
    text = transcript.read_text().replace("/tmp/ccreal/repo", str(repo))
    transcript.write_text(text)
    entry, _ = _record(repo, transcript)
    assert entry.models["claude-haiku-5-5"].requests == 1
    assert "state_residual" not in entry.methods


def test_a_cost_state_written_before_the_last_responses_adds_nothing(
    repo: Path, tmp_path: Path
) -> None:
    def older(record: dict[str, Any]) -> None:
        _with_title(record)
        record["modelUsage"]["claude-opus-5-5"]["outputTokens"] -= 156  # before the last one

    entry, _ = _record(repo, _transcript(tmp_path, older))
    assert list(entry.models) == ["claude-opus-5-5"]  # the stale line adds nothing
    assert "written before the last responses" in entry.methods["cost_state"]
    assert "claude-opus-5-5" in entry.methods["cost_state"]


def test_without_cost_state_the_claude_json_residual_splits_5m_and_1h(
    repo: Path, tmp_path: Path, isolated_home: Path
) -> None:
    # an older transcript (no cost-state line): ~/.claude.json is the cross-check, reported
    lines = [
        line.replace("/tmp/ccreal/repo", str(repo))
        for line in REAL.read_text().splitlines()
        if '"cost-state"' not in line
    ]
    transcript = tmp_path / f"{SID}.jsonl"
    transcript.write_text("\n".join(lines) + "\n")
    opus = json.loads(
        next(line for line in REAL.read_text().splitlines() if '"cost-state"' in line)
    )["modelUsage"]["claude-opus-5-5"]
    state = {
        "projects": {
            str(repo): {
                "lastSessionId": SID,
                "lastModelUsage": {"claude-opus-5-5": opus, "claude-haiku-5-5": TITLE},
            }
        }
    }
    (isolated_home / ".claude.json").write_text(json.dumps(state))
    entry, _ = _record(repo, transcript)
    assert list(entry.models) == ["claude-opus-5-5"]  # reported, not added
    residual = entry.methods["state_residual"]
    assert "claude-haiku-5-5: input +300, output +12, cache write 5m +5,120" in residual
    assert "cache write 1h +10,240" in residual
    assert "claude-opus-5-5" not in residual  # equal to the transcript


def test_the_last_cost_state_line_is_found_from_the_end(tmp_path: Path) -> None:
    from costlog.sources.claude.coststate import read_cost_state

    def state(output: int, sid: str = SID) -> str:
        usage = {"claude-opus-5-5": {"inputTokens": 1, "outputTokens": output}}
        return json.dumps({"type": "cost-state", "sessionId": sid, "modelUsage": usage})

    filler = json.dumps({"type": "attachment", "text": "x" * 5_000})
    lines = [state(1), *[filler] * 40, state(2), *[filler] * 40, state(3, "other")]
    path = tmp_path / "t.jsonl"
    # 400 kB: the line wanted is two chunks back, and the file ends inside a line
    path.write_text("\n".join(lines) + "\n" + '{"type": "cost-state", "sessionId": "')
    found = read_cost_state([path], SID, lambda _m: None)
    assert found is not None and found.models["claude-opus-5-5"].usage.output == 2
    assert read_cost_state([path], "nobody", lambda _m: None) is None


def test_a_cost_state_without_model_usage_is_one_warning_naming_its_line(tmp_path: Path) -> None:
    from costlog.sources.claude.coststate import read_cost_state

    path = tmp_path / "t.jsonl"
    path.write_text(
        '{"type": "user"}\n' + json.dumps({"type": "cost-state", "sessionId": SID}) + "\n"
    )
    warnings: list[str] = []
    assert read_cost_state([path], SID, warnings.append) is None
    assert warnings == [f"{path}:2: cost-state without modelUsage, not used"]
