"""`costlog check` and `render` through the program itself (issue 12, session 4).

- `python -m costlog` leaves by os._exit once its output is flushed (costlog.cli.run):
  the exit code, stdout and stderr stay what they were; an atexit handler, as coverage
  or multiprocessing register, still runs, because the program then exits as usual.
- the commonest cost check (one model, its tokens at its first day's rates) is integer
  arithmetic (costlog.ledger.verify._Usual): it answers as the Decimal arithmetic does,
  and a forged cost still fails.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from costlog.cli import held
from costlog.ledger.format import MICRO
from costlog.ledger.verify import _near, _Usual
from costlog.models import Usage
from costlog.pricing.rates import Rates, token_cost
from tests_support import REPO_ROOT, git, invoke, logged_session, run

MODEL = "claude-sonnet-4-6"
DAY = date(2026, 11, 3)


def _session(number: int, tokens: tuple[int, int, int, int], cost: Decimal | None = None) -> str:
    """A ledger file as a logged Claude Code session writes it: one model, no `methods`."""
    return logged_session(number, tokens, cost, model=MODEL, day=DAY.isoformat())


@pytest.fixture
def ledger(repo: Path) -> Path:
    """A repo with three logged sessions and its COST_LOG.md, committed."""
    run("init")
    folder = repo / ".costlog" / "sessions" / "claude-code"
    folder.mkdir(parents=True, exist_ok=True)
    for number, tokens in enumerate([(120, 4_500, 880_000, 12_000), (7, 31, 0, 0), (0, 9, 5, 1)]):
        (folder / f"sess-{number:04d}.yaml").write_text(_session(number, tokens))
    run("render")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "ledger")
    return repo


def _program(cwd: Path, *args: str, code: str = "") -> subprocess.CompletedProcess[str]:
    """`python -m costlog ARGS` (or, with `code`, that Python run before costlog.cli.run)
    with its output on pipes, so what is not flushed would be lost."""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    env.pop("PYTHONUNBUFFERED", None)  # buffered, as a pipe is by default
    if code:
        script = (
            f"{code}\nimport sys\nfrom costlog.cli import run\n"
            "sys.argv = ['costlog', *sys.argv[1:]]\nrun()\n"
        )
        argv = [sys.executable, "-c", script, *args]
    else:
        argv = [sys.executable, "-m", "costlog", *args]
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, env=env, check=False)


def test_check_and_render_print_and_exit_as_in_process(ledger: Path) -> None:
    done = _program(ledger, "check")
    assert (done.returncode, done.stdout, done.stderr) == (
        0,
        "ok: COST_LOG.md matches 3 ledger sessions\n",
        "",
    )
    done = _program(ledger, "render")
    assert (done.returncode, done.stdout, done.stderr) == (0, "COST_LOG.md unchanged\n", "")
    log = ledger / "COST_LOG.md"
    text = log.read_text()
    assert "sessions, $" in text
    log.write_text(text.replace("sessions, $", "sessions, about $", 1))
    done = _program(ledger, "check")
    in_process = invoke(["check"])
    assert done.returncode == in_process.exit_code == 3
    assert done.stdout == ""
    assert "differs from the ledger" in done.stderr
    assert done.stderr == in_process.output


def test_a_forged_cost_fails_the_check_through_the_program(ledger: Path) -> None:
    path = ledger / ".costlog" / "sessions" / "claude-code" / "sess-0001.yaml"
    text = path.read_text()
    cost = text.rsplit('cost_usd: "', 1)[1].split('"')[0]
    forged = str(Decimal(cost) - Decimal("0.000002"))
    path.write_text(text.replace(f'"{cost}"', f'"{forged}"'))
    run("render")  # the file matches the forged ledger: only the cost check can tell
    done = _program(ledger, "check")
    assert done.returncode == 3, done.stderr
    assert f"{MODEL} costs ${forged}, but its tokens cost ${cost}" in done.stderr
    assert "sess-0001.yaml" in done.stderr


def test_output_not_yet_flushed_is_written_before_the_program_leaves(ledger: Path) -> None:
    """A failing check prints to stderr only: stdout is left as the probe left it, with
    its text still in the buffer of a pipe."""
    (ledger / "COST_LOG.md").write_text("stale\n")
    done = _program(ledger, "check", code="print('printed before, still buffered', end='')")
    assert done.returncode == 3
    assert done.stdout == "printed before, still buffered"
    assert "differs from the ledger" in done.stderr


def test_an_atexit_handler_still_runs_and_the_code_is_kept(ledger: Path) -> None:
    (ledger / "COST_LOG.md").write_text("stale\n")
    handler = "import atexit, sys\natexit.register(lambda: sys.stdout.write('handler ran\\n'))"
    done = _program(ledger, "check", code=handler)
    assert done.returncode == 3
    assert done.stdout == "handler ran\n"


def test_a_running_thread_is_still_joined(ledger: Path) -> None:
    thread = (
        "import threading, time, sys\n"
        "def late():\n"
        "    time.sleep(1.5)\n"  # past the end of `check` on a slow machine too
        "    sys.stdout.write('thread done\\n')\n"
        "threading.Thread(target=late).start()"
    )
    done = _program(ledger, "check", code=thread)
    assert done.returncode == 0
    # the thread's output is not lost: the process waited for it before exiting
    assert "thread done\n" in done.stdout


def test_a_usage_error_keeps_its_code(ledger: Path) -> None:
    done = _program(ledger, "check", "--no-such-option")
    assert done.returncode == 2
    assert "No such option" in done.stderr


def test_nothing_is_held_when_the_cli_runs_in_process(ledger: Path) -> None:
    assert invoke(["check"]).exit_code == 0
    assert held() is None


# ---------------------------------------------------------------- the integer check


def _rates(*values: str) -> Rates:
    return Rates(DAY, *(Decimal(v) for v in values))


RATES = [
    _rates("3", "15", "0.30", "3.75", "6"),
    _rates("0.8", "4", "0.08", "1", "1.6"),
    _rates("1.25", "10", "0.125", "0", "0"),
    _rates("0.0000001", "0.1234567", "2.5E-3", "7", "1E+1"),  # a repo's own prices
]


@pytest.mark.parametrize("rates", RATES, ids=["sonnet", "haiku", "gpt", "odd"])
def test_the_integer_check_answers_as_the_decimal_one(rates: Rates) -> None:
    usual = _Usual.of(rates)
    assert usual.scaled is not None
    pick = random.Random(12)
    for _ in range(3000):
        usage = Usage(
            *(pick.choice([0, pick.randrange(10 ** pick.randrange(1, 10))]) for _ in "12345")
        )
        exact = token_cost(usage, rates)
        stored = exact.quantize(MICRO) + MICRO * pick.choice([-2, -1, 0, 1, 2])
        for cost in (stored, stored + Decimal("0.0000005"), exact):
            assert usual.near(usage, cost) == _near(cost, exact), (usage, cost)


def test_a_half_micro_dollar_rounds_to_even_as_decimal_does() -> None:
    rates = _rates("0.5", "0", "0", "0", "0")  # 1 token: 0.5 micro-dollars
    usual = _Usual.of(rates)
    for tokens in range(1, 12):
        usage = Usage(input=tokens)
        exact = token_cost(usage, rates)
        for cost in (exact.quantize(MICRO) + k * MICRO for k in (-2, -1, 0, 1, 2)):
            assert usual.near(usage, cost) == _near(cost, exact)


def test_rates_the_integers_cannot_hold_take_the_decimal_way() -> None:
    rates = _rates("1E-30", "15", "0", "0", "0")
    usual = _Usual.of(rates)
    assert usual.scaled is None
    usage = Usage(input=10**12, output=3)
    assert usual.near(usage, Decimal("0.000045"))
    assert not usual.near(usage, Decimal("0.000048"))


def test_a_crash_still_leaves_its_traceback_in_the_log(
    ledger: Path, isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`traceback` is imported only when a bug needs it (costlog.cli.errors._crash_log)."""
    from costlog.commands import check as check_cmd

    def broken(*args: object, **kwargs: object) -> str:
        raise RuntimeError("a bug")

    monkeypatch.delenv("COSTLOG_DEBUG", raising=False)
    monkeypatch.setattr(check_cmd, "check", broken)
    result = invoke(["check"])
    assert result.exit_code == 1
    assert "internal error: RuntimeError: a bug" in result.output
    log = (isolated_home / ".cache" / "costlog" / "errors.log").read_text()
    assert "Traceback (most recent call last)" in log
    assert "RuntimeError: a bug" in log
    assert log.startswith("--- 20") and " costlog " in log  # the time and version line
