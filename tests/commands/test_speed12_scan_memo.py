"""Issue 12: a re-scan with nothing changed answers from the kept result, and any change
to the logs, the options or the prices gives the result a fresh read gives."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from costlog.commands import scan_memo
from tests_support import FIXTURES_DIR, scan_json

CLAUDE = FIXTURES_DIR / "claude-code"


def _tree(tmp_path: Path) -> Path:
    """A Claude data dir with the fixture transcripts in one project."""
    root = tmp_path / "claude"
    project = root / "projects" / "-work-app"
    project.mkdir(parents=True)
    for n, path in enumerate(sorted(p for p in CLAUDE.rglob("*.jsonl") if p.stat().st_size)):
        shutil.copy(path, project / f"s{n:02d}.jsonl")
    return root


def _scan(*args: str, memo: bool = True) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(scan_json("claude-code", *args, memo=memo))
    return data


def _kept() -> list[Any]:
    memo = scan_memo.Memo()
    return list(memo._rows)


def test_a_warm_rescan_answers_from_the_kept_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(_tree(tmp_path)))
    first = _scan("--by", "session")
    assert first["totals"]["requests"] > 0
    assert len(_kept()) == 1
    # reading the logs now would fail the test, yet the answer is the same: not read
    from costlog.sources.claude.adapter import ClaudeCode

    with monkeypatch.context() as m:
        m.setattr(ClaudeCode, "scan", lambda *_a, **_k: pytest.fail("read again"))
        assert _scan("--by", "session") == first
    assert _scan("--by", "model") == _scan("--by", "model", memo=False)
    assert len(_kept()) == 2


def test_any_change_to_the_logs_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _tree(tmp_path)
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(root))
    before = _scan()
    files = sorted(root.rglob("*.jsonl"))
    grown = files[-1]
    fresh = json.dumps(
        {
            "type": "assistant",
            "timestamp": "2026-11-21T10:00:00.000Z",
            "requestId": "req_speed12",
            "message": {
                "id": "msg_speed12",
                "model": "claude-sonnet-4-6",
                "stop_reason": "end_turn",
                "usage": {"input_tokens": 3, "output_tokens": 7},
            },
        }
    ).encode()
    fresh += b"\n"
    with open(grown, "ab") as out:
        out.write(fresh)
    after = _scan()
    assert after == _scan(memo=False)
    assert after["totals"]["requests"] == before["totals"]["requests"] + 1
    files[0].unlink()
    gone = _scan()
    assert gone == _scan(memo=False)
    assert gone["totals"]["requests"] < after["totals"]["requests"]


def test_a_range_or_a_price_change_is_not_answered_from_an_older_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(_tree(tmp_path)))
    whole = _scan()
    ranged = _scan("--since", "2026-11-20T09:00:06")
    assert ranged == _scan("--since", "2026-11-20T09:00:06", memo=False)
    assert ranged["totals"]["requests"] < whole["totals"]["requests"]

    from costlog.pricing.table import PriceTable

    table = PriceTable.load()
    key = scan_memo.key(_options(), table, scan_memo.reader_roots(_options(), env=dict(os.environ)))
    other = PriceTable(table.version, {})
    assert key is not None
    assert key != scan_memo.key(_options(), other, scan_memo.reader_roots(_options()))


def _options() -> Any:
    from costlog.commands.scan import Options

    return Options(agents=("claude-code",))


def test_other_readers_and_given_sessions_are_never_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from costlog.commands.scan import Options
    from costlog.pricing.table import PriceTable

    table = PriceTable.load()
    assert scan_memo.key(Options(agents=("aider",)), table, {"aider": [tmp_path]}) is None
    assert scan_memo.key(Options(), table, {}) is None


@pytest.mark.parametrize(
    "env",
    [{}, {"CODEX_HOME": "/x/codex", "CLAUDE_CONFIG_DIR": "/a,/b/c"}, {"CODEX_HOME": "~/c"}],
)
def test_the_roots_keyed_are_the_readers_own(env: dict[str, str], tmp_path: Path) -> None:
    from costlog import sources

    for name in sorted(scan_memo.PURE):
        light = scan_memo._LIGHT_ROOTS[name]
        assert light(env, tmp_path) == sources.get(name).default_roots(env, tmp_path)
