"""Short ids that stay what `record` printed (issue 15, item 12, after review), and a record
line whose date agrees with its id in any time zone, with a warning for a start in the
future (item 3 of the review).

The review found the id `record` printed (`20261202T013016Z-7`) ambiguous once more
sessions of that minute were recorded: a short id was the shortest prefix no neighbour
shared. Now it is computed from the id alone and only two ids that would read alike are
lengthened, by their own hash.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import count
from pathlib import Path

import pytest

from costlog import gitrepo
from costlog.analysis.shortids import ShortIds, stable
from costlog.errors import EXIT_USAGE
from costlog.ledger.store import Ledger
from costlog.models import Entry, ModelUsage, Usage
from tests_support import FIXTURES_DIR, invoke, run

BY_HAND = ("record", "--model", "claude-sonnet-4-6", "--no-stage", "--task-types", "1 code")
LINE = re.compile(r"^recorded (\S+) (\S+) (\S+): ", re.M)
NOBREAK = "\u2011"
AIDER = FIXTURES_DIR / "aider" / "real-0.86.2" / "aider.chat.history.md"


@pytest.fixture
def new_york(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A machine in New York, where 21:30 on 1 December is 02:30 UTC on the 2nd."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def _entry(entry_id: str, started: datetime, note: str) -> Entry:
    usage = Usage(input=1000, output=200)
    cost = Decimal("0.02")
    return Entry(
        id=entry_id,
        agent=entry_id.split("/", 1)[0],
        started=started,
        models={"claude-sonnet-4-6": ModelUsage(1, usage, cost, "manual")},
        cost_usd=cost,
        source="manual",
        notes=note,
    )


def _same_minute(n: int) -> list[str]:
    """n manual ids of 2026-12-02 01:30, as `record` names them (second and random hex)."""
    return [f"manual/20261202T0130{i % 60:02d}Z-{i * 7919 % 16**6:06x}" for i in range(n)]


def _alike() -> tuple[str, str]:
    """Two ids of one minute whose usual short ids are equal (their hashes share three
    digits): the first such pair in a fixed sequence."""
    seen: dict[str, str] = {}
    for i in count():
        entry_id = f"manual/20261202T013016Z-{i:06x}"
        short = stable(entry_id)
        if short in seen:
            return seen[short], entry_id
        seen[short] = entry_id
    raise AssertionError  # pragma: no cover


def test_the_id_record_printed_still_finds_the_session_after_sixty_more(repo: Path) -> None:
    run("init")
    out = run(*BY_HAND, "--started", "2026-12-02T01:30:16Z", "--notes", "the first")
    [(day, agent, short)] = LINE.findall(out)
    assert (day, agent) == ("2026-12-02", "manual")
    assert re.fullmatch(r"1202-0130-[0-9a-f]{3}", short)  # when it began, and 3 hex digits
    ledger = Ledger(gitrepo.find(repo), ".costlog/sessions")
    started = datetime(2026, 12, 2, 1, 30, tzinfo=UTC)
    for i, entry_id in enumerate(_same_minute(60)):
        ledger.write(_entry(entry_id, started + timedelta(seconds=i % 60), f"later {i}"))
    run("render")
    # found by what record printed, alone: no "ambiguous" now 60 sessions share its minute
    data = json.loads(run("report", "--session", short, "--by", "session", "--json"))
    [row] = data["rows"]
    assert row["short_id"] == short
    path = repo / ".costlog/sessions" / f"{row['session']}.yaml"
    assert 'notes: "the first"' in path.read_text()
    # COST_LOG.md shows the same id in its row, and 61 distinct ones of at most 13 characters
    log = (repo / "COST_LOG.md").read_text().replace(NOBREAK, "-")
    [line] = [x for x in log.splitlines() if x.endswith("| the first |")]
    assert f"| {short} |" in line
    table = log[log.index("## Session Cost Log") :].split("\n## ", 1)[0]
    shown = re.findall(r"\| (1202-0130-[0-9a-f]+) \|", table)
    assert len(shown) == len(set(shown)) == 61
    assert all(len(s) <= 13 for s in shown)


def test_a_short_id_depends_on_its_id_alone() -> None:
    ids = [
        *_same_minute(30),
        "claude-code/9d41e7c0-aaaa-4bbb-8ccc-0123456789ab",
        "codex/01a2336d-ac6a-7d23-93a7-3d73236c5daf",
        "codex/01a2336d-ad0b-72f1-b9a6-3ab4349ed7f0",
        "opencode/ses_4b6e0f1b3ffeQm2nYx7TJkV1aZ",
        "manual/ElixirTrials_rune__2.1.111",
    ]
    whole = ShortIds(ids)
    for i, entry_id in enumerate(ids):
        # the same in a ledger of it alone, of the first i ids, or of them in reverse
        assert ShortIds([entry_id]).of(entry_id) == whole.of(entry_id) == stable(entry_id)
        assert ShortIds(ids[: i + 1]).of(entry_id) == whole.of(entry_id)
        assert ShortIds(reversed(ids)).of(entry_id) == whole.of(entry_id)
    # Codex's time-ordered uuids begin alike (their clock): the hash tells them apart
    assert whole.of(ids[31]).startswith("01a2336d-") and whole.of(ids[31]) != whole.of(ids[32])
    assert whole.of("manual/ElixirTrials_rune__2.1.111").startswith("Elixir-")
    assert whole.of(ids[30]) == "9d41e7c0"  # a random uuid: its first eight, as always


def test_two_ids_that_read_alike_are_lengthened_and_both_found(repo: Path) -> None:
    first, second = _alike()
    usual = stable(first)
    others = _same_minute(5)
    run("init")
    ledger = Ledger(gitrepo.find(repo), ".costlog/sessions")
    started = datetime(2026, 12, 2, 1, 30, 16, tzinfo=UTC)
    for i, entry_id in enumerate([first, *others]):
        ledger.write(_entry(entry_id, started, f"note {i}"))
    # before the second arrives, the first shows its usual form
    assert json.loads(run("report", "--session", usual, "--json"))["totals"]["sessions"] == 1
    ledger.write(_entry(second, started, "the twin"))
    run("render")
    shorts = ShortIds([first, second, *others])
    longer = shorts.of(first), shorts.of(second)
    # both grow by digits of their own hash; the other sessions keep their forms
    assert longer[0] != longer[1] and all(s.startswith(usual) for s in longer)
    assert all(len(s) == len(usual) + 1 for s in longer)
    assert [shorts.of(i) for i in others] == [stable(i) for i in others]
    log = (repo / "COST_LOG.md").read_text().replace(NOBREAK, "-")
    for short in longer:
        assert f"| {short} |" in log
        found = json.loads(run("report", "--session", short, "--by", "session", "--json"))
        assert [r["short_id"] for r in found["rows"]] == [short]
    # a longer form found with its twin out of view (a `--since` window without it)
    assert ShortIds([first, *others]).find(longer[0]) == [first]
    # the form record printed for the first now names two sessions: a usage error listing both
    result = invoke(["report", "--session", usual])
    assert result.exit_code == EXIT_USAGE
    assert f"({first})" in result.output and f"({second})" in result.output


def test_an_aider_line_in_new_york_shows_the_day_its_id_shows(
    repo: Path, new_york: None, tmp_path: Path
) -> None:
    """aider writes local time: `chat started at 2026-11-20 21:30:00` in New York began at
    02:30 UTC on the 21st. The line said 2026-11-21 next to an id of the 20th."""
    history = AIDER.read_text()
    stamps = re.findall(r"^# aider chat started at (.+)$", history, re.M)
    for i, stamp in enumerate(stamps):
        history = history.replace(stamp, f"2026-11-20 21:3{i}:00")
    log = tmp_path / ".aider.chat.history.md"
    log.write_text(history)
    out = run("record", "--transcript", str(log), "--no-stage")
    [(day, agent, short)] = LINE.findall(out)
    assert agent == "aider"
    assert short.startswith("1120-2132-")
    assert day == "2026-11-20"
    assert "future" not in out
    [entry] = Ledger(gitrepo.find(repo), ".costlog/sessions").load_all()
    assert entry.started == datetime(2026, 11, 21, 2, 32, tzinfo=UTC)  # the same instant


def test_a_manual_line_in_new_york_shows_the_utc_day_of_its_utc_id(
    repo: Path, new_york: None
) -> None:
    """A manual id is written in UTC (`20261202T013016Z`): its line shows that day, not the
    evening of the 1st it was in New York."""
    out = run(*BY_HAND, "--started", "2026-12-02T01:30:16Z")
    [(day, _agent, short)] = LINE.findall(out)
    assert (day, short[:9]) == ("2026-12-02", "1202-0130")


def test_a_start_in_the_future_is_recorded_with_one_warning(repo: Path, tmp_path: Path) -> None:
    """A log written under a wrong clock: recorded as it says, and the user told once."""
    history = AIDER.read_text()
    last = re.findall(r"^# aider chat started at (.+)$", history, re.M)[-1]
    log = tmp_path / ".aider.chat.history.md"
    log.write_text(history.replace(last, "2099-06-01 10:00:00"))
    result = invoke(["record", "--transcript", str(log), "--no-stage"])
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.output.splitlines() if "in the future" in line]
    assert warnings == [
        "costlog: warning: aider/aider-20990601T100000: its start time 2099-06-01 10:00 UTC "
        "is in the future; check the clock and time zone of the machine that wrote the log"
    ]
    assert "recorded 2099-06-01 aider 0601-1000-" in result.output
    [entry] = Ledger(gitrepo.find(repo), ".costlog/sessions").load_all()
    assert entry.started == datetime(2099, 6, 1, 10, tzinfo=UTC)
    # a start of a minute ago is no warning
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    out = run(*BY_HAND, "--started", now.isoformat().replace("+00:00", "Z"))
    assert "future" not in out
