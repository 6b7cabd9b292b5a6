"""Generated blocks inside COST_LOG.md, and everything else kept as a person wrote it.

The template marks each generated part with `<!-- costlog:begin NAME -->` and
`<!-- costlog:end NAME -->`. On regeneration only the insides of those blocks change:
everything outside them (ROI notes, team notes, any text a person wrote) is kept byte for
byte. A git conflict that lies only inside generated blocks is resolved by rendering again.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from costlog.errors import CostlogError


@dataclass
class Part:
    name: str | None  # None: hand-written text
    text: str


#: a marker line: the marker alone, then at most spaces, tabs or a CR (CRLF files)
_MARKER = re.compile(r"<!-- costlog:(begin|end) ([\w-]+) -->[ \t\r]*\n?\Z")
_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})(.*?)\r?\n?\Z")


def lines_of(text: str) -> list[str]:
    """The lines of a text with their "\\n" kept; a CR stays part of its line."""
    lines = [line + "\n" for line in text.split("\n")]
    lines[-1] = lines[-1][:-1]
    return lines if lines[-1] else lines[:-1]


def split_blocks(text: str, where: str, names: Collection[str] | None = None) -> list[Part]:
    """Cut a document into hand-written parts and generated blocks (markers included).

    A line is a marker only when it holds the marker alone (trailing spaces or a CR
    allowed), names a block of `names` (any name when None: the template's own output),
    and is not inside a fenced code block of the hand-written text. A second block of a
    name already seen is someone's copy: hand-written text too. Everything that is not a
    generated block comes back exactly as it was, line endings included: joined, the parts
    are the text.

    A fence (or a copy) that would hide a block found nowhere else, or break the markers
    after it, is not one: CommonMark runs an unclosed fence to the end of the file, but
    costlog must still find the blocks after it (else it would append them again on every
    render), so such an opening line is read as plain text.
    """
    lines = lines_of(text)
    plain: set[int] = set()
    first: CostlogError | None = None
    done: list[Part] | None = None  # the last pass that worked
    while True:
        scan = _Scan(lines, where, names, plain)
        try:
            seen = scan.run()
        except CostlogError as exc:
            if done is not None:  # showing what the fence hid breaks the markers: keep it
                return done
            first = first or exc
            suspects = [at for at, _ in scan.hiding if exc.line is None or at < exc.line]
            if not suspects:
                raise first from None
            plain.add(suspects[-1])
            continue
        done = scan.parts
        missing = set(names or ()) - seen
        culprit = next((at for at, hidden in scan.hiding if hidden & missing), None)
        if culprit is None:
            return done
        plain.add(culprit)


class _Scan:
    """One pass of split_blocks; the lines in `plain` open no fence and no copy."""

    def __init__(
        self, lines: list[str], where: str, names: Collection[str] | None, plain: set[int]
    ) -> None:
        self.lines, self.where, self.names, self.plain = lines, where, names, plain
        self.parts: list[Part] = []
        #: fences and copies taken as such: (index of the opening line, names they hide)
        self.hiding: list[tuple[int, set[str]]] = []

    def marker(self, line: str) -> tuple[str, str] | None:
        found = _MARKER.match(line)
        if found is None or (self.names is not None and found.group(2) not in self.names):
            return None
        return found.group(1), found.group(2)

    def run(self) -> set[str]:
        """Fill `parts`; return the names of the blocks found."""
        buf: list[str] = []
        block: str | None = None  # the generated block we are in
        fence: tuple[str, int] | None = None  # a code fence of hand-written text: char, width
        copy: str | None = None  # a second copy of a block (hand-written text)
        hidden: set[str] = set()  # blocks that the current fence or copy hides
        seen: set[str] = set()
        start = opened = 0
        for index, line in enumerate(self.lines):
            buf.append(line)
            found = self.marker(line)
            if block is not None:  # only its end marker matters here
                if found == ("end", block):
                    self.parts.append(Part(block, "".join(buf)))
                    buf, block = [], None
                continue
            if fence is not None or copy is not None:
                if fence is not None and _closes(line, fence):
                    fence = None
                elif copy is not None and found == ("end", copy):
                    copy = None
                elif found is not None and found[0] == "begin":
                    hidden.add(found[1])
                continue
            if found is None:
                opening = _FENCE.match(line)
                if (
                    opening
                    and index not in self.plain
                    and not (opening.group(1)[0] == "`" and "`" in opening.group(2))
                ):
                    fence, opened, hidden = (
                        (opening.group(1)[0], len(opening.group(1))),
                        index,
                        set(),
                    )
                    self.hiding.append((index, hidden))
                continue
            kind, name = found
            if kind == "end":
                if name in seen:
                    continue  # the end of a copy whose begin is gone: text
                raise CostlogError(
                    f"end marker of block {name!r} without its begin",
                    path=self.where,
                    line=index + 1,
                    hint="restore its begin marker, or delete the line",
                )
            if name in seen:
                if index not in self.plain:
                    copy, opened, hidden = name, index, set()
                    self.hiding.append((index, hidden))
                continue
            buf.pop()
            if buf:
                self.parts.append(Part(None, "".join(buf)))
            buf, block, start = [line], name, index
            seen.add(name)
        if fence is not None or copy is not None:
            raise CostlogError(
                "a code fence or a copied block runs to the end of the file",
                path=self.where,
                line=opened + 1,
            )
        if block is not None:
            raise CostlogError(
                f"block {block!r} has no end marker",
                path=self.where,
                line=start + 1,
                hint="restore it, or delete the file and run `costlog render`",
            )
        if buf:
            self.parts.append(Part(None, "".join(buf)))
        return seen


def _closes(line: str, fence: tuple[str, int]) -> bool:
    closing = _FENCE.match(line)
    return (
        closing is not None
        and not closing.group(2).strip()
        and closing.group(1)[0] == fence[0]
        and len(closing.group(1)) >= fence[1]
    )


def has_blocks(text: str) -> bool:
    """Whether a text holds a generated block (or marker lines too broken to split)."""
    try:
        return any(part.name for part in split_blocks(text, "text"))
    except CostlogError:
        return True


def splice(existing: str, fresh: str, where: str) -> str:
    """Existing text with every generated block replaced by its fresh rendering."""
    new_blocks = {p.name: p.text for p in split_blocks(fresh, "template output") if p.name}
    out: list[str] = []
    used: set[str] = set()
    for part in split_blocks(existing, where, new_blocks):
        if part.name is None:
            out.append(part.text)
        else:
            block = new_blocks[part.name]
            if not part.text.endswith("\n"):
                block = block.rstrip("\n")
            out.append(block)
            used.add(part.name)
    missing = [text for name, text in new_blocks.items() if name not in used]
    if missing:
        joined = "".join(out)
        if joined and not joined.endswith("\n"):
            out.append("\n")
        out.append("\n" + "\n".join(missing))
    return "".join(out)


_CONFLICT = re.compile(r"^<<<<<<< .*?^=======\r?\n.*?^>>>>>>> [^\n]*\n", re.S | re.M)


def resolve_conflicts(text: str, where: str, names: Collection[str] | None = None) -> str:
    """Resolve a git conflict whose hunks lie only in generated blocks (they get rendered)."""
    if "\n<<<<<<< " not in "\n" + text:
        return text
    ours, theirs = _side(text, 0), _side(text, 1)
    try:
        hand_ours = [p.text for p in split_blocks(ours, where, names) if p.name is None]
        hand_theirs = [p.text for p in split_blocks(theirs, where, names) if p.name is None]
    except CostlogError:
        hand_ours, hand_theirs = [""], ["x"]
    if hand_ours != hand_theirs:
        line = text[: text.find("<<<<<<< ")].count("\n") + 1
        raise CostlogError(
            "merge conflict in hand-written text",
            path=where,
            line=line,
            hint="resolve that hunk by hand, then run `costlog render`",
        )
    return ours


def _side(text: str, which: int) -> str:
    def pick(match: re.Match[str]) -> str:
        lines = match.group(0).splitlines(keepends=True)
        sep = next(i for i, line in enumerate(lines) if line.startswith("======="))
        base = next((i for i, line in enumerate(lines[:sep]) if line.startswith("|||||||")), sep)
        return "".join(lines[1:base] if which == 0 else lines[sep + 1 : -1])

    return _CONFLICT.sub(pick, text)


def first_difference(old: str, new: str) -> tuple[int, str | None]:
    """The first line where `old` and `new` differ, and the generated block it is in."""
    old_lines, new_lines = old.split("\n"), new.split("\n")
    line = next(
        (i for i, (a, b) in enumerate(zip(old_lines, new_lines, strict=False), 1) if a != b),
        min(len(old_lines), len(new_lines)) + 1,
    )
    names = [p.name for p in _parts_or_none(new) if p.name]
    seen = 0
    for part in _parts_or_none(old, names):
        seen += part.text.count("\n")
        if seen >= line or not part.text.endswith("\n"):
            return line, part.name
    return line, None


def _parts_or_none(text: str, names: Collection[str] | None = None) -> list[Part]:
    try:
        return split_blocks(text, "text", names)
    except CostlogError:
        return []
