"""`costlog report --repo ... / --repos-from`: one report over many repositories, with the
numbers each repository's own report gives, and a session shared by a fork counted once."""

from __future__ import annotations

import os
import pickle
from collections import defaultdict
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from fleet_support import Fleet, make_fleet, make_repo, report_json

from costlog import gitrepo
from costlog.ledger.store import Ledger
from costlog.models import ModelUsage, Usage
from tests_support import git, invoke

SUMMED = (
    "sessions",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "requests",
    "unpriced_sessions",
)


@pytest.fixture
def fleet(tmp_path: Path) -> Fleet:
    return make_fleet(tmp_path / "fleet")


def _sum_rows(reports: list[dict], by: str) -> dict[str, dict[str, Decimal]]:
    """Each group's numbers added up over several reports."""
    out: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for data in reports:
        for row in data["rows"]:
            for key in (*SUMMED, "cost_usd", "tasks"):
                out[row[by]][key] += Decimal(str(row[key]))
    return out


@pytest.mark.parametrize("by", ["month", "day", "model", "work-item", "author", "machine"])
def test_totals_and_rows_equal_the_sum_of_each_repos_own_report(fleet: Fleet, by: str) -> None:
    own = [report_json("--by", by, cwd=path) for path in fleet.repos.values()]
    both = report_json("--by", by, *fleet.args())
    for key in SUMMED:
        assert both["totals"][key] == sum(r["totals"][key] for r in own), key
    total = sum(Decimal(r["totals"]["cost_usd"]) for r in own)
    assert Decimal(both["totals"]["cost_usd"]).quantize(Decimal("1e-6")) == total.quantize(
        Decimal("1e-6")
    )
    expected = _sum_rows(own, by)
    got = _sum_rows([both], by)
    assert set(got) == set(expected)
    for group, numbers in expected.items():
        for key, value in numbers.items():
            assert abs(got[group][key] - value) < Decimal("1e-6"), (group, key)


def test_by_repo_is_one_row_per_repo_with_its_own_totals(fleet: Fleet) -> None:
    data = report_json("--by", "repo", *fleet.args())
    rows = {row["repo"]: row for row in data["rows"]}
    assert set(rows) == {"a", "b", "c"}
    for name, path in fleet.repos.items():
        own = report_json(cwd=path)["totals"]
        assert {k: v for k, v in rows[name].items() if k != "repo"} == own
    assert data["totals"]["sessions"] == 6 + 6 + 7
    assert data["totals"]["unpriced_sessions"] == 3  # one per repo: an unknown model


def test_each_repo_is_read_with_its_own_config(fleet: Fleet) -> None:
    """b keeps its ledger elsewhere, and `report` finds it there. Days and months are this
    machine's (UTC in the tests), as in scan, git and ccusage; c's own zone (Auckland) is
    what its COST_LOG.md uses, and `--tz` gives it: c's session at 19:00 UTC on the last day
    before the quarter is in the quarter's first month there."""
    months = report_json("--by", "month", *fleet.args("c"))
    own = report_json("--by", "month", cwd=fleet.repos["c"])
    assert months["rows"] == own["rows"]
    assert [r["sessions"] for r in own["rows"]] == [4, 3]
    assert report_json(*fleet.args("b"))["totals"]["sessions"] == 6
    there = report_json("--by", "month", "--tz", "Pacific/Auckland", *fleet.args("c"))
    assert [r["sessions"] for r in there["rows"]] == [3, 4]


def test_a_fork_counts_a_session_it_shares_with_its_parent_once(fleet: Fleet) -> None:
    """The fork is a clone: all of a's files, plus one session of its own, plus a shared
    session recorded again later (it went on: more requests, a later end)."""
    parent = fleet.repos["a"]
    fork = fleet.root / "a-fork"
    git(fleet.root, "clone", "-q", str(parent), str(fork))
    ledger = Ledger(gitrepo.find(fork), ".costlog/sessions")
    mine = replace(fleet.entries["b"][0], id="claude-code/fork-only-0001")
    ledger.write(mine)
    grown = fleet.entries["a"][2]
    model = next(iter(grown.models))
    more = ModelUsage(50, Usage(input=5, output=100_000), Decimal("1.500000"))
    later = replace(
        grown, ended=grown.ended + timedelta(hours=1), models={model: more}, cost_usd=more.cost_usd
    )
    ledger.write(later)

    data = report_json("--by", "repo", "--repo", str(parent), "--repo", str(fork))
    own_parent = report_json(cwd=parent)["totals"]
    rows = {row["repo"]: row for row in data["rows"]}
    assert data["totals"]["sessions"] == own_parent["sessions"] + 1
    expected = Decimal(own_parent["cost_usd"]) - grown.cost_usd + later.cost_usd + mine.cost_usd
    assert Decimal(data["totals"]["cost_usd"]) == expected
    # the shared session is the parent's (listed first), in its later version
    assert rows["a"]["sessions"] == own_parent["sessions"]
    assert rows["a-fork"]["sessions"] == 1
    assert Decimal(rows["a-fork"]["cost_usd"]) == mine.cost_usd

    flipped = report_json("--by", "repo", "--repo", str(fork), "--repo", str(parent))
    rows = {row["repo"]: row for row in flipped["rows"]}
    assert flipped["totals"] == data["totals"]
    assert rows["a-fork"]["sessions"] == own_parent["sessions"] + 1
    assert rows["a"]["sessions"] == 0
    # the same repository twice is one
    twice = report_json("--repo", str(parent), "--repo", str(parent) + "/")
    assert twice["totals"] == own_parent


def test_repos_from_a_file_with_comments_relative_paths_and_globs(fleet: Fleet) -> None:
    (fleet.root / "lists").mkdir()
    listing = fleet.root / "lists" / "repos.txt"
    listing.write_text("# our repositories\n\n../a\n  ../[bc]  \n# ../nowhere\n")
    (fleet.root / "notes").mkdir()  # a glob match that is no repository is skipped
    from_file = report_json("--repos-from", str(listing))
    direct = report_json(*fleet.args())
    assert from_file == direct
    globbed = report_json("--repo", str(fleet.root / "*"))
    assert globbed["totals"] == direct["totals"]


def test_home_is_expanded(fleet: Fleet, isolated_home: Path) -> None:
    make_repo(isolated_home / "src", "d", fleet.entries["a"][:1])
    data = report_json("--by", "repo", "--repo", "~/src/d")
    assert [row["repo"] for row in data["rows"]] == ["d"]


@pytest.mark.parametrize(
    ("make", "said"),
    [
        (lambda root: root / "missing", "no such directory"),
        (lambda root: (root / "plain").mkdir() or root / "plain", "not a git repository"),
        (
            lambda root: git(root, "init", "-q", "no-costlog") and root / "no-costlog",
            "has no costlog ledger",
        ),
    ],
    ids=["missing", "not-git", "no-ledger"],
)
def test_a_path_that_is_no_costlog_repo_is_a_one_line_error_naming_it(
    fleet: Fleet, make, said: str
) -> None:
    path = make(fleet.root)
    result = invoke(["report", "--repo", str(fleet.repos["a"]), "--repo", str(path)])
    assert result.exit_code == 2  # a bad option value: a usage error (issue 15, item 17)
    assert result.output.count("\n") == 1
    assert str(path) in result.output and said in result.output


def test_a_glob_matching_no_repo_is_an_error(fleet: Fleet) -> None:
    result = invoke(["report", "--repo", str(fleet.root / "zz*")])
    assert result.exit_code == 1 and "matches no git repository" in result.output


def test_a_bad_config_or_ledger_file_names_its_repo(fleet: Fleet) -> None:
    b = fleet.repos["b"]
    (b / ".costlog" / "config.yaml").write_text("ledger_dir: ../../elsewhere\n")
    result = invoke(["report", *fleet.args()])
    assert result.exit_code == 1
    assert str(b / ".costlog" / "config.yaml") in result.output
    assert "ledger_dir" in result.output

    (b / ".costlog" / "config.yaml").write_text("ledger_dir: costs/ledger\n")
    bad = next((b / "costs" / "ledger").rglob("*.yaml"))
    bad.write_text(bad.read_text().replace("schema: 1", "schema: 99"))
    result = invoke(["report", *fleet.args()])
    assert result.exit_code == 1
    assert str(bad) in result.output and "newer" in result.output


def test_repos_with_the_same_directory_name_get_distinct_labels(fleet: Fleet) -> None:
    one = make_repo(fleet.root / "team-x", "app", fleet.entries["a"][:2])
    two = make_repo(fleet.root / "team-y", "app", fleet.entries["b"][:1])
    data = report_json("--by", "repo", "--repo", str(one), "--repo", str(two))
    assert sorted(row["repo"] for row in data["rows"]) == ["team-x/app", "team-y/app"]


class _Planted:
    """A pickle that makes a directory when loaded: a stand-in for any code."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return os.mkdir, (str(self.marker),)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs chown")
def test_a_parse_cache_someone_else_wrote_is_never_unpickled(fleet: Fleet) -> None:
    """The parse cache lives in the git dir; a repository another user owns (or planted)
    may hold one, and unpickling runs code. It is ignored and the ledger read from files."""
    marker = fleet.root / "pwned"
    own = report_json(cwd=fleet.repos["a"])
    cache = fleet.repos["a"] / ".git" / "costlog" / "ledger-cache.pickle"
    cache.write_bytes(pickle.dumps(_Planted(marker)))
    os.chown(cache, 4242, 4242)
    assert report_json(*fleet.args("a")) == own
    assert not marker.exists()


def test_by_repo_in_one_repo_and_plain_report_unchanged(fleet: Fleet) -> None:
    a = fleet.repos["a"]
    data = report_json("--by", "repo", cwd=a)
    assert [row["repo"] for row in data["rows"]] == ["a"]
    assert report_json(cwd=a) == report_json(*fleet.args("a"))


def test_an_unreadable_list_of_repos_is_an_error_naming_it(fleet: Fleet) -> None:
    missing = fleet.root / "nope.txt"
    result = invoke(["report", "--repos-from", str(missing)])
    assert result.exit_code == 1 and str(missing) in result.output
    listing = fleet.root / "list.txt"
    listing.write_text("a\n\nnowhere\n")
    result = invoke(["report", "--repos-from", str(listing)])
    assert result.exit_code == 1
    assert str(fleet.root / "nowhere") in result.output and "no such directory" in result.output
