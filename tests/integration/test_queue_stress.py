"""The fast version of stress/queue_kill.py: the post-commit hook SIGKILLed at random
moments while it drains queues of real-format Codex sessions, then one real commit; no
session may be lost, none recorded twice, none left unstaged (the full size, 100 kills of
a 20-session queue, runs from stress/)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests_support import REPO_ROOT

pytestmark = pytest.mark.slow

SCRIPT = REPO_ROOT / "stress" / "queue_kill.py"


def test_ten_random_kills_mid_drain_lose_and_duplicate_nothing() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--kills", "10", "--sessions", "5", "--seed", "7"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    line = done.stdout.splitlines()[0]
    assert line.startswith("ok: 10 kills (") and " 0 of " in line, line
    assert "0 duplicates, 0 ledger files never staged" in line, line
    mid_drain = int(line.split("(")[1].split()[0])
    assert mid_drain >= 3, line  # most kills landed while the queue was claimed
