"""The live reader (status line, guard) counts what `costlog scan` counts: a resumed
session's replayed calls stay with the session that made them, a response copied again in
the same file counts once; and an unusable state dir costs speed, never the figures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from costlog.integration import live
from tests_support import run

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
FOLDER = "-work-demo"
OLD = "0a1b2c3d-0000-4000-8000-000000000001"
NEW = "0a1b2c3d-0000-4000-8000-000000000002"


def response(n: int, when: datetime, sid: str, *, output: int = 1_000) -> str:
    """One final assistant response in Claude Code's line format."""
    line: dict[str, Any] = {
        "parentUuid": None,
        "isSidechain": False,
        "userType": "external",
        "cwd": "/work/demo",
        "sessionId": sid,
        "version": "2.1.119",
        "gitBranch": "main",
        "type": "assistant",
        "uuid": f"u{n}",
        "timestamp": when.isoformat().replace("+00:00", "Z"),
        "requestId": f"req_011CVabcdef{n:05d}",
        "message": {
            "model": "claude-sonnet-4-6",
            "id": f"msg_01Xyzabcdefghij{n:05d}",
            "type": "message",
            "role": "assistant",
            "content": [{"type": "text", "text": "Done."}],
            "stop_reason": "end_turn",
            "usage": {
                "input_tokens": 10,
                "cache_creation_input_tokens": 2_000,
                "cache_read_input_tokens": 50_000,
                "cache_creation": {
                    "ephemeral_5m_input_tokens": 2_000,
                    "ephemeral_1h_input_tokens": 0,
                },
                "output_tokens": output + n,
                "service_tier": "standard",
            },
        },
    }
    return json.dumps(line, separators=(",", ":")) + "\n"


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "state"
    monkeypatch.setenv("COSTLOG_STATE_DIR", str(folder))
    return folder


def scanned(path: Path) -> Decimal:
    out = json.loads(run("scan", "--agent", "claude-code", "--path", str(path), "--json"))
    return Decimal(out["totals"]["cost_usd"])


def live_cost(path: Path) -> Decimal:
    """The session cost the status line and guard work from, read as they read it."""
    session = live.SessionState(str(path))
    session.update()
    cost, unpriced = session.priced(None)
    assert unpriced == 0
    session.save()
    return Decimal(cost) / live.UNIT


def statusline(data: dict[str, Any], cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "costlog.integration.statusline"],
        input=json.dumps(data),
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0 and done.stderr == "", done.stderr
    return done.stdout.strip()


def resumed(tmp_path: Path) -> tuple[Path, Path]:
    """OLD: 40 responses; NEW: `claude --resume` of it, its copy of OLD's lines first
    (their `sessionId` still OLD's), then 3 calls of its own."""
    t0 = datetime.now(UTC) - timedelta(hours=2)
    folder = tmp_path / "claude" / "projects" / FOLDER
    folder.mkdir(parents=True)
    old_lines = [response(n, t0 + timedelta(seconds=n), OLD) for n in range(40)]
    old = folder / f"{OLD}.jsonl"
    old.write_text("".join(old_lines))
    new = folder / f"{NEW}.jsonl"
    t1 = t0 + timedelta(minutes=30)
    mine = [response(100 + n, t1 + timedelta(seconds=n), NEW) for n in range(3)]
    new.write_text("".join(old_lines + mine))
    return old, new


def test_a_resumed_session_counts_only_its_own_calls_like_scan(
    repo: Path, tmp_path: Path, state: Path
) -> None:
    old, new = resumed(tmp_path)
    own = scanned(new)
    assert own < scanned(old) / 5  # 3 calls against 40: the copy is not counted
    assert live_cost(new) == own
    assert live_cost(old) == scanned(old)
    # the status line, as Claude Code runs it, shows the same figure
    env = {k: v for k, v in os.environ.items() if k != "CLAUDE_PROJECT_DIR"}
    data = {"session_id": NEW, "transcript_path": str(new), "workspace": {"project_dir": str(repo)}}
    shown = statusline(data, repo, env)
    assert shown.startswith(f"${own.quantize(Decimal('0.01'))} session"), shown


def test_a_transcript_copied_seven_times_counts_once(
    repo: Path, tmp_path: Path, state: Path
) -> None:
    t0 = datetime.now(UTC) - timedelta(hours=1)
    folder = tmp_path / "claude" / "projects" / FOLDER
    folder.mkdir(parents=True)
    path = folder / f"{NEW}.jsonl"
    lines = "".join(response(n, t0 + timedelta(seconds=n), NEW) for n in range(50))
    path.write_text(lines)
    once = live_cost(path)
    with path.open("a") as fh:  # appended over later calls: the state is incremental
        for _ in range(6):
            fh.write(lines)
            fh.flush()
            assert live_cost(path) == once
    assert once == scanned(path)


def test_live_equals_scan_on_the_generated_corpus_resumes(tmp_path: Path, state: Path) -> None:
    """The benchmark generator's resumed sessions (their copies keep the old session id)."""
    sys.path.insert(0, str(BENCH))
    try:
        from gen_claude_corpus import generate
    finally:
        sys.path.remove(str(BENCH))
    generate(tmp_path / "claude", 1.5, seed=15)
    found = []
    for path in sorted((tmp_path / "claude").rglob("*.jsonl")):
        if "subagents" in path.parts:
            continue
        with path.open() as fh:
            first = json.loads(fh.readline())
        if first.get("sessionId") not in (None, path.stem):
            found.append(path)
    assert found, "the corpus has no resumed session at this seed"
    for path in found:
        assert live_cost(path) == scanned(path), path


@pytest.mark.parametrize("bad", ["file", "/dev/null/x"])
def test_an_unwritable_state_dir_keeps_every_figure(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bad: str
) -> None:
    folder = tmp_path / "claude" / "projects" / FOLDER
    folder.mkdir(parents=True)
    path = folder / f"{NEW}.jsonl"
    now = datetime.now(UTC)
    path.write_text(response(1, now - timedelta(minutes=1), NEW))
    (repo / ".costlog").mkdir()
    (repo / ".costlog" / "config.yaml").write_text(
        "budget:\n  monthly_usd: 100\n  session_soft_usd: 0.01\n  session_hard_usd: 0.02\n"
    )
    if bad == "file":
        target = tmp_path / "state-is-a-file"
        target.write_text("")
    else:
        target = Path(bad)
    env = {k: v for k, v in os.environ.items() if k != "CLAUDE_PROJECT_DIR"}
    env["COSTLOG_STATE_DIR"] = str(target)
    env["TMPDIR"] = str(tmp_path)
    data = {
        "session_id": NEW,
        "transcript_path": str(path),
        "workspace": {"project_dir": str(repo)},
    }
    shown = statusline(data, repo, env)
    assert " today · " in shown and "% of " in shown, shown
    prompt = {
        "hook_event_name": "UserPromptSubmit",
        "transcript_path": str(path),
        "cwd": str(repo),
        "session_id": NEW,
    }
    done = subprocess.run(
        [sys.executable, "-m", "costlog.integration.guard"],
        input=json.dumps(prompt),
        capture_output=True,
        text=True,
        cwd=repo,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0 and done.stderr == ""
    assert json.loads(done.stdout)["decision"] == "block"
    # what could not be saved is logged in the fallback log, not on stderr
    log = tmp_path / f"costlog-live-{os.getuid()}.log"
    assert "ledger state" in log.read_text()
