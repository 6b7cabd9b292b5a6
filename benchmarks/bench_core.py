"""Core benchmarks (issue #2): `--help`, render/check on a large ledger, one manual record.

Each command is timed as a whole process (what a user waits for), median of several runs,
next to a baseline measured in the same run (`python -c pass`). Peak RSS from wait4().

    python benchmarks/bench_core.py            # 10,000 sessions
    python benchmarks/bench_core.py -n 100000
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_ledger import write_ledger

COSTLOG = [sys.executable, "-m", "costlog"]


def timed(cmd: list[str], cwd: Path) -> tuple[float, float]:
    """(seconds, peak RSS MiB) of one run."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) not in (0, 3):
        raise SystemExit(f"{cmd} failed: {proc.stderr.read().decode() if proc.stderr else ''}")
    return elapsed, usage.ru_maxrss / 1024


def bench(name: str, cmd: list[str], cwd: Path, runs: int) -> dict[str, float]:
    samples = [timed(cmd, cwd) for _ in range(runs)]
    wall = statistics.median(s[0] for s in samples)
    rss = max(s[1] for s in samples)
    print(f"{name:<38} median {wall * 1000:8.1f} ms   peak RSS {rss:6.1f} MiB   (n={runs})")
    return {"wall": wall, "rss": rss}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=10_000, help="sessions in the ledger")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "repo"
        repo.mkdir()
        subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
        small = Path(tmp) / "small"
        small.mkdir()
        subprocess.run(["git", "init", "-q"], cwd=small, check=True)
        base = bench("baseline: python -c pass", [sys.executable, "-c", "pass"], repo, args.runs)
        bench("costlog --help", [*COSTLOG, "--help"], repo, args.runs)
        t0 = time.perf_counter()
        write_ledger(repo, args.n)
        print(f"(wrote {args.n:,} ledger files in {time.perf_counter() - t0:.1f} s)")
        cold = timed([*COSTLOG, "render"], repo)
        print(f"{'render, cold (no parse cache)':<38} {cold[0] * 1000:15.1f} ms   peak RSS "
              f"{cold[1]:6.1f} MiB")
        render = bench(f"render, warm ({args.n:,} sessions)", [*COSTLOG, "render"], repo,
                       args.runs)
        check = bench(f"check, warm ({args.n:,} sessions)", [*COSTLOG, "check"], repo, args.runs)
        rec_small = bench("record manual (empty ledger)",
                          [*COSTLOG, "record", "--model", "claude-sonnet-4-6", "--cost", "0.1",
                           "--session", "bench"], small, args.runs)
        rec_norender = bench(f"record --no-render ({args.n:,} sessions)",
                             [*COSTLOG, "record", "--model", "claude-sonnet-4-6", "--cost",
                              "0.1", "--session", "bench", "--no-render"], repo, args.runs)
        rec_big = bench(f"record + render ({args.n:,} sessions)",
                        [*COSTLOG, "record", "--model", "claude-sonnet-4-6", "--cost", "0.1",
                         "--session", "bench"], repo, args.runs)
        print(f"\nratios to `python -c pass` ({base['wall'] * 1000:.1f} ms): render "
              f"{render['wall'] / base['wall']:.0f}x, check {check['wall'] / base['wall']:.0f}x, "
              f"record {rec_small['wall'] / base['wall']:.0f}x / "
              f"{rec_norender['wall'] / base['wall']:.0f}x / {rec_big['wall'] / base['wall']:.0f}x")


if __name__ == "__main__":
    main()
