"""Rebase, cherry-pick and `merge --squash` of 50 commits with costlog's hooks (issue 12):
target <= 1.5x the same operation without hooks, in a repo with 10,000 recorded sessions
of which a few link commits being rewritten.

Each sample is measured back to back in the same run: the operation with the hooks
`costlog init` installed, with `-c core.hooksPath=<empty dir>` (no hooks), and with hooks
that do nothing (`exit 0`: what running any hook at all costs git, the floor), in rotating
order; between samples the branches are put back (not timed). Reported: the median ratio
to the hookless run of the samples, and the median times, both for wall time and for CPU
time (user + system of git and everything it ran, hooks included): on a shared machine
the wall ratio is noise, the CPU ratio is what the hooks cost.

    python benchmarks/bench_rewrite.py              # 10,000 sessions, 50 commits, 5 runs
    python benchmarks/bench_rewrite.py -n 1000 --commits 50 --runs 7
    python benchmarks/bench_rewrite.py --only rebase --runs 3
    # and the code before a change, measured in the same rotation:
    git archive HEAD costlog hooks templates | tar -x -C /tmp/before
    python benchmarks/bench_rewrite.py --before /tmp/before
    # keep the repo (branches put back, hooks installed) to profile a hook in it:
    python benchmarks/bench_rewrite.py --runs 1 --only rebase --keep /tmp/rewrite-repo
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_ledger import write_ledger

from costlog.gitrepo import Repo
from costlog.ledger.store import Ledger
from costlog.models import Commit, Entry

TARGET = 1.5
OPERATIONS = ("rebase", "cherry-pick", "squash")


def git(repo: Path, env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True
    )
    return done.stdout.strip()


def setup(tmp: Path, n: int, commits: int) -> tuple[Path, dict[str, str], Path]:
    repo, home, empty = tmp / "repo", tmp / "home", tmp / "no-hooks"
    for d in (repo, home, empty):
        d.mkdir()
    env = {
        **os.environ,
        "HOME": str(home),
        "CLAUDE_CONFIG_DIR": str(tmp / "claude"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "b",
        "GIT_AUTHOR_EMAIL": "b@x",
        "GIT_COMMITTER_NAME": "b",
        "GIT_COMMITTER_EMAIL": "b@x",
    }
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    git(repo, env, "init", "-q", "-b", "main")
    write_ledger(repo, n)
    subprocess.run(
        [sys.executable, "-m", "costlog", "init", "--agent", "claude-code"],
        cwd=repo,
        env=env,
        check=True,
        capture_output=True,
    )
    git(repo, env, "add", "-A")
    git(repo, env, "-c", f"core.hooksPath={empty}", "commit", "-q", "-m", "ledger")
    git(repo, env, "checkout", "-q", "-b", "topic")
    for i in range(commits):
        (repo / f"topic-{i % 10}.txt").write_text(f"{i}\n")
        git(repo, env, "add", "-A")
        git(repo, env, "-c", f"core.hooksPath={empty}", "commit", "-q", "-m", f"topic {i}")
    # five sessions that made topic commits: their links move when the commits are rewritten
    shas = git(repo, env, "rev-list", "--max-count=5", "topic").split()
    ledger = Ledger(Repo(repo, repo / ".git"), ".costlog/sessions")
    with ledger.lock():
        for i, sha in enumerate(shas):
            ledger.write(
                Entry(
                    id=f"claude-code/topic-{i}",
                    agent="claude-code",
                    started=datetime(2026, 11, 19, 9, i, tzinfo=UTC),
                    cost_usd=None,
                    commits=[Commit(sha[:12], f"topic {i}", evidence="tool-output")],
                )
            )
    subprocess.run(
        [sys.executable, "-m", "costlog", "render"], cwd=repo, env=env, check=True,
        capture_output=True,
    )  # fmt: skip
    git(repo, env, "add", "-A")
    git(repo, env, "-c", f"core.hooksPath={empty}", "commit", "-q", "-m", "sessions")
    git(repo, env, "checkout", "-q", "main")
    (repo / "main.txt").write_text("main moved on\n")
    git(repo, env, "add", "-A")
    git(repo, env, "-c", f"core.hooksPath={empty}", "commit", "-q", "-m", "main")
    return repo, env, empty


def children_cpu() -> float:
    """User + system seconds of every finished child process (git and what it ran)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(fn: Callable[[], object]) -> tuple[float, float]:
    """(wall, CPU) seconds of `fn`."""
    cpu, start = children_cpu(), time.perf_counter()
    fn()
    return time.perf_counter() - start, children_cpu() - cpu


def samples(
    runs: int, reset: Callable[[], None], op: Callable[[list[str]], None], dirs: list[Path]
) -> list[list[tuple[float, float]]]:
    """(wall, CPU) seconds of `op` per variant and run: with costlog's hooks, then with
    each hooks dir in `dirs` (none, empty hooks); the order rotates from run to run."""
    variants: list[list[str]] = [[], *(["-c", f"core.hooksPath={d}"] for d in dirs)]
    out: list[list[tuple[float, float]]] = [[] for _ in variants]
    for i in range(runs):
        for k in range(len(variants)):
            v = (i + k) % len(variants)
            reset()
            out[v].append(timed(lambda e=variants[v]: op(e)))
    return out


def ratio(a: list[tuple[float, float]], b: list[tuple[float, float]], k: int) -> float:
    """The median of the paired ratios of field `k` (0 wall, 1 CPU)."""
    return statistics.median(x[k] / y[k] for x, y in zip(a, b, strict=True))


def median_ms(a: list[tuple[float, float]], k: int) -> float:
    return statistics.median(x[k] for x in a) * 1000


def empty_hooks(folder: Path) -> Path:
    """A hooks dir whose hooks do nothing: what any hook at all costs git."""
    folder.mkdir()
    for name in ("post-commit", "post-rewrite", "post-merge"):
        (folder / name).write_text("#!/bin/sh\nexit 0\n")
        (folder / name).chmod(0o755)
    return folder


def before_hooks(folder: Path, before: Path) -> Path:
    """A hooks dir with the shims of the costlog in `before` (a `git archive` of costlog/,
    hooks/ and templates/), running that costlog's Python code."""
    folder.mkdir()
    python = folder / "python"
    python.write_text(f'#!/bin/sh\nPYTHONPATH={before} exec {sys.executable} "$@"\n')
    python.chmod(0o755)
    text = (before / "hooks" / "shim.sh").read_text()
    for name in ("post-commit", "post-rewrite", "post-merge"):
        (folder / name).write_text(text.replace("@HOOK@", name).replace("@PYTHON@", str(python)))
        (folder / name).chmod(0o755)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=10_000, help="recorded sessions in the repo")
    parser.add_argument("--commits", type=int, default=50, help="commits rewritten")
    parser.add_argument("--runs", type=int, default=5, help="runs of each variant")
    parser.add_argument(
        "--only", action="append", choices=OPERATIONS, help="measure only this (repeatable)"
    )
    parser.add_argument(
        "--before", type=Path, help="also the hooks of this older costlog (git archive)"
    )
    parser.add_argument(
        "--keep", type=Path, help="copy the bench's repo here at the end (must not exist)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)  # (`name` is reused by the loop below)
        repo, env, empty = setup(tmp, args.n, args.commits)
        topic = git(repo, env, "rev-parse", "topic")
        main_tip = git(repo, env, "rev-parse", "main")

        def reset() -> None:
            git(repo, env, "-c", f"core.hooksPath={empty}", "checkout", "-q", "-f", "main")
            git(repo, env, "reset", "-q", "--hard", main_tip)
            git(repo, env, "branch", "-q", "-f", "topic", topic)
            git(repo, env, "branch", "-q", "-f", "picks", main_tip)

        def rebase(extra: list[str]) -> None:
            git(repo, env, *extra, "rebase", "-q", "main", "topic")

        def cherry_pick(extra: list[str]) -> None:
            git(repo, env, *extra, "checkout", "-q", "picks")
            git(repo, env, *extra, "cherry-pick", f"main..{topic}")

        def squash(extra: list[str]) -> None:
            git(repo, env, *extra, "merge", "-q", "--squash", topic)
            git(repo, env, *extra, "commit", "-q", "-m", "Squash topic")

        floor = empty_hooks(Path(name) / "empty-hooks")
        dirs = [empty, floor]
        if args.before:
            dirs.append(before_hooks(Path(name) / "before-hooks", args.before.resolve()))
        reset()
        rebase([])  # warm-up: byte code, parse cache, page cache
        print(
            f"{args.commits} commits, {args.n:,} sessions in the ledger; median of {args.runs} "
            f"runs; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores:"
        )
        summary: list[str] = []
        for name, label, op in (
            ("rebase", "rebase", rebase),
            ("cherry-pick", "cherry-pick", cherry_pick),
            ("squash", "merge --squash + commit", squash),
        ):
            if args.only and name not in args.only:
                continue
            hooked, plain, nothing, *old = samples(args.runs, reset, op, dirs)
            summary.append(
                f"ratio {label} / without hooks: {ratio(hooked, plain, 0):.2f}x wall, "
                f"{ratio(hooked, plain, 1):.2f}x CPU (target <= {TARGET}x; empty hooks "
                f"{ratio(nothing, plain, 0):.2f}x wall, {ratio(nothing, plain, 1):.2f}x CPU)"
            )
            for k, kind in ((0, "wall"), (1, "CPU")):
                got = ratio(hooked, plain, k)
                verdict = "ok" if got <= TARGET else "OVER"
                print(
                    f"  {label:<24} {kind:<4} hooks {median_ms(hooked, k):7.1f} ms, without "
                    f"{median_ms(plain, k):7.1f} ms: ratio {got:.2f}x (target <= {TARGET}x) "
                    f"{verdict}; empty hooks {ratio(nothing, plain, k):.2f}x (the floor)"
                )
                if old:
                    print(
                        f"  {'':<24} {kind:<4} before: hooks {median_ms(old[0], k):7.1f} ms, "
                        f"ratio {ratio(old[0], plain, k):.2f}x; now/before "
                        f"{ratio(hooked, old[0], k):.2f}x"
                    )
        reset()
        rebase([])
        check = subprocess.run(
            [sys.executable, "-m", "costlog", "check"], cwd=repo, env=env, capture_output=True,
            text=True,
        )  # fmt: skip
        print(f"  after a hooked rebase, costlog check: {check.stdout.strip() or check.stderr}")
        if args.keep:
            reset()  # (shutil.copytree keeps the hooks; the environment is printed to reuse)
            shutil.copytree(tmp, args.keep, symlinks=True)
            names = ("HOME", "CLAUDE_CONFIG_DIR", "GIT_CONFIG_NOSYSTEM")
            print(f"  kept in {args.keep}/repo; its environment: " + " ".join(
                f"{k}={env[k].replace(str(tmp), str(args.keep))}" for k in names
            ))  # fmt: skip
        print("\n".join(summary))


if __name__ == "__main__":
    main()
