"""`costlog backfill` over a generated Claude Code + Codex history (issue 6).

Builds a git repo and a history in which `--share` of the sessions (by count) belong to
that repo and the rest to other projects, then runs `python -m costlog` in the repo as a
child process:

0. issue 12's ratio: `--pairs` pairs (default 3) of a cold `scan` of both agents (its own
   empty cache) and a cold backfill (empty ledger, empty caches), alternating; the median
   of the per-pair wall ratios, and of the CPU (user+sys, with the workers and git) ratios;
1. cold: the last of those backfills: everything read, priced, attributed, written;
2. again: nothing new (must record nothing; should not re-read the logs);
3. grown: one of the repo's Codex sessions got one more call (one entry updated);
4. other: another project's Claude and Codex logs grew by a repeated line (no new call;
   with --share 1, the repo's own): both agents are re-scanned (their incremental caches
   serve the unchanged files) and nothing is recorded.

Wall time, CPU time and peak RSS of the child come from wait4().

    python benchmarks/bench_backfill.py --claude-mb 50 --codex-mb 50
    python benchmarks/bench_backfill.py --claude-mb 500 --codex-mb 500 --work /tmp/bf
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
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gen_claude_corpus
import gen_codex_corpus


def make_repo(root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Bench",
        "GIT_AUTHOR_EMAIL": "b@example.com",
        "GIT_COMMITTER_NAME": "Bench",
        "GIT_COMMITTER_EMAIL": "b@example.com",
    }
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True, env=env)
    start = datetime(2026, 10, 20, 9, 0, tzinfo=UTC)
    for n in range(60):  # a commit every ~12 hours over the history
        when = (start + timedelta(hours=12 * n)).isoformat()
        (root / f"module_{n % 7}.py").write_text(f"VALUE = {n}\n")
        subprocess.run(["git", "add", "-A"], cwd=root, check=True, env=env)
        subprocess.run(
            ["git", "commit", "-q", "-m", f"WRK-{100 + n}: change {n}"],
            cwd=root,
            check=True,
            env={**env, "GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when},
        )


def claude_history(root: Path, size_mb: float, cwds: list[str], share: float) -> int:
    """Claude Code sessions; returns how many are in cwds[0] (the repo)."""
    corpus = gen_claude_corpus.Corpus(root, seed=7)
    budget = int(size_mb * 1_000_000)
    start = datetime(2026, 10, 20, 8, 0, tzinfo=UTC)
    mine = n = 0
    while corpus.bytes < budget:
        here = corpus.rng.random() < share
        cwd = cwds[0] if here else corpus.rng.choice(cwds[1:])
        mine += here
        roll = corpus.rng.random()
        target = (
            corpus.rng.randint(5_000_000, 50_000_000)
            if roll < 0.04
            else corpus.rng.randint(500_000, 3_000_000)
            if roll < 0.3
            else corpus.rng.randint(20_000, 400_000)
        )
        target = min(target, max(budget - corpus.bytes, 20_000))
        project = "".join(ch if ch.isalnum() else "-" for ch in cwd)
        corpus.session(project, cwd, target, start + timedelta(minutes=n * 37))
        n += 1
    return mine


def child(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, str, float]:
    """(wall seconds, peak RSS MB of the child, stdout, CPU seconds: user+sys of the child
    and of the processes it waited for, its workers and git)."""
    with tempfile.TemporaryFile(mode="w+") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(
            cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=err, text=True
        )
        assert proc.stdout is not None
        out = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        if os.waitstatus_to_exitcode(status) != 0:
            err.seek(0)
            raise SystemExit(f"failed: {' '.join(cmd)}\n{err.read()[-2000:]}")
    return wall, usage.ru_maxrss / 1024, out, usage.ru_utime + usage.ru_stime


def empty(repo: Path, *caches: Path) -> None:
    """Back to before any backfill: no ledger, no COST_LOG.md, no state, no caches."""
    for path in (repo / ".costlog", repo / ".git" / "costlog", *caches):
        shutil.rmtree(path, ignore_errors=True)
    (repo / "COST_LOG.md").unlink(missing_ok=True)


def grow_one_codex_session(codex: Path, repo: Path) -> None:
    for path in sorted((codex / "sessions").rglob("*.jsonl")):
        with open(path, encoding="utf-8") as fh:
            if json.loads(fh.readline())["payload"]["cwd"] != str(repo):
                continue
        last = path.read_text(encoding="utf-8").rstrip("\n").rsplit("\n", 1)[-1]
        event = json.loads(last)
        info = event["payload"]["info"]
        for key in ("input_tokens", "output_tokens"):
            info["total_token_usage"][key] += 1000
            info["last_token_usage"][key] = 1000
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(event) + "\n")
        return


def touch_other_project(claude: Path, codex: Path, repo: Path) -> None:
    """Another project's sessions grow by a repeated line (counted once by the readers):
    both agents' fingerprints change, so both are re-scanned, served by their incremental
    caches, and nothing is recorded."""
    prefix = "".join(ch if ch.isalnum() else "-" for ch in str(repo))
    folders = sorted((claude / "projects").iterdir())
    folder = next((f for f in folders if not f.name.startswith(prefix)), folders[0])
    _repeat_last_line(sorted(folder.glob("*.jsonl"))[0])
    rollouts = sorted((codex / "sessions").rglob("*.jsonl"))
    for path in rollouts:
        with open(path, encoding="utf-8") as fh:
            if json.loads(fh.readline())["payload"]["cwd"] != str(repo):
                _repeat_last_line(path)
                return
    _repeat_last_line(rollouts[0])  # --share 1: a repo session's log, with no new call


def _repeat_last_line(path: Path) -> None:
    last = path.read_text(encoding="utf-8").rstrip("\n").rsplit("\n", 1)[-1]
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(last + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--claude-mb", type=float, default=50)
    parser.add_argument("--codex-mb", type=float, default=50)
    parser.add_argument(
        "--share",
        type=float,
        default=0.5,
        help="fraction of sessions in the benchmark repo (default 0.5)",
    )
    parser.add_argument("--work", type=Path, help="work dir (reused if it holds a history)")
    parser.add_argument("--pairs", type=int, default=3, help="scan/backfill pairs (default 3)")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="costlog-backfill-"))
    repo = work / "code" / "project-00"
    cwds = [str(repo)] + [str(work / "code" / f"project-{i:02d}") for i in range(1, 10)]
    claude, codex = work / "claude", work / "codex"
    if not (codex / "truth.json").exists():
        t0 = time.perf_counter()
        make_repo(repo)
        mine = claude_history(claude, args.claude_mb, cwds, args.share)
        weights = [args.share] + [(1 - args.share) / 9] * 9
        truth = gen_codex_corpus.generate(codex, args.codex_mb, cwds, weights)
        print(
            f"generated in {time.perf_counter() - t0:.0f} s: Claude {args.claude_mb:.0f} MB "
            f"({mine} sessions in the repo), Codex {int(str(truth['bytes'])) / 1e6:.0f} MB "
            f"({truth['sessions']} sessions)"
        )
    env = {
        **os.environ,
        "HOME": str(work / "home"),
        "CLAUDE_CONFIG_DIR": str(claude),
        "CODEX_HOME": str(codex),
        "COSTLOG_CACHE_DIR": str(work / "cache"),
        "XDG_CACHE_HOME": str(work / "cache"),
    }
    # issue 12: a cold backfill against a cold scan of the same tree (its own empty cache)
    scan_env = {**env, "COSTLOG_CACHE_DIR": str(work / "scan-cache")}
    scan_env["XDG_CACHE_HOME"] = scan_env["COSTLOG_CACHE_DIR"]
    scan_cmd = [sys.executable, "-m", "costlog", "scan", "--agent", "claude-code"]
    scan_cmd += ["--agent", "codex", "--json"]
    cmd = [sys.executable, "-m", "costlog", "backfill"]
    walls: list[float] = []
    cpus: list[float] = []
    out = ""
    for n in range(1, max(1, args.pairs) + 1):
        shutil.rmtree(work / "scan-cache", ignore_errors=True)
        scan_wall, _, _, scan_cpu = child(scan_cmd, repo, scan_env)
        empty(repo, work / "cache")
        wall, rss, out, cpu = child(cmd, repo, env)
        walls.append(wall / scan_wall)
        cpus.append(cpu / scan_cpu)
        print(
            f"pair {n}: scan {scan_wall:5.1f} s wall {scan_cpu:5.1f} s cpu | backfill "
            f"{wall:5.1f} s wall {cpu:5.1f} s cpu, peak RSS {rss:4.0f} MB | "
            f"{walls[-1]:.2f}x wall {cpus[-1]:.2f}x cpu"
        )
    print("cold   | " + (out.splitlines()[0] if out else ""))
    print("\n".join("       " + line for line in out.splitlines()[1:8]))
    print(
        f"ratio backfill cold / scan cold: {statistics.median(walls):.2f}x wall, "
        f"{statistics.median(cpus):.2f}x cpu (median of {len(walls)} pairs)"
    )
    runs: list[tuple[str, Callable[[], None] | None]] = [
        ("again", None),
        ("grown", lambda: grow_one_codex_session(codex, repo)),
        ("other", lambda: touch_other_project(claude, codex, repo)),
    ]
    for name, before in runs:
        if before:
            before()
        wall, rss, out, cpu = child(cmd, repo, env)
        first = out.splitlines()[0] if out else ""
        print(f"{name:6} {wall:7.1f} s  {cpu:5.1f} s cpu  peak RSS {rss:4.0f} MB  | {first}")


if __name__ == "__main__":
    main()
