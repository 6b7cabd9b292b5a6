"""Issue 12 (second pass): the faster paths of the analysis give the answers the plain
ones gave. Work-item keys in commit subjects are matched without a compiled pattern for
ASCII text, so the rules users rely on (whole keys, any case, `WO-2026` is not
`WO-2026-110`) are checked here on both paths, ASCII and not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from costlog import analysis
from costlog.models import Commit, Entry, ModelUsage, Usage

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def session(
    items: list[str], subjects: list[str], models: dict[str, ModelUsage] | None = None
) -> Entry:
    models = models or {"claude-sonnet-4-6": ModelUsage(4, Usage(10, 20), Decimal("0.40"))}
    total = sum((m.cost_usd or Decimal(0) for m in models.values()), Decimal(0))
    return Entry(
        id="claude-code/s001",
        agent="claude-code",
        started=T0,
        ended=T0 + timedelta(hours=2),
        models=models,
        cost_usd=None if any(m.cost_usd is None for m in models.values()) else total,
        source="actual",
        work_items=items,
        commits=[Commit(f"{i:07x}", s, 1, 100, 0) for i, s in enumerate(subjects)],
    )


@pytest.mark.parametrize(
    ("subject", "named"),
    [
        ("Fix loader (wrk-7)", "WRK-7"),  # any case
        ("WRK-7: loader", "WRK-7"),  # at the start
        ("loader WRK-7", "WRK-7"),  # at the end
        ("Refs WRK-70", None),  # a longer key is another key
        ("Refs XWRK-7", None),  # so is one with a prefix
        ("Refs PRE-WRK-7", None),
        ("Refs WRK-7-2", None),  # a sub-number: another key
        ("Refs WRK-7-x and more", "WRK-7"),  # a suffix that is not a number
        ("Refs WRK-7-", "WRK-7"),
        ("Über WRK-7 größer", "WRK-7"),  # non-ASCII subject: the pattern decides
        ("Über WRK-70", None),
    ],
)
def test_commit_subject_names_whole_keys_only(subject: str, named: str | None) -> None:
    split = analysis.work_item_split(session(["WRK-7", "OPS-1"], [subject]))
    if named is None:  # a commit naming no item counts for both
        assert split == {"WRK-7": Decimal("0.20"), "OPS-1": Decimal("0.20")}
    else:
        assert split == {named: Decimal("0.40"), "OPS-1": Decimal(0)}


def test_non_ascii_keys_match_in_any_case() -> None:
    split = analysis.work_item_split(session(["ÄRGER-1", "OPS-1"], ["fix ärger-1 now"]))
    assert split == {"ÄRGER-1": Decimal("0.40"), "OPS-1": Decimal(0)}


def test_work_items_table_adds_up_over_many_keys() -> None:
    """Many distinct keys (each once compiled a pattern): shares still add up per row."""
    entries = [
        session([f"WRK-{k}", f"WRK-{k + 1}"], [f"Step (WRK-{k})", "Tidy"]) for k in range(300)
    ]
    rows = analysis.work_items(entries)
    assert sum((r["cost"] for r in rows), Decimal(0)) == Decimal("0.40") * 300
    first = {r["work_item"]: r["cost"] for r in rows}
    # WRK-0 only ever gets the named commit's 100 lines and half of "Tidy": 150 of 200
    assert first["WRK-0"] == Decimal("0.30")


def test_typical_reads_one_model_and_several_alike() -> None:
    one = session([], [], {"claude-opus-4-6": ModelUsage(8, Usage(5, 7, 100, 3, 2), Decimal(1))})
    two = session(
        [],
        [],
        {
            "claude-opus-4-6": ModelUsage(3, Usage(1, 1, 50), Decimal("0.75")),
            "claude-haiku-4-5": ModelUsage(5, Usage(4, 6, 60, 3, 2), Decimal("0.25")),
        },
    )
    unnamed = session([], [], {"": ModelUsage(8, Usage(5, 7, 100, 3, 2), Decimal(1))})
    unpriced = session([], [], {"mystery": ModelUsage(99, Usage(9, 9, 9), None)})
    typical = analysis.Typical.of([one, two, unnamed, unpriced])
    assert typical.cost == Decimal(1)
    assert typical.prompt_tokens == 110  # the median of 110, 120 (both models) and 110
    assert typical.requests == 8
    assert typical.hours == 2
    # the costliest model names a two-model session; an unnamed model reads "-";
    # the unpriced session feeds no median
    assert typical.model_cost == {"claude-opus-4-6": Decimal(1), "-": Decimal(1)}


def test_month_rows_count_each_session_once_with_its_month_in_the_zone() -> None:
    from costlog.timeutil import zone

    late = session([], [], {"claude-opus-4-6": ModelUsage(1, Usage(1), Decimal("0.50"))})
    late.started = datetime(2026, 10, 31, 23, 30, tzinfo=UTC)  # already Nov 1 in Berlin
    same_day = session([], [], {"mystery": ModelUsage(1, Usage(1), None)})
    same_day.started = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
    october = session([], [], {"claude-opus-4-6": ModelUsage(1, Usage(1), Decimal("0.25"))})
    october.started = datetime(2026, 10, 30, 8, 0, tzinfo=UTC)
    rows = analysis.months([october, late, same_day], zone("Europe/Berlin"))
    assert [(r["month"], r["sessions"], r["cost"], r["unpriced"]) for r in rows] == [
        ("2026-11", 2, Decimal("0.50"), 1),
        ("2026-10", 1, Decimal("0.25"), 0),
    ]
    # one session each: the tie goes to the costlier model
    assert rows[0]["primary_model"] == "claude-opus-4-6"
