"""A run's work order: its id (the run's work item) and its file (whose tokens the
estimates count)."""

from __future__ import annotations

import re
from pathlib import Path

from costlog.config import RunDir
from costlog.models import Session
from costlog.sources.rundir import AGENT
from costlog.sources.rundir.estimates import Run


def work_order(run: Run) -> tuple[str | None, Path | None]:
    """(work-order id, work-order file) of a run."""
    wo_re = re.compile(run.settings.work_order_id)
    bases = [b for b in (run.repo_root, run.path) if b is not None]
    for name in run.log.md_paths:
        for base in bases:
            candidate = Path(name).expanduser()
            candidate = candidate if candidate.is_absolute() else base / candidate
            if candidate.is_file():
                found = wo_re.search(candidate.name)
                return (found.group(0) if found else run.log.wo_id), candidate
    wo_id = run.log.wo_id
    if wo_id is None and (found := wo_re.search(run.path.name)):
        wo_id = found.group(0)
    if wo_id is None or run.repo_root is None:
        return wo_id, None
    for pattern in run.settings.work_orders:
        hits = sorted(run.repo_root.glob(pattern.replace("{wo}", glob_escape(wo_id))))
        if hits:
            return wo_id, hits[0]
    return wo_id, None


def glob_escape(text: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", text)


def work_item(session: Session, settings: RunDir) -> str | None:
    """The work-order id of a run session (its only work item)."""
    if session.agent != AGENT or not session.first_prompt:
        return None
    found = re.search(settings.work_order_id, session.first_prompt)
    return found.group(0) if found else None
