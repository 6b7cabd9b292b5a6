"""`costlog import COST_LOG.md`: adopt a hand-kept cost log in the classic format.

The classic log (see the README) is a Markdown file with a session table (Session, Date,
Model, Tasks Completed, Task Types, Estimated Cost, Notes), a monthly summary table and
free-form notes sections. It is read with markdown-it-py (tables by their header row, not
by position), and:

* every session row becomes a ledger entry marked `manual`, id
  `manual/<session>-<hash of the row>-imported-<date>`: the same row always gets the same id,
  so importing the same log twice is detected and refused (exit 1, nothing written);
* the hand-kept monthly summary is checked against the imported rows (a mismatch is a
  warning: the rows are the data, the summary was arithmetic done by hand);
* COST_LOG.md is rewritten with costlog's generated blocks in place of the session,
  monthly and estimation-guide tables; every other line (intro, ROI notes, budget notes,
  optimisation notes) is kept byte for byte, outside the blocks, so it survives every
  later `costlog render`. Blocks the classic log has no place for go into the section
  with the template's heading, else after the previous block.

Every problem in a row is one error naming file and line; nothing is written then.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from costlog.config import Config
from costlog.errors import CostlogError
from costlog.gitrepo import Repo
from costlog.models import Entry, ModelUsage
from costlog.timeutil import zone

_COST = re.compile(r"\A[~≈]?\s*\$?\s*(-?[\d,]*\.?\d+)\s*(?:USD)?\Z", re.IGNORECASE)
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")
_HEADING = re.compile(r"\A(#{1,6})\s+(.*?)\s*#*\s*\Z")
_RULE = re.compile(r"\A\s{0,3}(?:-{3,}|\*{3,}|_{3,})\s*\Z")
#: one line with its ending, split where markdown-it splits (not at form feeds or U+2028)
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")

#: header cell (lower-case) -> field; first match wins
_SESSION_COLUMNS = {
    "session": "session",
    "#": "session",
    "id": "session",
    "date": "date",
    "model": "model",
    "tasks completed": "tasks",
    "tasks": "tasks",
    "task types": "task_types",
    "task type": "task_types",
    "estimated cost": "cost",
    "cost": "cost",
    "est. cost": "cost",
    "notes": "notes",
    "note": "notes",
}
_MONTH_COLUMNS = {
    "month": "month",
    "sessions": "sessions",
    "total tasks": "tasks",
    "total cost": "cost",
}


@dataclass
class Table:
    header: list[str]
    rows: list[tuple[int, list[str]]]  # (1-based line, cells)
    start: int  # 0-based first line
    end: int  # 0-based line after the table


@dataclass
class Row:
    line: int
    session: str | None
    day: date
    model: str
    tasks: int | None
    task_types: dict[str, int]
    cost: Decimal | None
    notes: str | None
    raw: str


@dataclass
class Parsed:
    rows: list[Row]
    sessions_table: Table
    monthly_table: Table | None
    guide_table: Table | None
    warnings: list[str] = field(default_factory=list)


@dataclass
class Imported:
    entries: list[Entry]
    warnings: list[str]
    output: str
    output_rewritten: bool


# ---------------------------------------------------------------- reading


def tables(text: str) -> list[Table]:
    """Every GFM table of a Markdown text, with its line span and cell texts."""
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    found: list[Table] = []
    current: Table | None = None
    row: list[str] | None = None
    row_line = 0
    for token in tokens:
        if token.type == "table_open" and token.map:
            current = Table([], [], token.map[0], token.map[1])
        elif token.type == "tr_open" and current is not None:
            row, row_line = [], (token.map[0] + 1 if token.map else 0)
        elif token.type == "inline" and row is not None:
            row.append(_cell_text(token.content))
        elif token.type == "tr_close" and current is not None and row is not None:
            if not current.header:
                current.header = row
            else:
                current.rows.append((row_line, row))
            row = None
        elif token.type == "table_close" and current is not None:
            found.append(current)
            current = None
    return found


def _cell_text(content: str) -> str:
    return content.replace("\\|", "|").strip()


def _columns(table: Table, names: dict[str, str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for index, head in enumerate(table.header):
        key = names.get(head.strip().lower())
        if key and key not in out:
            out[key] = index
    return out


def _is_sessions(table: Table) -> bool:
    return {"date", "model", "cost"} <= set(_columns(table, _SESSION_COLUMNS))


def _is_monthly(table: Table) -> bool:
    return {"month", "cost"} <= set(_columns(table, _MONTH_COLUMNS))


def _is_guide(table: Table) -> bool:
    heads = " ".join(h.lower() for h in table.header)
    return "task type" in heads and "per task" in heads


def parse(text: str, where: str) -> Parsed:
    """The classic log's session rows and tables; CostlogError on the first bad row."""
    from costlog.render import has_blocks

    if has_blocks(text):  # marker lines; a sentence that names a marker is prose
        raise CostlogError(
            "already generated by costlog (it has `costlog:begin` blocks): nothing to import",
            path=where,
            hint="its sessions are in the ledger; run `costlog render`",
        )
    found = tables(text)
    sessions = next((t for t in found if _is_sessions(t)), None)
    if sessions is None:
        raise CostlogError(
            "no session table found (a table with Date, Model and Estimated Cost columns)",
            path=where,
        )
    rows = [_row(sessions, line, cells, where) for line, cells in sessions.rows]
    monthly = next((t for t in found if _is_monthly(t)), None)
    guide = next((t for t in found if _is_guide(t)), None)
    parsed = Parsed(rows, sessions, monthly, guide)
    if monthly is not None:
        parsed.warnings = check_monthly(rows, monthly, where)
    return parsed


def _row(table: Table, line: int, cells: list[str], where: str) -> Row:
    cols = _columns(table, _SESSION_COLUMNS)

    def get(name: str) -> str:
        index = cols.get(name)
        return cells[index].strip() if index is not None and index < len(cells) else ""

    def fail(message: str) -> CostlogError:
        return CostlogError(message, path=where, line=line)

    try:
        day = date.fromisoformat(get("date"))
    except ValueError:
        raise fail(f"date {get('date')!r} is not YYYY-MM-DD") from None
    model = get("model")
    if not model:
        raise fail("the Model cell is empty")
    tasks_text = get("tasks")
    if tasks_text and not tasks_text.isdigit():
        raise fail(f"Tasks Completed {tasks_text!r} is not a whole number")
    from costlog.recording.manual import parse_task_types

    try:
        types = parse_task_types(get("task_types"))
    except CostlogError as exc:
        raise fail(exc.message) from None
    return Row(
        line=line,
        session=get("session") or None,
        day=day,
        model=model,
        tasks=int(tasks_text) if tasks_text else None,
        task_types=types,
        cost=parse_cost(get("cost"), where, line),
        notes=get("notes") or None,
        raw=" | ".join(cells),
    )


def parse_cost(text: str, where: str, line: int) -> Decimal | None:
    """`$0.08`, `0.08`, `~$1,234.50` -> Decimal; empty or `-` -> None (unpriced)."""
    if text in ("", "-", "—", "?"):
        return None
    match = _COST.match(text)
    try:
        amount = Decimal(match.group(1).replace(",", "")) if match else None
    except InvalidOperation:
        amount = None
    if amount is None or amount < 0:
        raise CostlogError(f"cost {text!r} is not an amount like $0.08", path=where, line=line)
    return amount


def check_monthly(rows: Sequence[Row], monthly: Table, where: str) -> list[str]:
    """Compare the hand-kept monthly summary with the sums of the imported rows."""
    cols = _columns(monthly, _MONTH_COLUMNS)
    warnings: list[str] = []
    for line, cells in monthly.rows:
        month = cells[cols["month"]].strip()
        group = [r for r in rows if r.day.strftime("%Y-%m") == month]
        actual = {
            "sessions": Decimal(len(group)),
            "tasks": Decimal(sum(r.tasks or 0 for r in group)),
            "cost": sum((r.cost or Decimal(0) for r in group), Decimal(0)),
        }
        for key, index in cols.items():
            if key == "month" or index >= len(cells):
                continue
            try:
                stated = parse_cost(cells[index].strip(), where, line)
            except CostlogError:
                stated = None
            if stated is not None and stated != actual[key]:
                warnings.append(
                    f"{where}:{line}: {month} summary says {key} "
                    f"{cells[index].strip()}, the session rows add up to "
                    f"{actual[key]}"
                )
    return warnings


# ---------------------------------------------------------------- entries


def row_id(row: Row) -> str:
    """Deterministic: the same row imports to the same id (re-import is detected)."""
    digest = hashlib.sha1(row.raw.encode("utf-8")).hexdigest()[:8]
    session = _SAFE.sub("-", row.session).strip("-") if row.session else "row"
    return f"manual/{session}-{digest}-imported-{row.day.isoformat()}"


def to_entry(row: Row, source_name: str, tz: Any, table: Any) -> Entry:
    model = table.canonical(row.model) or row.model
    started = datetime.combine(row.day, time(), tz)
    tasks = row.tasks if row.tasks is not None else (sum(row.task_types.values()) or None)
    return Entry(
        id=row_id(row),
        agent="manual",
        started=started,
        models={model: ModelUsage(requests=0, cost_usd=row.cost, source="manual")},
        cost_usd=row.cost,
        source="manual",
        methods={"cost": f"imported from {source_name} (hand-kept, task-based estimate)"},
        tasks_completed=tasks,
        task_types=dict(row.task_types),
        notes=row.notes,
    )


# ---------------------------------------------------------------- the document


def _markers(name: str) -> str:
    return f"<!-- costlog:begin {name} -->\n<!-- costlog:end {name} -->\n"


def _template_blocks(repo: Repo, config: Config) -> list[tuple[str, str]]:
    """(block name, the template text just before it) in template order."""
    from costlog import render as renderer

    context = renderer.build_context([], config)
    fresh = renderer.render_text(context, renderer.load_template(repo, config))
    out: list[tuple[str, str]] = []
    lead = ""
    for part in renderer.split_blocks(fresh, "template"):
        if part.name is None:
            lead = part.text
        else:
            out.append((part.name, lead))
            lead = ""
    return out


def _heading_of(lead: str) -> tuple[int, str] | None:
    for line in reversed(lead.splitlines()):
        match = _HEADING.match(line.strip())
        if match:
            return len(match.group(1)), match.group(2).strip().lower()
    return None


def _section_end(lines: Sequence[str], heading: tuple[int, str]) -> int | None:
    level, title = heading
    start = None
    for index, line in enumerate(lines):
        match = _HEADING.match(line.strip())
        if start is None:
            if match and len(match.group(1)) == level and match.group(2).strip().lower() == title:
                start = index
            continue
        if (match and len(match.group(1)) <= level) or _RULE.match(line):
            end = index
            while end > start + 1 and not lines[end - 1].strip():
                end -= 1
            return end
    return None if start is None else len(lines)


def convert(text: str, parsed: Parsed, blocks: Sequence[tuple[str, str]]) -> str:
    """The classic text with generated blocks in place of its tables (see module doc).

    A block the classic log has no table for goes at the end of the section with the
    template's heading for it; else after the block before it in template order; else
    before the first placed block after it. A template intro (a level-1 heading) is not
    copied: the log keeps its own title and intro.
    """
    lines = _LINE.findall(text)  # split as markdown-it counts lines (CR, LF or CRLF)
    if lines and not lines[-1].endswith(("\n", "\r")):
        lines[-1] += "\n"
    replaced: dict[int, tuple[int, str]] = {}
    span: dict[str, tuple[int, int]] = {}
    for name, table in (
        ("sessions", parsed.sessions_table),
        ("monthly", parsed.monthly_table),
        ("guide", parsed.guide_table),
    ):
        if table is not None:
            replaced[table.start] = (table.end, _markers(name))
            span[name] = (table.start, table.end)
    inserts: list[tuple[int, int, str]] = []
    previous: int | None = None
    for seq, (name, lead) in enumerate(blocks):
        if name in span:
            previous = span[name][1]
            continue
        heading = _heading_of(lead)
        at = _section_end(lines, heading) if heading else None
        if at is not None:
            inserts.append((at, seq, "\n" + _markers(name)))
            previous = at
            continue
        if previous is None:
            later = [span[n][0] for n, _ in blocks[seq + 1 :] if n in span]
            at = later[0] if later else len(lines)
        else:
            at = previous
        top = heading is not None and heading[0] == 1
        body = _markers(name) if top else lead.strip("\n") + "\n\n" + _markers(name)
        inserts.append((at, seq, body + "\n" if at in replaced else "\n" + body))
        previous = at
    return _assemble(lines, replaced, sorted(inserts))


def _assemble(
    lines: list[str], replaced: dict[int, tuple[int, str]], inserts: list[tuple[int, int, str]]
) -> str:
    out: list[str] = []
    index = 0
    pending = list(inserts)
    while index <= len(lines):
        while pending and pending[0][0] == index:
            out.append(pending.pop(0)[2])
        if index == len(lines):
            break
        if index in replaced:
            end, block = replaced[index]
            out.append(block)
            index = end
            continue
        out.append(lines[index])
        index += 1
    out.extend(item[2] for item in pending)
    return "".join(out)


# ---------------------------------------------------------------- the command


def run(repo: Repo, config: Config, source: Path) -> Imported:
    """Import `source` into the ledger and rewrite COST_LOG.md (see module doc)."""
    from costlog import render as renderer
    from costlog.ledger.store import Ledger, atomic_write
    from costlog.pricing.table import PriceTable

    where = str(source)
    try:
        text = source.read_bytes().decode("utf-8")  # CRLF kept: the prose stays as written
    except (OSError, UnicodeDecodeError) as exc:
        raise CostlogError(f"cannot read: {exc}", path=where) from None
    parsed = parse(text, where)
    table = PriceTable.load(config.prices_path(repo.root))
    tz = zone(config.timezone)
    entries = [to_entry(row, source.name, tz, table) for row in parsed.rows]
    _no_duplicates(entries, parsed.rows, where)
    output = config.output_path(repo.root)
    from costlog.safefs import check_repo_path

    check_repo_path(repo.root, output)  # before anything is read through it or written
    rewrite = not output.exists() or output.resolve() == source.resolve()
    document = convert(text, parsed, _template_blocks(repo, config)) if rewrite else None
    ledger = Ledger(repo, config.ledger_dir)
    with ledger.lock():
        already = [e.id for e in entries if ledger.get(e.id) is not None]
        if already:
            raise CostlogError(
                f"already imported: {len(already)} of {len(entries)} sessions "
                f"are in the ledger (e.g. {already[0]})",
                path=where,
                hint="nothing written; delete those ledger files to re-import",
            )
        for entry in entries:
            ledger.write(entry)
        if document is not None:
            atomic_write(output, document, repo.state_dir / "tmp", root=repo.root)
        renderer.render(repo, config)
    return Imported(entries, parsed.warnings, config.output, rewrite)


def _no_duplicates(entries: Sequence[Entry], rows: Sequence[Row], where: str) -> None:
    seen: dict[str, int] = {}
    for entry, row in zip(entries, rows, strict=True):
        if entry.id in seen:
            raise CostlogError(
                f"the same session row appears twice (also line {seen[entry.id]})",
                path=where,
                line=row.line,
            )
        seen[entry.id] = row.line


def to_text(result: Imported) -> str:
    total = sum((e.cost_usd or Decimal(0) for e in result.entries), Decimal(0))
    lines = [f"imported {len(result.entries)} sessions (${total:,.2f}, marked manual)"]
    if result.output_rewritten:
        lines.append(
            f"{result.output}: tables replaced by generated blocks; your other "
            "sections are kept outside them"
        )
    else:
        lines.append(
            f"{result.output} already exists: its hand-written text is kept; copy "
            "the notes sections of the imported file into it yourself"
        )
    lines.extend(f"warning: {w}" for w in result.warnings)
    return "\n".join(lines)
