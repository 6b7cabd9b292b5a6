"""The ledger's file format: a strict, canonical subset of YAML, read fast.

costlog writes each ledger file as block mappings of `key: value` lines, where every value
is a scalar or a one-line flow collection (`{a: 1, b: "x"}`, `[A, B]`). Strings are plain
when they are unambiguous words, else double-quoted with JSON escapes (which YAML accepts).
That subset reads ~100x faster with the small parser below than with a YAML library, and
means the same thing to any YAML reader (tests check the two agree).

A file a person edited into some other valid YAML shape still loads: `load_text` falls back
to ruamel.yaml whenever the fast parser meets a line it does not know.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from costlog.errors import LedgerError

_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_./+-]*\Z")
# words YAML 1.1/1.2 readers turn into booleans or null
_SPECIAL = {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "nan", "inf"}
_KEY_LINE = re.compile(r'( *)("(?:[^"\\]|\\.)*"|[A-Za-z_][A-Za-z0-9_./+-]*):(?: (.*))?\Z')
_ITEM_LINE = re.compile(r"( *)- (.*)\Z")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)\Z")
_DECODER = json.JSONDecoder()


class _Fallback(Exception):
    """The text is outside the canonical subset: let a real YAML parser decide."""


#: what no ledger string may hold: NUL, and lone surrogates (from a log's `"\ud800"` escape
#: or undecodable bytes in a command-line argument), which UTF-8 cannot encode
_INVALID = re.compile(r"[\x00\ud800-\udfff]")


def clean_text(text: str) -> str:
    """`text` with NUL and lone surrogates replaced by U+FFFD, so it can be written."""
    if text.isascii() and "\x00" not in text:
        return text
    return _INVALID.sub("\ufffd", text)


def is_plain(text: str) -> bool:
    return bool(_PLAIN.match(text)) and text.lower() not in _SPECIAL


def scalar(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return value if is_plain(value) else json.dumps(clean_text(value), ensure_ascii=False)
    raise TypeError(f"cannot write {type(value).__name__} to the ledger")


def flow(value: Any) -> str:
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{scalar(str(k))}: {flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, Sequence) and not isinstance(value, str):
        return "[" + ", ".join(flow(v) for v in value) + "]"
    return scalar(value)


def dump(doc: Mapping[str, Any]) -> str:
    """Canonical text: top-level keys in the given order; nested maps one level deep."""
    lines: list[str] = []
    for key, value in doc.items():
        head = f"{scalar(key)}:"
        if isinstance(value, Mapping) and value and _has_nested(value):
            lines.append(head)
            lines.extend(f"  {scalar(str(k))}: {flow(v)}" for k, v in value.items())
        elif isinstance(value, list) and value and isinstance(value[0], Mapping):
            lines.append(head)
            lines.extend(f"  - {flow(item)}" for item in value)
        else:
            lines.append(f"{head} {flow(value)}")
    return "\n".join(lines) + "\n"


def _has_nested(value: Mapping[str, Any]) -> bool:
    return any(isinstance(v, Mapping) for v in value.values())


# ---------------------------------------------------------------- reading


#: far beyond any count or amount (the ledger reader bounds those); Python refuses to convert an
#: integer of over 4,300 digits at all, so such a number is named before YAML parses it
MAX_DIGITS = 4000
_LONG_NUMBER = re.compile(
    rf"(?:^|[:\[,{{]|^\s*-)[ \t]*[-+]?\d{{{MAX_DIGITS + 1},}}[ \t]*(?=$|[,\]}}#])", re.M
)


def load_text(text: str, *, path: str = "<ledger>") -> dict[str, Any]:
    """Parse one ledger file; LedgerError (with file and line) when it is not YAML."""
    long_number = _LONG_NUMBER.search(text) if len(text) > MAX_DIGITS else None
    if long_number is not None:
        raise LedgerError(
            f"a number of over {MAX_DIGITS} digits",
            path=path,
            line=text.count("\n", 0, long_number.end()) + 1,
        )
    try:
        try:
            return _fast_load(text)
        except _Fallback:
            return _slow_load(text, path)
    except RecursionError:  # `[[[[...` thousands deep: no ledger or config is nested so
        raise LedgerError(
            "not valid YAML: nested too deep", path=path, line=_deep_line(text)
        ) from None


def _slow_load(text: str, path: str) -> dict[str, Any]:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    try:
        data = YAML(typ="safe").load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise LedgerError(
            f"not valid YAML: {exc.problem or exc.context}", path=path, line=line
        ) from None
    except YAMLError as exc:
        raise LedgerError(f"not valid YAML: {exc}", path=path) from None
    except (ValueError, OverflowError) as exc:  # an unquoted date that does not exist
        raise LedgerError(
            f"not a valid date ({exc})", path=path, line=_bad_date_line(text)
        ) from None
    if not isinstance(data, dict):
        raise LedgerError("expected a mapping of fields", path=path, line=1)
    if _expanded_size(data, {}, set()) > MAX_NODES:
        raise LedgerError(
            f"not a ledger or config file: aliases expand to more than {MAX_NODES:,} values",
            path=path,
        )
    normalised: dict[str, Any] = _normalise(data)
    return normalised


#: values a file may hold once YAML aliases are expanded (a "billion laughs" is refused)
MAX_NODES = 1_000_000


def _expanded_size(value: Any, memo: dict[int, int], active: set[int]) -> int:
    """How many values `value` holds with every alias expanded, counted without expanding
    (shared nodes are counted once per use from `memo`); stops early past MAX_NODES."""
    if not isinstance(value, dict | list):
        return 1
    key = id(value)
    if key in memo:
        return memo[key]
    if key in active:  # an alias inside its own anchor: it expands forever
        return MAX_NODES + 1
    active.add(key)
    total = 1
    for child in value.values() if isinstance(value, dict) else value:
        total += _expanded_size(child, memo, active)
        if total > MAX_NODES:
            break
    active.discard(key)
    memo[key] = total
    return total


_DATE = re.compile(r"(?<![\"'\w-])(\d{4})-(\d\d?)-(\d\d?)(?![\w-])")


def _bad_date_line(text: str) -> int | None:
    """The first line holding an unquoted date that does not exist (2026-02-30)."""
    from datetime import date

    for number, line in enumerate(text.split("\n"), start=1):
        for match in _DATE.finditer(line):
            try:
                date(int(match[1]), int(match[2]), int(match[3]))
            except ValueError:
                return number
    return None


def _deep_line(text: str, limit: int = 200) -> int | None:
    """The first line where brackets or indentation nest past `limit` (for the error)."""
    depth = 0
    for number, line in enumerate(text.split("\n"), start=1):
        if len(line) - len(line.lstrip(" -")) > limit:
            return number
        for ch in line:
            if ch in "[{":
                depth += 1
                if depth > limit:
                    return number
            elif ch in "]}":
                depth -= 1
    return None


def _normalise(value: Any) -> Any:
    """Make a YAML library's output look like the fast parser's (str, int, list, dict)."""
    if isinstance(value, dict):
        return {str(k): _normalise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    if hasattr(value, "isoformat"):  # a timestamp YAML read unquoted
        text: str = value.isoformat()
        return text.replace("+00:00", "Z")
    if isinstance(value, float):
        return str(value)
    return value


def _fast_load(text: str) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    open_key: str | None = None  # a top-level key whose value continues on the next lines
    for raw in text.split("\n"):
        if not raw or raw.startswith("#") or raw == "---":
            continue
        if raw.startswith("  "):
            if open_key is None:
                raise _Fallback
            doc[open_key] = _nested_line(raw, doc[open_key])
            continue
        match = _KEY_LINE.match(raw)
        if match is None or match.group(1):
            raise _Fallback
        key = _key(match.group(2))
        if key in doc:
            raise _Fallback  # let the YAML parser report the duplicate key
        rest = match.group(3)
        doc[key] = _value(rest) if rest else None
        open_key = None if rest else key
    return doc


def _nested_line(raw: str, current: Any) -> Any:
    """Add one indented line to the open top-level value and return that value."""
    item = _ITEM_LINE.match(raw)
    if item is not None and item.group(1) == "  ":
        if current is None:
            current = []
        if not isinstance(current, list):
            raise _Fallback
        current.append(_value(item.group(2)))
        return current
    match = _KEY_LINE.match(raw)
    if match is None or match.group(1) != "  " or not match.group(3):
        raise _Fallback
    if current is None:
        current = {}
    key = _key(match.group(2))
    if not isinstance(current, dict) or key in current:
        raise _Fallback
    current[key] = _value(match.group(3))
    return current


def _key(token: str) -> str:
    if token.startswith('"'):
        key: str = json.loads(token)
        return key
    if not is_plain(token):
        raise _Fallback
    return token


def _value(text: str) -> Any:
    value, end = _parse(text, 0)
    if text[end:].strip():
        raise _Fallback
    return value


def _parse(text: str, i: int) -> tuple[Any, int]:
    i = _skip(text, i)
    if i >= len(text):
        raise _Fallback
    ch = text[i]
    if ch == "{":
        return _parse_map(text, i + 1)
    if ch == "[":
        return _parse_list(text, i + 1)
    if ch == '"':
        try:
            return _DECODER.raw_decode(text, i)
        except ValueError:
            raise _Fallback from None
    end = i
    while end < len(text) and text[end] not in ",}]":
        end += 1
    word = text[i:end].rstrip()
    return _word(word), i + len(word)


def _word(word: str) -> Any:
    if _NUMBER.match(word):
        return int(word)
    if word == "null" or word == "~":
        return None
    if word == "true":
        return True
    if word == "false":
        return False
    if is_plain(word):
        return word
    raise _Fallback


def _parse_map(text: str, i: int) -> tuple[dict[str, Any], int]:
    out: dict[str, Any] = {}
    i = _skip(text, i)
    if i < len(text) and text[i] == "}":
        return out, i + 1
    while True:
        i = _skip(text, i)
        if i < len(text) and text[i] == '"':
            try:
                key, i = _DECODER.raw_decode(text, i)
            except ValueError:
                raise _Fallback from None
        else:
            colon = text.find(":", i)
            if colon < 0:
                raise _Fallback
            key = text[i:colon]
            if not is_plain(key):
                raise _Fallback
            i = colon
        if text[i : i + 2] != ": " or key in out:
            raise _Fallback
        out[str(key)], i = _parse(text, i + 2)
        i = _skip(text, i)
        if i < len(text) and text[i] == ",":
            i += 1
            continue
        if i < len(text) and text[i] == "}":
            return out, i + 1
        raise _Fallback


def _parse_list(text: str, i: int) -> tuple[list[Any], int]:
    out: list[Any] = []
    i = _skip(text, i)
    if i < len(text) and text[i] == "]":
        return out, i + 1
    while True:
        value, i = _parse(text, i)
        out.append(value)
        i = _skip(text, i)
        if i < len(text) and text[i] == ",":
            i += 1
            continue
        if i < len(text) and text[i] == "]":
            return out, i + 1
        raise _Fallback


def _skip(text: str, i: int) -> int:
    while i < len(text) and text[i] == " ":
        i += 1
    return i
