"""`costlog record --from-json FILE`: a headless agent run (CI), recorded from the result
JSON it printed (read by `recording.builders.headless`), with the commits of its time
window and the branch it ran on.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any

from costlog import gitrepo
from costlog.ledger.format import now
from costlog.ledger.store import Ledger
from costlog.models import Entry, Session
from costlog.recording import attribution, store
from costlog.recording.builders.headless import headless_entry, load_result
from costlog.recording.store import Prepare


def current_branch(root: Path, env: dict[str, str] | None = None) -> str | None:
    """The branch being worked on: GitHub Actions' PR head ref, else git's HEAD."""
    environ = os.environ if env is None else env
    if environ.get("GITHUB_HEAD_REF"):
        return environ["GITHUB_HEAD_REF"]
    return gitrepo.current_branch(root)


def record(
    repo: Any,
    config: Any,
    path: Path,
    *,
    ended: datetime | None = None,
    model: str | None = None,
    extra: dict[str, Any] | None = None,
    prepare: Prepare | None = None,
) -> Entry:
    """Read the result, link the run's commits and work items, save the entry (`prepare`:
    as `recording.store.save`)."""
    entry = headless_entry(load_result(path), path, ended=ended or now(), model=model)
    entry.branch = current_branch(repo.root)
    session = Session(
        agent=entry.agent,
        session_id=entry.id.split("/", 1)[1],
        started=entry.started,
        ended=entry.ended,
        branch=entry.branch,
    )
    others = Ledger(repo, config.ledger_dir).load_all()
    entry.commits, entry.work_items = attribution.attribute(session, repo, config, others)
    for key, value in (extra or {}).items():
        if value not in (None, {}, [], ""):
            setattr(entry, key, value)
    return store.save(repo, config, entry, prepare=prepare).entry
