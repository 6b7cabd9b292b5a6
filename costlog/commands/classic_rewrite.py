"""The imported COST_LOG.md: the classic text with costlog's generated blocks in place of its
session, monthly, estimation-guide, budget-alert and model-routing tables.

Every other line (intro, ROI notes, budget notes, optimisation notes) is kept byte for
byte, outside the blocks, so it survives every later `costlog render`. Blocks the classic
log has no place for go into the section with the template's heading, else after the
previous block.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from costlog.commands.classic_log import Parsed, Table
from costlog.config import Config
from costlog.gitrepo import Repo

_HEADING = re.compile(r"\A(#{1,6})\s+(.*?)\s*#*\s*\Z")
_RULE = re.compile(r"\A\s{0,3}(?:-{3,}|\*{3,}|_{3,})\s*\Z")
#: one line with its ending, split where markdown-it splits (not at form feeds or U+2028)
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def _markers(name: str) -> str:
    return f"<!-- costlog:begin {name} -->\n<!-- costlog:end {name} -->\n"


def template_blocks(repo: Repo, config: Config) -> list[tuple[str, str]]:
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
    template = {name for name, _ in blocks}
    for name, table in (
        ("sessions", parsed.sessions_table),
        ("monthly", parsed.monthly_table),
        ("guide", parsed.guide_table),
        ("alerts", parsed.alerts_table),
    ):
        if name == "alerts" and name not in template:  # a template without that block
            continue
        if table is not None:
            replaced[table.start] = (table.end, _markers(name))
            span[name] = (table.start, table.end)
    if parsed.routing_tables and "routing" in template:
        _replace_routing(lines, parsed.routing_tables, replaced, span)
    inserts: list[tuple[int, int, str]] = []
    previous: int | None = None
    for seq, (name, lead) in enumerate(blocks):
        if name in span:
            previous = max(previous or 0, span[name][1])  # after the furthest placed so far
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


def _replace_routing(
    lines: Sequence[str],
    tables: Sequence[Table],
    replaced: dict[int, tuple[int, str]],
    span: dict[str, tuple[int, int]],
) -> None:
    """The routing block in place of the hand-kept "Tasks that should use Haiku" and
    "Tasks that need Opus" tables. The block brings both sub-sections with their headings,
    so the hand-written sub-headings go too (else each would read twice); the prose under
    them stays, above the block."""
    last = tables[-1]
    for table in tables:
        heading = _subheading(lines, table.start)
        if heading is not None:
            replaced[heading] = (_past_blanks(lines, heading + 1), "")
        if table is not last:
            replaced[table.start] = (_past_blanks(lines, table.end), "")
    replaced[last.start] = (last.end, _markers("routing"))
    span["routing"] = (tables[0].start, last.end)


def _subheading(lines: Sequence[str], start: int) -> int | None:
    """The sub-section heading (### or deeper) a table sits under, with only prose
    between them; None when a rule, another table or a section heading comes first."""
    for index in range(start - 1, -1, -1):
        line = lines[index].strip()
        match = _HEADING.match(line)
        if match:
            return index if len(match.group(1)) >= 3 else None
        if _RULE.match(line) or line.startswith("|"):
            return None
    return None


def _past_blanks(lines: Sequence[str], index: int) -> int:
    while index < len(lines) and not lines[index].strip():
        index += 1
    return index


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
