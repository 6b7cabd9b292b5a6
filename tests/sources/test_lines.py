"""The one JSON-lines reader every adapter uses: bounded memory, exact line numbers."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from costlog.sources import _lines
from costlog.sources._lines import Unfinished, bounded_lines, iter_json_lines, parse_line


def _read(path: Path) -> tuple[list[tuple[int, dict[str, object]]], list[str]]:
    warnings: list[str] = []
    return list(iter_json_lines(path, warnings.append)), warnings


def test_bad_lines_are_warned_with_their_number_and_the_rest_is_read(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    path.write_bytes(b'{"a": 1}\n\n{not json\n[1, 2]\n{"b": 2}\n{"c": ')
    objects, warnings = _read(path)
    assert objects == [(1, {"a": 1}), (5, {"b": 2})]  # the blank line 2 is counted, not read
    assert warnings == [
        f"{path}:3: corrupt line (not JSON: Expecting property name enclosed in double "
        "quotes), skipped",
        f"{path}:4: not a JSON object, skipped",
        f"{path}:6: truncated last line (not JSON: Expecting value), skipped",
    ]


def test_a_bom_is_not_part_of_line_one_and_a_stray_cr_ends_no_line(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"a": 1}\n{"b": 2}\r{"c": 3}\r\n{"d": 4}\n')
    objects, warnings = _read(path)
    assert objects == [(1, {"a": 1}), (3, {"d": 4})]
    assert warnings == [f"{path}:2: corrupt line (not JSON: Extra data), skipped"]


def test_invalid_utf8_costs_a_string_nothing_and_a_number_its_line(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    path.write_bytes(b'{"text": "caf\xe9", "n": 1}\n{"n": 1\xff2}\n')
    objects, warnings = _read(path)
    assert objects == [(1, {"text": "caf\ufffd", "n": 1})]
    assert len(warnings) == 1 and warnings[0].startswith(f"{path}:2: corrupt line (not JSON")


def test_deep_nesting_is_a_corrupt_line_not_a_crash() -> None:
    assert parse_line(b"[" * 100_000 + b"]" * 100_000 + b"\n") == (
        "corrupt line (not JSON: nested too deep), skipped"
    )


def test_a_long_line_is_skipped_unread_by_its_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_lines, "MAX_LINE", 1000)
    monkeypatch.setattr(_lines, "_SKIP_CHUNK", 100)
    long = b'{"x": "' + b"A" * 5000 + b'"}\n'
    path = tmp_path / "log.jsonl"
    path.write_bytes(b'{"a": 1}\n' + long + b'{"b": 2}\n')
    objects, warnings = _read(path)
    assert objects == [(1, {"a": 1}), (3, {"b": 2})]
    assert warnings == [f"{path}:2: line of {len(long):,} bytes is too long to hold usage, skipped"]


def test_a_long_line_still_being_written_ends_the_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_lines, "MAX_LINE", 10)
    lines = list(bounded_lines(io.BytesIO(b"short\n" + b"B" * 25)))
    assert lines == [b"short\n", 25]
    assert isinstance(lines[1], Unfinished)  # a resuming reader reads it again
    whole = list(bounded_lines(io.BytesIO(b"B" * 25 + b"\nok\n")))
    assert whole == [26, b"ok\n"] and not isinstance(whole[0], Unfinished)


def test_only_a_regular_file_is_opened(tmp_path: Path) -> None:
    fifo = tmp_path / "log.jsonl"
    os.mkfifo(fifo)
    objects, warnings = _read(fifo)  # would hang if the FIFO were opened for reading
    assert objects == []
    assert len(warnings) == 1 and warnings[0].startswith(f"{fifo}: cannot read: ")
    assert _read(tmp_path / "missing.jsonl")[1][0].startswith(f"{tmp_path}/missing.jsonl: ")
