"""`costlog import COST_LOG.md`: adopt a hand-kept cost log in the classic format.

The log is read by classic_log, and then:

* every session row becomes a ledger entry marked `manual`, id
  `manual/<session>-<hash of the row>-imported-<date>`: the same row always gets the same id,
  so importing the same log twice is detected and refused (exit 1, nothing written);
* the hand-kept monthly summary is checked against the imported rows (a mismatch is a
  warning: the rows are the data, the summary was arithmetic done by hand);
* COST_LOG.md is rewritten by classic_rewrite, with costlog's generated blocks in place of
  the session, monthly and estimation-guide tables and every other line kept.

Every problem in a row is one error naming file and line; nothing is written then.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from costlog.commands.classic_log import parse
from costlog.commands.classic_rewrite import convert, template_blocks
from costlog.config import Config
from costlog.errors import CostlogError
from costlog.gitrepo import Repo
from costlog.models import Entry
from costlog.recording.builders.imported import Row, imported_entry
from costlog.timeutil import zone


@dataclass
class Imported:
    entries: list[Entry]
    warnings: list[str]
    output: str
    output_rewritten: bool


def run(repo: Repo, config: Config, source: Path) -> Imported:
    """Import `source` into the ledger and rewrite COST_LOG.md (see module doc)."""
    from costlog import render as renderer
    from costlog.ledger.atomic import atomic_write
    from costlog.ledger.store import Ledger
    from costlog.pricing.table import PriceTable

    where = str(source)
    try:
        text = source.read_bytes().decode("utf-8")  # CRLF kept: the prose stays as written
    except (OSError, UnicodeDecodeError) as exc:
        raise CostlogError(f"cannot read: {exc}", path=where) from None
    parsed = parse(text, where)
    table = PriceTable.load(config.prices_path(repo.root))
    tz = zone(config.timezone)
    entries = [imported_entry(row, source.name, tz, table) for row in parsed.rows]
    _no_duplicates(entries, parsed.rows, where)
    output = config.output_path(repo.root)
    from costlog.safefs import check_repo_path

    check_repo_path(repo.root, output)  # before anything is read through it or written
    rewrite = not output.exists() or output.resolve() == source.resolve()
    document = convert(text, parsed, template_blocks(repo, config)) if rewrite else None
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
