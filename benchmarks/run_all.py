"""Every benchmark of issue 12 in one run, and its ratios gathered at the end.

Runs, each as its own process, those of these scripts that are present:

* `bench_scan.py`: cold and warm scans against ccusage 20.0.24 (installed from npm into a
  temp dir), on a generated Claude Code and a generated Codex corpus;
* `bench_backfill.py`: a cold backfill against a cold scan of the same tree;
* `bench_hook.py`, `bench_rewrite.py`, `bench_core.py`: the post-commit hook, rebase and
  render/check figures.

A script's lines that start with `ratio ` are repeated in the summary.

    python benchmarks/run_all.py                 # the sizes of the issue (500 MB corpora)
    python benchmarks/run_all.py --quick         # small corpora: a minute, for a smoke run
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

from machine import describe

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small corpora")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    size = "50" if args.quick else "500"
    plan: list[tuple[str, list[str]]] = [
        ("bench_scan.py", ["--size-mb", size, "--runs", str(args.runs)]),
        ("bench_backfill.py", ["--claude-mb", size, "--codex-mb", size]),
        ("bench_hook.py", []),
        ("bench_rewrite.py", []),
        ("bench_core.py", ["-n", "10000", "100000"]),
    ]
    print(describe(), flush=True)
    ratios: list[str] = []
    for script, extra in plan:
        path = HERE / script
        if not path.exists():
            continue
        print(f"==> {script} {' '.join(extra)}", flush=True)
        start = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, str(path), *extra], stdout=subprocess.PIPE, text=True
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            print(line, end="", flush=True)
            if line.startswith("ratio "):
                ratios.append(line.rstrip())
        if proc.wait() != 0:
            ratios.append(f"ratio {script}: FAILED (exit {proc.returncode})")
        print(f"<== {script}: {time.perf_counter() - start:.0f} s\n", flush=True)
    print("== ratios")
    print("\n".join(ratios))


if __name__ == "__main__":
    main()
