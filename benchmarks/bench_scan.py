"""`costlog scan` against ccusage 20.0.24 on generated Claude Code and Codex corpora
(issue 12).

Both tools read the same files in the same run, in alternating pairs, with the OS page
cache warm for both (one untimed read first). Per pair:

* `ccusage`: `ccusage claude daily --offline --json` (or `codex daily`);
* `cold`: costlog with an empty cache directory (no per-file cache, no kept result);
* `warm`: the same again, nothing changed (answered from the kept result);
* `warm-files`: the same with COSTLOG_NO_SCAN_MEMO=1 (the per-file cache only);
* with `--baseline DIR`: `base-cold` and `base-warm`, another costlog package (a `before`,
  e.g. `git archive HEAD costlog | tar -x -C DIR`) run the same way.

Ratios are the median over the pairs of costlog / ccusage wall time (and, for `cold`,
costlog's median against ccusage's fastest run, which its two-moded Codex time cannot
move); peak RSS is the
largest seen (GNU time's %M where there is one, else wait4()). Totals are checked
against the generator's truth and against ccusage's.

ccusage is installed from npm into a temp dir (`npm install --prefix DIR ccusage@20.0.24`;
the native binary is in `@ccusage/ccusage-<os>-<arch>`) unless `--ccusage PATH` names one.

    python benchmarks/bench_scan.py                     # both corpora, 500 MB each, 3 pairs
    python benchmarks/bench_scan.py --agent claude-code --size-mb 100 --runs 5
    python benchmarks/bench_scan.py --corpus /tmp/corpora   # generate once, keep, reuse
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gen_claude_corpus
import gen_codex_corpus
from machine import describe

CCUSAGE = "ccusage@20.0.24"


def install_ccusage(folder: Path) -> Path:
    """ccusage's native binary, installed from npm into `folder` (once)."""
    machine = {"x86_64": "x64", "amd64": "x64", "aarch64": "arm64", "arm64": "arm64"}
    arch = machine.get(platform.machine().lower(), platform.machine().lower())
    system = "darwin" if sys.platform == "darwin" else "linux"
    binary = folder / "node_modules" / "@ccusage" / f"ccusage-{system}-{arch}" / "bin" / "ccusage"
    if not binary.exists():
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(folder), CCUSAGE],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    binary.chmod(0o755)  # the package ships it without the executable bit
    return binary


#: GNU time, to read a child's own peak RSS: wait4() of a child forked from this (large)
#: process can report this process's size, which the child inherits across exec
GNU_TIME = "/usr/bin/time" if sys.platform == "linux" and Path("/usr/bin/time").exists() else None


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float, float, str]:
    """(wall s, peak RSS MiB, CPU s user+sys incl. worker processes, stdout); run in the
    temp dir, so `python -m costlog` imports the package installed (or on PYTHONPATH),
    never a checkout in the current directory"""
    wrapped = [GNU_TIME, "-f", "PEAK-RSS-KB %M", *cmd] if GNU_TIME else cmd
    with tempfile.TemporaryFile(mode="w+") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(
            wrapped,
            env=env,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            cwd=tempfile.gettempdir(),
        )
        assert proc.stdout is not None
        out = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        err.seek(0)
        errors = err.read()
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"failed: {' '.join(cmd)}\n{errors[-2000:]}")
    rss = usage.ru_maxrss / 1024
    for line in errors.splitlines():
        if line.startswith("PEAK-RSS-KB "):
            rss = int(line.split()[1]) / 1024
    return wall, rss, usage.ru_utime + usage.ru_stime, out


def corpus(base: Path, agent: str, size_mb: float) -> tuple[Path, dict[str, Any]]:
    root = base / agent
    if agent == "codex" and _shape(root) != gen_codex_corpus.SHAPE:  # made by an older one
        shutil.rmtree(root, ignore_errors=True)
    if not (root / "truth.json").exists():
        t0 = time.perf_counter()
        if agent == "claude-code":
            gen_claude_corpus.generate(root, size_mb)
        else:
            cwds = [f"/home/dev/code/project-{i:02d}" for i in range(8)]
            gen_codex_corpus.generate(root, size_mb, cwds, [1.0] * len(cwds))
        print(f"generated {size_mb:.0f} MB {agent} corpus in {time.perf_counter() - t0:.1f} s")
    truth: dict[str, Any] = json.loads((root / "truth.json").read_text())
    return root, truth


def _shape(root: Path) -> object:
    try:
        return json.loads((root / "truth.json").read_text()).get("shape")
    except (OSError, ValueError):
        return None


def truth_check(agent: str, truth: dict[str, Any], costlog: dict[str, Any]) -> dict[str, Any]:
    """What differs between costlog's totals and the corpus truth (empty: all equal)."""
    if agent == "claude-code":
        pairs = {
            "input": "input_tokens",
            "output": "output_tokens",
            "cache_read": "cache_read_tokens",
            "cache_write_5m": "cache_write_5m_tokens",
            "cache_write_1h": "cache_write_1h_tokens",
            "requests": "requests",
        }
        return {k: (truth[k], costlog[v]) for k, v in pairs.items() if truth[k] != costlog[v]}
    want = {
        "input_tokens": truth["input_tokens"] - truth["cached_input_tokens"],
        "cache_read_tokens": truth["cached_input_tokens"],
        "output_tokens": truth["output_tokens"],
        "reasoning_tokens": truth["reasoning_output_tokens"],
        "requests": truth["requests"],
    }
    return {k: (v, costlog[k]) for k, v in want.items() if v != costlog[k]}


def ccusage_check(agent: str, cc: dict[str, Any], costlog: dict[str, Any]) -> dict[str, Any]:
    """What differs between the two tools' token totals and cost (to the cent)."""
    mine = {
        "inputTokens": costlog["input_tokens"],
        "outputTokens": costlog["output_tokens"],
        "cacheReadTokens": costlog["cache_read_tokens"],
    }
    if agent == "claude-code":
        mine["cacheCreationTokens"] = (
            costlog["cache_write_5m_tokens"] + costlog["cache_write_1h_tokens"]
        )
    wrong = {k: (cc.get(k), v) for k, v in mine.items() if cc.get(k) != v}
    cost = cc.get("totalCost", cc.get("costUSD"))
    if cost is None or abs(float(costlog["cost_usd"]) - float(cost)) >= 0.01:
        wrong["cost"] = (cost, costlog["cost_usd"])
    return wrong


def scan_env(work: Path, agent: str, root: Path) -> dict[str, str]:
    """The environment both tools run in: a new home in `work`, costlog's cache in
    `work/cache` (COSTLOG_CACHE_DIR), and only `agent`'s logs, the corpus at `root`."""
    (work / "home").mkdir()
    cache = work / "cache"
    env = {
        **os.environ,
        "HOME": str(work / "home"),
        "COSTLOG_CACHE_DIR": str(cache),
        "XDG_CACHE_HOME": str(cache),
        "CLAUDE_CONFIG_DIR": str(root) if agent == "claude-code" else str(work / "none"),
        "CODEX_HOME": str(root) if agent == "codex" else str(work / "none"),
    }
    env.pop("COSTLOG_NO_SCAN_MEMO", None)
    return env


def bench(
    agent: str,
    root: Path,
    truth: dict[str, Any],
    ccusage: Path,
    runs: int,
    baseline: Path | None = None,
) -> list[str]:
    work = Path(tempfile.mkdtemp(prefix="costlog-bench-scan-"))
    env = scan_env(work, agent, root)
    cache = Path(env["COSTLOG_CACHE_DIR"])
    costlog = [sys.executable, "-m", "costlog", "scan", "--agent", agent, "--json"]
    theirs = [str(ccusage), "claude" if agent == "claude-code" else "codex"]
    theirs += ["daily", "--offline", "--json"]
    for path in root.rglob("*.jsonl"):  # the page cache warm for both
        path.read_bytes()
    rows: dict[str, list[tuple[float, float, float]]] = {
        "ccusage": [],
        "cold": [],
        "warm": [],
        "warm-files": [],
    }
    if baseline is not None:
        rows["base-cold"], rows["base-warm"] = [], []
    ours: dict[str, Any] = {}
    cc: dict[str, Any] = {}
    outputs: dict[str, set[str]] = {"cold": set(), "base-cold": set()}  # the JSON printed
    for _ in range(runs):
        if baseline is not None:  # another costlog (e.g. `git archive` of an older commit)
            base_env = {**env, "PYTHONPATH": str(baseline), "COSTLOG_CACHE_DIR": str(work / "b")}
            shutil.rmtree(work / "b", ignore_errors=True)
            wall, rss, cpu, printed = timed(costlog, base_env)
            rows["base-cold"].append((wall, rss, cpu))
            outputs["base-cold"].add(printed)
            rows["base-warm"].append(timed(costlog, base_env)[:3])
        wall, rss, cpu, out = timed(theirs, env)
        rows["ccusage"].append((wall, rss, cpu))
        cc = json.loads(out)["totals"]
        shutil.rmtree(cache, ignore_errors=True)
        wall, rss, cpu, out = timed(costlog, env)
        rows["cold"].append((wall, rss, cpu))
        outputs["cold"].add(out)
        ours = json.loads(out)["totals"]
        rows["warm"].append(timed(costlog, env)[:3])
        files_only = {**env, "COSTLOG_NO_SCAN_MEMO": "1"}
        rows["warm-files"].append(timed(costlog, files_only)[:3])
    shutil.rmtree(work, ignore_errors=True)
    lines = [
        f"{agent} corpus: {truth['bytes'] / 1e6:.0f} MB, "
        f"{sum(1 for _ in root.rglob('*.jsonl')):,} files, {truth['requests']:,} requests"
    ]
    for name, samples in rows.items():
        wall = statistics.median(s[0] for s in samples)
        rss = max(s[1] for s in samples)
        cpu = statistics.median(s[2] for s in samples)
        lines.append(
            f"  {name:<10} median wall {wall:7.3f} s   cpu {cpu:7.3f} s   "
            f"peak RSS {rss:7.1f} MiB   (n={len(samples)})"
        )
    for name in [n for n in rows if n != "ccusage"]:
        pairs = [o[0] / c[0] for o, c in zip(rows[name], rows["ccusage"], strict=True)]
        lines.append(
            f"ratio {agent} scan {name} / ccusage wall: {statistics.median(pairs):.2f}x "
            f"(pairs {', '.join(f'{p:.2f}' for p in pairs)})"
        )
    # ccusage's Codex time here is two-moded (0.27 s or ~0.43 s from one run to the next,
    # whatever ran before it), which moves the pairs' median: against its fastest run the
    # ratio does not depend on which mode the pairs caught
    fastest = min(s[0] for s in rows["ccusage"])
    cold = statistics.median(s[0] for s in rows["cold"])
    lines.append(f"ratio {agent} scan cold (median) / ccusage's fastest run: {cold / fastest:.2f}x")
    rss_ratio = max(s[1] for s in rows["cold"]) / max(s[1] for s in rows["ccusage"])
    lines.append(f"ratio {agent} scan cold / ccusage peak RSS: {rss_ratio:.2f}x")
    lines.append(f"  warm absolute: median {statistics.median(s[0] for s in rows['warm']):.3f} s")
    wrong = truth_check(agent, truth, ours)
    lines.append(f"  costlog totals == corpus truth: {not wrong} {wrong or ''}")
    differ = ccusage_check(agent, cc, ours)
    lines.append(f"  costlog totals == ccusage totals: {not differ} {differ or ''}")
    if baseline is not None:  # every byte of the JSON, every run, not only the totals
        same = len(outputs["cold"] | outputs["base-cold"]) == 1
        lines.append(f"  costlog JSON == baseline JSON, byte for byte: {same}")
    lines.append(f"  (load average at the end: {os.getloadavg()[0]:.2f})")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--agent", choices=["claude-code", "codex", "both"], default="both")
    parser.add_argument("--size-mb", type=float, default=500)
    parser.add_argument("--runs", type=int, default=3, help="pairs (default 3)")
    parser.add_argument("--corpus", type=Path, help="dir to generate corpora in, kept")
    parser.add_argument("--ccusage", type=Path, help="ccusage's native binary")
    parser.add_argument(
        "--baseline", type=Path, help="also time the costlog package in DIR (a `before`)"
    )
    args = parser.parse_args()
    print(describe(), flush=True)
    temp = Path(tempfile.mkdtemp(prefix="costlog-bench-"))
    try:
        ccusage = args.ccusage or install_ccusage(temp / "ccusage")
        base = args.corpus or temp / "corpora"
        agents = ["claude-code", "codex"] if args.agent == "both" else [args.agent]
        for agent in agents:
            root, truth = corpus(base, agent, args.size_mb)
            lines = bench(agent, root, truth, ccusage, args.runs, args.baseline)
            print("\n".join(lines), flush=True)
    finally:
        shutil.rmtree(temp, ignore_errors=True)  # a --corpus dir lives outside it


if __name__ == "__main__":
    main()
