"""Core benchmarks (issues 2, 5 and 12): `--help`, one manual record, and render / check /
report on large ledgers (targets: render and report warm <= 1 s at 10k, <= 5 s at 100k;
render and check warm <= 0.3 s at 10k, <= 2 s and <= 300 MiB peak RSS at 100k).

Each command is timed as a whole process (what a user waits for), median of several runs,
next to a baseline measured in the same run (`python -c pass`). Peak RSS from wait4().

    python benchmarks/bench_core.py                  # 10,000 sessions
    python benchmarks/bench_core.py -n 10000 100000
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
#: as installed: byte-compiled modules (a PYTHONDONTWRITEBYTECODE shell would otherwise make
#: every run compile costlog from source, ~100 ms); the cache goes to a temp dir
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
ENV["PYTHONPYCACHEPREFIX"] = os.path.join(tempfile.gettempdir(), "costlog-bench-pycache")


def timed(cmd: list[str], cwd: Path) -> tuple[float, float, float]:
    """(wall seconds, peak RSS MiB, CPU seconds) of one run. CPU time (user + system of the
    child) barely moves when other processes share the cores; wall time does."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ENV
    )
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) not in (0, 3):
        raise SystemExit(f"{cmd} failed: {proc.stderr.read().decode() if proc.stderr else ''}")
    return elapsed, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def bench(name: str, cmd: list[str], cwd: Path, runs: int) -> dict[str, float]:
    timed(cmd, cwd)  # warm: byte-code and parse caches, OS file cache
    samples = [timed(cmd, cwd) for _ in range(runs)]
    wall = statistics.median(s[0] for s in samples)
    rss = max(s[1] for s in samples)
    cpu = statistics.median(s[2] for s in samples)
    print(
        f"{name:<38} median {wall * 1000:8.1f} ms (cpu {cpu * 1000:8.1f} ms)   "
        f"peak RSS {rss:6.1f} MiB   (n={runs})"
    )
    return {"wall": wall, "rss": rss, "cpu": cpu}


TARGETS = {10_000: 1.0, 100_000: 5.0}  # render / report, warm (issue 5)
#: render / check, warm (issue 12): seconds, and peak RSS MiB where one is set
TARGETS_12 = {10_000: (0.3, None), 100_000: (2.0, 300.0)}


#: CPU seconds for the analysis and the template alone (the render context and the text,
#: the ledger already loaded): what is left of the render target once the load is paid
TARGETS_ANALYSIS = {10_000: 0.1, 100_000: 0.9}

#: run in the ledger's repo: load once, then time `build_context` + `render_text` (CPU)
_ANALYSIS = """
import gc, statistics, sys, time
from pathlib import Path
import costlog.config as cc
from costlog import gitrepo
from costlog.ledger.store import Ledger
from costlog.pricing.table import PriceTable
from costlog.render.context import build_context
from costlog.render.template import load_template, render_text
gc.disable()  # as the command runs (costlog.gcpause)
repo = gitrepo.find(Path.cwd())
config = cc.load(repo.root)
entries = Ledger(repo, config.ledger_dir).load_all()
table = PriceTable.load(config.prices_path(repo.root))
template = load_template(repo, config)
cpu = []
for _ in range(4):
    start = time.process_time()
    context = build_context(entries, config, price_table=table.version, table=table)
    render_text(context, template, repo.state_dir / "template-cache")
    cpu.append(time.process_time() - start)
print(statistics.median(cpu[1:]))
"""


def analysis_share(repo: Path, n: int) -> None:
    """The analysis + template CPU of one render, in process (issue 12: one pass over the
    entries), against its part of the render target."""
    done = subprocess.run(
        [sys.executable, "-c", _ANALYSIS], cwd=repo, env=ENV, capture_output=True, text=True
    )
    if done.returncode:
        print(f"  analysis share: failed ({done.stderr.strip().splitlines()[-1:]})")
        return
    cpu = float(done.stdout.strip())
    target = TARGETS_ANALYSIS.get(n)
    verdict = (
        "" if target is None else f" (target <= {target} s: {'ok' if cpu <= target else 'OVER'})"
    )
    print(f"  analysis + template, in process: cpu {cpu * 1000:8.1f} ms{verdict}")


def ledger_benches(n: int, runs: int, tmp: Path) -> dict[str, dict[str, float]]:
    repo = tmp / f"repo-{n}"
    repo.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    t0 = time.perf_counter()
    write_ledger(repo, n)
    print(f"(wrote {n:,} ledger files in {time.perf_counter() - t0:.1f} s)")
    cold = timed([*COSTLOG, "render"], repo)
    print(
        f"{'render, cold (no parse cache)':<38} {cold[0] * 1000:15.1f} ms (cpu "
        f"{cold[2] * 1000:8.1f} ms)   peak RSS {cold[1]:6.1f} MiB"
    )
    out = {
        "render": bench(f"render, warm ({n:,} sessions)", [*COSTLOG, "render"], repo, runs),
        "check": bench(f"check, warm ({n:,} sessions)", [*COSTLOG, "check"], repo, runs),
        "report": bench(f"report --by month ({n:,})", [*COSTLOG, "report"], repo, runs),
        "report-json": bench(
            f"report --by work-item --json ({n:,})",
            [*COSTLOG, "report", "--by", "work-item", "--json"],
            repo,
            runs,
        ),
        "record-norender": bench(
            f"record --no-render ({n:,} sessions)",
            [
                *COSTLOG,
                "record",
                "--model",
                "claude-sonnet-4-6",
                "--cost",
                "0.1",
                "--session",
                "bench",
                "--no-render",
            ],
            repo,
            runs,
        ),
        "record-render": bench(
            f"record + render ({n:,} sessions)",
            [
                *COSTLOG,
                "record",
                "--model",
                "claude-sonnet-4-6",
                "--cost",
                "0.1",
                "--session",
                "bench",
            ],
            repo,
            runs,
        ),
    }
    seconds, mib = TARGETS_12.get(n, (None, None))
    if seconds is not None:
        for name in ("render", "check"):
            wall, rss = out[name]["wall"], out[name]["rss"]
            ok = wall <= seconds and (mib is None or rss <= mib)
            print(
                f"  target {name} <= {seconds} s"
                + (f", <= {mib:.0f} MiB" if mib else "")
                + f": {'ok' if ok else 'OVER'} (ratio to target {wall / seconds:.2f}x wall, "
                f"{out[name]['cpu'] / seconds:.2f}x cpu"
                + (f", {rss / mib:.2f}x RSS)" if mib else ")")
            )
    analysis_share(repo, n)
    target = TARGETS.get(n)
    if target:
        for name in ("render", "report", "report-json"):
            verdict = "ok" if out[name]["wall"] <= target else "OVER"
            print(
                f"  target {name} <= {target:.0f} s: {verdict} (wall; "
                f"cpu {'ok' if out[name]['cpu'] <= target else 'OVER'})"
            )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "-n",
        type=int,
        nargs="+",
        default=[10_000],
        help="sessions in the ledger (several sizes allowed)",
    )
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        small = tmp / "small"
        small.mkdir()
        subprocess.run(["git", "init", "-q"], cwd=small, check=True)
        base = bench("baseline: python -c pass", [sys.executable, "-c", "pass"], small, args.runs)
        bench("costlog --help", [*COSTLOG, "--help"], small, args.runs)
        rec = bench(
            "record manual (empty ledger)",
            [
                *COSTLOG,
                "record",
                "--model",
                "claude-sonnet-4-6",
                "--cost",
                "0.1",
                "--session",
                "bench",
            ],
            small,
            args.runs,
        )
        print(f"  target record <= 150 ms: {'ok' if rec['wall'] <= 0.15 else 'OVER'}")
        for n in args.n:
            out = ledger_benches(n, args.runs if n <= 10_000 else max(2, args.runs // 2), tmp)
            print(
                f"ratios to `python -c pass` ({base['wall'] * 1000:.1f} ms) at {n:,}: "
                + ", ".join(f"{k} {v['wall'] / base['wall']:.0f}x" for k, v in out.items())
            )


if __name__ == "__main__":
    main()
