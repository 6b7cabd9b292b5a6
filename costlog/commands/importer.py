"""`costlog import COST_LOG.md`: adopt a hand-kept cost log in the classic format.

The log is read by classic_log, and then:

* every session row becomes a ledger entry marked `manual`, id
  `manual/<session>-<hash of the row>-imported-<date>`: the same row always gets the same id,
  so importing the same log twice is detected and refused (exit 1, nothing written);
* the hand-kept monthly summary is checked against the imported rows (a mismatch is a
  warning: the rows are the data, the summary was arithmetic done by hand);
* COST_LOG.md is rewritten by classic_rewrite, with costlog's generated blocks in place of
  the session, monthly, estimation-guide, budget-alert and model-routing tables (the
  README's promise: its tables become generated blocks) and every other line kept.

Every problem in a row is one error naming file and line; nothing is written then.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from costlog.commands.classic_log import Parsed, parse, without_blocks
from costlog.commands.classic_rewrite import convert, template_blocks
from costlog.config import Config
from costlog.errors import CostlogError
from costlog.gitrepo import Repo
from costlog.models import Entry
from costlog.money import format_usd
from costlog.recording.builders.imported import Row, imported_entry
from costlog.timeutil import zone


@dataclass
class Imported:
    entries: list[Entry]
    warnings: list[str]
    output: str
    output_rewritten: bool
    #: the hand-kept tables the rewrite replaced by generated blocks, in words
    replaced: tuple[str, ...] = ()


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
    text = without_blocks(text)  # blocks an earlier `init` put under the hand-kept tables
    parsed = parse(text, where)
    table = PriceTable.load(config.prices_path(repo.root))
    tz = zone(config.timezone)
    entries = [imported_entry(row, source.name, tz, table) for row in parsed.rows]
    _no_duplicates(entries, parsed.rows, where)
    output = config.output_path(repo.root)
    from costlog.safefs import check_repo_path

    check_repo_path(repo.root, output)  # before anything is read through it or written
    rewrite = not output.exists() or output.resolve() == source.resolve()
    blocks = template_blocks(repo, config) if rewrite else []
    document = convert(text, parsed, blocks) if rewrite else None
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
    names = {name for name, _ in blocks}
    return Imported(entries, parsed.warnings, config.output, rewrite, _replaced(parsed, names))


def _replaced(parsed: Parsed, blocks: set[str]) -> tuple[str, ...]:
    """The hand-kept tables `convert` put a generated block in place of, in words."""
    found = (
        ("session log", parsed.sessions_table is not None),
        ("monthly summary", parsed.monthly_table is not None),
        ("estimation guide", parsed.guide_table is not None),
        ("budget alerts", parsed.alerts_table is not None and "alerts" in blocks),
        ("model routing", bool(parsed.routing_tables) and "routing" in blocks),
    )
    return tuple(name for name, replaced in found if replaced)


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
    count = len(result.entries)
    lines = [
        f"imported {count} session{'' if count == 1 else 's'} ({format_usd(total)}, marked manual)"
    ]
    if result.output_rewritten:
        tables = ", ".join(result.replaced) or "none"
        lines.append(
            f"{result.output}: hand-kept tables replaced by generated blocks ({tables}); "
            "your other text is kept outside them"
        )
    else:
        lines.append(
            f"{result.output} already exists: its hand-written text is kept; copy "
            "the notes sections of the imported file into it yourself"
        )
    lines.extend(f"warning: {w}" for w in result.warnings)
    return "\n".join(lines)
