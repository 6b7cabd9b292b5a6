"""Helpers tests import (conftest.py holds only fixtures)."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pytest
    from click.testing import Result

#: the checkout's top directory, and the test data beside this file
REPO_ROOT = Path(__file__).resolve().parent.parent
FIXTURES_DIR = Path(__file__).resolve().parent / "fixtures"
GOLDEN_DIR = Path(__file__).resolve().parent / "golden"


def git(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=check, capture_output=True, text=True, env=os.environ.copy()
    )


def invoke(args: Sequence[str], **kwargs: Any) -> Result:
    """costlog's CLI in-process, the one way tests call it: a bug raises out of the test
    (catch_exceptions=False) instead of reading as an exit code."""
    from click.testing import CliRunner

    from costlog.cli import cli

    kwargs.pop("catch_exceptions", None)
    return CliRunner().invoke(cli, list(args), catch_exceptions=False, **kwargs)


def run(*args: str, code: int = 0) -> str:
    """costlog's CLI in-process; asserts the exit code and returns what it printed."""
    result = invoke(args)
    assert result.exit_code == code, result.output
    return result.output


def scan_json(agent: str, *args: str, memo: bool = True) -> str:
    """`costlog scan --agent AGENT --json --tz UTC ARGS` in-process, its stdout (the exit
    code asserted); `memo` False: answered without the kept results (COSTLOG_NO_SCAN_MEMO)."""
    if not memo:
        os.environ["COSTLOG_NO_SCAN_MEMO"] = "1"
    try:
        result = invoke(["scan", "--agent", agent, "--json", "--tz", "UTC", *args])
    finally:
        os.environ.pop("COSTLOG_NO_SCAN_MEMO", None)
    assert result.exit_code == 0, result.output
    return result.stdout


def logged_session(
    number: int,
    tokens: tuple[int, int, int, int],
    cost: Any = None,
    *,
    version: str | None = None,
    model: str = "claude-sonnet-4-6",
    day: str = "2026-11-03",
) -> str:
    """A ledger file as a logged Claude Code session writes it: one model (`tokens`:
    input, output, cache read, 5-minute cache write), no `methods`; priced from the
    bundled table unless `cost` is given, under table `version` (default: the bundled)."""
    from datetime import date

    from costlog.ledger.format import MICRO
    from costlog.models import Usage
    from costlog.pricing.rates import token_cost
    from costlog.pricing.table import PriceTable

    table = PriceTable.load()
    if cost is None:
        prices = table.model(model)
        assert prices is not None
        cost = token_cost(Usage(*tokens), prices.at(date.fromisoformat(day))).quantize(MICRO)
    inp, out, read, write = tokens
    return (
        "schema: 1\n"
        f"id: claude-code/sess-{number:04d}\n"
        "agent: claude-code\n"
        f'started: "{day}T10:00:00Z"\n'
        f'ended: "{day}T10:30:00Z"\n'
        "source: actual\n"
        f'pricing: {{table: "{version or table.version}"}}\n'
        "models:\n"
        f"  {model}: {{requests: 3, input: {inp}, output: {out}, cache_read: {read}, "
        f'cache_write_5m: {write}, cache_write_1h: 0, reasoning: 0, cost_usd: "{cost}", '
        "source: actual}\n"
        f'cost_usd: "{cost}"\n'
    )


def child_results(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """From now on, what every forked child's `result` gives (None: it did not answer), in
    order; two cores assumed, so that a child is started on a one-core runner too."""
    from costlog import forked

    seen: list[object] = []
    real = forked.Child.result

    def spy(self: forked.Child[Any]) -> Any:
        found = real(self)
        seen.append(found)
        return found

    monkeypatch.setattr(forked.Child, "result", spy)
    monkeypatch.setattr(forked, "cores", lambda: 2)
    return seen


def no_child_left() -> bool:
    """This process has no child process left (running or unreaped)."""
    try:
        os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def read_rollout(path: Path, collect: bool = False) -> tuple[Any, Any, Any, list[str]]:
    """One Codex rollout read whole by `codex.reader.Reader` (`collect`: with the
    attribution facts): the offset read to, the cacheable state, the end time, warnings."""
    from costlog.sources.codex.reader import Reader
    from costlog.sources.codex.rollout import FileData, read_head

    data = FileData(head=read_head(path))
    warnings: list[str] = []
    with open(path, "rb") as fh:
        offset, state = Reader(data, warnings.append, collect).read(fh, 0)
    return offset, state, data.ended, warnings


@contextlib.contextmanager
def codex_lines_as_dicts(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Within it, a Codex read makes no struct decode at all: every line is parsed as a
    dict, the reading the typed decodes must give the same results as. Yields the
    patching context, for more patches undone with these."""
    from costlog.sources import _lines
    from costlog.sources.codex import reader as codex_reader

    with monkeypatch.context() as m:
        m.setattr(codex_reader.Reader, "_block", lambda _self, _block: False)
        m.setattr(codex_reader, "_unread", lambda _raw: None)
        m.setattr(codex_reader, "loads_fast", _lines.loads)
        yield m
