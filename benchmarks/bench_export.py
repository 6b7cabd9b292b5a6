"""Many-repo benchmark (issue 14): `report`, `export` (JSONL, CSV, Parquet) and `query`
over 100 repositories of 1,000 sessions each.

Each command is timed as a whole process (what a user waits for): cold, with every
repository's parse cache removed before the run (each of the 100,000 ledger files read
and validated), and warm; median of `--runs` runs each, peak RSS from wait4(). The export
is checked against `report --json` (sessions and cost, to the micro-dollar) before timing.

    python benchmarks/bench_export.py                    # 100 repos x 1,000 sessions
    python benchmarks/bench_export.py --repos 10 -n 500  # a quick look
    python benchmarks/bench_export.py --only "export parquet" query
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_core import COSTLOG, ENV, timed
from make_ledger import write_ledger

QUERY = (
    "SELECT item, count(DISTINCT entry_id) AS sessions, sum(cost_usd) AS cost "
    "FROM (SELECT unnest(work_items) AS item, entry_id, cost_usd FROM sessions "
    "WHERE started >= TIMESTAMPTZ '2026-10-01 00:00:00+00') GROUP BY item ORDER BY cost DESC"
)


def make_repos(root: Path, repos: int, sessions: int) -> Path:
    """`repos` git repositories of `sessions` sessions each (distinct seeds: no session is
    shared), and a `--repos-from` file naming them."""
    t0 = time.perf_counter()
    names = []
    for k in range(repos):
        repo = root / f"repo-{k:03d}"
        repo.mkdir()
        subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
        write_ledger(repo, sessions, seed=1000 + k)
        names.append(repo.name)
    listing = root / "repos.txt"
    listing.write_text("# benchmark repositories\n" + "\n".join(names) + "\n")
    print(f"(wrote {repos} repos x {sessions:,} sessions in {time.perf_counter() - t0:.1f} s)")
    return listing


def drop_caches(root: Path) -> None:
    for cache in root.glob("repo-*/.git/costlog/ledger-cache.pickle"):
        cache.unlink()


def measure(name: str, cmd: list[str], cwd: Path, runs: int, root: Path) -> dict[str, float]:
    cold = []
    for _ in range(runs):
        drop_caches(root)
        cold.append(timed(cmd, cwd))
    timed(cmd, cwd)  # the caches written again
    warm = [timed(cmd, cwd) for _ in range(runs)]
    out = {}
    for label, samples in (("cold", cold), ("warm", warm)):
        wall = statistics.median(s[0] for s in samples)
        cpu = statistics.median(s[2] for s in samples)
        rss = max(s[1] for s in samples)
        out[label] = wall
        print(
            f"{name:<34} {label}  median {wall:6.2f} s (cpu {cpu:6.2f} s)  "
            f"peak RSS {rss:6.1f} MiB  (n={runs})"
        )
    return out


def check(listing: Path, cwd: Path, out: Path) -> None:
    """The export's sums, by DuckDB, equal `report --json`'s totals."""
    import duckdb

    report = json.loads(
        subprocess.run(
            [*COSTLOG, "report", "--json", "--repos-from", str(listing)],
            cwd=cwd,
            env=ENV,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )["totals"]
    sessions, cost = duckdb.sql(
        f"SELECT count(DISTINCT entry_id), sum(cost_usd) FROM read_parquet('{out}')"
    ).fetchall()[0]
    assert sessions == report["sessions"], (sessions, report)
    assert Decimal(cost) == Decimal(report["cost_usd"]), (cost, report)
    print(f"(export = report: {sessions:,} sessions, ${Decimal(cost):,.6f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repos", type=int, default=100)
    parser.add_argument("-n", type=int, default=1_000, help="sessions per repository")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", nargs="*", help="commands to time (names as printed)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        root = Path(tmp_name)
        listing = make_repos(root, args.repos, args.n)
        many = ["--repos-from", str(listing)]
        out = root / "out"
        out.mkdir()
        subprocess.run(
            [*COSTLOG, "export", "--format", "parquet", *many, "-o", str(out / "s.parquet")],
            cwd=root,
            env=ENV,
            check=True,
            capture_output=True,
        )
        check(listing, root, out / "s.parquet")
        total = args.repos * args.n
        print(f"{total:,} sessions in {args.repos} repositories")
        commands = {
            "report --json": [*COSTLOG, "report", "--json", *many],
            "export jsonl": [*COSTLOG, "export", *many, "-o", str(out / "s.jsonl")],
            "export csv": [*COSTLOG, "export", "--format", "csv", *many, "-o", str(out / "s.csv")],
            "export parquet": [
                *COSTLOG,
                "export",
                "--format",
                "parquet",
                *many,
                "-o",
                str(out / "s.parquet"),
            ],
            "query (cost per work item)": [*COSTLOG, "query", QUERY, *many, "--format", "csv"],
        }
        for name, cmd in commands.items():
            if not args.only or any(name.startswith(o) for o in args.only):
                measure(name, cmd, root, args.runs, root)
        for path in sorted(out.iterdir()):
            print(f"  {path.name}: {path.stat().st_size / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
