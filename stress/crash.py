"""Kill `costlog record` / `costlog render` with SIGKILL at random points, many times.

After every kill: every ledger file still parses, nothing recorded before changed, and the
next run succeeds (no stale lock). Usage:

    python stress/crash.py --trials 200 [--ledger 1000]

Prints one summary line; exits 1 on the first broken invariant.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def costlog(repo: Path, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "costlog", *args],
        cwd=repo,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "COSTLOG_SKIP": "1"},
    )


def setup(root: Path, ledger: int) -> Path:
    repo = root / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, check=True)
    subprocess.run(
        [sys.executable, "-m", "costlog", "init"], cwd=repo, check=True, stdout=subprocess.DEVNULL
    )
    if ledger:
        here = Path(__file__).resolve().parent.parent / "benchmarks"
        subprocess.run(
            [sys.executable, str(here / "make_ledger.py"), "-n", str(ledger), str(repo)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return repo


def snapshot(repo: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in (repo / ".costlog" / "sessions").rglob("*.yaml")}


def verify(repo: Path, before: dict[Path, bytes]) -> None:
    from costlog import gitrepo as repo_mod
    from costlog.ledger.store import Ledger

    for path, data in before.items():
        if path.read_bytes() != data:
            sys.exit(f"FAIL: {path} changed after a kill")
    Ledger(repo_mod.find(repo), ".costlog/sessions").load_all()
    strays = [p for p in repo.rglob("*.tmp") if ".git" not in p.parts]
    if strays:
        sys.exit(f"FAIL: temp files left in the work tree: {strays[:3]}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--ledger", type=int, default=0, help="sessions to start with")
    args = parser.parse_args()
    rng = random.Random(2026)
    root = Path(tempfile.mkdtemp(prefix="costlog-crash-"))
    try:
        repo = setup(root, args.ledger)
        started = time.perf_counter()
        proc = costlog(
            repo,
            "record",
            "--model",
            "claude-sonnet-4-6",
            "--session",
            "timing",
            "--cost",
            "0.01",
            "--no-stage",
        )
        proc.wait()
        span = time.perf_counter() - started
        killed = 0
        for trial in range(args.trials):
            before = snapshot(repo)
            if trial % 2:
                cmd = ["render"]
            else:
                cmd = [
                    "record",
                    "--model",
                    "claude-sonnet-4-6",
                    "--session",
                    f"t{trial % 17}",
                    "--cost",
                    f"0.{trial % 90 + 10}",
                    "--no-stage",
                ]
            proc = costlog(repo, *cmd)
            time.sleep(rng.uniform(0, span * 1.2))
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                killed += 1
            proc.wait()
            # an entry being re-recorded may legitimately change; every other must not
            verify(repo, {p: d for p, d in before.items() if not p.name.startswith("t")})
        after = costlog(repo, "render")
        if after.wait(timeout=120) != 0:
            sys.exit("FAIL: the run after the kills did not succeed")
        print(
            f"ok: {args.trials} trials, {killed} killed mid-run "
            f"(run time {span * 1000:.0f} ms), ledger valid, nothing lost, no stale lock"
        )
        return 0
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
