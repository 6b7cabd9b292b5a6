"""How long `costlog statusline` (and the guard hook) takes per call, as Claude Code runs it.

Set-up: a git repo with N ledger sessions (`make_ledger.py`, default 1,000) and a budget in
its config, and one Claude Code transcript of about 20 MB (`gen_claude_corpus.py` lines,
several sessions' files joined) that grows before every call by one more response, as a
live session's does. Each call is a fresh process fed the status-line JSON on stdin; the
first (cold) call reads the whole transcript and the ledger and is reported apart. The
figure is the median over the calls, against `python -c pass` in the same loop, which is
what any Python status line costs at the least. Bytecode is written to a temporary
prefix (`PYTHONPYCACHEPREFIX`), as an installed package has it compiled.

    python benchmarks/bench_statusline.py [--calls 50] [--sessions 1000] [--mb 20]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def build(tmp: Path, sessions: int, mb: int) -> tuple[Path, Path, bytes]:
    from make_ledger import write_ledger

    repo = tmp / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / ".costlog").mkdir()
    (repo / ".costlog" / "config.yaml").write_text(
        "budget:\n  monthly_usd: 400\n  session_soft_usd: 50\n  session_hard_usd: 5000\n"
    )
    write_ledger(repo, sessions)
    corpus = tmp / "corpus"
    subprocess.run(
        [sys.executable, str(HERE / "gen_claude_corpus.py"), str(corpus), "--size-mb", str(mb)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    transcript = tmp / "claude" / "projects" / "-repo" / "live-session.jsonl"
    transcript.parent.mkdir(parents=True)
    with open(transcript, "wb") as out:
        for part in sorted(corpus.glob("projects/*/*.jsonl")):
            out.write(part.read_bytes())
    assistant = next(
        line
        for line in transcript.read_bytes().splitlines()
        if b'"type":"assistant"' in line and b'"usage"' in line
    )
    return repo, transcript, assistant


def grow(transcript: Path, template: bytes, n: int) -> None:
    """One more response, as Claude Code appends it."""
    line = json.loads(template)
    line["requestId"] = f"req_bench_{n}"
    line["message"]["id"] = f"msg_bench_{n}"
    with open(transcript, "ab") as fh:
        fh.write(json.dumps(line, separators=(",", ":")).encode() + b"\n")


#: CPU seconds (user + sys) of each call, beside its wall time: not inflated when other
#: work shares the machine's cores
CPU: dict[str, list[float]] = {}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(
    cmd: list[str], stdin: bytes | None, env: dict[str, str], cwd: Path, name: str = ""
) -> float:
    cpu = _children_cpu()
    start = time.perf_counter()
    subprocess.run(cmd, input=stdin, env=env, cwd=cwd, stdout=subprocess.DEVNULL, check=True)
    wall = time.perf_counter() - start
    CPU.setdefault(name, []).append(_children_cpu() - cpu)
    return wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--mb", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        repo, transcript, template = build(tmp, args.sessions, args.mb)
        env = {**os.environ, "HOME": str(tmp / "home"), "COSTLOG_STATE_DIR": str(tmp / "state")}
        # an installed costlog has its bytecode compiled; here it goes to a temp prefix
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
        stdin = json.dumps(
            {
                "session_id": "live-session",
                "transcript_path": str(transcript),
                "model": {"id": "claude-sonnet-4-6"},
                "workspace": {"project_dir": str(repo), "current_dir": str(repo)},
                "cost": {"total_cost_usd": 1.0},
            }
        ).encode()
        hook = json.dumps(
            {
                "session_id": "live-session",
                "transcript_path": str(transcript),
                "cwd": str(repo),
                "hook_event_name": "PreToolUse",
            }
        ).encode()
        status = [sys.executable, "-m", "costlog.integration.statusline"]
        guard = [sys.executable, "-m", "costlog.integration.guard"]
        baseline = [sys.executable, "-c", "pass"]
        size = transcript.stat().st_size
        cold = timed(status, stdin, env, repo)
        timed(guard, hook, env, repo)
        line_ms, guard_ms, base_ms = [], [], []
        for n in range(args.calls):
            grow(transcript, template, n)
            line_ms.append(timed(status, stdin, env, repo, "status"))
            grow(transcript, template, n + 100_000)
            guard_ms.append(timed(guard, hook, env, repo, "guard"))
            base_ms.append(timed(baseline, None, env, repo, "base"))
        shown = subprocess.run(
            status, input=stdin, env=env, cwd=repo, capture_output=True, check=True
        ).stdout.decode()
    ms = 1000

    def median(values: list[float]) -> str:
        return f"{statistics.median(values) * ms:7.1f} ms"

    print(f"transcript {size / 1e6:.1f} MB, {args.sessions} ledger sessions, {args.calls} calls")
    print(f"cold first call       {cold * ms:7.1f} ms wall")
    print("median of the calls       wall        CPU")
    print(f"statusline            {median(line_ms)} {median(CPU['status'])}")
    print(f"guard hook            {median(guard_ms)} {median(CPU['guard'])}")
    print(f"python -c pass        {median(base_ms)} {median(CPU['base'])}")
    print(f"line: {shown.strip()}")


if __name__ == "__main__":
    main()
