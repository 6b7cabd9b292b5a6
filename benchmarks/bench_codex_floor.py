"""How far a Python reader can go on the cold Codex scan: `costlog scan --agent codex`
against the same scan with the work on each decoded line taken away (issue 12).

The cold Codex target (at most 1.0x ccusage 20.0.24) is not met. This probe measures the
floor of the scan as it is built: every line still read, skipped or decoded as a real scan
does it, on both cores, but with nothing done with what a decoded line holds. In
alternating pairs, on the corpus `bench_scan.py` makes, with the page cache warm and an
empty cache directory each time:

* `ccusage`: `ccusage codex daily --offline --json`;
* `scan`: `costlog scan --agent codex --json`, as a user runs it;
* `decode-only`: the same process, but each line the reader does not skip (token counts,
  turn contexts: `Reader._kept`) is only decoded by msgspec: no call is counted, so nothing
  is handed to the parent, rebuilt, priced or cached;
* `skim-only`: as `decode-only`, without the decode: the lines are only found and skipped;
* `reader-only`: the reader as it is, counts and rate-limit reports and all, but its
  file's state is handed on without them, so nothing is rebuilt, priced or cached.

The probes print wrong totals, on purpose: they are timings, never a scan to trust.
`decode-only` is the time left if every call cost no Python at all, `reader-only` the time
if nothing after the reader cost anything.

    python benchmarks/bench_codex_floor.py --corpus /tmp/corpora --runs 5
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_scan import corpus, install_ccusage, scan_env, timed
from machine import describe

#: the probes: `costlog scan` with `Reader._kept` or `FileData.to_json` replaced first
_PROBE = """
import sys
from costlog.sources.codex import reader, rollout
if sys.argv[1] == "reader-only":
    to_json = rollout.FileData.to_json
    def emptied(self):
        return {**to_json(self), "calls": [], "limits": []}
    rollout.FileData.to_json = emptied
elif sys.argv[1] == "decode-only":
    reader._load_decoder()
    decode = reader._DECODER.decode
    reader.Reader._kept = lambda self, line, number: decode(line)
else:
    reader.Reader._kept = lambda self, line, number: None
sys.argv = ["costlog", "scan", "--agent", "codex", "--json"]
from costlog.cli import run
run()
"""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size-mb", type=float, default=500)
    parser.add_argument("--runs", type=int, default=5, help="pairs (default 5)")
    parser.add_argument("--corpus", type=Path, help="dir to generate corpora in, kept")
    parser.add_argument("--ccusage", type=Path, help="ccusage's native binary")
    args = parser.parse_args()
    print(describe(), flush=True)
    temp = Path(tempfile.mkdtemp(prefix="costlog-bench-floor-"))
    try:
        ccusage = args.ccusage or install_ccusage(temp / "ccusage")
        root, truth = corpus(args.corpus or temp / "corpora", "codex", args.size_mb)
        env = scan_env(temp, "codex", root)
        cache = Path(env["COSTLOG_CACHE_DIR"])
        commands = {
            "ccusage": [str(ccusage), "codex", "daily", "--offline", "--json"],
            "scan": [sys.executable, "-m", "costlog", "scan", "--agent", "codex", "--json"],
            "decode-only": [sys.executable, "-c", _PROBE, "decode-only"],
            "skim-only": [sys.executable, "-c", _PROBE, "skim-only"],
            "reader-only": [sys.executable, "-c", _PROBE, "reader-only"],
        }
        for path in root.rglob("*.jsonl"):  # the page cache warm for all
            path.read_bytes()
        rows: dict[str, list[tuple[float, float, float]]] = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, command in commands.items():
                shutil.rmtree(cache, ignore_errors=True)
                rows[name].append(timed(command, env)[:3])
        print(f"codex corpus: {truth['bytes'] / 1e6:.0f} MB, {truth['requests']:,} requests")
        for name, samples in rows.items():
            print(
                f"  {name:<12} median wall {statistics.median(s[0] for s in samples):7.3f} s"
                f"   cpu {statistics.median(s[2] for s in samples):7.3f} s   (n={len(samples)})"
            )
        fastest = min(s[0] for s in rows["ccusage"])
        for name in [n for n in commands if n != "ccusage"]:
            pairs = [o[0] / c[0] for o, c in zip(rows[name], rows["ccusage"], strict=True)]
            median = statistics.median(s[0] for s in rows[name])
            print(
                f"floor codex {name} / ccusage wall: {statistics.median(pairs):.2f}x "
                f"(pairs {', '.join(f'{p:.2f}' for p in pairs)}); "
                f"against its fastest run {median / fastest:.2f}x"
            )
        print(f"  (load average at the end: {os.getloadavg()[0]:.2f})")
    finally:
        shutil.rmtree(temp, ignore_errors=True)  # a --corpus dir lives outside it


if __name__ == "__main__":
    main()
