"""Which file of the ledger holds a session: the mapping from ids to portable file names.

An id `<agent>/<session>` is kept as `<agent>/<session>.yaml` when both parts are plain,
portable names; any other part gets a hashed name that is distinct for distinct ids, also
on case-insensitive file systems.
"""

from __future__ import annotations

import re

from costlog import yamlfile

#: an id (or agent) kept as its own file name: portable characters only, and starting with
#: a letter or digit, so never a dot-file the loader would skip, an option, `..`, or a
#: hashed name (those start with `_`)
_PLAIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}\Z")
#: names Windows reserves for devices whatever their extension: `con.yaml` cannot exist there
_DEVICES = frozenset(
    {
        "con",
        "prn",
        "aux",
        "nul",
        *(f"com{n}" for n in range(1, 10)),
        *(f"lpt{n}" for n in range(1, 10)),
    }
)
_SLUG = re.compile(r"[^A-Za-z0-9.-]+")
#: how costlog 0.1 named files: every run of other characters became `_`
_LEGACY_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_SLUG_MAX = 48
_HASH_HEX = 16


def plain_name(text: str) -> bool:
    """Whether `text` is used as a file or directory name just as it is.

    Up to 100 portable characters, starting with a letter or digit; not ending in a dot
    (Windows drops it) or in `.yaml`, and not a Windows device name.
    """
    return (
        _PLAIN_NAME.match(text) is not None
        and not text.endswith(".")
        and not text.lower().endswith(".yaml")
        and text.split(".", 1)[0].lower() not in _DEVICES
    )


def hashed_name(text: str) -> str:
    """`_<readable slug>-<16 hex of sha256(text)>`, at most 66 ASCII characters.

    The name of every id that is not a plain name (and of a plain one whose name a file
    differing only in case already holds): distinct raw ids get distinct names, also on
    case-insensitive file systems, since the hash is of the exact text.
    """
    import hashlib
    import unicodedata

    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:_HASH_HEX]
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = _SLUG.sub("_", ascii_text).strip("._-")[:_SLUG_MAX].rstrip("._-")
    return f"_{slug}-{digest}" if slug else f"_{digest}"


def dir_name(agent: str) -> str:
    """The folder of an agent's sessions."""
    return agent if plain_name(agent) else hashed_name(agent)


def file_names_for(entry_id: str) -> tuple[str, ...]:
    """Where, relative to the ledger folder, the entry with this id may live: its plain
    name, then its hashed name (used when a file differing only in case holds the first);
    only the hashed name for an id that is not plain."""
    agent, _, session = yamlfile.clean_text(entry_id).partition("/")
    folder = dir_name(agent)
    hashed = f"{folder}/{hashed_name(session)}.yaml"
    return (f"{folder}/{session}.yaml", hashed) if plain_name(session) else (hashed,)


def legacy_name(session: str) -> str:
    """The file name costlog 0.1 gave a session: every run of characters outside
    [A-Za-z0-9._-] became `_`."""
    return f"{_LEGACY_NAME.sub('_', session)}.yaml"
