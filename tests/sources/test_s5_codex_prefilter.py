"""Issue 12: a Codex scan recognises the lines it only takes the time of (a response_item,
an event_msg that is not a token_count, as Codex writes them, ending in `}`) by their first
bytes, on a day an earlier such line showed valid, and does not decode them. The one
change from decoding every line: damage inside such a line (a line that cannot hold token
counts) is no longer warned about. A line cut short by a crash still is, with its file and
line, and every count, time and later warning is what decoding every line gives."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from costlog.sources import _lines
from costlog.sources.codex import reader as codex_reader
from costlog.sources.codex.reader import Reader
from costlog.sources.codex.rollout import FileData, read_head
from tests_support import FIXTURES_DIR, REPO_ROOT, read_rollout, scan_json

SID = "019a0555-5555-7555-8555-555555555555"
ITEM = {"type": "function_call_output", "call_id": "c1", "output": "tool output " * 20}
MESSAGE = {"type": "agent_message", "message": "said " * 20}
BAD_COUNT = {"type": "token_count", "info": {"last_token_usage": {"input_tokens": "7"}}}
USAGE = {"input_tokens": 100, "cached_input_tokens": 40, "output_tokens": 9}


def _line(when: str, kind: str, payload: dict[str, Any], ordinal: int | None = None) -> str:
    record: dict[str, Any] = {"timestamp": when}
    if ordinal is not None:  # as Codex >= 0.171 writes it
        record["ordinal"] = ordinal
    record.update(type=kind, payload=payload)
    return json.dumps(record, separators=(",", ":"))


def _count(total: int) -> dict[str, Any]:
    last = {**USAGE, "input_tokens": total}
    info = {"total_token_usage": {**USAGE, "input_tokens": 1000 + total}, "last_token_usage": last}
    return {"type": "token_count", "info": info}


def _damaged(line: str) -> str:
    """`line` with its middle damaged (not JSON any more), its first bytes and its
    closing `}` as they were."""
    cut = len(line) // 2
    return line[:cut] + ',,"' + line[cut:]


#: (line, what each line is), the damaged file `_write` makes; numbers count from 1
LINES: list[tuple[str, str]] = [
    (_line("2026-03-05T09:00:00.000Z", "session_meta", {"id": SID, "cwd": "/w"}), "meta"),
    (_line("2026-03-05T09:00:01.000Z", "turn_context", {"model": "gpt-5", "cwd": "/w"}), "ctx"),
    (_line("2026-03-05T09:00:02.000Z", "response_item", ITEM), "first of its day"),
    (_line("2026-03-05T09:00:03.000Z", "event_msg", _count(100)), "count"),
    (_damaged(_line("2026-03-05T09:00:04.000Z", "response_item", ITEM)), "skipped damage"),
    # cut short by a crash, the usual damage: no `}` before its newline
    (_line("2026-03-05T09:00:05.000Z", "response_item", ITEM)[:90], "truncated"),
    (_line("2026-02-30T09:00:06.000Z", "response_item", ITEM), "no such day"),
    # the first such line of a new day is decoded: warned about, though its day is noted
    (_damaged(_line("2026-03-06T08:00:00.000Z", "response_item", ITEM)), "first of a day"),
    (_damaged(_line("2026-03-06T08:00:01.000Z", "response_item", ITEM)), "skipped damage"),
    (_line("2026-03-06T08:00:02.000Z", "event_msg", BAD_COUNT), "bad count"),
    (_line("2026-03-06T08:00:03.000Z", "event_msg", _count(200)), "count"),
    (
        _damaged(_line("2026-03-06T08:00:04.000Z", "event_msg", MESSAGE, 12)),
        "skipped damage",
    ),
    # another key order is not Codex's: decoded, and warned about
    ('{"type":"response_item","timestamp":"2026-03-06T08:00:05.000Z","payload":{,}}', "order"),
    (_line("2026-03-06T08:00:06.000Z", "response_item", ITEM) + "\r", "carriage return"),
    (_line("2026-03-06T23:59:59.999Z", "response_item", ITEM), "latest"),
    (_line("2026-03-06T08:00:07.000Z", "event_msg", _count(300)), "count"),
]


def _write(tmp_path: Path) -> Path:
    path = tmp_path / f"rollout-2026-03-05T09-00-00-{SID}.jsonl"
    path.write_text("".join(line + "\n" for line, _ in LINES))
    return path


def _every_line_decoded(path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, ...]:
    """What reading decodes every line gives: no day is ever one a line may be skipped on."""
    with monkeypatch.context() as m:
        m.setattr(Reader, "_seen_day", lambda _self, _day: False)
        return read_rollout(path)


def _numbers(warnings: list[str]) -> list[int]:
    return [int(w.split(": ", 1)[0].rsplit(":", 1)[1]) for w in warnings]


def _modes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    """The ways a file is read: in blocks, line by line from a block, line by line."""

    def lines(m: pytest.MonkeyPatch) -> None:
        m.setattr(_lines, "BLOCK", 4096)
        m.setattr(_lines, "MAX_LINE", 8 * 4096)

    return [
        ("blocks", lambda m: None),
        ("split", lambda m: m.setattr(Reader, "_block", lambda _self, _block: False)),
        ("lines", lines),
    ]


def test_a_damaged_file_warns_as_each_line_decoded_but_about_skipped_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write(tmp_path)
    every = _every_line_decoded(path, monkeypatch)
    skipped = [n for n, (_, what) in enumerate(LINES, 1) if what == "skipped damage"]
    assert skipped == [5, 9, 12]
    for name, setup in _modes(monkeypatch):
        with monkeypatch.context() as m:
            setup(m)
            offset, state, ended, warnings = read_rollout(path)
        assert offset == every[0] == path.stat().st_size, name
        # the counts, the end, the lines read: as decoding every line gives them
        assert {**state, "warnings": []} == {**every[1], "warnings": []}, name
        assert ended == every[2], name
        assert ended is not None and ended.isoformat() == "2026-03-06T23:59:59.999000+00:00"
        assert len(state["calls"]) == 3 and state["lines"] == len(LINES), name
        # every warning but those of the skipped lines, each at its own line
        assert warnings == [w for w in every[3] if _numbers([w])[0] not in skipped], name
        assert state["warnings"] == warnings, name
    assert _numbers(every[3]) == [5, 6, 7, 8, 9, 10, 12, 13]  # (14: `\r` is whitespace)
    said = dict(zip(_numbers(warnings), warnings, strict=True))
    assert said[6].startswith(f"{path}:6: corrupt line (not JSON: ")  # cut short: still said
    assert "timestamp is not a time" in said[7]
    assert said[8].startswith(f"{path}:8: corrupt line")  # the first of its day
    assert said[10] == f"{path}:10: invalid input_tokens '7', event not counted"


def test_a_line_cut_short_at_the_end_is_warned_about_and_read_again_when_whole(
    tmp_path: Path,
) -> None:
    path = _write(tmp_path)
    whole = _line("2026-03-06T09:00:00.000Z", "response_item", ITEM)
    with open(path, "a") as out:
        out.write(whole[:-1])  # still being written: its closing `}` not yet there
    offset, state, _ended, warnings = read_rollout(path)
    assert offset == path.stat().st_size - len(whole) + 1
    assert warnings[-1].startswith(f"{path}:{len(LINES) + 1}: truncated last line")
    with open(path, "a") as out:
        out.write("}\n")
    data = FileData.from_json(path, state)
    resumed: list[str] = []
    with open(path, "rb") as fh:
        end, _state = Reader(data, resumed.append, False).read(fh, offset)
    assert end == path.stat().st_size and resumed == []
    assert data.lines == len(LINES) + 1


def test_the_skipped_lines_are_not_decoded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The block read decodes only the lines it does not skip: the first response_item
    of each day, the counted ones, the damaged ones that are not skipped."""
    path = _write(tmp_path)
    decoded: list[int] = []
    real = Reader._kept

    def spy(self: Reader, line: Any, number: int) -> None:
        decoded.append(number)
        real(self, line, number)

    monkeypatch.setattr(Reader, "_kept", spy)
    read_rollout(path)
    assert decoded == [2, 3, 4, 6, 7, 8, 10, 11, 13, 14, 16]  # (1: read alone, to see a rollout)


def _home(tmp_path: Path) -> Path:
    """A CODEX_HOME of real-format rollouts: those Codex 0.171.0 wrote (with `ordinal`),
    the older real ones, and a generated history in Codex's form."""
    sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
    try:
        from gen_codex_corpus import generate
    finally:
        sys.path.remove(str(REPO_ROOT / "benchmarks"))
    home = tmp_path / "codex"
    generate(home, 1, ["/work/a", "/work/b"], [0.5, 0.5], seed=5)
    day = home / "sessions" / "2026" / "01" / "02"
    day.mkdir(parents=True)
    for folder in ("real", "real-0.171.0"):
        for path in sorted((FIXTURES_DIR / "codex" / folder).glob("*.jsonl")):
            shutil.copy(path, day / f"rollout-{folder}-{path.stem.replace('.', '-')}.jsonl")
    return home


def _scan_json(args: list[str]) -> str:
    return scan_json("codex", *args, memo=False)


def test_real_format_rollouts_scan_to_the_json_every_line_decoded_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = _home(tmp_path)
    files = sorted(home.rglob("*.jsonl"))
    lines = [line for path in files for line in path.read_bytes().splitlines(keepends=True)]
    skippable = [line for line in lines if codex_reader._SKIPPABLE.match(line)]
    assert len(skippable) > len(lines) // 2  # most of a rollout's lines
    assert any(b'"ordinal":' in line[:60] for line in skippable)  # Codex 0.171's form
    monkeypatch.setenv("CODEX_HOME", str(home))
    monkeypatch.setenv("COSTLOG_SCAN_WORKERS", "1")
    for args in ([], ["--by", "session"], ["--by", "model"]):
        monkeypatch.setenv("COSTLOG_CACHE_DIR", str(tmp_path / "cache-skip"))
        shutil.rmtree(tmp_path / "cache-skip", ignore_errors=True)
        skipped = _scan_json(args)
        assert _scan_json(args) == skipped  # warm, from the read cache
        monkeypatch.setenv("COSTLOG_CACHE_DIR", str(tmp_path / "cache-every"))
        shutil.rmtree(tmp_path / "cache-every", ignore_errors=True)
        with monkeypatch.context() as m:
            m.setattr(Reader, "_seen_day", lambda _self, _day: False)
            every = _scan_json(args)
        assert skipped == every, args
        assert json.loads(skipped)


def _as_read(path: Path, collect: bool) -> tuple[Any, ...]:
    data = FileData(head=read_head(path))
    warnings: list[str] = []
    with open(path, "rb") as fh:
        offset, _ = Reader(data, warnings.append, collect).read(fh, 0)
    return (offset, data.calls, data.ended, data.model, data.cwd, data.lines, data.limits,
            data.pending, data.prev_total, warnings)  # fmt: skip


def test_a_scan_reads_every_real_format_file_as_the_attribution_read_that_parses_each_line(
    tmp_path: Path,
) -> None:
    """An oracle that shares nothing with the scan's shortcuts: the read with attribution
    facts (`record`, `backfill`) parses every line with `json` and skips none. On clean
    rollouts as Codex writes them (the fixtures, Codex 0.171's with `ordinal`, and a
    generated history) both give the same calls, times, models, limits and warnings."""
    sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
    try:
        from gen_codex_corpus import generate
    finally:
        sys.path.remove(str(REPO_ROOT / "benchmarks"))
    generate(tmp_path / "gen", 4, ["/work/a"], [1.0], seed=55)
    files = sorted((FIXTURES_DIR / "codex").rglob("*.jsonl")) + sorted(tmp_path.rglob("*.jsonl"))
    assert len(files) > 10
    calls = 0
    for path in files:
        scanned = _as_read(path, collect=False)
        assert scanned == _as_read(path, collect=True), path
        calls += len(scanned[1])
    assert calls > 100


def test_an_ordinal_with_a_leading_zero_is_not_json_and_is_warned_about(tmp_path: Path) -> None:
    """Only Codex's own layout is skipped: `"ordinal":007` is not JSON, so that line is
    decoded, and warned about with its file and line, as every line decoded does."""
    good = _line("2026-03-05T09:00:02.000Z", "response_item", ITEM, ordinal=7)
    path = tmp_path / f"rollout-2026-03-05T09-00-00-{SID}.jsonl"
    lines = [LINES[0][0], LINES[1][0], good, good.replace('"ordinal":7', '"ordinal":007')]
    path.write_text("\n".join(lines) + "\n")
    warnings = _as_read(path, collect=False)[-1]
    assert [w.split(": ", 1)[0] for w in warnings] == [f"{path}:4"]
    assert warnings == _as_read(path, collect=True)[-1]
