"""Times that read back (issue 10): costlog writes 4-digit-year ISO 8601 and reads back what
it wrote; a log time outside 1970-2100, or one that does not parse, costs a warning for
that line, never the session, the backfill or the post-commit hook.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from agent_logs import claude_session, codex_session

from costlog import config
from costlog import gitrepo as repo_mod
from costlog.commands import backfill
from costlog.integration import pending
from costlog.ledger.format import parse_stamp, stamp
from costlog.ledger.store import Ledger
from costlog.recording import attribution
from costlog.timeutil import parse_log_time
from tests_support import FIXTURES_DIR, run

FIXTURES = FIXTURES_DIR
CLAUDE = FIXTURES / "claude-code" / "ccusage__project-alpha_chat.jsonl"
CODEX = (
    FIXTURES
    / "codex"
    / "home"
    / "archived_sessions"
    / "2026"
    / "03"
    / "05"
    / "rollout-2026-03-05T09-00-00-019a0001-aaaa-7aaa-8aaa-aaaaaaaaaaaa.jsonl"
)
SESSIONS = ".costlog/sessions"
BAD_TIMES: list[Any] = [
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "9999-12-31T23:59:59-05:00",
    "0001-01-01T00:00:00+05:00",
    "1969-12-31T23:59:59Z",
    "2026-13-45T99:99:99Z",
    "yesterday-ish",
    -7,
]


def _entries(repo: Path) -> dict[str, Any]:
    return {e.id: e for e in Ledger(repo_mod.find(repo), SESSIONS).load_all()}


def _with_time(source: Path, target: Path, line: int, value: Any) -> Path:
    """A copy of a real log with the `timestamp` of one line (1-based) replaced."""
    lines = source.read_text().splitlines()
    obj = json.loads(lines[line - 1])
    obj["timestamp"] = value
    lines[line - 1] = json.dumps(obj)
    target.write_text("\n".join(lines) + "\n")
    return target


def test_parse_log_time_takes_iso_and_unix_times_and_never_raises() -> None:
    assert parse_log_time("2026-11-20T09:00:00.123Z") == datetime(
        2026, 11, 20, 9, 0, 0, 123000, tzinfo=UTC
    )
    assert parse_log_time("2026-11-20 10:00:00+01:00") == datetime(2026, 11, 20, 9, tzinfo=UTC)
    assert parse_log_time("2026-11-20T09:00:00") == datetime(2026, 11, 20, 9, tzinfo=UTC)
    assert parse_log_time(1_795_165_200) == datetime(2026, 11, 20, 9, tzinfo=UTC)
    assert parse_log_time(1_795_165_200_000) == datetime(2026, 11, 20, 9, tzinfo=UTC)  # ms
    for value in [
        *BAD_TIMES,
        "",
        None,
        True,
        float("nan"),
        float("inf"),
        -1e300,
        10**400,
        "x" * 10_000,
        "\x00",
        "\udcff",
        [],
        {},
    ]:
        assert parse_log_time(value) is None, value


def test_stamp_always_writes_four_digit_years_and_reads_them_back() -> None:
    assert stamp(datetime(1, 1, 1, tzinfo=UTC)) == "0001-01-01T00:00:00Z"  # not "1-01-01"
    when = datetime(2026, 11, 20, 9, 0, 7, tzinfo=UTC)
    assert parse_stamp(stamp(when)) == when
    for text in ["0001-01-01T00:00:00Z", "1-01-01T00:00:00Z", "9999-12-31T23:59:59Z"]:
        with pytest.raises(ValueError):
            parse_stamp(text)


@pytest.mark.parametrize(
    "value",
    [
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
        "1969-12-31T23:59:59Z",
        "0001-01-01T00:00:00+05:00",
        "2101-01-01",
    ],
)
def test_record_started_outside_1970_2100_is_a_usage_error(repo: Path, value: str) -> None:
    run("init")
    out = run("record", "--model", "claude-sonnet-4-6", "--cost", "1", "--started", value, code=2)
    assert "--started" in out
    assert not list((repo / SESSIONS).rglob("*.yaml"))
    run("report")
    run("check")


def test_record_started_with_an_offset_is_stored_in_utc(repo: Path) -> None:
    run("init")
    run(
        "record",
        "--model",
        "claude-sonnet-4-6",
        "--cost",
        "1",
        "--session",
        "s1",
        "--started",
        "2026-11-20T10:00:00+01:00",
    )
    text = (repo / SESSIONS / "manual" / "s1.yaml").read_text()
    assert 'started: "2026-11-20T09:00:00Z"' in text
    run("check")


def test_a_ledger_file_with_a_year_costlog_cannot_read_names_its_file_and_line(repo: Path) -> None:
    run("init")
    run("record", "--model", "claude-sonnet-4-6", "--cost", "1", "--session", "s1")
    path = repo / SESSIONS / "manual" / "s1.yaml"
    text = path.read_text()
    started = next(line for line in text.splitlines() if line.startswith("started:"))
    line = text.splitlines().index(started) + 1
    path.write_text(text.replace(started, 'started: "1-01-01T00:00:00Z"'))  # 0.1's year 1
    out = run("report", code=1)
    assert f".costlog/sessions/manual/s1.yaml:{line}: field `started`" in out
    assert "Traceback" not in out and len(out.strip().splitlines()) == 1


@pytest.mark.parametrize("value", BAD_TIMES)
def test_claude_code_transcript_with_one_bad_time_is_recorded_with_a_warning(
    repo: Path, tmp_path: Path, value: Any
) -> None:
    run("init")
    path = _with_time(CLAUDE, tmp_path / "session-alpha.jsonl", 2, value)
    out = run("record", "--transcript", str(path))
    assert f"{path}:2: timestamp is not a time in 1970-2100, ignored" in out
    [entry] = _entries(repo).values()
    assert sum(mu.requests for mu in entry.models.values()) == 3  # the line still counts
    assert entry.started == datetime(2026, 1, 9, 10, 0, tzinfo=UTC)
    assert entry.ended == datetime(2026, 1, 10, 9, 15, tzinfo=UTC)
    run("report")
    run("check")


@pytest.mark.parametrize("value", BAD_TIMES)
def test_codex_rollout_with_one_bad_time_is_recorded_with_a_warning(
    repo: Path, tmp_path: Path, value: Any
) -> None:
    run("init")
    for folder in ("control", "spoiled"):
        (tmp_path / folder).mkdir()
    original = json.loads(CODEX.read_text().splitlines()[4])["timestamp"]
    control = _with_time(CODEX, tmp_path / "control" / CODEX.name, 5, original)
    path = _with_time(CODEX, tmp_path / "spoiled" / CODEX.name, 5, value)  # a token_count
    good = run("record", "--transcript", str(control))
    assert "timestamp" not in good
    out = run("record", "--transcript", str(path))
    assert f"{path}:5: timestamp is not a time in 1970-2100, ignored" in out
    # the same session recorded again: the same calls, cost and start
    assert out.splitlines()[-1] == good.splitlines()[-1]
    [entry] = _entries(repo).values()
    assert entry.started == datetime(2026, 3, 5, 9, 0, tzinfo=UTC)
    run("check")


@pytest.fixture
def logs(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    claude, codex = tmp_path / "claude", tmp_path / "codex"
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(claude))
    monkeypatch.setenv("CODEX_HOME", str(codex))
    return {"claude": claude, "codex": codex}


SID_GOOD = "aaaaaaaa-0000-4000-8000-00000000000a"
SID_YEAR1 = "bbbbbbbb-0000-4000-8000-00000000000b"
SID_UNDATED = "cccccccc-0000-4000-8000-00000000000c"
SID_CODEX = "dddddddd-0000-4000-8000-00000000000d"


def _spoil(path: Path, value: Any, lines: range | None = None) -> None:
    """Replace the `timestamp` of these lines (all when None) of a JSONL log."""
    out = []
    for n, text in enumerate(path.read_text().splitlines()):
        obj = json.loads(text)
        if lines is None or n in lines:
            obj["timestamp"] = value
            if isinstance(obj.get("payload"), dict) and "timestamp" in obj["payload"]:
                obj["payload"]["timestamp"] = value
        out.append(json.dumps(obj))
    path.write_text("\n".join(out) + "\n")


def test_backfill_records_the_other_sessions_when_one_log_is_bad(
    repo: Path, logs: dict[str, Path]
) -> None:
    run("init")
    claude_session(logs["claude"], SID_GOOD, repo, "2026-11-19T10:00", 2)
    year1 = claude_session(logs["claude"], SID_YEAR1, repo, "2026-11-19T11:00", 3)
    _spoil(year1, "0001-01-01T00:00:00Z", range(3, 4))  # its second response
    undated = claude_session(logs["claude"], SID_UNDATED, repo, "2026-11-19T12:00", 2)
    _spoil(undated, "garbage")  # not one usable time: this session cannot be dated
    rollout = codex_session(logs["codex"], SID_CODEX, repo, "2026-11-19T13:00", 3)
    _spoil(rollout, "9999-12-31T23:59:59-05:00", range(4, 5))
    result = backfill.run(repo_mod.find(repo), config.load(repo), backfill.Options())
    got = _entries(repo)
    assert set(got) == {f"claude-code/{SID_GOOD}", f"claude-code/{SID_YEAR1}", f"codex/{SID_CODEX}"}
    assert sum(mu.requests for mu in got[f"claude-code/{SID_YEAR1}"].models.values()) == 3
    warnings = "\n".join(result.warnings)
    assert f"{year1}:4: timestamp is not a time in 1970-2100" in warnings
    assert f"{rollout}:5: timestamp is not a time in 1970-2100" in warnings
    assert f"{undated}: session {SID_UNDATED} not recorded" in warnings
    run("check")


def test_backfill_names_the_file_and_error_type_of_a_bug_met_on_one_session(
    repo: Path, logs: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    run("init")
    claude_session(logs["claude"], SID_GOOD, repo, "2026-11-19T10:00", 2)
    bad = claude_session(logs["claude"], SID_YEAR1, repo, "2026-11-19T11:00", 2)
    codex_session(logs["codex"], SID_CODEX, repo, "2026-11-19T13:00", 1)
    real = attribution.attribute

    def attribute(session: Any, *args: Any) -> Any:
        if session.session_id == SID_YEAR1:
            raise ZeroDivisionError("division by zero")
        return real(session, *args)

    monkeypatch.setattr(attribution, "attribute", attribute)
    out = run("backfill")
    assert set(_entries(repo)) == {f"claude-code/{SID_GOOD}", f"codex/{SID_CODEX}"}
    assert f"{bad}: session {SID_YEAR1} not recorded: ZeroDivisionError: division by zero" in out
    monkeypatch.setattr(attribution, "attribute", real)
    run("backfill")  # the bug fixed: the next backfill records it
    assert f"claude-code/{SID_YEAR1}" in _entries(repo)


def test_the_post_commit_hook_records_the_other_idle_logs_when_one_is_bad(
    repo: Path, logs: dict[str, Path]
) -> None:
    run("init", "--agent", "claude-code")
    good = claude_session(logs["claude"], SID_GOOD, repo, "2026-11-19T10:00", 2)
    year1 = claude_session(logs["claude"], SID_YEAR1, repo, "2026-11-19T11:00", 2)
    _spoil(year1, "9999-12-31T23:59:59Z", range(3, 4))
    undated = claude_session(logs["claude"], SID_UNDATED, repo, "2026-11-19T12:00", 2)
    _spoil(undated, 12.5e20)  # an absurd Unix time on every line
    idle = time.time() - 60 * 60
    for path in (good, year1, undated):
        os.utime(path, (idle, idle))
    lines = pending.process_pending(repo_mod.find(repo))
    assert set(_entries(repo)) == {f"claude-code/{SID_GOOD}", f"claude-code/{SID_YEAR1}"}
    assert any(line.startswith(f"could not record {undated}: ") for line in lines), lines
    log = (repo_mod.find(repo).state_dir / "hook.log").read_text()
    assert f"could not record {undated}" in log
    assert Decimal(0) < sum(e.cost_usd or 0 for e in _entries(repo).values())
    shutil.rmtree(logs["claude"])
    run("check")  # the ledger it wrote is valid (COST_LOG.md rendered by the run)
