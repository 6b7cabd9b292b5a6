"""Issue 12: a cold read in a worker (`adapter._cold_read`), whose data is used only for
the state it hands over, builds each call straight in the form the cache keeps
(`FileData.rows`) instead of as a request formatted again afterwards. Its state must be
the one a read into requests gives, for every kind of call Codex writes."""

from __future__ import annotations

import json
import marshal
from pathlib import Path
from typing import Any

import pytest

from costlog.sources.codex.adapter import _cold_read
from costlog.sources.codex.rollout import FileData, compact, read_head
from tests_support import FIXTURES_DIR, read_rollout

SID = "019a0777-7777-7777-8777-777777777777"
USAGE = {"input_tokens": 900, "cached_input_tokens": 400, "output_tokens": 50}


def _line(when: str, kind: str, payload: dict[str, Any]) -> str:
    return json.dumps({"timestamp": when, "type": kind, "payload": payload}) + "\n"


def _count(total: dict[str, int] | None, last: dict[str, int] | None) -> dict[str, Any]:
    info = {"total_token_usage": total, "last_token_usage": last}
    return {"type": "token_count", "info": {k: v for k, v in info.items() if v is not None}}


def _odd_calls(root: Path) -> Path:
    """Calls of every shape: plain, clamped (more cached than input), total-only steps,
    a response id from a token_usage_record, no model named, a naive and an offset time,
    a repeat, and a last line still being written."""
    path = root / f"rollout-2026-03-05T09-00-00-{SID}.jsonl"
    step = {"input_tokens": 100, "output_tokens": 9}
    lines = [
        _line("2026-03-05T09:00:00.000Z", "session_meta", {"id": SID, "cwd": "/w"}),
        _line("2026-03-05T09:00:01.000Z", "event_msg", _count({**USAGE}, {**USAGE})),
        _line(
            "2026-03-05T09:00:02Z", "event_msg", _count(None, {**step, "cached_input_tokens": 500})
        ),
        _line("2026-03-05T09:00:03", "event_msg", _count({"input_tokens": 1900}, None)),
        _line("2026-03-05T11:00:04+02:00", "event_msg", _count({"input_tokens": 2900}, None)),
        _line("2026-03-05T09:00:05Z", "turn_context", {"model": "gpt-5.2-codex", "cwd": "/w"}),
        _line("2026-03-05T09:00:06Z", "token_usage_record", {"response_id": "r1", "usage": step}),
        _line("2026-03-05T09:00:06.5Z", "event_msg", _count({"input_tokens": 3000}, step)),
        _line("2026-03-05T09:00:06.5Z", "event_msg", _count({"input_tokens": 3000}, step)),
        _line(
            "2026-03-05T09:00:07Z",
            "event_msg",
            _count({"input_tokens": 3100, "output_tokens": 9}, step),
        ),
    ]
    path.write_text(
        "".join(lines) + _line("2026-03-05T09:00:08Z", "event_msg", _count(None, step))[:-1]
    )
    return path


def _state(result: Any) -> tuple[int, dict[str, Any]]:
    _, offset, _, state, data = result
    assert data is None  # a scan's worker hands over the state only
    packed = {name: marshal.loads(state[name]) for name in ("calls", "limits")}
    return offset, {**state, **packed}


def _files() -> list[Path]:
    found = sorted((FIXTURES_DIR / "codex").rglob("*.jsonl"))
    return [p for p in found if p.name != "history.jsonl"]


@pytest.mark.parametrize("path", _files(), ids=lambda p: p.name)
def test_a_workers_state_is_the_state_of_a_read_into_requests(path: Path) -> None:
    offset, state, _, _ = read_rollout(path)
    assert _state(_cold_read(read_head(path))) == (offset, {**state, "calls": state["calls"]})


def test_every_shape_of_call_is_kept_as_a_read_into_requests_keeps_it(tmp_path: Path) -> None:
    path = _odd_calls(tmp_path)
    offset, state, _, warnings = read_rollout(path)
    assert any("exceeds input_tokens, clamped" in w for w in warnings)
    assert len(state["calls"]) >= 5
    cold = _state(_cold_read(read_head(path)))
    assert cold == (offset, {**state, "calls": state["calls"]})
    back = FileData.from_json(path, compact(state))
    assert [r.timestamp for _, r in back.calls] == [
        r.timestamp for _, r in FileData.from_json(path, {**cold[1]}).calls
    ]
