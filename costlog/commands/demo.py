"""`costlog demo DIR`: a throwaway repo with a few days of realistic sessions.

Sessions are made of per-request usage shaped like real agent sessions (large cached
context, small uncached input, modest output) and priced with the real price table, so the
numbers in the demo's COST_LOG.md are what such sessions really cost.
"""

from __future__ import annotations

import os
import random
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

from costlog import config as config_mod
from costlog import gitrepo, render
from costlog.errors import EXIT_USAGE, CostlogError
from costlog.gitrepo import Repo
from costlog.integration import setup
from costlog.ledger.store import Ledger
from costlog.models import Commit, Entry, Request, Usage

# (agent, model, task types, note, work item, requests)
_SESSIONS = [
    (
        "claude-code",
        "claude-sonnet-4-6",
        {"code": 3, "docs": 1},
        "Stripe connector + tests",
        "WRK-231",
        38,
    ),
    ("claude-code", "claude-haiku-4-5", {"config": 2}, "Bump CI matrix, tidy YAML", None, 9),
    ("codex", "gpt-5-codex", {"code": 2, "review": 1}, "Retry policy for webhooks", "WRK-233", 24),
    (
        "claude-code",
        "claude-opus-4-6",
        {"architecture": 1},
        "ADR: event store vs outbox",
        "WRK-234",
        31,
    ),
    ("gemini", "gemini-2.5-pro", {"debugging": 2}, "Flaky timezone test", "#41", 17),
    ("claude-code", "claude-sonnet-4-6", {"code": 2}, "Invoice PDF export", "WRK-237", 44),
    ("manual", "claude-sonnet-4-6", {"review": 1}, "PR review in the chat window", None, 1),
    (
        "claude-code",
        "claude-sonnet-4-6",
        {"code": 4, "test": 2},
        "Refund flow end to end",
        "WRK-237",
        72,
    ),
    ("codex", "gpt-5.1-codex-mini", {"docs": 2}, "README and changelog", None, 12),
    (
        "claude-code",
        "claude-opus-4-6",
        {"security": 1},
        "Security review of auth tokens",
        "WRK-240",
        58,
    ),
]


#: left in the demo's git dir, so a second `costlog demo DIR` knows DIR is its own
_MARKER = "costlog-demo"


def existing(directory: Path) -> Path | None:
    """The COST_LOG.md of a demo an earlier `costlog demo` built in `directory`, if any."""
    log = directory / "COST_LOG.md"
    if (directory / ".git" / _MARKER).is_file() and log.is_file():
        return log.resolve()
    return None


def build(directory: Path, *, force: bool = False) -> Path:
    """The demo repo in `directory`: built when new or empty; an earlier demo there is
    reused, or with `force` built again. Any other non-empty directory is refused."""
    # DIR is the command's argument: a bad one is a usage error (2), said in one line
    if directory.exists() and not directory.is_dir():
        raise CostlogError(
            "not a directory", path=directory, hint="give a new or empty one", exit_code=EXIT_USAGE
        )
    previous = existing(directory)
    if previous is not None and not force:
        return previous
    if previous is not None:
        shutil.rmtree(directory)
    elif directory.exists() and any(directory.iterdir()):
        raise CostlogError(
            "directory is not empty",
            path=directory,
            hint="give a new or empty directory, or the folder of an earlier demo",
            exit_code=EXIT_USAGE,
        )
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CostlogError(
            f"cannot create the directory: {exc.strerror or exc}",
            path=directory,
            hint="give a new or empty directory you can write to",
            exit_code=EXIT_USAGE,
        ) from None
    env = _git_env()
    gitrepo.init(directory, env=env)
    repo = Repo(directory.resolve(), (directory / ".git").resolve())
    rng = random.Random(237)
    start = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
    from costlog.pricing.requests import price_requests
    from costlog.pricing.table import PriceTable

    table = PriceTable.load()
    config = config_mod.Config()
    ledger = Ledger(repo, config.ledger_dir)
    for n, (agent, model, types, note, item, calls) in enumerate(_SESSIONS):
        began = start + timedelta(hours=n * 11 + rng.randint(0, 3))
        sha = _commit_work(directory, env, n, began + timedelta(minutes=25), note, item)
        requests = _requests(rng, model, calls, began)
        per_model, total, _ = price_requests(requests, table)
        entry = Entry(
            id=f"{agent}/{_session_id(rng)}",
            agent=agent,
            started=began,
            ended=began + timedelta(minutes=calls * 1.5 + 10),
            models=per_model,
            cost_usd=total,
            source="manual" if agent == "manual" else "actual",
            pricing_table=table.version,
            cwd=".",
            branch="main",
            subagents=1 if calls > 50 else 0,
            commits=[
                Commit(
                    sha=sha[:10],
                    subject=note,
                    files=3,
                    added=40 + n * 7,
                    removed=n,
                    evidence="tool-output",
                )
            ]
            if agent != "manual"
            else [],
            work_items=[item] if item else [],
            tasks_completed=sum(types.values()),
            task_types=types,
            notes=note,
        )
        if agent == "manual":
            entry.methods = {"cost": "tokens entered by hand, priced from table"}
        ledger.write(entry)
    setup.init(repo)
    result = render.render(repo, config)
    gitrepo.commit_all(directory, "Record agent sessions in the cost ledger", env=env)
    (directory / ".git" / _MARKER).write_text("built by costlog demo\n", encoding="utf-8")
    return result.path


def _requests(rng: random.Random, model: str, calls: int, began: datetime) -> list[Request]:
    out = []
    context = rng.randint(12_000, 20_000)
    for i in range(calls):
        write = rng.randint(800, 4_000)
        out.append(
            Request(
                model=model,
                usage=Usage(
                    input=rng.randint(3, 40),
                    output=rng.randint(150, 1_800),
                    cache_read=context,
                    cache_write_5m=write,
                ),
                timestamp=began + timedelta(seconds=90 * i),
            )
        )
        context += write
    return out


def _session_id(rng: random.Random) -> str:
    hexits = f"{rng.getrandbits(128):032x}"
    return f"{hexits[:8]}-{hexits[8:12]}-{hexits[12:16]}-{hexits[16:20]}-{hexits[20:]}"


def _commit_work(
    root: Path, env: dict[str, str], n: int, when: datetime, subject: str, item: str | None
) -> str:
    path = root / "src" / f"module_{n}.py"
    path.parent.mkdir(exist_ok=True)
    path.write_text(f'"""{subject}."""\n\n\ndef step_{n}() -> int:\n    return {n}\n')
    stamp = when.strftime("%Y-%m-%dT%H:%M:%S+00:00")
    env = {**env, "GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}
    message = f"{subject}\n\nRefs: {item}" if item else subject
    return gitrepo.commit_all(root, message, env=env)


def _git_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        GIT_AUTHOR_NAME="Demo Dev",
        GIT_AUTHOR_EMAIL="demo@example.com",
        GIT_COMMITTER_NAME="Demo Dev",
        GIT_COMMITTER_EMAIL="demo@example.com",
        COSTLOG_SKIP="1",
    )
    return env
