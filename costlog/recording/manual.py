"""Recording a session into the ledger: build the entry, write it, re-render COST_LOG.md."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from costlog.analysis import core as analysis
from costlog.config import Config
from costlog.errors import CostlogError
from costlog.gitrepo import Repo
from costlog.ledger.store import Ledger, atomic_write, now
from costlog.models import Entry, ModelUsage, Usage

_TASK_PART = re.compile(r"\s*(?:(\d+)\s+)?([A-Za-z][\w /-]*?)\s*\Z")


def parse_task_types(text: str | None) -> dict[str, int]:
    """`"3 code, 1 docs"` -> {"code": 3, "docs": 1}; a bare word counts once."""
    if not text or not text.strip():
        return {}
    out: dict[str, int] = {}
    for part in text.split(","):
        match = _TASK_PART.match(part)
        if match is None:
            raise CostlogError(
                f"cannot read task type {part.strip()!r}", hint='write them like "3 code, 1 docs"'
            )
        count = int(match.group(1) or 1)
        name = match.group(2).strip().lower()
        out[name] = out.get(name, 0) + count
    return out


@dataclass
class ManualSession:
    model: str
    agent: str = "manual"
    session_id: str | None = None
    tasks: int | None = None
    task_types: dict[str, int] = field(default_factory=dict)
    notes: str | None = None
    cost: Decimal | None = None
    usage: Usage | None = None
    requests: int = 1
    started: datetime | None = None
    ended: datetime | None = None
    work_items: list[str] = field(default_factory=list)


@dataclass
class Recorded:
    entry: Entry
    path: str
    changed: bool
    warnings: list[str] = field(default_factory=list)


def manual_entry(session: ManualSession, config: Config, root: Path) -> tuple[Entry, list[str]]:
    """An entry from numbers a person typed, or from the estimation guide."""
    from costlog.pricing.table import PriceTable

    table = PriceTable.load(config.prices_path(root))
    started = session.started or now()
    model = table.canonical(session.model) or session.model
    warnings: list[str] = []
    methods: dict[str, str] = {}
    usage = session.usage or Usage()
    if session.cost is not None:
        cost: Decimal | None = session.cost
        methods["cost"] = "entered by hand"
    elif session.usage is not None:
        cost = table.request_cost(model, usage, started.date())
        methods["cost"] = f"tokens entered by hand, priced from table {table.version}"
        if cost is None:
            warnings.append(
                f"no price for model {session.model!r}: tokens kept, cost marked "
                "unpriced (add it to .costlog/prices.yaml, then `costlog reprice`)"
            )
    else:
        cost, method = _guide_cost(session, model, config, root)
        methods["cost"] = method
        if cost is None:
            warnings.append(
                f"no estimation-guide row matches model {session.model!r}: cost marked unpriced"
            )
    if session.tasks is None and session.task_types:
        session.tasks = sum(session.task_types.values())
    entry = Entry(
        id=f"{session.agent}/{session.session_id or _new_id(started)}",
        agent=session.agent,
        started=started,
        ended=session.ended,
        models={
            model: ModelUsage(
                requests=session.requests, usage=usage, cost_usd=cost, source="manual"
            )
        },
        cost_usd=cost,
        source="manual",
        methods=methods,
        pricing_table=table.version,
        tasks_completed=session.tasks,
        task_types=session.task_types,
        notes=session.notes,
        work_items=session.work_items,
    )
    return entry, warnings


def _guide_cost(
    session: ManualSession, model: str, config: Config, root: Path
) -> tuple[Decimal | None, str]:
    """Price each task at the median of the estimation guide COST_LOG.md shows: measured
    from this ledger where there is enough data, seeded from the config otherwise."""
    types = session.task_types or {"*": session.tasks or 1}
    rows = analysis.guide(_ledger_entries(root, config), config)
    total = Decimal(0)
    parts = []
    for task_type, count in types.items():
        rate = analysis.guide_rate(rows, model, task_type)
        if rate is None:
            return None, "estimation guide: no matching row"
        total += rate * count
        parts.append(f"{count} x {task_type} @ ${rate:.4f}")
    return total, "estimation guide: " + ", ".join(parts)


def _ledger_entries(root: Path, config: Config) -> list[Entry]:
    from costlog import gitrepo as repo_mod

    try:
        return Ledger(repo_mod.find(root), config.ledger_dir).load_all()
    except CostlogError:
        return []  # a broken ledger: the seeds still price the session; `check` reports it


def _new_id(started: datetime) -> str:
    return f"{started.strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(3)}"


def merge(old: Entry | None, new: Entry) -> Entry:
    """Re-recording a session updates it in place; hand-entered fields it lacks are kept."""
    if old is None:
        return new
    new.started = min(old.started, new.started)
    new.tasks_completed = (
        new.tasks_completed if new.tasks_completed is not None else old.tasks_completed
    )
    new.task_types = new.task_types or old.task_types
    new.notes = new.notes or old.notes
    new.work_items = new.work_items or old.work_items
    new.commits = new.commits or old.commits
    new.branch = new.branch or old.branch
    return new


def save(repo: Repo, config: Config, entry: Entry, *, render: bool = True) -> Recorded:
    """Write the entry and re-render COST_LOG.md, or fail before writing either.

    Everything that can refuse runs first: a symlinked ledger dir, ledger file or
    COST_LOG.md, a broken ledger file, a bad template. So a failed `record` leaves no entry
    behind that COST_LOG.md does not show, and nothing to stage. With `render=False` the
    caller renders later; COST_LOG.md is still checked here for the same reason.
    """
    from costlog import render as renderer
    from costlog.safefs import check_repo_path

    ledger = Ledger(repo, config.ledger_dir)
    with ledger.lock():
        merged = merge(ledger.get(entry.id), entry)
        path = ledger.path_for(merged.id)
        check_repo_path(repo.root, path)
        check_repo_path(repo.root, config.output_path(repo.root))
        document = None
        if render:
            stored = _as_stored(merged, ledger.rel(path))
            entries = [e for e in ledger.load_all() if e.id != stored.id] + [stored]
            entries.sort(key=lambda e: (e.started, e.id))
            document = renderer.document(repo, config, entries)
        path, changed = ledger.write(merged)
        if document is not None and document.changed:
            atomic_write(document.path, document.text, repo.state_dir / "tmp", root=repo.root)
    return Recorded(merged, ledger.rel(path), changed)


def _as_stored(entry: Entry, rel: str) -> Entry:
    """The entry exactly as its ledger file will hold it (amounts rounded to the
    micro-dollar, ...): COST_LOG.md rendered from it matches a later `costlog check`."""
    from costlog import yamlfile
    from costlog.ledger.store import entry_to_dict, parse_entry

    return parse_entry(yamlfile.dump(entry_to_dict(entry)), rel)


def summary_line(entry: Entry) -> str:
    """One line: `recorded 2026-11-20 claude-code a1b2c3d4: claude-sonnet-4-6, 3 commits
    (WRK-237), $0.83 (actual)`."""
    short = entry.id.split("/", 1)[-1][:8]
    bits = [", ".join(sorted(entry.models)) or "no model"]
    if entry.commits:
        bits.append(f"{len(entry.commits)} commit{'s' if len(entry.commits) != 1 else ''}")
    if entry.tasks_completed:
        bits.append(f"{entry.tasks_completed} task{'s' if entry.tasks_completed != 1 else ''}")
    if entry.work_items:
        bits[-1] += f" ({', '.join(entry.work_items)})"
    if entry.cost_usd is None:
        money = "unpriced"
    else:
        money = (
            f"${entry.cost_usd:.2f}"
            if entry.cost_usd >= Decimal("0.01")
            else f"${entry.cost_usd:.4f}"
        )
    day = entry.started.date().isoformat()
    return f"recorded {day} {entry.agent} {short}: {', '.join(bits)}, {money} ({entry.source})"
