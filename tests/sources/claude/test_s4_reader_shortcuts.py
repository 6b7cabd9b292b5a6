"""Issue 12, session 4: the reader's shortcuts give what the long way gives.

* a usage line's time in Claude Code's own form is read directly (`transcript._epoch`),
  equal to `parse_log_time` on every kind of text, good and bad;
* the usual usage's counts are checked in one expression (`linestruct.typed_numbers`),
  equal to `counts.usage_numbers` (values and reasons) on good and bad counts;
* the content of a line without a final count is measured only if its response stays
  without one (`FileReader._settle`): the output estimate of a response that never gets a
  final count is the one all its lines give, also past the batch bound, and a response
  that gets one is estimated by nobody.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec
import pytest
from claude_logs import assistant

from costlog.sources.claude import counts, linestruct, transcript
from costlog.sources.claude.counts import usage_numbers
from costlog.sources.claude.filestate import FileState
from costlog.sources.claude.output_estimate import claude_output_estimate, content_features
from costlog.sources.claude.transcript import FileReader
from costlog.timeutil import parse_log_time

TIMES = [
    "2026-11-04T03:50:31.000Z",
    "2026-11-04T03:50:31.123Z",
    "1970-01-01T00:00:00.000Z",
    "2100-12-31T23:59:59.999Z",
    "1969-12-31T23:59:59.999Z",  # before 1970: no time
    "2101-01-01T00:00:00.000Z",  # after 2100: no time
    "2026-13-04T03:50:31.000Z",  # no month 13
    "2026-11-04 03:50:31.000Z",  # a space for the T
    " 026-11-04T03:50:31.000Z",  # a leading space, 24 characters
    "2026-11-04T03:50:31.000+00:00",
    "2026-11-04T05:50:31.000+02:00",
    "2026-11-04T03:50:31Z",
    "2026-11-04T03:50:31.000",  # naive: UTC
    "xxxxxxxxxxxxxxxxxxxxxxxZ",
    "",
    None,
    17,
]


@pytest.mark.parametrize("text", TIMES)
def test_a_line_time_is_read_as_parse_log_time_reads_it(text: Any) -> None:
    when = parse_log_time(text) if isinstance(text, str) and text else None
    assert transcript._epoch(text) == (None if when is None else when.timestamp())


def _usage(**counts: Any) -> dict[str, Any]:
    usage: dict[str, Any] = {
        "input_tokens": 3,
        "cache_creation_input_tokens": 500,
        "cache_read_input_tokens": 20000,
        "cache_creation": {"ephemeral_5m_input_tokens": 100, "ephemeral_1h_input_tokens": 400},
        "output_tokens": 250,
    }
    for name, value in counts.items():
        if name in ("five", "hour"):
            key = "ephemeral_5m_input_tokens" if name == "five" else "ephemeral_1h_input_tokens"
            usage["cache_creation"][key] = value
        elif value is _ABSENT:
            usage.pop(name, None)
        else:
            usage[name] = value
    return usage


_ABSENT = object()
USAGES = [
    _usage(),
    _usage(input_tokens=0, output_tokens=0),
    _usage(input_tokens=-1),
    _usage(output_tokens=20_000_001),
    _usage(cache_read_input_tokens=20_000_000),
    _usage(cache_creation_input_tokens=-5),  # checked though the split is used
    _usage(five=-1),
    _usage(hour=30_000_000),
    _usage(cache_creation_input_tokens=None),
    _usage(five=None),
    _usage(output_tokens_details={"thinking_tokens": 40}),
    _usage(cache_creation=_ABSENT),
    _usage(input_tokens=_ABSENT),
    _usage(input_tokens=_ABSENT, output_tokens=_ABSENT),
]


@pytest.mark.parametrize("usage", USAGES)
def test_the_usual_usage_is_checked_as_usage_numbers_checks_it(usage: dict[str, Any]) -> None:
    try:
        decoded = msgspec.json.decode(json.dumps(usage).encode(), type=linestruct.Usage)
    except msgspec.ValidationError:
        # a count out of range does not fit the typed usage: the line is read untyped, by
        # `usage_numbers`, which must then reject it (else the typed decode lost a line)
        assert isinstance(usage_numbers(usage), str)
        return
    assert linestruct.typed_numbers(decoded) == usage_numbers(usage)


def _write(path: Path, lines: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def _read(path: Path, monkeypatch: pytest.MonkeyPatch, *, slow: bool) -> FileState:
    state = FileState()
    with monkeypatch.context() as m:
        if slow:  # every usage line by `json`, as the hooks read
            m.setattr(transcript, "_decode_fast", lambda _raw: None)
        with open(path, "rb") as fh:
            FileReader(path, state, [].append, False).read(fh, 0)
    return state


def _block(i: int) -> list[dict[str, Any]]:
    return [{"type": "text", "text": "word " * (i % 7 + 1)}]


@pytest.mark.parametrize("slow", [False, True])
def test_content_without_a_final_count_is_measured_whatever_the_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, slow: bool
) -> None:
    # more unmeasured lines than one batch holds: 600 lines of 3 responses, never final
    count = 3 * transcript._UNSIZED
    lines = [
        assistant(f"msg_{i % 3}", f"req_{i % 3}", out=2, content=_block(i)) for i in range(count)
    ]
    state = _read(_write(tmp_path / "s.jsonl", lines), monkeypatch, slow=slow)
    responses = {r.message_id: r for r in state.all_responses()}
    assert len(responses) == 3
    for k in range(3):
        mine = [content_features(_block(i)) for i in range(k, count, 3)]
        text, tool, sig, blocks = (sum(column) for column in zip(*mine, strict=True))
        response = responses[f"msg_{k}"]
        assert not response.final
        assert (response.text_chars, response.tool_chars) == (text, tool)
        assert (response.signature_chars, response.blocks) == (sig, blocks)
        request = response.to_request()
        guess = claude_output_estimate(
            "claude-sonnet-4-6", text=text, tool=tool, signature=sig, blocks=blocks
        )
        assert request.usage.output == guess and request.estimated_output == guess - 2


@pytest.mark.parametrize("slow", [False, True])
def test_a_response_that_gets_its_final_count_keeps_it_and_no_sizes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, slow: bool
) -> None:
    lines = [
        assistant("msg_a", "req_a", out=3, content=_block(1)),
        assistant("msg_a", "req_a", out=3, content=_block(2)),
        assistant("msg_a", "req_a", out=900, stop="end_turn", content=_block(3)),
        assistant("msg_b", "req_b", out=4, content=_block(4)),  # never final
    ]
    state = _read(_write(tmp_path / "s.jsonl", lines), monkeypatch, slow=slow)
    a, b = state.all_responses()
    assert a.final and a.output == 900 and a.to_request().estimated_output == 0
    assert (a.text_chars, a.tool_chars, a.signature_chars, a.blocks) == (0, 0, 0, 0)
    assert not b.final and (b.text_chars, b.blocks) == content_features(_block(4))[::3]


def test_the_fast_and_the_json_read_keep_the_same_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = [
        assistant(f"msg_{i % 5}", f"req_{i % 5}", out=2 + (i == 9) * 500, content=_block(i))
        for i in range(700)
    ]
    lines.append(assistant("msg_z", "req_z", out=7, stop="end_turn", ts="1969-01-01T00:00:00Z"))
    path = _write(tmp_path / "s.jsonl", lines)
    fast, slow = (_read(path, monkeypatch, slow=s) for s in (False, True))
    assert fast.to_json() == slow.to_json()


def _split(five: Any, hour: Any) -> dict[str, Any]:
    return {"ephemeral_5m_input_tokens": five, "ephemeral_1h_input_tokens": hour}


#: one count at a time at the edges of what `counts.checked_counts` accepts
MAX = counts.MAX_TOKENS
EDGES = [MAX, MAX + 1, 0, -1, 2.0, True, "7", None]


def test_counts_at_the_range_edges_are_read_alike_by_the_typed_and_the_json_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the typed usage checks each count's range as msgspec decodes it (`linestruct.Count`):
    # what it refuses goes the untyped way, so a scan keeps or rejects each line, with the
    # same reason, as the json read does
    lines = []
    for i, value in enumerate(EDGES):
        for j, usage in enumerate(
            [
                {"input_tokens": value},
                {"output_tokens": value},
                {"cache_read_input_tokens": value},
                {"cache_creation_input_tokens": value},
                {"cache_creation": _split(value, 5000)},
                {"cache_creation": _split(0, value)},
            ]
        ):
            lines.append(assistant(f"msg_{i}_{j}", "req", stop="end_turn", usage=usage))
    path = _write(tmp_path / "s.jsonl", lines)
    fast, slow = (_read(path, monkeypatch, slow=s) for s in (False, True))
    assert fast.to_json() == slow.to_json()
    kept = {r.message_id for r in fast.all_responses()}
    assert "msg_0_0" in kept and "msg_1_0" not in kept  # MAX_TOKENS counts, one more does not
    assert f"{path}:7: rejected usage: input_tokens={MAX + 1} is out of range" in fast.warnings
