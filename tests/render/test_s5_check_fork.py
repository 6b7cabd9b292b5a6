"""`costlog check` verifies the costs in a forked child while it renders (issue 12,
session 5): from `costlog.render.output.FORK_MIN` entries on (lowered to 0 here), the
result is what it is without the child, byte for byte: an `ok:` line, a forged cost's
failure (also when COST_LOG.md is stale too: the verification's failure wins), the note
on a repo price file; a child that dies means the parent verifies, and no child is ever
left behind. `costlog.forked` itself: a result, or None whenever it did not come back whole.
"""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from costlog import forked
from costlog.errors import CheckFailed, CostlogError
from costlog.ledger.format import MICRO
from costlog.pricing.table import PriceTable
from costlog.render import output
from costlog.safefs import UnsafePath
from tests_support import (
    REPO_ROOT,
    child_results,
    git,
    invoke,
    logged_session,
    no_child_left,
    run,
)

MODEL = "claude-sonnet-4-6"
DAY = date(2026, 11, 3)
TOKENS = [(120, 4_500, 880_000, 12_000), (7, 31, 0, 0), (0, 9, 5, 1)]
FOLDER = Path(".costlog/sessions/claude-code")
OFF = 10**9  # FORK_MIN that never forks


def _session(number: int, tokens: tuple[int, int, int, int], *, repo_prices: bool = False) -> str:
    """A ledger file as a logged Claude Code session writes it (with `repo_prices`:
    priced from the repo's own price file, which makes the model free)."""
    if not repo_prices:
        return logged_session(number, tokens)
    free = Decimal(0).quantize(MICRO)
    return logged_session(number, tokens, free, version=f"{PriceTable.load().version}+repo")


def _ledger(repo: Path, *, repo_prices: bool = False) -> Path:
    run("init")
    if repo_prices:
        (repo / ".costlog" / "prices.yaml").write_text(
            f"models:\n  {MODEL}:\n    provider: anthropic\n    prices:\n"
            "      - {from: 2026-01-01, input: 0, output: 0, cache_read: 0, cache_write_5m: 0,"
            " cache_write_1h: 0}\n"
        )
    (repo / FOLDER).mkdir(parents=True, exist_ok=True)
    for number, tokens in enumerate(TOKENS):
        text = _session(number, tokens, repo_prices=repo_prices)
        (repo / FOLDER / f"sess-{number:04d}.yaml").write_text(text)
    run("render")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "ledger")
    return repo


@pytest.fixture
def ledger(repo: Path) -> Path:
    """A repo with three logged sessions and its COST_LOG.md, committed."""
    return _ledger(repo)


def _forge(repo: Path, number: int = 0) -> str:
    """Lower one session's cost by a tenth of a cent (both lines); the forged cost."""
    path = repo / FOLDER / f"sess-{number:04d}.yaml"
    text = path.read_text()
    cost = text.rsplit('cost_usd: "', 1)[1].split('"')[0]
    forged = str(Decimal(cost) - Decimal("0.001"))
    path.write_text(text.replace(f'"{cost}"', f'"{forged}"'))
    return forged


@pytest.fixture
def answers(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """What every child's `result` gave (None: it did not answer); two cores assumed."""
    return child_results(monkeypatch)


def _check(monkeypatch: pytest.MonkeyPatch, fork_min: int) -> tuple[int, str, str]:
    monkeypatch.setattr(output, "FORK_MIN", fork_min)
    result = invoke(["check"])
    assert no_child_left()
    return result.exit_code, result.stdout, result.stderr


def _both(monkeypatch: pytest.MonkeyPatch, answers: list[object]) -> tuple[int, str, str]:
    """`costlog check` with the child and without; asserts they agree and that the child
    answered; what it printed."""
    forked_run = _check(monkeypatch, 0)
    assert len(answers) == 1 and answers[0] is not None
    alone = _check(monkeypatch, OFF)
    assert len(answers) == 1  # no child below FORK_MIN
    assert forked_run == alone
    return forked_run


def test_a_clean_ledger_passes_with_the_child(
    ledger: Path, monkeypatch: pytest.MonkeyPatch, answers: list[object]
) -> None:
    assert _both(monkeypatch, answers) == (0, "ok: COST_LOG.md matches 3 ledger sessions\n", "")
    assert answers == [([], None)]  # no notes, no failure


def test_a_forged_cost_fails_the_same_with_the_child(
    ledger: Path, monkeypatch: pytest.MonkeyPatch, answers: list[object]
) -> None:
    forged = _forge(ledger)
    run("render")  # COST_LOG.md matches the forged ledger: only verification can tell
    code, out, err = _both(monkeypatch, answers)
    assert (code, out) == (3, "")
    assert f"{MODEL} costs ${forged}, but its tokens cost $" in err
    assert "sess-0000.yaml:" in err  # the file and line of the cost came back
    (answer,) = answers
    assert isinstance(answer, tuple) and answer[0] == []
    failure = answer[1]
    assert isinstance(failure, CheckFailed) and failure.line is not None


def test_the_verification_failure_wins_over_a_stale_cost_log(
    ledger: Path, monkeypatch: pytest.MonkeyPatch, answers: list[object]
) -> None:
    forged = _forge(ledger)
    log = ledger / "COST_LOG.md"  # and COST_LOG.md stale too
    log.write_text(log.read_text().replace("sessions, $", "sessions, about $", 1))
    code, out, err = _both(monkeypatch, answers)
    assert (code, out) == (3, "")
    assert f"{MODEL} costs ${forged}" in err and "differs from the ledger" not in err


def test_a_stale_cost_log_alone_fails_the_same(
    ledger: Path, monkeypatch: pytest.MonkeyPatch, answers: list[object]
) -> None:
    log = ledger / "COST_LOG.md"
    log.write_text(log.read_text().replace("sessions, $", "sessions, about $", 1))
    code, out, err = _both(monkeypatch, answers)
    assert (code, out) == (3, "")
    assert "differs from the ledger" in err


def test_a_symlinked_cost_log_is_still_an_error_after_verifying(
    ledger: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, answers: list[object]
) -> None:
    """document()'s UnsafePath (exit 1) is kept until the costs are verified, then raised."""
    outside = tmp_path / "outside.md"
    outside.write_text((ledger / "COST_LOG.md").read_text())
    (ledger / "COST_LOG.md").unlink()
    (ledger / "COST_LOG.md").symlink_to(outside)
    code, out, err = _both(monkeypatch, answers)
    assert (code, out) == (1, "") and "symbolic link" in err
    _forge(ledger)  # a forged cost is reported first, as when verification ran first
    code, out, err = _both(monkeypatch, _reset(answers))
    assert code == 3 and "costs $" in err


def _reset(answers: list[object]) -> list[object]:
    answers.clear()
    return answers


def test_the_repo_price_note_is_shown_the_same(
    repo: Path, monkeypatch: pytest.MonkeyPatch, answers: list[object]
) -> None:
    _ledger(repo, repo_prices=True)
    note = f"note: 3 entries priced from .costlog/prices.yaml ({MODEL} below the bundled price)"
    code, out, err = _both(monkeypatch, answers)
    assert (code, out, err) == (0, "ok: COST_LOG.md matches 3 ledger sessions\n", note + "\n")
    log = repo / "COST_LOG.md"  # shown when the check then fails too
    log.write_text(log.read_text().replace("sessions, $", "sessions, about $", 1))
    code, out, err = _both(monkeypatch, _reset(answers))
    assert code == 3 and err.splitlines()[0] == note and "differs from the ledger" in err


def test_no_child_on_one_core(
    ledger: Path, monkeypatch: pytest.MonkeyPatch, answers: list[object]
) -> None:
    monkeypatch.setattr(forked, "cores", lambda: 1)
    assert _check(monkeypatch, 0) == (0, "ok: COST_LOG.md matches 3 ledger sessions\n", "")
    assert answers == []  # verified here: no child was started


def _die(how: str) -> Callable[[], None]:
    def die() -> None:
        if how == "killed":
            os.kill(os.getpid(), signal.SIGKILL)
        os._exit(0 if how == "silent" else 5)

    return die


@pytest.mark.parametrize("how", ["killed", "silent", "failed"])
@pytest.mark.parametrize("forge", [False, True])
def test_a_child_that_dies_leaves_the_verification_to_the_parent(
    ledger: Path,
    monkeypatch: pytest.MonkeyPatch,
    answers: list[object],
    how: str,
    forge: bool,
) -> None:
    forged = _forge(ledger) if forge else None
    if forge:
        run("render")
    alone = _check(monkeypatch, OFF)
    parent = os.getpid()
    real = output._verify_costs

    def verify(*args: Any) -> None:
        if os.getpid() != parent:  # in the child: die without an answer
            _die(how)()
        real(*args)

    monkeypatch.setattr(output, "_verify_costs", verify)
    assert _check(monkeypatch, 0) == alone
    assert answers == [None]  # there was a child, and it did not answer
    if forged:
        assert alone[0] == 3 and f"costs ${forged}" in alone[2]
    else:
        assert alone[0] == 0


def test_the_child_is_killed_when_the_parent_fails_first(
    ledger: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An interrupt while the document is built stops the (slow) child and reaps it."""
    from costlog.commands.context import repo_and_config

    parent = os.getpid()
    real = output._verify_costs

    def slow(*args: Any) -> None:
        if os.getpid() != parent:
            time.sleep(60)
        real(*args)

    def interrupted(*args: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(output, "_verify_costs", slow)
    monkeypatch.setattr(output, "_document", interrupted)
    monkeypatch.setattr(output, "FORK_MIN", 0)
    monkeypatch.setattr(forked, "cores", lambda: 2)
    repo, config = repo_and_config()
    began = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        output.check(repo, config, [])
    assert time.monotonic() - began < 30
    assert no_child_left()


def _program(cwd: Path, fork_min: int) -> tuple[int, str, str]:
    """`costlog check` as `python -m costlog` runs it (costlog.cli.run: it leaves by
    os._exit), with FORK_MIN set first; its output on pipes, buffered."""
    script = (
        f"import costlog.render.output as o\no.FORK_MIN = {fork_min}\nimport sys\n"
        "from costlog.cli import run\nsys.argv = ['costlog', 'check']\nrun()\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    env.pop("PYTHONUNBUFFERED", None)
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=cwd, capture_output=True, text=True, env=env
    )
    return done.returncode, done.stdout, done.stderr


def test_the_program_prints_the_same_with_the_child(ledger: Path) -> None:
    clean = _program(ledger, 0)
    assert clean == _program(ledger, OFF) == (0, "ok: COST_LOG.md matches 3 ledger sessions\n", "")
    forged = _forge(ledger)
    failed = _program(ledger, 0)
    assert failed == _program(ledger, OFF)
    assert failed[0] == 3 and f"costs ${forged}" in failed[2]


# costlog.forked itself


@pytest.fixture(autouse=True)
def _two_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two cores, so that `forked.start` starts a child on a one-core runner too (a test
    of one core says so itself)."""
    monkeypatch.setattr(forked, "cores", lambda: 2)


def _forked(work: Callable[[], Any]) -> Any:
    child = forked.start(work)
    assert child is not None
    with child:
        found = child.result()
    assert no_child_left()
    return found


def test_a_result_and_a_failure_as_a_result_come_back_whole() -> None:
    big = ["x" * 1000] * 1000  # more than a pipe holds at once
    assert _forked(lambda: ("notes", big)) == ("notes", big)
    failure = CheckFailed("a cost", path=Path("s.yaml"), line=7, hint="restore it", exit_code=9)
    back = _forked(lambda: failure)
    assert type(back) is CheckFailed
    assert (back.message, back.path, back.line, back.hint, back.exit_code) == (
        "a cost",
        Path("s.yaml"),
        7,
        "restore it",
        9,
    )
    assert str(back) == str(failure) and back.one_line() == failure.one_line()
    unsafe = _forked(lambda: UnsafePath("COST_LOG.md is a symlink", path="COST_LOG.md"))
    assert type(unsafe) is UnsafePath and unsafe.exit_code == UnsafePath("x").exit_code
    assert isinstance(unsafe, CostlogError) and unsafe.path == "COST_LOG.md"


class _Unpickled:
    """Pickles, but fails to unpickle (a garbled answer)."""

    def __reduce__(self) -> tuple[Callable[[], None], tuple[()]]:
        return _refuse, ()


def _refuse() -> None:
    raise ValueError("garbled")


def _raise() -> None:
    raise RuntimeError("in the child")


@pytest.mark.parametrize(
    "work",
    [
        _raise,
        _die("killed"),
        _die("silent"),
        _die("failed"),
        lambda: lambda: None,  # a result that does not pickle
        _Unpickled,
    ],
    ids=["raised", "killed", "silent", "failed", "unpicklable", "garbled"],
)
def test_no_whole_answer_is_none(work: Callable[[], Any]) -> None:
    assert _forked(work) is None


def test_stop_kills_a_child_not_yet_done() -> None:
    child = forked.start(lambda: time.sleep(60))
    assert child is not None
    began = time.monotonic()
    child.stop()
    assert time.monotonic() - began < 30 and no_child_left()
    assert child.result() is None  # nothing more, and nothing to reap


def test_no_child_without_fork_or_with_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    monkeypatch.setattr(threading, "active_count", lambda: 2)
    assert forked.start(lambda: 1) is None
    monkeypatch.undo()
    monkeypatch.delattr(os, "fork")
    assert forked.start(lambda: 1) is None


def test_a_cut_answer_is_none(monkeypatch: pytest.MonkeyPatch) -> None:
    """A length that does not match what arrived (a child killed mid-write)."""
    real = forked._read_all
    monkeypatch.setattr(forked, "_read_all", lambda pipe: real(pipe)[:-1])
    assert _forked(lambda: "answer") is None
    monkeypatch.setattr(forked, "_read_all", lambda pipe: real(pipe) + pickle.dumps(1))
    assert _forked(lambda: "answer") is None
