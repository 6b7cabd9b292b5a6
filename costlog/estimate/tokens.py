"""Token estimates for logs that lack (trustworthy) usage numbers, offline.

`count_tokens(text)` gives the tokens of a piece of text. By default that is a fitted
6-term character heuristic: fitted against tiktoken's o200k encoding on 11 kinds of
agent-log content, it lands within ~0.4 % of o200k in aggregate and ~4 % per 4 kB sample,
and loads in no time. `exact=True` counts with tiktoken, loading the encoding files bundled
in `costlog/data/tiktoken` (never the network: if the bundled file is missing the heuristic
is used and a warning says so). tiktoken costs ~300 ms and ~80 MB to load, so it is
imported lazily and only on request.

Claude's output estimate (for responses Claude Code logged only a placeholder count for)
lives with the Claude reader: costlog.sources.claude.output_estimate.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: files tiktoken expects in its cache dir: name = sha1(download url)
ENCODING_FILES: dict[str, str] = {
    "o200k_base": "fb374d419588a4632f3f557e76b4b70aebbca790",
    "cl100k_base": "9b5ad71b2ce5302211f9c61530b329a4922fc6a4",
}

_WORD = re.compile(r"[A-Za-z]+")
_DIGIT = re.compile(r"[0-9]")
_PUNCT = re.compile(r"[!-/:-@\[-`{-~]")
_SPACE = re.compile(r"\s+")

# fitted against o200k on 11 kinds of agent-log content (see the module doc)
_W_WORDS = 0.156
_W_LETTERS = 0.128
_W_DIGITS = 0.661
_W_PUNCT = 0.746
_W_SPACE_RUNS = 0.385
_W_NON_ASCII = 0.827

#: how the heuristic is named in warnings and in a ledger entry's `methods.tokens`
HEURISTIC_METHOD = "fitted character heuristic"

_encodings: dict[str, Any] = {}
_warned: set[str] = set()


def heuristic_tokens(text: str) -> int:
    """The zero-load-time estimate: words, letters, digits, punctuation, spaces, non-ASCII."""
    if not text:
        return 0
    words = _WORD.findall(text)
    letters = sum(map(len, words))
    non_ascii = len(text) - len(text.encode("ascii", "ignore"))
    value = (
        _W_WORDS * len(words)
        + _W_LETTERS * letters
        + _W_DIGITS * len(_DIGIT.findall(text))
        + _W_PUNCT * len(_PUNCT.findall(text))
        + _W_SPACE_RUNS * len(_SPACE.findall(text))
        + _W_NON_ASCII * non_ascii
    )
    return max(1, round(value))


def bundled_dir() -> Path:
    """Where the tiktoken files ship (package data)."""
    return Path(__file__).resolve().parent.parent / "data" / "tiktoken"


def _stderr(message: str) -> None:
    print(f"costlog: {message}", file=sys.stderr)


def load_encoding(encoding: str, warn: Callable[[str], None] = _stderr) -> Any | None:
    """The tiktoken encoding from the bundled files, or None (never downloads)."""
    if encoding in _encodings:
        return _encodings[encoding]
    name = ENCODING_FILES.get(encoding)
    folder = bundled_dir()
    if name is None or not (folder / name).is_file():
        if encoding not in _warned:
            _warned.add(encoding)
            warn(
                f"tokenizer file for {encoding} is not bundled; using the "
                f"{HEURISTIC_METHOD} instead"
            )
        return None
    # tiktoken reads its cache dir when it loads an encoding: point it at our files for
    # that moment, so a cache miss can never turn into a download (no timeout there)
    previous = os.environ.get("TIKTOKEN_CACHE_DIR")
    os.environ["TIKTOKEN_CACHE_DIR"] = str(folder)
    try:
        import tiktoken

        enc = tiktoken.get_encoding(encoding)
    except Exception as exc:  # a broken install must not stop a cost report
        if encoding not in _warned:
            _warned.add(encoding)
            warn(f"cannot load tokenizer {encoding} ({exc}); using the {HEURISTIC_METHOD}")
        return None
    finally:
        if previous is None:
            del os.environ["TIKTOKEN_CACHE_DIR"]
        else:
            os.environ["TIKTOKEN_CACHE_DIR"] = previous
    _encodings[encoding] = enc
    return enc


def count_tokens(
    text: str,
    *,
    exact: bool = False,
    encoding: str = "o200k_base",
    warn: Callable[[str], None] = _stderr,
) -> int:
    """Tokens in `text`: the fitted heuristic, or tiktoken's count when `exact`."""
    if exact:
        enc = load_encoding(encoding, warn)
        if enc is not None:
            return len(enc.encode(text, disallowed_special=()))
    return heuristic_tokens(text)
