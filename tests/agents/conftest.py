"""The real agent CLIs against mock APIs (issue 16). Every test here carries the `agents`
marker (select with `-m agents`, leave out with `-m "not agents"`) and a deadline
(`agent_timeout`), and skips, saying why, when npm or loopback is not available."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

import pytest
from agent_harness import Mock, Repo, loopback_usable, make_repo

DEFAULT_DEADLINE = 180


def _ours(item: pytest.Item) -> bool:
    return Path(__file__).resolve().parent in Path(str(item.path)).resolve().parents


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Marks this suite `agents`, and leaves it out of a plain run: it takes minutes and
    installs the CLIs on first use. `-m agents`, naming tests/agents, or
    COSTLOG_AGENT_TESTS=1 (what .ci/run sets when npm is reachable) puts it in."""
    ours = [item for item in items if _ours(item)]
    for item in ours:
        item.add_marker(pytest.mark.agents)
    here = Path(__file__).resolve().parent
    named = [Path(str(a).split("::")[0]).resolve() for a in config.args]
    wanted = (
        os.environ.get("COSTLOG_AGENT_TESTS") == "1"
        or "agents" in (config.getoption("markexpr") or "")
        or (bool(named) and all(p == here or here in p.parents for p in named))
    )
    if ours and not wanted:
        config.hook.pytest_deselected(items=ours)
        items[:] = [item for item in items if not _ours(item)]


class DeadlineExceeded(AssertionError):
    pass


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Each client test fails after its `agent_timeout` seconds instead of hanging CI."""
    marker = item.get_closest_marker("agent_timeout")
    if not _ours(item):
        yield
        return
    seconds = int(marker.args[0]) if marker else DEFAULT_DEADLINE

    def expire(signum: int, frame: FrameType | None) -> None:
        raise DeadlineExceeded(f"{item.name} ran over its {seconds} s deadline")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def loopback() -> None:
    why = loopback_usable()
    if why:
        pytest.skip(why)


@pytest.fixture
def mock_factory(tmp_path: Path, loopback: None) -> Iterator[object]:
    """Starts mocks for a test and kills each by PID when the test ends."""
    started: list[Mock] = []

    def start(plan: dict[str, object], name: str = "mock") -> Mock:
        mock = Mock(tmp_path / name, dict(plan)).start()
        started.append(mock)
        return mock

    yield start
    for mock in started:
        mock.stop()


@pytest.fixture
def agent_repo(tmp_path: Path) -> object:
    def build(agent: str | None) -> Repo:
        return make_repo(tmp_path, agent)

    return build
