"""Claude Code's own session totals from a transcript's `cost-state` lines.

Current Claude Code (2.1.332 and later) appends `cost-state` lines to the transcript: the
cost tracker's running totals for the session, per model (`modelUsage`: input, output,
cache read, cache creation split into `cacheCreationEphemeral5mInputTokens` /
`...1hInputTokens`, `costUSD`), counting every call the process made, the auxiliary ones
(session titles, summaries) included, which the transcript does not log as responses.

The last `cost-state` line of the session is compared with the transcript's responses per
model. Where Claude Code counted more of every kind, the difference is those auxiliary
calls: it is added once, as one labelled auxiliary request per model with its cache split
(`methods.auxiliary` says so). It is computed after the OTel join, so calls an export
already added are not added again, and the `~/.claude.json` residual is then not applied
(it would report the same calls a second time). Where the transcript has more of some kind
(the line was written before the last responses), nothing is added from it, the
`~/.claude.json` residual is reported as before, and `methods.cost_state` says why. Only
numbers and model names are read. `costlog scan` applies it the same way (`in_scan`), so a
session costs the same in `scan` as in the ledger.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from costlog.models import Request, Session, Usage
from costlog.safefs import open_log
from costlog.sources._lines import MAX_LINE
from costlog.sources.claude.state import ModelTotals, model_totals

if TYPE_CHECKING:
    from costlog.pricing.table import PriceTable

Warn = Callable[[str], None]
_MARK = b'"cost-state"'
#: the first chunk read from a transcript's end, and the largest one
_TAIL = 1 << 16
_MAX_CHUNK = 1 << 24


@dataclass(frozen=True, slots=True)
class CostState:
    """The last `cost-state` line of one session."""

    session_id: str
    #: where it was read, for the methods text
    where: str
    models: dict[str, ModelTotals] = field(default_factory=dict)
    cost_usd: Decimal | None = None


def read_cost_state(
    paths: Iterable[str | Path], session_id: str, warn: Warn, reach: int | None = None
) -> CostState | None:
    """The session's last `cost-state` line in its transcript files, or None.

    Claude Code appends them, so the last one is near the end: each file is searched from
    its end back, in growing chunks, and a transcript without one is read once, not parsed
    (this runs on every recording, in the commit hook too). `reach`: search only that many
    bytes from each file's end (`scan`, over every transcript there is).
    """
    for path in paths:
        if reach == SCAN_REACH and _known_unmarked(path):
            continue  # this process's cold read saw no marker in that reach, unchanged since
        try:
            fh = open_log(path)
        except OSError:
            continue  # the transcript reader has already said why
        with fh:
            for raw, offset in _lines_from_end(fh, reach):
                state = _parse(raw, path, offset, fh, session_id, warn)
                if state is not None:
                    return state
    return None


def _lines_from_end(fh: BinaryIO, reach: int | None = None) -> Iterator[tuple[bytes, int]]:
    """The whole lines holding the marker, last first, with their offsets (within `reach`
    bytes of the end, if given)."""
    end, chunk = fh.seek(0, 2), _TAIL
    floor = 0 if reach is None else max(end - reach, 0)
    if reach is not None:
        chunk = min(chunk, reach)
    while end > floor:
        begin = max(end - chunk, floor)
        last = begin == floor  # the block reaches as far back as is searched
        fh.seek(begin)
        block = fh.read(end - begin)
        if begin > 0:  # the block's first line may be cut: it is read with the next block
            cut = block.find(b"\n")
            if cut < 0:
                if chunk > MAX_LINE or last:
                    return  # a line too long to hold anything costlog reads, or out of reach
                chunk *= 2
                continue
            begin, block = begin + cut + 1, block[cut + 1 :]
        # most transcripts have no marker at all: their block is not split into lines
        lines = block.split(b"\n") if _MARK in block else []
        starts, position = [], begin
        for line in lines:
            starts.append(position)
            position += len(line) + 1
        for line, start in zip(reversed(lines), reversed(starts), strict=True):
            if _MARK in line:
                yield line, start
        if last:
            return
        end, chunk = begin, min(chunk * 2, _MAX_CHUNK)


def _parse(
    raw: bytes, path: str | Path, offset: int, fh: BinaryIO, session_id: str, warn: Warn
) -> CostState | None:
    try:
        record = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None  # the transcript reader warns about a broken line
    if not isinstance(record, dict) or record.get("type") != "cost-state":
        return None
    if record.get("sessionId") != session_id:
        return None
    usage = record.get("modelUsage")
    if not isinstance(usage, dict):
        warn(f"{path}:{_line_number(fh, offset)}: cost-state without modelUsage, not used")
        return None
    models = {
        name: model_totals(totals)
        for name, totals in usage.items()
        if isinstance(name, str) and isinstance(totals, dict)
    }
    cost = record.get("totalCostUSD")
    money = (
        Decimal(str(cost))
        if isinstance(cost, int | float) and not isinstance(cost, bool) and cost >= 0
        else None
    )
    return CostState(session_id, f"{path}, its last cost-state line", models, money)


def apply_cost_state(
    session: Session, state: CostState, table: PriceTable | None, lines: list[str]
) -> bool:
    """Add what Claude Code counted and the session lacks; True when the line was used
    (added, or found equal), so the `~/.claude.json` residual is not applied as well."""
    key = _keyer(table)
    ours: dict[str, Usage] = {}
    for request in session.requests:
        ours.setdefault(key(request.model), Usage()).add(request.usage)
    extras: dict[str, Usage] = {}
    behind: list[str] = []
    for name in sorted(state.models):
        extra = _minus(state.models[name].usage, ours.get(key(name), Usage()))
        if extra is None:
            behind.append(name)
        elif extra.total:
            extras[name] = extra
    if behind:
        # a line written before the last responses: what it counts beyond them is unknown
        session.methods["cost_state"] = (
            f"Claude Code's cost-state ({state.where}) counts less than the transcript for "
            f"{', '.join(behind)}: written before the last responses, so nothing is added "
            "from it"
        )
        return False
    when = _last_time(session)
    for name, extra in extras.items():
        session.requests.append(Request(model=name, usage=extra, timestamp=when))
    if extras:
        text = (
            f"Claude Code's own totals (cost-state, {state.where}) minus the transcript: "
            + "; ".join(f"{name}: {_describe(extra)}" for name, extra in extras.items())
            + " (auxiliary calls such as titles and summaries, which the transcript does not "
            "log; added once as auxiliary usage)"
        )
        session.methods["auxiliary"] = text
        lines.append(text)
    return True


#: how far from a transcript's end `scan` looks for its last cost-state line. Claude Code
#: writes it as the session's last line (a line further back is followed by responses it
#: does not count, so nothing would be added from it). Bounded, because a scan meets every
#: transcript there is, most of them with no cost-state line at all: measured on the
#: benchmarks' corpus (144 MB, 247 files), 64 KiB costs a warm scan about 0.05 s, 1 MiB 0.2 s
SCAN_REACH = 1 << 16


#: transcripts a cold read in this process saw with no marker in their last SCAN_REACH
#: bytes: path -> (size, mtime_ns, inode) then, as the scan cache keys a file. A scan skips
#: their tail read while `lstat` still says the same (the readers test the tail they have
#: just read, on every core, instead)
_UNMARKED: dict[str, tuple[int, int, int]] = {}


def tail_unmarked(fd: int) -> tuple[int, int, int] | None:
    """(size, mtime_ns, inode) of an open transcript whose last SCAN_REACH bytes hold no marker;
    None when they do (then `scan` reads them as usual)."""
    st = os.fstat(fd)
    if _MARK in os.pread(fd, SCAN_REACH, max(st.st_size - SCAN_REACH, 0)):
        return None
    return st.st_size, st.st_mtime_ns, st.st_ino


def note_unmarked(path: str, seen: tuple[int, int, int]) -> None:
    _UNMARKED[path] = seen


def _known_unmarked(path: str | Path) -> bool:
    seen = _UNMARKED.get(str(path))
    if seen is None:
        return False
    try:
        st = os.lstat(path)
    except OSError:
        return False
    return (st.st_size, st.st_mtime_ns, st.st_ino) == seen


def in_scan(sessions: Iterable[Session], table: PriceTable | None, warn: Warn) -> Iterator[Session]:
    """`costlog scan`'s sessions with each Claude Code session's cost-state applied as
    `costlog record` applies it, so the two agree on a session's total (after any OTel
    join, which the sessions already carry)."""
    for session in sessions:
        if session.agent == "claude-code" and session.paths:
            state = read_cost_state(session.paths, session.session_id, warn, SCAN_REACH)
            if state is not None:
                apply_cost_state(session, state, table, [])
        yield session


def _minus(theirs: Usage, mine: Usage) -> Usage | None:
    """theirs - mine by kind; None when mine is larger in any kind."""
    extra = Usage(
        input=theirs.input - mine.input,
        output=theirs.output - mine.output,
        cache_read=theirs.cache_read - mine.cache_read,
        cache_write_5m=theirs.cache_write_5m - mine.cache_write_5m,
        cache_write_1h=theirs.cache_write_1h - mine.cache_write_1h,
    )
    kinds = (extra.input, extra.output, extra.cache_read, extra.cache_write_5m)
    if min(*kinds, extra.cache_write_1h) < 0:
        return None
    return extra


def _describe(usage: Usage) -> str:
    kinds = (
        ("input", usage.input),
        ("output", usage.output),
        ("cache read", usage.cache_read),
        ("cache write 5m", usage.cache_write_5m),
        ("cache write 1h", usage.cache_write_1h),
    )
    return ", ".join(f"{name} +{count:,}" for name, count in kinds if count)


def _last_time(session: Session) -> datetime | None:
    times = [r.timestamp for r in session.requests if r.timestamp is not None]
    return max(times) if times else session.ended


def _keyer(table: PriceTable | None) -> Callable[[str], str]:
    def key(name: str) -> str:
        return (table.canonical(name) if table is not None else None) or name

    return key


def _line_number(fh: BinaryIO, offset: int) -> int:
    """The 1-based number of the line starting at `offset` (for messages only)."""
    fh.seek(0)
    count, done = 1, 0
    while done < offset:
        block = fh.read(min(1 << 20, offset - done))
        if not block:
            break
        count += block.count(b"\n")
        done += len(block)
    return count
