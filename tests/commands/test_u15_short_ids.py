"""Short session ids a person can tell apart and type back (issue 15, item 12): every id
COST_LOG.md, the record line and pr-summary show is distinct in the ledger, stays what
`record` printed however many sessions follow, and `costlog report --session SHORT` finds
the session it names."""

from __future__ import annotations

import json
import re
from pathlib import Path

from costlog.errors import EXIT_USAGE
from tests_support import git, invoke, run

BY_HAND = ("record", "--model", "claude-sonnet-4-6", "--no-stage", "--task-types", "1 code")
#: one day of sessions recorded by hand: two in the same minute, two in the same second
STARTS = (
    "2026-12-01T09:00:00Z",
    "2026-12-01T09:30:00Z",
    "2026-12-01T10:15:00Z",
    "2026-12-01T10:15:40Z",
    "2026-12-01T14:05:07Z",
    "2026-12-01T14:05:07Z",
)
#: month, day, hour and minute of the start, and three hex digits of a hash of the id
SHOWN = re.compile(r"\| (1201-\d{4}-[0-9a-f]{3,}) \|")
#: what COST_LOG.md writes for `-` in a cell that must not wrap
NOBREAK = "\u2011"
LINE = re.compile(r"^recorded 2026-12-01 manual (\S+): claude-sonnet-4-6", re.M)


def _record_day() -> list[str]:
    run("init")
    shorts = []
    for i, started in enumerate(STARTS):
        out = run(*BY_HAND, "--started", started, "--notes", f"session {i}")
        found = LINE.search(out)
        assert found, out
        shorts.append(found.group(1))
    return shorts


def test_six_sessions_by_hand_on_one_day_get_six_ids_that_find_them(repo: Path) -> None:
    shorts = _record_day()
    # each record line showed an id no earlier session has, and one that says when it began
    assert len(set(shorts)) == 6
    assert [s[:9] for s in shorts] == [
        "1201-0900",
        "1201-0930",
        "1201-1015",
        "1201-1015",
        "1201-1405",
        "1201-1405",
    ]
    assert all(len(s) <= 13 for s in shorts)
    log = (repo / "COST_LOG.md").read_text().replace(NOBREAK, "-")
    table = [line for line in log.splitlines() if "| manual |" in line and "session " in line]
    shown = [SHOWN.search(line).group(1) for line in table]  # type: ignore[union-attr]
    assert len(shown) == 6 and len(set(shown)) == 6
    assert "20261201" not in log  # six rows in a row of the bare day, before
    # what each record line said is what COST_LOG.md shows after all six: a later session
    # in the same minute changed no earlier one
    assert sorted(shown) == sorted(shorts)
    for short, row in zip(shown, table, strict=True):
        data = json.loads(run("report", "--session", short, "--by", "session", "--json"))
        [found] = data["rows"]
        assert found["short_id"] == short
        note = row.split("|")[-2].strip()  # `session 3`: which record this was
        path = repo / ".costlog/sessions" / f"{found['session']}.yaml"
        assert f'notes: "{note}"' in path.read_text()
    # a short id copied from the rendered table (its hyphens made non-breaking) works too
    assert run("report", "--session", shown[0].replace("-", NOBREAK), "--json")


def test_an_ambiguous_or_unknown_short_id_is_a_usage_error_that_lists_candidates(
    repo: Path,
) -> None:
    _record_day()
    # a prefix of two short ids: the two sessions started at 10:15
    result = invoke(["report", "--session", "1201-1015"])
    assert result.exit_code == EXIT_USAGE
    assert "session '1201-1015' is ambiguous: 1201-1015-" in result.output
    assert result.output.count("(manual/20261201T1015") == 2
    # a prefix of the ids themselves: the four sessions after 10:00
    result = invoke(["report", "--session", "20261201T1"])
    assert result.exit_code == EXIT_USAGE
    assert result.output.count("(manual/20261201T1") == 4
    result = invoke(["report", "--session", "ffffffff"])
    assert result.exit_code == EXIT_USAGE
    assert "no session 'ffffffff' in the ledger" in result.output


def test_a_longer_prefix_and_the_whole_id_find_the_session_too(repo: Path) -> None:
    _record_day()
    [path] = [p for p in (repo / ".costlog/sessions/manual").glob("*.yaml") if "T0930" in p.name]
    whole = f"manual/{path.stem}"
    for query in (whole, path.stem, path.stem[:16]):
        data = json.loads(run("report", "--session", query, "--json"))
        assert data["by"] == "model"  # one session: what it spent on which model
        assert [r["model"] for r in data["rows"]] == ["claude-sonnet-4-6"]
        assert data["totals"]["sessions"] == 1
    by_day = json.loads(run("report", "--session", path.stem, "--by", "day", "--json"))
    assert [r["day"] for r in by_day["rows"]] == ["2026-12-01"]


def test_pr_summary_shows_the_ledgers_short_ids(repo: Path) -> None:
    run("init")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Set up costlog")
    git(repo, "checkout", "-q", "-b", "feature/WRK-1")
    for started in STARTS[:3]:
        run(*BY_HAND, "--started", started)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Work")
    out = run("pr-summary", "--base", "main")
    rows = [line for line in out.splitlines() if line.startswith("| 2026-12-01 | manual |")]
    shown = [row.split("|")[3].strip() for row in rows]
    assert len(shown) == 3 and len(set(shown)) == 3
    log = (repo / "COST_LOG.md").read_text().replace(NOBREAK, "-")
    for short in shown:
        assert f"| {short} |" in log
        assert json.loads(run("report", "--session", short, "--json"))["totals"]["sessions"] == 1
