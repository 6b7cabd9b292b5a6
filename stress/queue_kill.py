"""Kill the post-commit hook with SIGKILL at random moments while it drains the queue.

Twenty Codex sessions (the real rollout format, from tests/fixtures) end through the real
SessionEnd hook (`costlog hook session-end --agent codex`), which queues them. The
post-commit hook is then started and killed, again and again; whenever nothing is left
pending, twenty new sessions end, so every kill lands on a queue with work in it. Finally
a real `git commit` runs the installed hook to completion, and every session ever queued
must be in the ledger exactly once, staged, with COST_LOG.md up to date. Usage:

    python stress/queue_kill.py --kills 100 [--sessions 20] [--seed 2026]

Prints one summary line; exits 1 naming the first broken invariant.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(HERE))
ROLLOUT = HERE / "tests" / "fixtures" / "codex" / "real" / "harness-recall__codex_with_tools.jsonl"
FIXTURE_ID = "019cd000-1111-2222-3333-444444444444"
FIXTURE_CWD = "/Users/dev/app"


def session_ids(count: int, rounds: int) -> list[str]:
    """The ids of round 0..rounds-1's sessions (`count` new ones each round)."""
    return [f"019c{r:04x}-1111-4222-8333-{n:012d}" for r in range(rounds) for n in range(count)]


def start_of(sid: str) -> str:
    """A distinct hour for each session (`YYYY-MM-DDTHH:`): rollouts that start at the same
    instant with the same usage are copies of one file, which costlog counts once."""
    k = int(sid[4:8], 16) * 64 + int(sid[-12:])
    return f"2026-{1 + k // (14 * 28):02d}-{1 + k // 14 % 28:02d}T{8 + k % 14:02d}:"


def rollout(root: Path, sid: str) -> Path:
    return (
        root
        / "codex"
        / "sessions"
        / "2026"
        / "03"
        / "10"
        / f"rollout-2026-03-10T10-00-00-{sid}.jsonl"
    )


def environment(root: Path) -> dict[str, str]:
    """Everything under `root`: no real home, agent data, cache or git config is touched."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GIT_", "CLAUDE_", "CODEX_", "GEMINI_", "COSTLOG_"))
    }
    home = root / "home"
    env.update(
        HOME=str(home),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_CONFIG_HOME=str(home / ".config"),
        CODEX_HOME=str(root / "codex"),
        COSTLOG_CACHE_DIR=str(home / ".cache" / "costlog"),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_NAME="Stress",
        GIT_AUTHOR_EMAIL="stress@example.com",
        GIT_COMMITTER_NAME="Stress",
        GIT_COMMITTER_EMAIL="stress@example.com",
        PYTHONPATH=str(HERE),
    )
    return env


def setup(root: Path, env: dict[str, str]) -> Path:
    repo = root / "repo"
    repo.mkdir(parents=True)
    (root / "home").mkdir()

    def step(*args: str) -> None:
        subprocess.run(args, cwd=repo, env=env, check=True, stdout=subprocess.DEVNULL)

    step("git", "init", "-q", "-b", "main")
    (repo / "README.md").write_text("# stress\n")
    step(sys.executable, "-m", "costlog", "init", "--agent", "codex")
    step("git", "add", "-A")
    step("git", "commit", "-q", "-m", "Set up costlog")
    return repo


def end_sessions(root: Path, repo: Path, env: dict[str, str], sids: list[str]) -> None:
    """New Codex sessions: their rollouts, then each one's SessionEnd hook, with the
    payload Codex gives it on stdin."""
    text = ROLLOUT.read_text(encoding="utf-8")
    payloads = []
    for sid in sids:
        path = rollout(root, sid)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            text.replace(FIXTURE_ID, sid)
            .replace(FIXTURE_CWD, str(repo))
            .replace("2026-03-10T10:", start_of(sid)),
            encoding="utf-8",
        )
        payloads.append(
            json.dumps(
                {
                    "session_id": sid,
                    "cwd": str(repo),
                    "reason": "exit",
                    "hook_event_name": "SessionEnd",
                    "transcript_path": str(path),
                }
            )
        )
    from costlog.integration import hookrun

    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        for payload in payloads:
            assert hookrun.run("session-end", ["--agent", "codex"], io.StringIO(payload)) == 0
    finally:
        os.environ.clear()
        os.environ.update(saved)


def hook(repo: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """What the installed post-commit shim runs."""
    return subprocess.Popen(
        [sys.executable, "-m", "costlog.integration.hookrun", "post-commit"],
        cwd=repo,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def claims(state: Path) -> list[str]:
    return [n for n in os.listdir(state) if n.startswith("queue.jsonl.") and n.endswith(".claimed")]


def settle(repo: Path) -> None:
    """A killed hook's `git add` child runs on to its end; wait for its index lock."""
    lock = repo / ".git" / "index.lock"
    for _ in range(500):
        if not lock.exists():
            return
        time.sleep(0.01)
    sys.exit("FAIL: .git/index.lock stayed after a kill")


def calibrate(root: Path, env: dict[str, str], count: int) -> float:
    """How long one hook run over the whole queue takes (in a throwaway copy)."""
    copy = root / "calibrate"
    repo = setup(copy, environment(copy))
    end_sessions(copy, repo, environment(copy), session_ids(count, 1))
    started = time.perf_counter()
    if hook(repo, environment(copy)).wait() != 0:
        sys.exit("FAIL: a hook run without kills failed")
    span = time.perf_counter() - started
    shutil.rmtree(copy, ignore_errors=True)
    return span


def hook_log(repo: Path) -> str:
    try:
        return (repo / ".git" / "costlog" / "hook.log").read_text(encoding="utf-8")[-3000:]
    except OSError:
        return "(no hook log)"


def verify(repo: Path, env: dict[str, str], sids: list[str]) -> tuple[int, int, int]:
    """(sessions lost, duplicates, ledger files never staged); exits on a broken ledger,
    a queue still pending, or a stale COST_LOG.md."""
    from costlog import gitrepo as repo_mod
    from costlog.integration import queue
    from costlog.ledger.store import Ledger

    state = repo / ".git" / "costlog"
    if queue.pending(state):
        sys.exit(f"FAIL: still pending after the full run: {os.listdir(state)}\n{hook_log(repo)}")
    files = sorted((repo / ".costlog" / "sessions").rglob("*.yaml"))
    entries = Ledger(repo_mod.find(repo), ".costlog/sessions").load_all()
    ids = [e.id for e in entries]
    lost = len({f"codex/{sid}" for sid in sids} - set(ids))
    duplicates = len(ids) - len(set(ids)) + len(files) - len(entries)
    tracked = set(
        subprocess.run(
            ["git", "ls-files"], cwd=repo, env=env, capture_output=True, text=True, check=True
        ).stdout.split()
    )
    unstaged = [p for p in files if str(p.relative_to(repo)) not in tracked]
    check = subprocess.run(
        [sys.executable, "-m", "costlog", "check"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
    )
    if check.returncode != 0:
        sys.exit(f"FAIL: COST_LOG.md not up to date after the full run: {check.stderr.strip()}")
    return lost, duplicates, len(unstaged)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kills", type=int, default=100)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    root = Path(tempfile.mkdtemp(prefix="costlog-queue-kill-"))
    try:
        span = calibrate(root, environment(root), args.sessions)
        env = environment(root)
        repo = setup(root, env)
        state = repo / ".git" / "costlog"
        from costlog.integration import queue

        kills = mid_drain = finished = rounds = 0
        while kills < args.kills:
            if not queue.pending(state):
                end_sessions(
                    root, repo, env, session_ids(args.sessions, rounds + 1)[-args.sessions :]
                )
                rounds += 1
            proc = hook(repo, env)
            time.sleep(rng.uniform(0, span * 1.1))
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                kills += 1
            else:
                finished += 1
            proc.wait()
            if proc.returncode == -signal.SIGKILL and claims(state):
                mid_drain += 1
            elif proc.returncode not in (0, -signal.SIGKILL):
                sys.exit(f"FAIL: a hook run exited {proc.returncode}")
            settle(repo)
        # the last one is a real commit: git runs the installed hook, and nobody kills it
        (repo / "README.md").write_text("# stress\n\ndone\n")
        subprocess.run(
            ["git", "commit", "-q", "-am", "After the kills"],
            cwd=repo,
            env=env,
            check=True,
            capture_output=True,
        )
        lost, duplicates, unstaged = verify(repo, env, session_ids(args.sessions, rounds))
        bad = lost or duplicates or unstaged
        print(
            f"{'FAIL' if bad else 'ok'}: {kills} kills ({mid_drain} mid-drain, holding a "
            f"claim), {finished} runs finished, {rounds} queues of {args.sessions} new "
            f"sessions; after a full run: {lost} of {rounds * args.sessions} sessions lost, "
            f"{duplicates} duplicates, {unstaged} ledger files never staged "
            f"(one undisturbed run: {span * 1000:.0f} ms)"
        )
        if bad:
            print(hook_log(repo))
        return 1 if bad else 0
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
