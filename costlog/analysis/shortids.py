"""Short session ids: what tables and `record`'s line show instead of a 36-character id.

A short id must stay the same for a session whatever is recorded later (the one `record`
printed must still find the session a month on), be short enough for a table cell, say
something to a reader, and be distinct within the ledger. The previous design, the
shortest prefix no other id shares (as git abbreviates shas), failed the first rule: each
new session from the same minute lengthened its neighbours' ids, so what `record` printed
became ambiguous.

So a short id is computed from the id alone (see docs/short-ids.md):

- a random uuid (Claude Code's, version 4) or hex name shows its first eight hex digits,
  `5f0c2a9e`;
- an id that starts with a start time (a manual record's `20261202T013016Z-7a3f9c`, aider's
  `aider-20240819T134654`) shows month, day, hour and minute and three hex digits of a hash
  of the whole id, `1202-0130-ab1`;
- a time-ordered uuid (Codex's, version 7, whose first digits are the clock) shows its first
  eight digits and the hash, `01a2336d-209`;
- any other id (OpenCode's time-ordered `ses_...`, an imported row, a long name) shows a few
  of its leading characters and four hex digits of the hash, `Elixir-3c48`; an id of at
  most twelve characters shows whole.

The hash is CRC-32 (zlib: no OpenSSL import on the hook path, and a short id needs no
more). Only when two ids of one ledger still come out alike are those two lengthened, both
by more digits of their own hash, never by what their neighbours are: an id that never
collides never changes.
"""

from __future__ import annotations

import re
import zlib
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, tzinfo
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from costlog.ledger.store import Ledger

#: the non-breaking hyphen COST_LOG.md's cells use so that an id never wraps: an id copied
#: from the rendered page has it instead of `-`
NOBREAK = "\u2011"

#: prefixes every id of some agent starts with, which tell sessions apart no better than
#: the agent column does
_NOISE = ("ses_",)

#: hex digits of the hash a short id carries: the minute already tells most time-based ids
#: apart; other ids lean on the hash alone
TIME_HASH = 3
OTHER_HASH = 4
#: an id this short shows whole
WHOLE = 12
#: leading characters an other id keeps, cut earlier at a separator
HEAD = 6

#: what kind of id it is, in one match (a render classifies every id of the ledger): a uuid
#: (its version digit), a random hex name, a start time (month, day, hour, minute), or else
#: the head an other id keeps (its first HEAD characters, cut at a separator after three)
_KIND = re.compile(
    r"(?P<uuid>[0-9a-f]{8}-[0-9a-f]{4}-(?P<version>[0-9a-f])[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$)"
    r"|(?P<hex>[0-9a-f]{16,}$)"
    r"|(?:19|20)\d\d(?P<month>0[1-9]|1[0-2])(?P<day>0[1-9]|[12]\d|3[01])"
    r"(?:T(?P<hour>[01]\d|2[0-3])(?P<minute>[0-5]\d))?"
    r"|(?P<head>.{3}[^-_.:+ ]{0,3})",
    re.S,
)
_SEPARATORS = "-_.:+ "
#: a start time written in UTC (`20261202T013016Z`, as `record` names a manual session)
_UTC_STAMP = re.compile(r"(?:19|20)\d{6}T\d{4}(?:\d\d)?Z")


def meaningful(entry_id: str) -> str:
    """The part of an id that tells sessions apart: `aider/aider-20261201T0915` ->
    `20261201T0915`, `opencode/ses_4a1b...` -> `4a1b...`, `claude-code/5f0c...` -> `5f0c...`."""
    agent, sep, rest = entry_id.partition("/")
    if not sep:
        return entry_id
    cut = len(agent) + 1  # `aider-...` under `aider/`
    if rest.startswith(agent) and rest[cut - 1 : cut] == "-" and len(rest) > cut:
        return rest[cut:]
    for noise in _NOISE:
        if rest.startswith(noise) and len(rest) > len(noise):
            return rest[len(noise) :]
    return rest


def id_zone(entry_id: str) -> tzinfo | None:
    """The zone the id's start time is written in, for showing its date next to it: UTC for
    `...T013016Z`, else None (the machine's zone: aider writes local time; an id without a
    time is shown as terminal output is)."""
    return UTC if _UTC_STAMP.match(meaningful(entry_id)) else None


def digest(entry_id: str) -> str:
    """Sixteen hex digits that depend on the whole id (two CRC-32s): the pool a short id
    takes its hash digits from, and lengthens into on a collision."""
    data = entry_id.encode()
    first = zlib.crc32(data)
    return f"{first:08x}{zlib.crc32(data, first ^ 0x5BD1E995):08x}"


def _parts(entry_id: str) -> tuple[str, int]:
    """The readable part of the id's short form and how many hash digits follow it (0: the
    readable part alone)."""
    key = meaningful(entry_id)
    if len(key) == 36 and key[14] == "4" and key[8] == key[13] == "-":
        return key[:8], 0  # a random uuid (Claude Code's), the common case, without a match
    kind = _KIND.match(key)
    if kind is None:  # under three characters
        return key, 0
    if kind["uuid"]:
        # version 4 is random: its first digits are as good as a hash. Other versions (7:
        # Codex) begin with the clock, alike for sessions started together
        return key[:8], 0 if kind["version"] == "4" else TIME_HASH
    if kind["hex"]:  # a random hex name, as a uuid without its dashes
        return key[:8], 0
    head = kind["head"]
    if head is None:  # a start time
        day = kind["month"] + kind["day"]
        return (f"{day}-{kind['hour']}{kind['minute']}" if kind["hour"] else day), TIME_HASH
    if len(key) <= WHOLE:
        return key, 0
    return head.rstrip(_SEPARATORS) or head, OTHER_HASH


def _form(readable: str, entry_id: str, digits: int) -> str:
    return f"{readable}-{digest(entry_id)[:digits]}" if digits else readable


def stable(entry_id: str) -> str:
    """The short id of one id, from the id alone: what a session shows unless another id of
    its ledger comes out the same."""
    readable, digits = _parts(entry_id)
    return _form(readable, entry_id, digits)


class ShortIds:
    """The short ids of one ledger: each id's stable form, except ids whose forms collide,
    which are lengthened by their own hash until they differ. One pass over the ids; the
    hash is taken only of ids that need it to be told apart."""

    def __init__(self, ids: Iterable[str]) -> None:
        self._ids = set(ids)
        first: dict[str, str] = {}
        alike: dict[str, list[str]] = {}  # readable parts two or more ids have
        parts = _parts
        for entry_id in self._ids:
            readable = parts(entry_id)[0]
            other = first.setdefault(readable, entry_id)
            if other is not entry_id:
                alike.setdefault(readable, [other]).append(entry_id)
        #: the ids whose short form is not their stable one
        self._longer: dict[str, str] = {}
        for readable, members in alike.items():
            self._separate(readable, members)
        self._by_short: dict[str, str] | None = None

    def _separate(self, readable: str, members: list[str]) -> None:
        """Lengthen the ids of one readable part whose forms are alike, each by more digits of
        its own hash, as few as tell them apart; ids that differ already keep their form."""
        forms: dict[str, list[str]] = defaultdict(list)
        for entry_id in members:
            forms[stable(entry_id)].append(entry_id)
        for alike in forms.values():
            if len(alike) < 2:
                continue
            digits = max(_parts(alike[0])[1], TIME_HASH - 1)
            while True:
                digits += 1
                if digits > 16:  # the hashes agree: the whole id tells them apart
                    self._longer.update({i: i for i in alike})
                    break
                longer = {i: _form(readable, i, digits) for i in alike}
                if len(set(longer.values())) == len(alike):
                    self._longer.update(longer)
                    break

    def of(self, entry_id: str) -> str:
        """The id as tables show it: unique among the ledger's short ids."""
        return self._longer.get(entry_id) or stable(entry_id)

    def all(self) -> dict[str, str]:
        """Every id's short id."""
        return {entry_id: self.of(entry_id) for entry_id in self._ids}

    def find(self, query: str) -> list[str]:
        """The ids `query` names, sorted: the id itself, else the one whose short id (as
        shown now, or its stable form, as `record` printed it) it is, else every id it
        begins (whole, after the agent, or its meaningful part) or whose short id it
        begins."""
        query = query.strip().replace(NOBREAK, "-")
        if not query:
            return []
        if query in self._ids:
            return [query]
        if self._by_short is None:
            self._by_short = {self.of(i): i for i in self._ids}
        if query in self._by_short:
            return [self._by_short[query]]
        exact = sorted(i for i in self._ids if stable(i) == query)
        if exact:
            return exact
        longer = sorted(i for i in self._ids if _lengthened(i, query))
        if len(longer) == 1:  # a longer form printed while a twin was in view
            return longer
        return sorted(
            entry_id
            for entry_id in self._ids
            if entry_id.startswith(query)
            or entry_id.partition("/")[2].startswith(query)
            or meaningful(entry_id).startswith(query)
            or self.of(entry_id).startswith(query)
        )


def _lengthened(entry_id: str, query: str) -> bool:
    """Whether `query` is the id's short form lengthened by more digits of its hash (as a
    ledger with a twin of it shows it), whichever ids are in view now."""
    readable, digits = _parts(entry_id)
    head = readable + "-"
    if not query.startswith(head):
        return False
    tail = query[len(head) :]
    return len(tail) > max(digits, TIME_HASH - 1) and digest(entry_id).startswith(tail)


def ledger_ids(ledger: Ledger) -> list[str]:
    """The ids of a ledger's entries from their file names alone (`agent/<id>.yaml`): ~10 ms
    for 10,000 files where loading them takes ~300 ms, which is what `record` can afford
    for its one line. A file under a hashed name (`_slug-<hash>.yaml`, an id with other
    characters) does not say its id and is left out."""
    import os

    base = str(ledger.dir) + os.sep
    ids = []
    for path in ledger.file_names():
        rel = path[len(base) :] if path.startswith(base) else path
        folder, _, name = rel.replace(os.sep, "/").rpartition("/")
        if folder and "/" not in folder and "_" not in (folder[:1], name[:1]):
            ids.append(f"{folder}/{name[: -len('.yaml')]}")
    return ids
