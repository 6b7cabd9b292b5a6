"""What `costlog check` refuses in the ledger, beyond what loading it refuses.

- `files`: a file that is not where its id puts it, names that differ only in case, and
  session files the loader skips;
- `costs`: a cost that does not follow from its tokens, or `methods` that are not what
  costlog writes for the entry (costlog.ledger.verify), named by the ledger file and the
  line that holds it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

from costlog.errors import CheckFailed, CostlogError, LedgerError
from costlog.ledger.format import parse_entry
from costlog.ledger.guide_check import GuideSource
from costlog.ledger.names import file_names_for, plain_name
from costlog.ledger.store import Ledger
from costlog.ledger.verify import mismatches
from costlog.models import Entry
from costlog.pricing.table import PriceTable
from costlog.safefs import read_repo_text


def files(ledger: Ledger) -> list[Entry]:
    """`ledger.load_all()`, refusing also what only `costlog check` needs to: a file that is not
    where its id puts it, two file names that differ only in case (one file on macOS
    and Windows), and a `.yaml` file the loader skips for its leading dot. LedgerError
    names the first such file, how many there are, and the fix."""
    entries = ledger.load_all()
    problems: list[LedgerError] = []
    top = ledger.rel(ledger.dir) + os.sep
    if not _all_in_place(*ledger.listing, top):  # else the loop below finds nothing
        problems = _misplaced(ledger, top)
    problems += _skipped(ledger)
    if problems:
        first = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise LedgerError(first.message + more, path=first.path, hint=first.hint)
    return entries


#: a session part that is plain (ledger.names.plain_name) without asking: portable
#: characters, no dot, and longer than any Windows device name
_SIMPLE_SESSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{4,99}\Z")


def _all_in_place(ids: list[str], names: str, top: str) -> bool:
    """Whether every file (`names`, NUL-joined, of `ids` in that order) is at its id's
    plain name and no two names differ only in case: the usual ledger, told in one cheap
    pass (`_misplaced` then has nothing to say)."""
    plain_agents: dict[str, bool] = {}
    simple = _SIMPLE_SESSION.match
    rels = names.split("\0") if ids else []
    for entry_id, rel in zip(ids, rels, strict=True):
        agent, _, session = entry_id.partition("/")
        plain = plain_agents.get(agent)
        if plain is None:
            plain = plain_agents[agent] = plain_name(agent)
        if (
            not plain
            or rel != f"{top}{agent}{os.sep}{session}.yaml"
            or not (simple(session) or plain_name(session))
        ):
            return False
    # names that case folding leaves as they are cannot fold alike (they are distinct)
    return names.casefold() == names or len(set(map(str.casefold, rels))) == len(rels)


def _misplaced(ledger: Ledger, top: str) -> list[LedgerError]:
    """Files not where their id puts them, and names that differ only in case."""
    problems: list[LedgerError] = []
    folded: dict[str, str] = {}
    plain_agents: dict[str, bool] = {}
    for entry_id, rel in ledger.homes.items():
        agent, _, session = entry_id.partition("/")
        if agent not in plain_agents:
            plain_agents[agent] = plain_name(agent)
        if (
            rel != f"{top}{agent}{os.sep}{session}.yaml"
            or not plain_agents[agent]
            or not plain_name(session)
        ):
            names = file_names_for(entry_id)
            if rel[len(top) :].replace(os.sep, "/") not in names:
                want = ledger.rel(
                    ledger.dir / names[0] if len(names) == 1 else ledger.path_for(entry_id)
                )
                problems.append(
                    LedgerError(
                        f"holds session {entry_id!r}, whose file is {want}",
                        path=rel,
                        hint=f"git mv {rel} {want}",
                    )
                )
        twin = folded.setdefault(rel.casefold(), rel)
        if twin != rel:
            names = file_names_for(entry_id)
            problems.append(
                LedgerError(
                    f"its name differs from {twin} only in case: one file on macOS and Windows",
                    path=rel,
                    hint=f"git mv {rel} {top}{names[-1]}",
                )
            )
    return problems


def _skipped(ledger: Ledger) -> list[LedgerError]:
    """Session files the loader does not read: dot-files (costlog 0.1 wrote an id such as
    `.hidden` to one). macOS's `._*` resource forks are not ledger files."""
    out: list[LedgerError] = []
    try:
        folders = sorted(
            item.path for item in os.scandir(ledger.dir) if item.is_dir(follow_symlinks=False)
        )
    except OSError:
        return out
    for folder in folders:
        try:
            found = [name for name in os.listdir(folder) if name.startswith(".")]
        except OSError:
            continue
        for name in sorted(found):  # the few dot-files, not 100,000 names, sorted
            if not name.startswith("._") and name.endswith(".yaml"):
                out.append(_dot_file(ledger, Path(folder) / name))
    return out


def _dot_file(ledger: Ledger, path: Path) -> LedgerError:
    rel = ledger.rel(path)
    hint = "rename it without the leading dot"
    try:
        text = read_repo_text(ledger.repo.root, path)
        if text is not None:
            hint = f"git mv {rel} {ledger.rel(ledger.path_for(parse_entry(text, rel).id))}"
    except CostlogError:
        pass  # unreadable or invalid: the generic hint
    return LedgerError("is not loaded: its name starts with a dot", path=rel, hint=hint)


def costs(
    ledger: Ledger,
    entries: Sequence[Entry],
    table: PriceTable,
    guides: GuideSource | None = None,
    notes: list[str] | None = None,
) -> None:
    """Raise CheckFailed naming the ledger file and line of the first wrong cost (or of
    the `methods` that say how it arose); what cannot be proven either way goes to
    `notes`, one line each, naming the file and line."""
    found = []
    for mismatch in mismatches(entries, table, PriceTable.load(), guides):
        if not mismatch.note:
            found.append(mismatch)
        elif notes is not None:
            path, text = _file_of(ledger, mismatch.entry)
            key = mismatch.key or "cost"
            line = methods_line(text, key) if text else None
            where = f"{path}:{line}" if line else path
            notes.append(f"note: {where}: {mismatch.message}")
    if not found:
        return
    first = found[0]
    path, text = _file_of(ledger, first.entry)
    more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
    if first.key is not None:
        line = methods_line(text, first.key) if text else None
        hint = "restore the file from git or record the session again"
    else:
        line = cost_line(text, first.model) if text else None
        hint = (
            "restore the file from git or record the session again; after a "
            "price change, `costlog reprice`"
        )
    raise CheckFailed(f"{first.message}{more}", path=path, line=line, hint=hint)


def _file_of(ledger: Ledger, entry: Entry) -> tuple[str, str | None]:
    """The ledger file holding `entry` and its text (its usual path, else a search)."""
    ident = re.compile(rf"^\"?id\"?: *[\"']?{re.escape(entry.id)}[\"']? *$", re.MULTILINE)
    usual = ledger.path_for(entry.id)
    for path in (usual, *(Path(p) for p in ledger.file_names() if p != str(usual))):
        try:
            text = read_repo_text(ledger.repo.root, path)
        except CostlogError:  # load_all read it a moment ago; a file that changed since
            continue
        if text is not None and ident.search(text):
            return ledger.rel(path), text
    return ledger.rel(usual), None


def cost_line(text: str, model: str | None) -> int | None:
    """The line of the entry's `cost_usd` (model None) or of that model's cost."""
    lines = text.splitlines()
    if model is None:
        return next(
            (i for i, line in enumerate(lines, 1) if re.match(r"\"?cost_usd\"? *:", line)), None
        )
    key = re.compile(
        rf"( +)(?:\"{re.escape(model)}\"|'{re.escape(model)}'|"
        rf"{re.escape(model)}) *:"
    )
    inside = False
    for number, line in enumerate(lines, 1):
        if re.match(r"\"?models\"? *:", line):
            inside = True
            continue
        if inside and line[:1] not in ("", " ", "#"):
            inside = False
        found = key.match(line) if inside else None
        if found is None:
            continue
        if "cost_usd" in line:
            return number
        indent = len(found.group(1))
        for later, below in enumerate(lines[number:], number + 1):
            if below.strip() and len(below) - len(below.lstrip()) <= indent:
                break
            if re.match(r" *\"?cost_usd\"? *:", below):
                return later
        return number
    return None


def methods_line(text: str, key: str) -> int | None:
    """The line of `methods:`, or of its `key` when methods is written as a block."""
    lines = text.splitlines()
    for number, line in enumerate(lines, 1):
        head = re.match(r"\"?methods\"? *:(.*)", line)
        if head is None:
            continue
        if head.group(1).strip():  # `methods: {cost: ...}`, as costlog writes it
            return number
        item = re.compile(rf" +(?:\"{re.escape(key)}\"|'{re.escape(key)}'|{re.escape(key)}) *:")
        for later, below in enumerate(lines[number:], number + 1):
            if below[:1] not in (" ", "#") and below.strip():
                break
            if item.match(below):
                return later
        return number
    return None
