"""A render of a large ledger works out the routing advice and the estimation guide in a
forked child while it builds the other tables (issue 12, session 7): from
`costlog.render.context.ASIDE_MIN` entries on (lowered to 0 here), COST_LOG.md and
`render --context` are byte for byte what they are without the child; a child that fails
means the parent works both out itself, and none is ever left behind, also when a table
before them fails."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from costlog import analysis, forked
from costlog.errors import CostlogError
from costlog.render import context
from tests_support import REPO_ROOT, child_results, invoke, no_child_left, run

OFF = 10**9  # ASIDE_MIN that never forks


@pytest.fixture
def ledger(repo: Path) -> Path:
    """A repo with 400 varied sessions (benchmarks/make_ledger.py): enough of each task
    type and model for guide rows and routing advice."""
    run("init")
    sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
    try:
        import make_ledger  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(REPO_ROOT / "benchmarks"))
    make_ledger.write_ledger(repo, 400)
    return repo


@pytest.fixture
def answers(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """What every child's `result` gave (None: it did not answer); two cores assumed."""
    return child_results(monkeypatch)


def _render(monkeypatch: pytest.MonkeyPatch, aside_min: int) -> tuple[str, dict[str, Any]]:
    """COST_LOG.md as `costlog render` writes it, and `render --context`."""
    monkeypatch.setattr(context, "ASIDE_MIN", aside_min)
    run("render")
    text = Path("COST_LOG.md").read_text()
    found = json.loads(run("render", "--context"))
    assert no_child_left()
    return text, found


def test_the_child_renders_what_the_parent_alone_does(
    ledger: Path, monkeypatch: pytest.MonkeyPatch, answers: list[object]
) -> None:
    alone = _render(monkeypatch, OFF)
    assert answers == []  # no child below ASIDE_MIN
    with_child = _render(monkeypatch, 0)
    assert len(answers) == 2 and all(a is not None for a in answers)  # render, --context
    assert with_child == alone
    found = alone[1]
    # the two tables the child works out are not empty, so the comparison covers them
    assert found["guide"] and any(found["routing"].values())
    assert "## Cost Estimation Guide" in alone[0]


def test_a_failing_child_leaves_the_work_to_the_parent(
    ledger: Path, monkeypatch: pytest.MonkeyPatch, answers: list[object]
) -> None:
    alone = _render(monkeypatch, OFF)

    def fails(self: context._Aside) -> None:
        raise RuntimeError("only the child runs this")

    monkeypatch.setattr(context._Aside, "_both", fails)
    assert _render(monkeypatch, 0) == alone
    assert answers == [None, None]  # it did not answer; the parent worked both out


def test_a_table_failing_before_them_stops_the_child(
    ledger: Path, monkeypatch: pytest.MonkeyPatch, answers: list[object]
) -> None:
    monkeypatch.setattr(context, "ASIDE_MIN", 0)
    started: list[object] = []
    real_start = forked.start

    def start(work: Any) -> Any:
        child = real_start(work)
        started.append(child)
        return child

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise CostlogError("a table failed")

    monkeypatch.setattr(forked, "start", start)
    monkeypatch.setattr(analysis, "top_anomalies", broken)
    result = invoke(["render"])
    assert result.exit_code != 0 and "a table failed" in result.output
    assert len(started) == 1 and started[0] is not None  # it was running
    assert answers == []  # never waited for: stopped
    assert no_child_left()
