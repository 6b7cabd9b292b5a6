"""Issue 12: a Codex call's time is kept in the read cache as the log wrote it (UTC written
`Z`) when that text reads back as the same time, instead of being formatted again; any
other form is formatted as before. Whichever way it was kept, a scan from the cache (whole,
or a grown file read on from where it stopped) gives every call the time a read without
the cache gives it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from costlog.models import Session
from costlog.sources.codex.adapter import ADAPTER
from costlog.sources.codex.rollout import FileData, Head

SID = "019a0666-6666-7666-8666-666666666666"
#: the times the calls are written with, and the time each one is
FORMS = [
    ("2026-03-05T09:00:01.123Z", datetime(2026, 3, 5, 9, 0, 1, 123000, tzinfo=UTC)),
    ("2026-03-05T09:00:02Z", datetime(2026, 3, 5, 9, 0, 2, tzinfo=UTC)),
    ("2026-03-05T09:00:03.000004Z", datetime(2026, 3, 5, 9, 0, 3, 4, tzinfo=UTC)),
    ("2026-03-05T11:00:04.5+02:00", datetime(2026, 3, 5, 9, 0, 4, 500000, tzinfo=UTC)),
    ("2026-03-05 09:00:05Z", datetime(2026, 3, 5, 9, 0, 5, tzinfo=UTC)),
    (" 2026-03-05T09:00:06Z", datetime(2026, 3, 5, 9, 0, 6, tzinfo=UTC)),  # a space before
    ("2026-03-05T09:00:07", datetime(2026, 3, 5, 9, 0, 7, tzinfo=UTC)),  # naive: UTC
    ("2026-03-05T09:00:08.123456789Z", datetime(2026, 3, 5, 9, 0, 8, 123456, tzinfo=UTC)),
    ("1960-03-05T09:00:09Z", None),  # out of range: warned about, counted without a time
]


def _line(when: str, kind: str, payload: dict[str, object]) -> str:
    return json.dumps({"timestamp": when, "type": kind, "payload": payload}) + "\n"


def _count(n: int) -> dict[str, object]:
    usage = {"input_tokens": 100 * n, "output_tokens": n}
    total = {"input_tokens": 100 * n * (n + 1) // 2, "output_tokens": n * (n + 1) // 2}
    return {"type": "token_count", "info": {"total_token_usage": total, "last_token_usage": usage}}


def _rollout(root: Path) -> Path:
    path = root / "sessions/2026/03/05" / f"rollout-2026-03-05T09-00-00-{SID}.jsonl"
    path.parent.mkdir(parents=True)
    meta = {"id": SID, "cwd": "/w", "timestamp": "2026-03-05T09:00:00Z"}
    lines = [
        _line("2026-03-05T09:00:00.000Z", "session_meta", meta),
        _line("2026-03-05T09:00:00.500Z", "turn_context", {"model": "gpt-5", "cwd": "/w"}),
    ]
    lines += [_line(text, "event_msg", _count(n)) for n, (text, _) in enumerate(FORMS[:5], 1)]
    path.write_text("".join(lines))
    return path


def _scan(root: Path, use_cache: bool = True) -> tuple[Session, list[str]]:
    warnings: list[str] = []
    roots = ADAPTER.default_roots({"CODEX_HOME": str(root)}, Path("/nonexistent"))
    found = list(ADAPTER.scan(roots, warn=warnings.append, use_cache=use_cache))
    assert [s.session_id for s in found] == [SID]
    return found[0], warnings


def _times(session: Session) -> list[datetime | None]:
    return [r.timestamp for r in session.requests]


def test_every_call_keeps_its_time_through_the_cache_and_a_grown_file(tmp_path: Path) -> None:
    path = _rollout(tmp_path)
    cold, _ = _scan(tmp_path)
    assert _times(cold) == [when for _, when in FORMS[:5]]
    warm, _ = _scan(tmp_path)  # every call from the cache
    assert _times(warm) == _times(cold)
    with path.open("a") as out:  # the file grows: read on from where it stopped
        for n, (text, _) in enumerate(FORMS[5:], 6):
            out.write(_line(text, "event_msg", _count(n)))
    grown, warnings = _scan(tmp_path)
    fresh, fresh_warnings = _scan(tmp_path, use_cache=False)
    assert _times(grown) == _times(fresh) == [when for _, when in FORMS]
    assert [r.usage for r in grown.requests] == [r.usage for r in fresh.requests]
    assert (
        warnings == fresh_warnings == [f"{path}:11: timestamp is not a time in 1970-2100, ignored"]
    )
    again, _ = _scan(tmp_path)
    assert _times(again) == _times(fresh)


def test_calls_without_their_times_as_text_are_stored_by_their_times() -> None:
    """A FileData whose calls were built without their texts (any but the reader's own
    way) is stored with each time formatted, never with another call's text."""
    from costlog.models import Request, Usage

    head = Head(Path("/r.jsonl"), SID)
    zone = timezone(timedelta(hours=-3))
    times = [datetime(2026, 3, 5, 9, 0, s, tzinfo=UTC) for s in range(3)]
    data = FileData(
        head=head, calls=[(("call", i), Request("gpt-5", Usage(i), t)) for i, t in enumerate(times)]
    )
    data.times = ["2026-01-01T00:00:00Z"]  # shorter than the calls: not used
    back = FileData.from_json(head.path, data.to_json())
    assert [r.timestamp for _, r in back.calls] == times
    data.calls.append((("call", 9), Request("gpt-5", Usage(9), times[0].astimezone(zone))))
    data.times = [None, "2026-03-05T09:00:01Z", None, None]
    back = FileData.from_json(head.path, data.to_json())
    assert [r.timestamp for _, r in back.calls] == [*times, times[0]]
    assert all(r.timestamp is None or r.timestamp.tzinfo is UTC for _, r in back.calls)


def test_a_time_kept_as_its_text_reads_back_as_the_reader_read_it() -> None:
    """The cache reads a kept text with `datetime.fromisoformat`; the reader read the
    same text with `parse_log_time`, which must give the same time for every text kept."""
    from costlog.sources.codex.reader import _own_text
    from costlog.timeutil import parse_log_time

    texts = [text.strip() for text, _ in FORMS] + [
        "2026-03-05T09:00Z",
        "2026-03-05T09Z",
        "2026-03-05T09:00:00,5Z",
        "20260305T090000Z",
        "2026-W10-4T09:00:00Z",
        "2026-03-05T09:00:00." + "9" * 25 + "Z",
        "2100-12-31T23:59:59.999999Z",
    ]
    kept = 0
    for text in texts:
        when = parse_log_time(text)
        if when is None or _own_text(text) is None:
            continue
        kept += 1
        assert datetime.fromisoformat(text) == when, text
        assert datetime.fromisoformat(text).tzinfo is UTC, text
    assert kept >= 8


def test_the_readers_usual_time_is_parse_log_time() -> None:
    """A record read in full (with the attribution facts, or a line a scan could not
    read typed) has its time read by `reader._log_time`, a shortcut for the usual text:
    every text gives what `parse_log_time` gives."""
    from costlog.sources.codex.reader import _log_time
    from costlog.timeutil import parse_log_time

    texts: list[object] = [text for text, _ in FORMS]
    texts += ["2026-03-05T09:00Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "Z", ""]
    texts += ["2026-02-30T00:00:00Z", "2026-03-05T24:00:00Z", None, 1772701200, "x" * 39 + "Z"]
    for text in texts:
        assert _log_time(text) == parse_log_time(text), text
        when = _log_time(text)
        assert when is None or when.tzinfo is UTC, text
