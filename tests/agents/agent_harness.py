"""What the real-agent tests share: pinned CLIs installed into a cache, the mock API process,
a git repo set up with costlog, and the truth the mock served, priced with costlog's table.

Nothing here reaches the network except the installer (npm, pip), and only on a cache miss.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
MOCK = HERE / "mockapi.py"

#: the current release and one older of each CLI; a format change then shows up as a test
PINS: dict[str, tuple[str, tuple[str, ...], str]] = {
    # name: (npm package, versions newest first, executable)
    "claude": ("@anthropic-ai/claude-code", ("2.1.332", "2.1.330"), "claude"),
    "codex": ("@openai/codex", ("0.171.0", "0.169.0"), "codex"),
    "gemini": ("@google/gemini-cli", ("0.61.0", "0.60.0"), "gemini"),
    "opencode": ("opencode-ai", ("1.18.33", "1.18.30"), "opencode"),
}
AIDER_PIN = "0.86.2"
#: the current release and the one before it, so a format change shows up as a failing test
AIDER_PINS = (AIDER_PIN, "0.86.1")

#: the git identity and branch every scenario uses; the branch names the work item
BRANCH = "feature/WRK-237-x"
WORK_ITEM = "WRK-237"
#: the command every scenario's agent runs through its shell tool: it changes a file, as real
#: work does (an empty commit carrying only the ledger files the hook staged would look like
#: costlog's own ledger commit)
SHELL_COMMIT = "echo step {n} >> notes.txt && git add notes.txt && git commit -m 'step {n} WRK-237'"


def cache_root() -> Path:
    """Outside the per-test HOME (tests isolate HOME), so installs survive between runs."""
    override = os.environ.get("COSTLOG_AGENTS_CACHE")
    if override:
        return Path(override)
    return Path(pwd.getpwuid(os.getuid()).pw_dir) / ".cache" / "costlog-agents"


def _registry_reachable(probe: list[str]) -> str | None:
    """None when the registry answers, else why not (a plain skip reason)."""
    try:
        done = subprocess.run(probe, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"registry unreachable ({exc.__class__.__name__})"
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return f"registry unreachable: {last[:160]}"
    return None


@contextlib.contextmanager
def _installing() -> Iterator[None]:
    """Stops the test's deadline (conftest's SIGALRM) while a pinned client installs: a cold
    download on a slow registry is not the client running over its time."""
    left = signal.alarm(0)
    try:
        yield
    finally:
        if left:
            signal.alarm(left)


def npm_cli(name: str, version: str) -> Path:
    """The pinned CLI's executable, installed with `npm install --prefix` into the cache on
    first use; skips the test, saying why, when npm or its registry is not there."""
    package, _, exe = PINS[name]
    target = cache_root() / f"{package.replace('/', '+')}@{version}"
    binary = target / "node_modules" / ".bin" / exe
    if (target / ".complete").exists() and binary.exists():
        return binary
    with _installing():  # an install is not the client's run: no deadline
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("npm is not installed: the real-agent suite needs it")
        why = _registry_reachable([npm, "view", f"{package}@{version}", "version"])
        if why:
            pytest.skip(f"{package}@{version}: npm {why}")
        partial = target.with_name(target.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        done = subprocess.run(
            [
                npm,
                "install",
                "--prefix",
                str(partial),
                "--no-audit",
                "--no-fund",
                "--silent",
                f"{package}@{version}",
            ],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if done.returncode != 0:
            pytest.fail(f"npm install {package}@{version} failed: {done.stderr.strip()[-400:]}")
        shutil.rmtree(target, ignore_errors=True)
        partial.rename(target)
        (target / ".complete").write_text(version + "\n")
        return binary


def aider_cli(version: str = AIDER_PIN) -> Path:
    """aider in its own venv in the cache (`python -m venv` + pip), on first use."""
    target = cache_root() / f"aider-chat@{version}"
    binary = target / "bin" / "aider"
    if (target / ".complete").exists() and binary.exists():
        return binary
    with _installing():  # an install is not the client's run: no deadline
        why = _registry_reachable(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "-q",
                "-d",
                str(cache_root() / "pip-probe"),
                f"aider-chat=={version}",
            ]
        )
        if why:
            pytest.skip(f"aider-chat=={version}: PyPI {why}")
        shutil.rmtree(target, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(target)], check=True, timeout=120)
        done = subprocess.run(
            [str(target / "bin" / "pip"), "install", "-q", f"aider-chat=={version}"],
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        if done.returncode != 0:
            pytest.fail(f"pip install aider-chat=={version} failed: {done.stderr.strip()[-400:]}")
        (target / ".complete").write_text(version + "\n")
        return binary


def loopback_usable() -> str | None:
    try:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
    except OSError as exc:
        return f"cannot bind 127.0.0.1 here ({exc})"
    return None


# --- the mock ---------------------------------------------------------------------------


@dataclass
class Mock:
    """The mock API in its own process: started on a free port, killed by its PID."""

    workdir: Path
    plan: dict[str, Any]
    proc: subprocess.Popen[bytes] | None = None
    port: int = 0

    def start(self) -> Mock:
        self.workdir.mkdir(parents=True, exist_ok=True)
        (self.workdir / "plan.json").write_text(json.dumps(self.plan))
        port_file = self.workdir / "port"
        port_file.unlink(missing_ok=True)
        self.proc = subprocess.Popen(
            [
                sys.executable,
                str(MOCK),
                str(self.workdir / "plan.json"),
                str(self.workdir / "served.jsonl"),
                str(port_file),
            ],
            stdout=subprocess.DEVNULL,
            stderr=open(self.workdir / "mock.err", "wb"),  # noqa: SIM115
        )
        deadline = time.monotonic() + 30
        while not (port_file.exists() and port_file.read_text().strip()):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                err = (self.workdir / "mock.err").read_text()[-400:]
                raise AssertionError(f"mock API did not start: {err}")
            time.sleep(0.05)
        self.port = int(port_file.read_text())
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def served(self) -> list[dict[str, Any]]:
        log = self.workdir / "served.jsonl"
        if not log.exists():
            return []
        return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]

    def answered(self) -> list[dict[str, Any]]:
        return [r for r in self.served() if r.get("served")]

    def refused(self) -> list[str]:
        """Hosts the client tried to reach through the refusing proxy."""
        return [r["path"] for r in self.served() if r.get("refused")]


KINDS = ("input", "output", "cache_read", "cache_write_5m", "cache_write_1h")


@dataclass
class Truth:
    """What the mock served, per model, in costlog's kinds (input is uncached input)."""

    models: dict[str, dict[str, int]] = field(default_factory=dict)
    requests: dict[str, int] = field(default_factory=dict)
    cost: Decimal = Decimal(0)


def plan_usage(u: dict[str, Any]) -> dict[str, int]:
    """A plan's usage in costlog's kinds: OpenAI-style plans say `cache_write` (one TTL)."""
    return {
        "input": int(u.get("input", 0)),
        "output": int(u.get("output", 0)) + int(u.get("thoughts", 0)),
        "cache_read": int(u.get("cache_read", 0)),
        "cache_write_5m": int(u.get("cache_write_5m", 0)) + int(u.get("cache_write", 0)),
        "cache_write_1h": int(u.get("cache_write_1h", 0)),
    }


def truth_of(
    records: Iterable[dict[str, Any]], model_names: dict[str, str] | None = None, when: Any = None
) -> Truth:
    """Sums the answered requests and prices each at costlog's table (its tier included)."""
    from costlog.models import Usage
    from costlog.pricing.rates import token_cost
    from costlog.pricing.table import PriceTable

    table = PriceTable.load()
    truth = Truth()
    for rec in records:
        name = (model_names or {}).get(rec["model"], rec["model"])
        kinds = plan_usage(rec["usage"])
        into = truth.models.setdefault(name, dict.fromkeys(KINDS, 0))
        for k in KINDS:
            into[k] += kinds[k]
        truth.requests[name] = truth.requests.get(name, 0) + 1
        usage = Usage(**kinds)
        rates = table.rates(name, when)
        assert rates is not None, f"{name} has no price in costlog's table"
        truth.cost += token_cost(usage, rates.for_prompt(usage.prompt_tokens))
    return truth


# --- the repo and costlog -----------------------------------------------------------------


def costlog_exe() -> list[str]:
    """The costlog CLI installed in the running venv, as a user would run it."""
    exe = Path(sys.executable).parent / "costlog"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "costlog"]


@dataclass
class Repo:
    root: Path
    env: dict[str, str]

    def git(self, *args: str) -> str:
        done = subprocess.run(
            ["git", *args],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, f"git {args}: {done.stderr}"
        return done.stdout

    def costlog(self, *args: str, code: int = 0) -> str:
        done = subprocess.run(
            [*costlog_exe(), *args],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == code, f"costlog {args}: {done.stdout}{done.stderr}"
        return done.stdout

    def commit(self, subject: str) -> str:
        """A commit as the user makes it (the post-commit hook runs); its full sha."""
        self.git("commit", "-q", "--allow-empty", "-m", subject)
        return self.git("rev-parse", "HEAD").strip()

    def sha_of(self, subject: str) -> str:
        for line in self.git("log", "--format=%H %s").splitlines():
            sha, _, subj = line.partition(" ")
            if subj == subject:
                return sha
        raise AssertionError(f"no commit {subject!r}")

    def entries(self, agent: str) -> list[Any]:
        from costlog.ledger.format import parse_entry

        folder = self.root / ".costlog" / "sessions" / agent
        return [parse_entry(p.read_text(), str(p)) for p in sorted(folder.glob("*.yaml"))]

    def entry(self, agent: str, session_id: str) -> Any:
        found = [e for e in self.entries(agent) if session_id in e.id]
        assert len(found) == 1, f"entries for {session_id}: {[e.id for e in self.entries(agent)]}"
        return found[0]


def make_repo(tmp: Path, agent: str | None) -> Repo:
    """A real repo: `initial`, a work-item branch, `costlog init` and its `Set up costlog`."""
    root = tmp / "repo"
    root.mkdir(parents=True)
    env = dict(os.environ, PWD=str(root))
    for name in ("GIT_AUTHOR_DATE", "GIT_COMMITTER_DATE"):
        env.pop(name, None)  # the agents' commits carry real times, as the window expects
    repo = Repo(root, env)
    repo.git("init", "-q", "-b", "main")
    (root / "README.md").write_text("# demo\n")
    repo.git("add", "README.md")
    repo.git("commit", "-q", "-m", "initial")
    repo.git("checkout", "-q", "-b", BRANCH)
    args = ["init"] + (["--agent", agent] if agent else [])
    repo.costlog(*args)
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "Set up costlog")
    return repo


def _checkout_head() -> str:
    """HEAD of the costlog checkout the tests run from: an agent must never commit there."""
    done = subprocess.run(
        ["git", "rev-parse", "HEAD"],
        cwd=HERE,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return done.stdout.strip()


def run_agent(
    argv: list[str], repo: Repo, env: dict[str, str], timeout: float = 120, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    # OpenCode takes its working directory from $PWD, not from the process's cwd: an
    # inherited PWD (the checkout's) sends its commits into the wrong repository
    env = dict(env, PWD=str(repo.root))
    before = _checkout_head()
    done = subprocess.run(
        argv,
        cwd=repo.root,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        input=stdin,
        check=False,
    )
    assert _checkout_head() == before, f"{argv[0]} committed outside its test repo"
    assert done.returncode == 0, (
        f"{argv[0]} exited {done.returncode}\nstdout: {done.stdout[-2000:]}\n"
        f"stderr: {done.stderr[-2000:]}"
    )
    return done


def figures(entry: Any) -> dict[str, dict[str, int]]:
    """An entry's tokens per model and kind, in the same shape as Truth.models."""
    return {name: {k: getattr(mu.usage, k) for k in KINDS} for name, mu in entry.models.items()}


def linked(entry: Any) -> dict[str, str]:
    """The commits an entry links: full sha prefix -> evidence."""
    return {c.sha: c.evidence for c in entry.commits}


def assert_links(entry: Any, own: dict[str, str], others: dict[str, str]) -> None:
    """The agent's own commits are linked by evidence (not time window); nothing else is."""
    got = linked(entry)
    for subject, sha in own.items():
        hits = [ev for s, ev in got.items() if sha.startswith(s)]
        assert hits, f"own commit {subject!r} not linked; linked: {entry.commits}"
        assert hits[0] != "time-window", f"{subject!r} linked only by time window"
    for subject, sha in others.items():
        assert not [s for s in got if sha.startswith(s)], (
            f"{subject!r} ({sha[:12]}) linked though the agent did not make it: {entry.commits}"
        )
    assert len(got) == len(own), f"linked {len(got)} commits, the agent made {len(own)}"


def assert_known_types(agent: str, paths: Iterable[Path]) -> None:
    """Every record type the pinned client wrote is one costlog reads or leaves unread on
    purpose (costlog.sources.formats): a new type fails here before it costs a user."""
    from costlog.sources import formats

    files = list(paths)
    assert files, f"no {agent} logs to check"
    _, unknown = formats.summary(agent, files)
    assert not unknown, f"{agent} wrote record types costlog neither reads nor lists: {unknown}"


def note_figures(entry: Any, truth: Truth) -> None:
    """With COSTLOG_AGENT_FIGURES=FILE, each comparison is appended there (truth against
    costlog per model and kind, and the cost), for the version matrix in a report."""
    target = os.environ.get("COSTLOG_AGENT_FIGURES")
    if not target:
        return
    row = {
        "test": os.environ.get("PYTEST_CURRENT_TEST", "?").split(" ")[0],
        "entry": entry.id,
        "truth": truth.models,
        "costlog": figures(entry),
        "truth_cost": str(truth.cost),
        "costlog_cost": None if entry.cost_usd is None else str(entry.cost_usd),
        "commits": {c.subject: c.evidence for c in entry.commits},
    }
    with open(target, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(row) + "\n")


def assert_money(entry: Any, truth: Truth) -> None:
    note_figures(entry, truth)
    assert figures(entry) == truth.models, (
        f"tokens per kind: costlog {figures(entry)} vs truth {truth.models}"
    )
    assert entry.cost_usd is not None, "session shown as unpriced"
    assert entry.cost_usd == truth.cost.quantize(entry.cost_usd), (
        f"cost: costlog {entry.cost_usd} vs truth {truth.cost}"
    )
