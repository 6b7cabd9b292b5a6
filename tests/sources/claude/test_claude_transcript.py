"""Claude Code adapter: discovery, de-duplication, output estimation, cache, attribution."""

from __future__ import annotations

import json
import marshal
import os
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from costlog.models import Session
from costlog.sources.cache import cache_dir
from costlog.sources.claude import transcript as claude_code
from costlog.sources.claude.transcript import ADAPTER, content_features, default_roots
from tests_support import FIXTURES_DIR, REPO_ROOT

FIXTURES = FIXTURES_DIR / "claude-code"
REAL = FIXTURES / "real"
BENCH = REPO_ROOT / "benchmarks"
PROJECT = "-work-app"
SIG = "S" * 500
TEXT = "a" * 1000


# ---------------------------------------------------------------- helpers


def assistant(
    mid: str,
    rid: str | None,
    *,
    out: int = 8,
    stop: str | None = None,
    model: str = "claude-sonnet-4-6",
    content: list[dict[str, Any]] | None = None,
    ts: str = "2026-11-20T09:00:05.000Z",
    usage: dict[str, Any] | None = None,
    **top: Any,
) -> dict[str, Any]:
    base_usage: dict[str, Any] = {
        "input_tokens": 5,
        "cache_creation_input_tokens": 5000,
        "cache_read_input_tokens": 20000,
        "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 5000},
        "output_tokens": out,
        "service_tier": "standard",
    }
    base_usage.update(usage or {})
    line: dict[str, Any] = {
        "parentUuid": None,
        "isSidechain": False,
        "userType": "external",
        "cwd": "/work/app",
        "sessionId": "s",
        "version": "2.1.90",
        "gitBranch": "main",
        "type": "assistant",
        "uuid": f"u-{mid}-{out}",
        "timestamp": ts,
        "message": {
            "model": model,
            "id": mid,
            "type": "message",
            "role": "assistant",
            "content": content if content is not None else [],
            "stop_reason": stop,
            "stop_sequence": None,
            "usage": base_usage,
        },
    }
    if rid is not None:
        line["requestId"] = rid
    line.update(top)
    return line


def user(content: Any, ts: str = "2026-11-20T09:00:00.000Z", **top: Any) -> dict[str, Any]:
    return {
        "parentUuid": None,
        "isSidechain": False,
        "type": "user",
        "cwd": "/work/app",
        "gitBranch": "main",
        "version": "2.1.90",
        "timestamp": ts,
        "uuid": "u",
        "message": {"role": "user", "content": content},
        **top,
    }


def write(path: Path, lines: Iterable[dict[str, Any] | str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as out:
        for line in lines:
            out.write(line if isinstance(line, str) else json.dumps(line, separators=(",", ":")))
            out.write("\n")
    return path


def scan(*roots: Path, **kw: Any) -> tuple[list[Session], list[str]]:
    warnings: list[str] = []
    sessions = list(ADAPTER.scan(list(roots), warn=warnings.append, **kw))
    return sessions, warnings


def by_id(sessions: Iterable[Session]) -> dict[str, Session]:
    return {s.session_id: s for s in sessions}


def outputs(session: Session) -> list[int]:
    return [r.usage.output for r in session.requests]


THINK = {"type": "thinking", "thinking": "", "signature": SIG}
TEXT_BLOCK = {"type": "text", "text": TEXT}
A1 = assistant("msg_A", "req_A", content=[THINK], ts="2026-11-20T09:00:02.000Z")
A2 = assistant("msg_A", "req_A", content=[TEXT_BLOCK], ts="2026-11-20T09:00:03.000Z")
FINAL_USAGE = {"server_tool_use": {"web_search_requests": 0}, "iterations": [], "speed": "standard"}
B = [
    assistant("msg_B", "req_B", out=9, content=[TEXT_BLOCK], ts="2026-11-20T09:01:00.000Z"),
    assistant(
        "msg_B",
        "req_B",
        out=9,
        content=[{"type": "tool_use", "id": "t1", "name": "Bash", "input": {"command": "ls"}}],
        ts="2026-11-20T09:01:01.000Z",
    ),
    assistant(
        "msg_B",
        "req_B",
        out=412,
        stop="tool_use",
        usage=FINAL_USAGE,
        content=[
            {
                "type": "tool_use",
                "id": "t2",
                "name": "Bash",
                "input": {"command": "git commit -m 'Fix login bug'"},
            }
        ],
        ts="2026-11-20T09:01:02.000Z",
    ),
]
COMMIT_RESULT = user(
    [
        {
            "type": "tool_result",
            "tool_use_id": "t2",
            "content": "[main 1a2b3c4] Fix login bug\n 1 file changed",
        }
    ],
    ts="2026-11-20T09:01:05.000Z",
)
C = assistant(
    "msg_C",
    "req_C",
    out=77,
    stop="end_turn",
    model="claude-opus-4-6",
    usage={
        "speed": "fast",
        "cache_creation": {"ephemeral_5m_input_tokens": 5000, "ephemeral_1h_input_tokens": 0},
    },
    content=[
        {
            "type": "tool_use",
            "id": "t3",
            "name": "Edit",
            "input": {"file_path": "/work/app/src/login.py", "old_string": "x", "new_string": "y"},
        }
    ],
    ts="2026-11-20T09:02:00.000Z",
    gitBranch="fix/WRK-12",
)
SYNTHETIC = assistant(
    "msg_err",
    "req_err",
    out=0,
    model="<synthetic>",
    stop="stop_sequence",
    isApiErrorMessage=True,
    ts="2026-11-20T09:02:30.000Z",
    gitBranch="fix/WRK-12",
)
D = assistant(
    "msg_D",
    "req_D",
    out=55,
    stop="end_turn",
    model="claude-haiku-4-5",
    isSidechain=True,
    agentId="abc123",
    ts="2026-11-20T09:03:00.000Z",
    content=[{"type": "text", "text": "done"}],
)
PROGRESS = {
    "type": "progress",
    "timestamp": "2026-11-20T09:03:00.500Z",
    "cwd": "/work/app",
    "data": {"message": D},
}
BTW = assistant(
    "msg_B",
    "req_B_btw",
    out=412,
    stop="tool_use",
    isSidechain=True,
    ts="2026-11-20T09:04:00.000Z",
    gitBranch="fix/WRK-12",
)
E = assistant(
    "msg_E",
    "req_E",
    out=300,
    stop="end_turn",
    ts="2026-11-21T10:00:05.000Z",
    content=[{"type": "text", "text": "resumed"}],
)
PROMPT = user("Fix WRK-12: the login bug")


@pytest.fixture
def projects(tmp_path: Path) -> Path:
    """Two sessions of one project: S1 (with a sub-agent) and S2, which resumed S1."""
    root = tmp_path / "claude" / "projects"
    write(
        root / PROJECT / "S1.jsonl",
        [
            {
                "type": "queue-operation",
                "operation": "enqueue",
                "timestamp": "2026-11-20T09:00:00.000Z",
                "content": "queued",
            },
            PROMPT,
            A1,
            A2,
            *B,
            COMMIT_RESULT,
            C,
            SYNTHETIC,
            PROGRESS,
            BTW,
        ],
    )
    write(root / PROJECT / "S1" / "subagents" / "agent-abc123.jsonl", [D])
    write(
        root / PROJECT / "S2.jsonl",
        [PROMPT, A1, A2, *B, COMMIT_RESULT, user("go on", ts="2026-11-21T10:00:00.000Z"), E],
    )
    return root


# ---------------------------------------------------------------- where the logs are


def test_default_roots_follow_claude_config_dir(tmp_path: Path) -> None:
    home = tmp_path
    env = {"CLAUDE_CONFIG_DIR": "/a/claude, ~/alt/projects ,,/b"}
    assert default_roots(env, home) == [
        Path("/a/claude/projects"),
        home / "alt" / "projects",
        Path("/b/projects"),
    ]
    assert default_roots({}, home) == [
        home / ".config" / "claude" / "projects",
        home / ".claude" / "projects",
    ]
    assert default_roots({"XDG_CONFIG_HOME": "/x"}, home)[0] == Path("/x/claude/projects")


def test_session_ids_from_layout(tmp_path: Path) -> None:
    root = tmp_path / "projects"
    write(root / "-p" / "main-id.jsonl", [C])
    write(root / "-p" / "main-id" / "subagents" / "agent-abc123.jsonl", [D])
    write(
        root / "-p" / "main-id" / "subagents" / "workflows" / "w" / "agent-x2.jsonl",
        [
            assistant(
                "msg_W",
                "req_W",
                out=5,
                stop="end_turn",
                isSidechain=True,
                ts="2026-11-20T09:05:00.000Z",
            )
        ],
    )
    # ccusage's own fixture layout: projects/<project>/<session>/chat.jsonl
    (root / "project-alpha" / "session-alpha").mkdir(parents=True)
    (root / "project-alpha" / "session-alpha" / "chat.jsonl").write_bytes(
        (FIXTURES / "ccusage__project-alpha_chat.jsonl").read_bytes()
    )
    sessions = by_id(scan(tmp_path)[0])  # the config dir: its projects/ is used
    assert sorted(sessions) == ["main-id", "session-alpha"]
    main = sessions["main-id"]
    assert [r.usage.output for r in main.requests] == [77, 55, 5]
    assert [r.subagent for r in main.requests] == [False, True, True]
    assert main.subagents == 2
    alpha = sessions["session-alpha"]
    assert [r.usage.input for r in alpha.requests] == [100, 200, 300]
    assert [str(r.logged_cost_usd) for r in alpha.requests] == ["0.12", "0.34", "0.56"]
    assert [r.speed for r in alpha.requests] == [None, "fast", None]


# ---------------------------------------------------------------- counting


def test_every_hard_case_counted_once(projects: Path) -> None:
    sessions, warnings = scan(projects)
    assert warnings == []
    s1, s2 = by_id(sessions)["S1"], by_id(sessions)["S2"]
    # A: placeholder on every line -> content estimate; B: final on its last line;
    # C: fast mode; D: sub-agent, read from its file and its progress copy once;
    # the /btw replay of B and the <synthetic> error line are not billed.
    assert [r.request_id for r in s1.requests] == ["req_A", "req_B", "req_C", "req_D"]
    assert outputs(s1) == [433, 412, 77, 55]
    a = s1.requests[0]
    assert (a.usage.input, a.usage.cache_read, a.usage.cache_write_1h) == (5, 20000, 5000)
    assert (a.estimated_output, a.source) == (425, "actual")
    assert [r.estimated_output for r in s1.requests[1:]] == [0, 0, 0]
    c = s1.requests[2]
    assert (c.speed, c.model, c.usage.cache_write_5m, c.usage.cache_write_1h) == (
        "fast",
        "claude-opus-4-6",
        5000,
        0,
    )
    assert [r.subagent for r in s1.requests] == [False, False, False, True]
    assert s1.subagents == 1
    assert s1.methods["output"] == (
        "1 of 4 responses logged only a placeholder output count; used max(logged, estimate "
        "from the characters of text, tool input and thinking signatures)"
    )
    # S2 resumed S1: the replayed calls stay with S1, S2 keeps only its new one
    assert [r.request_id for r in s2.requests] == ["req_E"]
    assert s2.started is not None and s2.started.isoformat() == "2026-11-21T10:00:05+00:00"
    assert "output" not in s2.methods


def test_session_metadata(projects: Path) -> None:
    s1 = by_id(scan(projects)[0])["S1"]
    assert s1.cwd == "/work/app"
    assert s1.branch == "fix/WRK-12"
    assert s1.started is not None and s1.ended is not None
    assert s1.started.isoformat() == "2026-11-20T09:00:00+00:00"
    assert s1.ended.isoformat() == "2026-11-20T09:04:00+00:00"
    assert sorted(Path(p).name for p in s1.paths) == ["S1.jsonl", "agent-abc123.jsonl"]


def test_output_rules_per_version_shape(tmp_path: Path) -> None:
    """>= 2.1.97 repeats the final usage on every line: never summed, taken once.
    Opus 4.7 and later use the new-tokenizer weights for placeholder estimates."""
    final = [
        assistant("m1", "r1", out=135, stop="tool_use", content=[b])
        for b in (
            THINK,
            TEXT_BLOCK,
            {"type": "tool_use", "id": "t", "name": "Read", "input": {"file_path": "/a"}},
        )
    ]
    details = assistant(
        "m2", "r2", out=200, usage={"output_tokens_details": {"thinking_tokens": 49}}
    )
    placeholder47 = assistant(
        "m3", "r3", out=3, model="claude-opus-4-7", content=[THINK, TEXT_BLOCK]
    )
    logged_wins = assistant("m4", "r4", out=900, content=[{"type": "text", "text": "hi"}])
    path = write(tmp_path / "p" / "x.jsonl", [*final, details, placeholder47, logged_wins])
    session = scan(path)[0][0]
    assert outputs(session) == [135, 200, 590, 900]
    assert [r.usage.reasoning for r in session.requests] == [0, 49, 0, 0]
    assert [r.estimated_output for r in session.requests] == [0, 0, 587, 0]
    assert session.methods["output"].startswith("2 of 4 responses")


def test_exit_plan_mode_plan_is_not_model_output() -> None:
    plan = {
        "type": "tool_use",
        "id": "t",
        "name": "ExitPlanMode",
        "input": {"plan": "x" * 10_000, "allowedPrompts": []},
    }
    assert content_features([plan]) == (0, len('{"allowedPrompts": []}ExitPlanMode'), 0, 1)


def test_corrupt_and_truncated_lines_cost_only_themselves(tmp_path: Path) -> None:
    path = tmp_path / "p" / "bad.jsonl"
    write(path, [C, '{"message": {"usage": {"input_tokens": 1, "output', D, '["usage"]'])
    with open(path, "a", encoding="utf-8") as out:
        out.write('{"type":"assistant","message":{"usage":{"input_tok')  # being written
    session, warnings = scan(path)
    assert outputs(session[0]) == [77, 55]
    assert len(warnings) == 3
    assert warnings[0].startswith(f"{path}:2: corrupt line")
    assert warnings[1] == f"{path}:4: not a JSON object"
    assert warnings[2] == f"{path}:5: truncated last line (no newline), skipped"


@pytest.mark.parametrize(
    ("usage", "reason"),
    [
        ({"output_tokens": -5}, "output_tokens=-5 is out of range"),
        ({"input_tokens": 10**12}, "input_tokens=1000000000000 is out of range"),
        ({"cache_read_input_tokens": "12"}, "cache_read_input_tokens is a str, not a token count"),
        ({"output_tokens": 1.5}, "output_tokens is a float, not a token count"),
        (
            {"cache_creation": {"ephemeral_1h_input_tokens": -1}},
            "ephemeral_1h_input_tokens=-1 is out of range",
        ),
    ],
)
def test_bad_token_counts_are_rejected(tmp_path: Path, usage: dict[str, Any], reason: str) -> None:
    bad = assistant("m9", "r9", out=10, stop="end_turn", usage=usage)
    path = write(tmp_path / "p" / "x.jsonl", [bad, C])
    sessions, warnings = scan(path)
    assert outputs(sessions[0]) == [77]
    assert warnings == [f"{path}:1: rejected usage: {reason}"]


# ---------------------------------------------------------------- attribution


def test_attribution_fields_when_read_fresh(projects: Path) -> None:
    s1 = ADAPTER.find_session([projects], "S1", warn=pytest.fail)
    assert s1 is not None
    assert s1.first_prompt == "Fix WRK-12: the login bug"
    assert s1.tool_output_refs == {"1a2b3c4", "Fix login bug"}
    assert s1.edited_files == {"/work/app/src/login.py"}
    assert outputs(s1) == [433, 412, 77, 55]
    # a resumed session read on its own still leaves S1's calls to S1
    s2 = ADAPTER.find_session([projects], "S2", warn=pytest.fail)
    assert s2 is not None and [r.request_id for r in s2.requests] == ["req_E"]
    assert ADAPTER.find_session([projects], "nope", warn=pytest.fail) is None
    fresh = by_id(scan(projects, use_cache=False)[0])["S1"]
    assert fresh.edited_files == {"/work/app/src/login.py"}


def test_a_transcript_path_brings_its_subagents(projects: Path) -> None:
    sessions, _ = scan(projects / PROJECT / "S1.jsonl")
    assert [r.request_id for r in sessions[0].requests] == ["req_A", "req_B", "req_C", "req_D"]
    assert sessions[0].first_prompt == "Fix WRK-12: the login bug"


# ---------------------------------------------------------------- cache


def test_cache_holds_no_text_and_gives_the_same_answer(projects: Path) -> None:
    cold = scan(projects)[0]
    assert cold[0].first_prompt is None  # cached scans never carry text
    files = list(cache_dir().glob("claude-code.*.marshal"))
    assert len(files) == 1
    stored = files[0].read_bytes().decode("utf-8", "replace")
    for secret in ("Fix WRK-12", "login", "git commit", "aaaa", SIG[:20], "resumed"):
        assert secret not in stored
    warm = scan(projects)[0]
    assert [(s.session_id, outputs(s), s.cwd, s.branch, s.started, s.ended) for s in warm] == [
        (s.session_id, outputs(s), s.cwd, s.branch, s.started, s.ended) for s in cold
    ]


def test_unchanged_files_are_not_reopened(projects: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scan(projects)

    def boom(*_a: Any, **_k: Any) -> int:
        raise AssertionError("re-read")

    monkeypatch.setattr(claude_code.FileReader, "read", boom)
    assert [outputs(s) for s in scan(projects)[0]] == [[433, 412, 77, 55], [300]]


def test_grown_file_reads_only_new_bytes(projects: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scan(projects)
    path = projects / PROJECT / "S2.jsonl"
    size = path.stat().st_size
    starts: list[int] = []
    real = claude_code.FileReader.read

    def spy(self: claude_code.FileReader, fh: Any, start: int) -> int:
        starts.append(start)
        return real(self, fh, start)

    monkeypatch.setattr(claude_code.FileReader, "read", spy)
    with open(path, "a", encoding="utf-8") as out:
        out.write(
            json.dumps(
                assistant(
                    "msg_F", "req_F", out=5, content=[TEXT_BLOCK], ts="2026-11-21T10:05:00.000Z"
                )
            )
            + "\n"
        )
    s2 = by_id(scan(projects)[0])["S2"]
    assert starts == [size]
    assert outputs(s2) == [300, 323]
    # a rewritten (not appended) file is read again from the start
    write(path, [E])
    starts.clear()
    assert outputs(by_id(scan(projects)[0])["S2"]) == [300]
    assert starts == [0]


# ---------------------------------------------------------------- real transcripts

_MARKER = re.compile(r"\.\.\.\[\+(\d+) chars\]")


def expand(src: Path, dest: Path) -> Path:
    """The excerpts shorten long strings to `...[+N chars]`; restore their lengths."""
    text = _MARKER.sub(lambda m: "x" * int(m.group(1)), src.read_text(encoding="utf-8"))
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(text, encoding="utf-8")
    return dest


@pytest.mark.parametrize(
    ("name", "expected", "estimated"),
    [
        # 2.1.119: every line carries the final usage -> taken once per response, never summed
        (
            "ElixirTrials_rune__2.1.119__full.jsonl.excerpt.jsonl",
            [298, 630, 8049, 226, 2034, 2363],
            [0, 0, 0, 0, 0, 0],
        ),
        # 2.1.39: no response has a final count -> all estimated from content
        (
            "FSM1_cipher-box__2.1.39__full.jsonl.excerpt.jsonl",
            [710, 395, 332, 1374, 2652, 474],
            [700, 387, 324, 1366, 2627, 473],
        ),
        # 2.1.220 sub-agent transcript: final on the last line
        (
            "bg002h_bitcoin_tax__2.1.220__CONSULT-architect-fable.md.excerpt.jsonl",
            [81, 157, 708, 199, 317, 171],
            [0, 0, 0, 0, 0, 0],
        ),
    ],
)
def test_real_excerpts(
    tmp_path: Path, name: str, expected: list[int], estimated: list[int]
) -> None:
    session = scan(expand(REAL / name, tmp_path / "p" / name))[0][0]
    assert outputs(session) == expected
    assert [r.estimated_output for r in session.requests] == estimated


def test_estimator_error_on_real_final_counts(tmp_path: Path) -> None:
    """On real responses whose final count is known, the §12.3 estimate (ignoring the
    logged number) lands within a few percent in aggregate."""
    from costlog.estimate.tokens import claude_output_estimate

    totals: dict[str, list[int]] = {}
    for src in sorted(REAL.glob("*.jsonl")):
        groups: dict[str, list[dict[str, Any]]] = {}
        for raw in expand(src, tmp_path / src.name).read_text().splitlines():
            line = json.loads(raw)
            groups.setdefault(line["message"]["id"], []).append(line)
        for lines in groups.values():
            if not any(
                ln["message"]["stop_reason"] or "iterations" in ln["message"]["usage"]
                for ln in lines
            ):
                continue
            feats = [
                sum(x)
                for x in zip(
                    *(content_features(ln["message"]["content"]) for ln in lines), strict=True
                )
            ]
            est = claude_output_estimate(
                lines[0]["message"]["model"],
                text=feats[0],
                tool=feats[1],
                signature=feats[2],
                blocks=feats[3],
            )
            version = tuple(int(p) for p in lines[0]["version"].split("."))
            era = "placeholder" if version < (2, 1, 59) else "final"
            total = totals.setdefault(era, [0, 0])
            total[0] += est
            total[1] += max(ln["message"]["usage"]["output_tokens"] for ln in lines)
    assert totals == {"placeholder": [24159, 22212], "final": [137028, 141256]}


# ---------------------------------------------------------------- generated corpus


def test_generated_corpus_matches_its_truth(tmp_path: Path) -> None:
    """The benchmark corpus generator (seed 17 at this size writes both version shapes, a
    resumed session, /btw replays, a <synthetic> line and a sub-agent with progress
    copies) and the reader agree exactly, cold and from the cache."""
    sys.path.insert(0, str(BENCH))
    try:
        from gen_claude_corpus import generate
    finally:
        sys.path.remove(str(BENCH))
    truth = generate(tmp_path / "claude", 1.5, seed=17)
    for _ in range(2):  # cold, then from the cache
        sessions, warnings = scan(tmp_path / "claude")
        got = {
            "input": 0,
            "output": 0,
            "cache_read": 0,
            "cache_write_5m": 0,
            "cache_write_1h": 0,
            "requests": 0,
        }
        for session in sessions:
            for request in session.requests:
                for key, value in request.usage.as_dict().items():
                    if key in got:
                        got[key] += value
                got["requests"] += 1
        assert warnings == []
        assert got == {k: truth[k] for k in got}
        assert len(sessions) == truth["sessions"]


# ---------------------------------------------------------------- filters and layouts


def test_old_layout_inline_sidechain_is_counted(tmp_path: Path) -> None:
    """Before `subagents/` files, Task sub-agents wrote sidechain lines into the session
    file itself: they are billed calls, not replays."""
    inline = assistant(
        "msg_T",
        "req_T",
        out=40,
        stop="end_turn",
        isSidechain=True,
        version="1.0.111",
        ts="2026-11-20T09:03:00.000Z",
    )
    path = write(tmp_path / "projects" / PROJECT / "old.jsonl", [PROMPT, C, inline])
    session = scan(tmp_path / "projects")[0][0]
    assert outputs(session) == [77, 40]
    assert [r.subagent for r in session.requests] == [False, True]
    assert session.paths == [str(path)]


def test_project_and_since_narrow_the_files(projects: Path) -> None:
    write(projects / "-elsewhere" / "S9.jsonl", [C])
    assert sorted(s.session_id for s in scan(projects)[0]) == ["S1", "S2", "S9"]
    assert sorted(s.session_id for s in scan(projects, project=Path("/work/app"))[0]) == [
        "S1",
        "S2",
    ]
    old = projects / "-elsewhere" / "S9.jsonl"
    os.utime(old, (1_000_000_000, 1_000_000_000))
    since = datetime(2026, 1, 1, tzinfo=UTC)
    assert sorted(s.session_id for s in scan(projects, since=since)[0]) == ["S1", "S2"]


def test_cache_location(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("COSTLOG_CACHE_DIR", str(tmp_path / "c"))
    assert cache_dir() == tmp_path / "c"
    monkeypatch.delenv("COSTLOG_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert cache_dir() == tmp_path / "x" / "costlog"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache_dir({"HOME": "/h"}) == Path("/h/.cache/costlog")


def test_worker_processes_give_the_same_answer(
    projects: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    one = [(s.session_id, outputs(s), s.started) for s in scan(projects, use_cache=False)[0]]
    monkeypatch.setenv("COSTLOG_SCAN_WORKERS", "2")
    two = [(s.session_id, outputs(s), s.started) for s in scan(projects)[0]]
    assert one == two == [("S1", [433, 412, 77, 55], one[0][2]), ("S2", [300], one[1][2])]


def test_an_over_long_line_is_skipped_unread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(claude_code, "MAX_LINE", 1000)
    big = user("x" * 5000)
    path = write(tmp_path / "p" / "x.jsonl", [C, big, D])
    sessions, warnings = scan(path)
    assert outputs(sessions[0]) == [77, 55]
    size = len(json.dumps(big, separators=(",", ":"))) + 1
    assert warnings == [f"{path}:2: line of {size:,} bytes is too long to hold usage, skipped"]


def test_a_resumed_transcript_read_alone_keeps_only_its_own_calls(projects: Path) -> None:
    # a sibling transcript's problems are not this transcript's
    write(projects / PROJECT / "noise.jsonl", ['{"usage": corrupt'])
    sessions, warnings = scan(projects / PROJECT / "S2.jsonl")
    assert [s.session_id for s in sessions] == ["S2"]
    assert [r.request_id for r in sessions[0].requests] == ["req_E"]
    assert sessions[0].first_prompt == "Fix WRK-12: the login bug"
    assert warnings == []


def test_file_cache_statuses(tmp_path: Path) -> None:
    from costlog.sources.cache import FileCache, tail_hash

    log = tmp_path / "a.jsonl"
    log.write_bytes(b"one\n")
    cache = FileCache("test", 1)
    assert cache.lookup(str(log), log.stat()) == ("miss", None)
    with open(log, "rb") as fh:
        cache.put(str(log), log.stat(), 4, tail_hash(fh, 4), {"n": 1})
    cache.save()
    again = FileCache("test", 1)
    status, cached = again.lookup(str(log), log.stat())
    assert status == "hit" and cached is not None and cached.state == {"n": 1}
    with open(log, "ab") as out:
        out.write(b"two\n")
    status, cached = again.lookup(str(log), log.stat())
    assert status == "grown" and cached is not None and cached.offset == 4
    log.write_bytes(b"x\n")  # rewritten smaller
    assert again.lookup(str(log), log.stat()) == ("miss", None)
    again.path.write_text("{not json")  # a damaged cache is ignored, not fatal
    assert FileCache("test", 1).lookup(str(log), log.stat()) == ("miss", None)


def test_costlog_scan_command(projects: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from costlog.cli import cli

    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(projects.parent))
    result = CliRunner().invoke(
        cli, ["scan", "--agent", "claude-code", "--json", "--by", "session"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    rows = {row["session"]: row for row in data["rows"]}
    assert sorted(rows) == ["claude-code/S1", "claude-code/S2"]
    assert [
        rows["claude-code/S1"][k]
        for k in (
            "requests",
            "output_tokens",
            "input_tokens",
            "cache_write_5m_tokens",
            "cache_write_1h_tokens",
            "estimated_output_tokens",
        )
    ] == [4, 433 + 412 + 77 + 55, 20, 5000, 15000, 425]
    assert data["totals"]["unpriced_requests"] == 0


def test_a_later_line_with_a_larger_count_still_wins(tmp_path: Path) -> None:
    """Lines after a final one are skipped unparsed only when they cannot change anything."""
    lines = [
        assistant("m1", "r1", out=100, stop="tool_use", content=[TEXT_BLOCK]),
        assistant("m1", "r1", out=100, stop="tool_use", content=[TEXT_BLOCK]),
        assistant("m1", "r1", out=150, stop="tool_use", content=[TEXT_BLOCK]),
        assistant("m1", "r1", out=150, stop="tool_use", usage={"speed": "fast"}),
    ]
    session = scan(write(tmp_path / "p" / "x.jsonl", lines))[0][0]
    assert outputs(session) == [150]
    assert session.requests[0].speed == "fast"


def test_advisor_iterations_are_requests_of_their_own(tmp_path: Path) -> None:
    step = {"type": "message", "input_tokens": 5, "output_tokens": 120}
    advice = {
        "type": "advisor_message",
        "model": "claude-opus-4-7",
        "input_tokens": 900,
        "output_tokens": 310,
        "cache_read_input_tokens": 40,
        "cache_creation_input_tokens": 0,
    }
    lines = [
        assistant(
            "m1",
            "r1",
            out=120,
            stop="tool_use",
            content=[TEXT_BLOCK],
            usage={"iterations": [step, advice]},
        ),
        assistant(
            "m1",
            "r1",
            out=120,
            stop="tool_use",
            content=[TEXT_BLOCK],
            usage={"iterations": [step, advice]},
        ),
    ]
    session = scan(write(tmp_path / "p" / "x.jsonl", lines))[0][0]
    assert [
        (r.model, r.usage.input, r.usage.output, r.usage.cache_read, r.request_id)
        for r in session.requests
    ] == [("claude-sonnet-4-6", 5, 120, 20000, "r1"), ("claude-opus-4-7", 900, 310, 40, "r1")]


def test_a_cache_of_another_shape_is_read_again(projects: Path) -> None:
    scan(projects)
    path = next(cache_dir().glob("claude-code.*.marshal"))
    data = marshal.loads(path.read_bytes())
    for row in data["files"].values():
        row[5] = [[["not", "a", "group"]], 1, None, None, None, None, None, [], []]
    path.write_bytes(marshal.dumps(data))
    assert [outputs(s) for s in scan(projects)[0]] == [[433, 412, 77, 55], [300]]
