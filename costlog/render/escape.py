"""Markdown escaping: any value from logs, the ledger or the config as inert text.

COST_LOG.md and `costlog pr-summary` show text that anyone with a session log could have
written. `md` is the one function that makes such text safe to put in Markdown that GitHub
renders; `code` makes a code span. Both return `Markdown`, which the template's output
hook prints as it is.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any


class Markdown(str):
    """Text that already is safe Markdown: escaped by `md`, or made by costlog's own filters
    from numbers. The template's output hook prints it as it is and escapes anything else."""

    __slots__ = ()


#: U+2060 WORD JOINER: invisible, and it breaks the patterns GitHub links *after* rendering
#: (mentions, issue references, bare URLs, e-mail addresses, :emoji:). A backslash escape
#: would not do: it is gone by the time those patterns run on the rendered text.
_JOINER = "\u2060"
#: bidirectional controls: they make a cell read differently from what it holds
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_SPACE = re.compile(r"\s+")
_ODD = re.compile(r"[^\x20-\x7e]")
#: printable text that needs no escaping (the common case: ids, dates, model names)
_PLAIN = re.compile(r"[A-Za-z0-9 ,.;'\"/()+=%?!-]*")
_TRICKY = re.compile(r"www\.|gh-[0-9]", re.I)
#: '@name' (mention, e-mail, repo@sha), 'scheme://', ':emoji:', 'www.'
_LINKISH = re.compile(r"@(?=[a-z0-9])|:(?=//|[a-z0-9_+-]+:)|(?<![a-z0-9])www(?=\.)", re.I)
#: '#12', 'owner/repo#12', 'GH-12': issue and pull-request references
_REFS = re.compile(r"#(?=[0-9])|(?<![a-z0-9_])gh-(?=[0-9])", re.I)
_SYNTAX = re.compile(r"[\\|`\[\]&<>$]|\*+|_+|~+")
_ENTITY = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def is_plain(text: str) -> bool:
    """Whether a text needs no escaping at all (the common case: ids, dates, model names)."""
    return _PLAIN.fullmatch(text) is not None and _TRICKY.search(text) is None


def _visible(match: re.Match[str]) -> str:
    """A character that is not plain printable ASCII, as it may appear in COST_LOG.md."""
    char = match.group()
    code = ord(char)
    if code < 0x20:  # a control picture (␀, ␛): a NUL would make git treat the file as binary
        return chr(0x2400 + code)
    if code == 0x7F:
        return "\u2421"
    if char in _BIDI:
        return "\ufffd"
    category = unicodedata.category(char)
    if category == "Cf":  # zero-width and other invisible format characters
        return ""
    if category in ("Cc", "Cs"):  # C1 controls, lone surrogates (not even valid UTF-8)
        return "\ufffd"
    return char


def _escape(match: re.Match[str]) -> str:
    token, text = match.group(), match.string
    char = token[0]
    if char in _ENTITY:
        return _ENTITY[char]
    start, end = match.start(), match.end()
    if char == "$":  # math needs a closing `$` right after a non-space character
        return "\\$" if start and not text[start - 1].isspace() else "$"
    if char in "*_~":
        before = text[start - 1] if start else " "
        after = text[end] if end < len(text) else " "
        # inert: spaces (or the cell's edge) on both sides; `_` also between two letters
        if (before.isspace() and after.isspace()) or (
            char == "_" and before.isalnum() and after.isalnum()
        ):
            return token
        return "".join("\\" + c for c in token)
    return "\\" + token


def md(value: Any, *, refs: bool = False, strip: bool = True) -> Markdown:
    """Any value as inert Markdown: it shows its characters and nothing else.

    This is the one escaping function for text from logs, the ledger or the config that
    reaches COST_LOG.md or `pr-summary`: no link, image, autolink, bare URL, e-mail link,
    @mention, issue reference, emphasis, strikethrough, code, math, HTML or entity can come
    out of it, and no table row can be broken by it (whitespace and newlines become one
    space, pipes are escaped). Control characters are shown as control pictures (␀),
    bidirectional overrides as U+FFFD, other invisible format characters are dropped.
    `refs` keeps `#12` issue references (work-item keys are meant to link); `strip=False`
    keeps one leading and trailing space (the template's own `", "` separators).
    """
    if value is None:
        return Markdown("")
    if isinstance(value, Markdown):
        return value
    text = ", ".join(map(str, value)) if isinstance(value, list | tuple) else str(value)
    text = _SPACE.sub(" ", text)
    if strip:
        text = text.strip()
    if is_plain(text):
        return Markdown(text)
    if not text.isascii() or not text.isprintable():
        text = _SPACE.sub(" ", _ODD.sub(_visible, text))
        if strip:
            text = text.strip()
    text = _LINKISH.sub(lambda m: m.group() + _JOINER, text)
    if not refs:
        text = _REFS.sub(lambda m: m.group() + _JOINER, text)
    return Markdown(_SYNTAX.sub(_escape, text))


def code(value: Any) -> Markdown:
    """A value as a Markdown code span (shown verbatim, nothing inside it is interpreted),
    with a fence longer than any run of backticks it holds."""
    text = _SPACE.sub(" ", str(value)).strip()
    text = _SPACE.sub(" ", _ODD.sub(_visible, text)).strip()
    runs = {len(run) for run in re.findall(r"`+", text)}
    fence = "`" * next(n for n in range(1, len(runs) + 2) if n not in runs)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return Markdown(f"{fence}{pad}{text}{pad}{fence}")
