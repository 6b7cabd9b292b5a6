"""`costlog record --from-json FILE`: a headless agent run (CI), recorded from the result
JSON it printed (read by `recording.builders.headless`), with its commits and branch: by the
evidence of the session's transcript when that is on this machine, else by the run's time
window as the last resort.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any

from costlog import gitrepo
from costlog.ledger.store import Ledger
from costlog.models import Entry, Session
from costlog.recording import attribution, store
from costlog.recording.builders.headless import headless_entry, load_result, result_session_id
from costlog.recording.store import Prepare


def current_branch(root: Path, env: dict[str, str] | None = None) -> str | None:
    """The branch being worked on: GitHub Actions' PR head ref, else git's HEAD."""
    environ = os.environ if env is None else env
    if environ.get("GITHUB_HEAD_REF"):
        return environ["GITHUB_HEAD_REF"]
    return gitrepo.current_branch(root)


def _transcript(repo: Any, session_id: str) -> Session | None:
    """The run's own transcript, when it is on this machine: its times are the run's."""
    from costlog.errors import CostlogError
    from costlog.recording.auto import locate

    try:
        return locate(repo, session_id=session_id, agents=["claude-code"], warn=lambda _m: None)
    except CostlogError:
        return None  # a CI runner's transcript is gone with it: the file's time is used


def _evidence_session(entry: Entry, transcript: Session | None, branch: str | None) -> Session:
    """The session to attribute commits for. With its transcript here, the transcript's
    evidence (shas its tools printed or committed, files it edited, its first prompt and
    branch) links the commits exactly as `costlog record` would: the bare run times would
    leave only the time window, which also takes the user's own commits made meanwhile.
    The result's numbers stay the entry's; only the evidence comes from the transcript."""
    session = Session(
        agent=entry.agent,
        session_id=entry.id.split("/", 1)[1],
        started=entry.started,
        ended=entry.ended,
        branch=branch,
    )
    if transcript is not None:
        session.tool_output_refs = set(transcript.tool_output_refs)
        session.edited_files = set(transcript.edited_files)
        session.first_prompt = transcript.first_prompt
        session.cwd = transcript.cwd
        if transcript.branch and transcript.branch != "HEAD":
            session.branch = transcript.branch  # where the agent worked, not where CI is now
    return session


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
    result = load_result(path)
    transcript = _transcript(repo, result_session_id(result, path))
    entry = headless_entry(result, path, ended=ended, transcript=transcript, model=model)
    session = _evidence_session(entry, transcript, current_branch(repo.root))
    entry.branch = session.branch
    others = Ledger(repo, config.ledger_dir).load_all()
    entry.commits, entry.work_items = attribution.attribute(session, repo, config, others)
    for key, value in (extra or {}).items():
        if value not in (None, {}, [], ""):
            setattr(entry, key, value)
    return store.save(repo, config, entry, prepare=prepare).entry
