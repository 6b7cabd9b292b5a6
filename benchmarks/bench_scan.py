"""`costlog scan` against ccusage 20.0.24 on a generated Claude Code corpus (issue #3).

Both tools read the same files in the same run, alternating, with the OS page cache warm
for both. "cold" for costlog means an empty scan cache; "warm" is a re-scan with nothing
new. Wall time and peak RSS come from wait4(). Token totals are checked against the
generator's truth.

    npm install --prefix /tmp/ccusage ccusage@20.0.24
    python benchmarks/bench_scan.py --size-mb 500 \
        --ccusage /tmp/ccusage/node_modules/@ccusage/ccusage-linux-x64/bin/ccusage

`--single` also times a cold scan restricted to one process (COSTLOG_SCAN_WORKERS=1), and
`--corpus DIR` reuses (or creates, and keeps) a generated corpus.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gen_claude_corpus import generate


def run(cmd: list[str], env: dict[str, str]) -> tuple[float, float, float, str]:
    """(wall s, peak RSS MiB, CPU s user+sys incl. worker processes, stdout)"""
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}")
    return wall, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime, out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size-mb", type=float, default=500)
    parser.add_argument("--corpus", type=Path, help="reuse a generated corpus dir")
    parser.add_argument("--ccusage", type=Path, help="path to the ccusage native binary")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--single", action="store_true", help="also time a one-process cold scan")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="costlog-bench-"))
    corpus = args.corpus or work / "claude"
    if not (corpus / "truth.json").exists():
        t0 = time.perf_counter()
        generate(corpus, args.size_mb)
        print(f"generated {args.size_mb:.0f} MB corpus in {time.perf_counter() - t0:.1f} s")
    truth = json.loads((corpus / "truth.json").read_text())
    home = work / "home"
    home.mkdir(exist_ok=True)
    cache = work / "cache"
    env = {
        **os.environ,
        "HOME": str(home),
        "CLAUDE_CONFIG_DIR": str(corpus),
        "COSTLOG_CACHE_DIR": str(cache),
    }
    costlog = [sys.executable, "-m", "costlog", "scan", "--agent", "claude-code", "--json"]
    rows: dict[str, list[tuple[float, float, float]]] = {
        "ccusage": [],
        "cold": [],
        "cold-1cpu": [],
        "warm": [],
    }
    result = None
    cc: dict[str, float] = {}
    for _ in range(args.runs):
        if args.ccusage:
            wall, rss, cpu, out = run([str(args.ccusage), "daily", "--offline", "--json"], env)
            rows["ccusage"].append((wall, rss, cpu))
            cc = json.loads(out)["totals"]
        shutil.rmtree(cache, ignore_errors=True)
        wall, rss, cpu, out = run(costlog, env)
        rows["cold"].append((wall, rss, cpu))
        result = json.loads(out)["totals"]
        wall, rss, cpu, _ = run(costlog, env)
        rows["warm"].append((wall, rss, cpu))
        if args.single:
            shutil.rmtree(cache, ignore_errors=True)
            wall, rss, cpu, _ = run(costlog, {**env, "COSTLOG_SCAN_WORKERS": "1"})
            rows["cold-1cpu"].append((wall, rss, cpu))
    print(
        f"corpus: {truth['bytes'] / 1e6:.0f} MB, {truth['sessions']} sessions, "
        f"{truth['requests']:,} requests"
    )
    for name, samples in rows.items():
        if samples:
            wall = statistics.median(s[0] for s in samples)
            rss = max(s[1] for s in samples)
            cpu = statistics.median(s[2] for s in samples)
            print(
                f"{name:<9} median wall {wall:7.3f} s   cpu {cpu:7.3f} s   "
                f"peak RSS {rss:7.1f} MiB   (n={len(samples)})"
            )
    if rows["ccusage"]:
        ratio = statistics.median(s[0] for s in rows["cold"]) / statistics.median(
            s[0] for s in rows["ccusage"]
        )
        cpu_ratio = statistics.median(s[2] for s in rows["cold"]) / statistics.median(
            s[2] for s in rows["ccusage"]
        )
        print(
            f"cold costlog / ccusage: wall {ratio:.2f}x, cpu {cpu_ratio:.2f}x "
            f"(load average at the end: {os.getloadavg()[0]:.2f})"
        )
        writes = truth["cache_write_5m"] + truth["cache_write_1h"]
        print(f"ccusage cost: ${cc['totalCost']:.2f}")
        print(
            "ccusage totals == truth:",
            cc["inputTokens"] == truth["input"]
            and cc["outputTokens"] == truth["output"]
            and cc["cacheReadTokens"] == truth["cache_read"]
            and cc["cacheCreationTokens"] == writes,
        )
    assert result is not None
    checks = {
        "input": "input_tokens",
        "output": "output_tokens",
        "cache_read": "cache_read_tokens",
        "cache_write_5m": "cache_write_5m_tokens",
        "cache_write_1h": "cache_write_1h_tokens",
        "requests": "requests",
    }
    wrong = {k: (truth[k], result[v]) for k, v in checks.items() if truth[k] != result[v]}
    print("costlog totals == truth:", not wrong, wrong or "")
    print(f"costlog cost: ${result['cost_usd']}")
    shutil.rmtree(work, ignore_errors=True)  # a --corpus DIR lives outside it and is kept


if __name__ == "__main__":
    main()
