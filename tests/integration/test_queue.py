"""The SessionEnd queue is at least once: a post-commit hook killed at any point loses no
session and records none twice; a session that cannot be recorded never blocks the rest.

Sessions are real-format Codex rollouts (tests/fixtures/codex/real), queued through the real
SessionEnd hook; the hook is killed with SIGKILL at a chosen point (a small script wraps
one costlog function to kill its own process there), then a real `git commit` runs the
installed hook to completion.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from costlog import gitrepo as repo_mod
from costlog.integration import hookrun, queue
from costlog.ledger.store import Ledger
from tests_support import FIXTURES_DIR, git, run

#: hooks killed at chosen points: long-running by nature (the full suite runs them)
pytestmark = pytest.mark.slow

FIXTURES = FIXTURES_DIR / "codex" / "real"
ROLLOUT = FIXTURES / "harness-recall__codex_with_tools.jsonl"
FIXTURE_ID = "019cd000-1111-2222-3333-444444444444"

#: runs the post-commit hook, SIGKILLing itself at one point (argv: POINT [ARG])
KILLER = r"""
import os, signal, sys
from costlog import gitrepo
from costlog.recording import auto as autorecord
from costlog.integration import hookrun
from costlog.integration import queue

point = sys.argv[1]
arg = sys.argv[2] if len(sys.argv) > 2 else ""
if os.environ.get("TEST_MAX_INTERRUPTED"):
    queue.MAX_INTERRUPTED = int(os.environ["TEST_MAX_INTERRUPTED"])

def die():
    sys.stderr.flush()
    os.kill(os.getpid(), signal.SIGKILL)

if point == "after-claim":          # the queue is claimed, nothing recorded yet
    claim = queue.claim
    def claimed(*a, **k):
        taken = claim(*a, **k)
        die()
    queue.claim = claimed
elif point == "after-record":        # the Nth entry is in the ledger, its `done` not noted
    record, seen = autorecord.record_session, []
    def recorded(*a, **k):
        out = record(*a, **k)
        seen.append(1)
        if len(seen) == int(arg):
            die()
        return out
    autorecord.record_session = recorded
elif point == "before-stage":        # all recorded and rendered, nothing staged
    gitrepo.stage = lambda *a, **k: die()
elif point == "locating":            # while reading this session's log
    locate = autorecord.locate
    def locating(repo, *, session_id=None, **k):
        if session_id == arg:
            die()
        return locate(repo, session_id=session_id, **k)
    autorecord.locate = locating
sys.exit(hookrun.run("post-commit", [], sys.stdin))
"""


def sid(n: int) -> str:
    return f"019cd0{n:02d}-1111-4222-8333-44444444{n:04d}"


@pytest.fixture
def codex_repo(repo: Path, isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repo set up with costlog, and a CODEX_HOME whose sessions ran in it."""
    monkeypatch.setenv("CODEX_HOME", str(isolated_home / "codex"))
    run("init", "--agent", "codex")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Set up costlog")
    return repo


def end_session(repo: Path, n: int, *, transcript: bool = True) -> str:
    """Session n's rollout (unless `transcript` is False), then its SessionEnd hook with
    the payload Codex gives it."""
    path = (
        Path(os.environ["CODEX_HOME"])
        / "sessions"
        / "2026"
        / "03"
        / "10"
        / f"rollout-2026-03-10T10-00-00-{sid(n)}.jsonl"
    )
    if transcript:
        path.parent.mkdir(parents=True, exist_ok=True)
        text = ROLLOUT.read_text().replace(FIXTURE_ID, sid(n)).replace("/Users/dev/app", str(repo))
        path.write_text(text.replace("2026-03-10T10:", f"2026-03-10T{10 + n:02d}:"))
    payload = {
        "session_id": sid(n),
        "transcript_path": str(path),
        "cwd": str(repo),
        "hook_event_name": "SessionEnd",
        "reason": "exit",
    }
    assert hookrun.run("session-end", ["--agent", "codex"], io.StringIO(json.dumps(payload))) == 0
    return sid(n)


def killed_hook(
    repo: Path, point: str, arg: str = "", **env: str
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-c", KILLER, point, arg],
        cwd=repo,
        text=True,
        capture_output=True,
        timeout=120,
        env={**os.environ, **env},
        stdin=subprocess.DEVNULL,
    )
    return done


def commit(repo: Path, message: str = "Work") -> subprocess.CompletedProcess[str]:
    path = repo / "work.txt"
    path.write_text((path.read_text() if path.exists() else "") + "x\n")
    git(repo, "add", "work.txt")
    done = subprocess.run(
        ["git", "commit", "-q", "-m", message],
        cwd=repo,
        text=True,
        capture_output=True,
        timeout=120,
        env=os.environ.copy(),
    )
    assert done.returncode == 0, done.stderr
    return done


def state(repo: Path) -> Path:
    return repo_mod.find(repo).state_dir


def ledger_ids(repo: Path) -> list[str]:
    return [e.id for e in Ledger(repo_mod.find(repo), ".costlog/sessions").load_all()]


def claims(repo: Path) -> list[str]:
    return [n for n in os.listdir(state(repo)) if n.endswith(".claimed")]


@pytest.mark.parametrize(
    ("point", "arg"),
    [("after-claim", ""), ("locating", sid(1)), ("after-record", "2"), ("before-stage", "")],
)
def test_a_hook_killed_anywhere_loses_nothing_and_records_nothing_twice(
    codex_repo: Path, point: str, arg: str
) -> None:
    repo = codex_repo
    ids = [end_session(repo, n) for n in range(3)]
    done = killed_hook(repo, point, arg)
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert claims(repo), "the kill left the queue claimed"
    assert not (state(repo) / queue.QUEUE).exists()

    hook = commit(repo)  # a real commit: git runs the installed hook, which finishes

    assert sorted(ledger_ids(repo)) == sorted(f"codex/{s}" for s in ids)
    files = list((repo / ".costlog" / "sessions").rglob("*.yaml"))
    assert len(files) == 3  # each session once
    assert not queue.pending(state(repo)) and not claims(repo)
    staged = git(repo, "diff", "--cached", "--name-only").stdout.split()
    assert sorted(str(f.relative_to(repo)) for f in files) == sorted(
        p for p in staged if p.endswith(".yaml")
    )
    assert "COST_LOG.md" in staged
    assert "staged the ledger" in hook.stderr
    run("check")  # exit 0: COST_LOG.md is what the ledger renders to


def test_an_entry_written_before_the_kill_is_not_recorded_again(codex_repo: Path) -> None:
    repo = codex_repo
    ids = [end_session(repo, n) for n in range(3)]
    assert killed_hook(repo, "after-record", "3").returncode == -signal.SIGKILL
    assert len(list((repo / ".costlog" / "sessions").rglob("*.yaml"))) == 3
    hook = commit(repo)
    # the first two were noted done before the kill: only staged again; the third is read
    # again (its entry was written, its `done` not noted) and rewrites its one file
    assert hook.stderr.count("recorded ") == 1, hook.stderr
    assert sorted(ledger_ids(repo)) == sorted(f"codex/{s}" for s in ids)
    staged = git(repo, "diff", "--cached", "--name-only").stdout.split()
    assert len([p for p in staged if p.endswith(".yaml")]) == 3


def test_a_claim_of_a_live_hook_is_left_alone_and_taken_once_it_dies(codex_repo: Path) -> None:
    repo = codex_repo
    end_session(repo, 0)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\nfrom costlog.integration import queue\n"
            "taken = queue.claim(__import__('pathlib').Path(sys.argv[1]))\n"
            "print(len(taken.items), flush=True)\ntime.sleep(60)",
            str(state(repo)),
        ],
        stdout=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "1"
        mine = queue.claim(state(repo))
        assert mine.items == [] and mine.recorded == []  # a live process is on it
        mine.release()
        assert claims(repo)
    finally:
        holder.kill()
        holder.wait()
    taken = queue.claim(state(repo))
    assert [i["session_id"] for i in taken.items] == [sid(0)]
    assert claims(repo) and all(f".{os.getpid()}." in n for n in claims(repo))
    taken.release()
    assert not queue.pending(state(repo))


def test_a_session_whose_log_is_gone_is_dropped_after_its_tries_and_blocks_none(
    codex_repo: Path,
) -> None:
    repo = codex_repo
    gone = end_session(repo, 0, transcript=False)  # queued, but no log anywhere
    good = end_session(repo, 1)
    first = commit(repo)
    assert ledger_ids(repo) == [f"codex/{good}"]  # recorded on the first commit
    assert "recorded" in first.stderr
    [item] = [json.loads(line) for line in (state(repo) / queue.QUEUE).read_text().splitlines()]
    assert item["session_id"] == gone and item["tries"] == 1
    commit(repo)
    last = commit(repo)
    assert f"gave up on queued session {gone}" in last.stderr
    assert f"gave up on queued session {gone}" in (state(repo) / "hook.log").read_text()
    assert not queue.pending(state(repo))
    commit(repo)  # and it is not tried again
    assert f"gave up on queued session {gone}" not in commit(repo).stderr


def test_a_session_that_kills_every_run_goes_last_and_is_dropped(codex_repo: Path) -> None:
    repo = codex_repo
    poison = end_session(repo, 0)  # first in the queue
    others = [end_session(repo, n) for n in (1, 2)]
    limit = {"TEST_MAX_INTERRUPTED": "3"}
    assert killed_hook(repo, "locating", poison, **limit).returncode == -signal.SIGKILL
    assert ledger_ids(repo) == []  # it came first, and the run died on it
    assert killed_hook(repo, "locating", poison, **limit).returncode == -signal.SIGKILL
    # the next run put it last: the others are in
    assert sorted(ledger_ids(repo)) == sorted(f"codex/{s}" for s in others)
    assert killed_hook(repo, "locating", poison, **limit).returncode == -signal.SIGKILL
    done = killed_hook(repo, "locating", poison, **limit)  # interrupted 3 times: dropped
    assert done.returncode == 0, done.stderr
    assert f"gave up on queued session {poison}: its runs were interrupted 3 times" in done.stderr
    assert "gave up on queued session" in (state(repo) / "hook.log").read_text()
    assert not queue.pending(state(repo))
    assert sorted(ledger_ids(repo)) == sorted(f"codex/{s}" for s in others)


def test_a_session_queued_again_after_it_was_recorded_is_recorded_again(codex_repo: Path) -> None:
    """A `done` note covers one queueing: a session resumed and ended again while a killed
    run's claim is still there is read again, not taken as done."""
    repo = codex_repo
    end_session(repo, 0)
    assert killed_hook(repo, "before-stage").returncode == -signal.SIGKILL
    rollout = next(Path(os.environ["CODEX_HOME"]).rglob(f"*{sid(0)}.jsonl"))
    time.sleep(1.1)  # queued_at has one-second steps
    grown = rollout.read_text().replace('"output_tokens":500', '"output_tokens":900')
    rollout.write_text(grown)
    end_session(repo, 0, transcript=False)
    commit(repo)
    text = (repo / ".costlog" / "sessions" / "codex" / f"{sid(0)}.yaml").read_text()
    assert "output: 900" in text
    assert ledger_ids(repo) == [f"codex/{sid(0)}"]


def test_drain_still_takes_everything_at_once(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    queue.enqueue(state_dir, {"agent": "codex", "session_id": "a", "queued_at": 1})
    queue.enqueue(state_dir, {"agent": "codex", "session_id": "a", "queued_at": 2})
    assert [i["queued_at"] for i in queue.drain(state_dir)] == [2]
    assert not queue.pending(state_dir) and os.listdir(state_dir) == ["queue.lock"]


def test_a_broken_ledger_stops_the_run_and_uses_up_no_tries(codex_repo: Path) -> None:
    repo = codex_repo
    ids = [end_session(repo, n) for n in range(2)]
    bad = repo / ".costlog" / "sessions" / "manual" / "broken.yaml"
    bad.parent.mkdir(parents=True, exist_ok=True)
    bad.write_text("schema: 1\nid: [\n")
    for _ in range(4):  # more often than MAX_TRIES: still nothing is given up
        hook = commit(repo)
        assert "post-commit hook skipped" in hook.stderr and "broken.yaml" in hook.stderr
    queued = [json.loads(line) for line in (state(repo) / queue.QUEUE).read_text().splitlines()]
    assert sorted(i["session_id"] for i in queued) == sorted(ids)
    assert not any(i.get("tries") for i in queued)
    bad.unlink()
    commit(repo)
    assert sorted(ledger_ids(repo)) == sorted(f"codex/{s}" for s in ids)
