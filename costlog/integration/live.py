"""What the status line and the budget guard share: a session's cost so far, read from its
Claude Code transcript incrementally, and the repository's ledger figures, cached.

Both run on every refresh, prompt or tool call, so each call must cost little (the target
is a median of 50 ms with a 20 MB transcript and 1,000 ledger sessions). Hence:

- Per transcript, a state file outside the repository (the user's state dir, see
  `state_dir`) keeps the byte offset read to, the file's size and inode, and each
  response's counts. A call reads only the bytes appended since; a file that shrank or was
  replaced (another inode) is read again from the start. Sub-agent transcripts
  (`<session>/subagents/*.jsonl`) are read the same way and count for the session.
- Lines are read as costlog reads them elsewhere: only lines holding `"usage"` are parsed
  (`progress` lines, a parent's mirror of its sub-agents' files, are left to those files),
  the lines of one response (same `message.id` and `requestId`) are one request whose
  largest logged output count is kept, and a response is counted once however often and
  wherever in the session's files it appears again: a compact key of every response seen
  (`keys`) is kept in the state for that. A line naming another session (`sessionId`)
  whose transcript lies beside this one is that session's call replayed by a resume
  (`claude --resume` starts the new file with a copy of the old one's lines), which the
  scan reader leaves with the earlier session too. `<synthetic>` error lines are not billed, a line
  still being written (no newline yet) is left for the next call, and a line longer than
  `MAX_LINE` is skipped unread. Old `costUSD` values are used as logged.
- Money is integer femto-dollars (10**-15 USD: a token count times a rate in USD per
  million tokens x 10**9, times the speed factor x 1000, over 1000): exact, like Decimal,
  without importing it on the common path. Prices come from costlog's table (with the
  repo's price file), but only when a model, day or speed is first seen: the rates are
  then kept in the state, so the common call imports no pricing code.
- The ledger figures (today, this month, per work item) and the config values needed are
  computed from the ledger when its files or the config change (their stat signature),
  and kept in a per-repository state file.

The counts are what the transcript says so far: for versions that never log a final
output count the recorded session (which adds an estimate) can come out a little higher.
Nothing from a transcript but counts, model names, ids and times is kept: the branch name
is kept only as a checksum, beside the work-item keys it names.
"""

from __future__ import annotations

import json
import os
import sys
import time

TYPE_CHECKING = False
if TYPE_CHECKING:  # `typing` alone takes a third of the time budget to import
    from typing import Any

#: bump when a state file changes shape or meaning
VERSION = 3
#: a line longer than this is skipped unread (no usage line comes near it)
MAX_LINE = 64 << 20
#: responses kept open per file: the lines of one response are written together, so an
#: older one gets no more lines (a later copy of it would count again: none was seen)
OPEN = 32
#: closed requests' times kept before the windows before the latest are forgotten
KEEP_POINTS = 400
#: bytes read at a time
_CHUNK = 4 << 20
#: at most this much read per call: a first look at a huge transcript is spread over a few
#: calls (each saved) instead of one that outlives the hook's timeout and saves nothing
READ_BUDGET = 48 << 20
#: money here is an int of femto-dollars (10**-15 USD): exact, and no `decimal` import
UNIT = 10**15
ZERO = 0
#: response record: model, speed, input, output, cache read, cache write 5m / 1h, time
#: (ISO text as logged), logged cost (text or None), cost (femto-dollars, -1 unpriced)
_MODEL, _SPEED, _IN, _OUT, _CR, _CW5, _CW1, _TS, _LOGGED, _COST = range(10)


def state_dir(env: dict[str, str] | os._Environ[str] | None = None) -> str:
    """`$COSTLOG_STATE_DIR`, else `$XDG_STATE_HOME/costlog`, else `~/.local/state/costlog`."""
    environ = os.environ if env is None else env
    if environ.get("COSTLOG_STATE_DIR"):
        return environ["COSTLOG_STATE_DIR"]
    base = environ.get("XDG_STATE_HOME") or os.path.join(
        environ.get("HOME") or os.path.expanduser("~"), ".local", "state"
    )
    return os.path.join(base, "costlog")


def log_error(where: str, exc: BaseException) -> None:
    """One line in `<state dir>/live.log`, else (that folder unwritable) in
    `costlog-live-<uid>.log` in the temp dir; never raises and never writes to stderr,
    which Claude Code would show (the callers must not fail)."""
    text = str(exc).replace("\n", " ")[:300]
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    record = f"{stamp} {where}: {type(exc).__name__}: {text}\n"
    try:
        folder = state_dir()
        os.makedirs(folder, exist_ok=True)
        _append(os.path.join(folder, "live.log"), record)
        return
    except Exception:  # the log is best effort by design: try the fallback
        pass
    try:
        uid = os.getuid() if hasattr(os, "getuid") else 0
        folder = os.environ.get("TMPDIR") or "/tmp"
        _append(os.path.join(folder, f"costlog-live-{uid}.log"), record)
    except Exception:
        pass


def _append(path: str, record: str) -> None:
    """Append to a log file that is this user's own: never through a symlink (the fallback
    sits in a shared temp dir, where anyone could plant one pointing at a file of ours)."""
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as fh:
        fh.write(record)


def save_quietly(path: str, data: Any, where: str) -> None:
    """Save a state file if the state dir allows it: a read-only or missing state dir
    costs speed (everything is read again next call), never the figures."""
    try:
        _save_json(path, data)
    except OSError as exc:
        log_error(where, exc)


def _key_name(text: str) -> str:
    """A file name for a path: the path itself, escaped (hashlib's import alone would take
    a quarter of the time budget); a hash only for a path too long to be a name."""
    name = text.replace("%", "%25").replace("/", "%2F").replace("\\", "%5C").replace(":", "%3A")
    if len(name) <= 200:
        return name
    import hashlib

    return "h" + hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()[:32]


def _load_json(path: str) -> Any:
    try:
        with open(path, "rb") as fh:
            return json.loads(fh.read())
    except (OSError, ValueError):
        return None


def _save_json(path: str, data: Any) -> None:
    """Written to a temporary file and renamed over: a reader never sees half a state."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp"
    text = json.dumps(data, separators=(",", ":"))  # dumps: C encoder; dump is not
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


# ---------------------------------------------------------------- the session


class SessionState:
    """One session's responses (main transcript and its sub-agents), as far as read."""

    def __init__(self, transcript: str) -> None:
        self.transcript = transcript
        self.path = os.path.join(state_dir(), "sessions", _key_name(transcript) + ".json")
        data = _load_json(self.path)
        if not isinstance(data, dict) or data.get("version") != VERSION:
            data = {}
            _prune(os.path.dirname(self.path))
        #: per file: [size, inode, offset, lines]
        self.files: dict[str, list[int]] = data.get("files") or {}
        #: the responses still open (the last `OPEN` of each file): a later line of the
        #: same response may still raise its counts
        self.responses: dict[str, list[Any]] = data.get("responses") or {}
        #: per file tag: [cost, unpriced, [[time, tokens, cost], ...]] of closed responses
        self.closed: dict[str, list[Any]] = data.get("closed") or {}
        #: the message ids (their last 16 characters) of the main thread's responses: a
        #: sidechain line with one of them is a `/btw` replay of it, not a new request
        self.seen: set[str] = set(data.get("seen") or ())
        #: per file tag: the compact keys (`_compact`) of its closed responses; a later
        #: copy of one of them (a concatenated or replayed transcript) is not counted again
        self.keys: dict[str, list[str]] = data.get("keys") or {}
        self._done = {k for keys in self.keys.values() for k in keys}
        #: per file tag: closed responses' cost per half hour (UTC, "YYYY-MM-DDTHH:MM"), so
        #: "today" and the month take only the part of the session that fell in them
        self.halves: dict[str, dict[str, int]] = data.get("halves") or {}
        #: compact key -> key in `responses`: one response open in two files is one
        self._open = {k.partition("\x1e")[2]: k for k in self.responses}
        #: this session's id (the transcript's name), and, per other session id named by a
        #: line, whether its transcript lies beside this one (in memory only)
        self.sid = os.path.basename(transcript).rpartition(".")[0] or transcript
        self._foreign: dict[str, bool] = {}
        self.rates: dict[str, Any] = data.get("rates") or {}
        #: the branch the latest lines name: in memory only (the state keeps its crc32
        #: and the work-item keys found in it, `items`)
        self.branch: str | None = None
        self.branch_crc: int | None = data.get("branch_crc")
        self.items: list[str] = data.get("items") or []
        self.first: str | None = data.get("first")
        self.warnings: int = int(data.get("warnings") or 0)
        self.prune_at: int = int(data.get("prune_at") or KEEP_POINTS)
        self.changed = not data
        #: bytes this call may still read; `behind`: some file was not read to its end
        self.budget = READ_BUDGET
        self.behind = False

    def save(self) -> None:
        if not self.changed:
            return
        _save_json(
            self.path,
            {
                "version": VERSION,
                "transcript": self.transcript,
                "files": self.files,
                "responses": self.responses,
                "closed": self.closed,
                "seen": sorted(self.seen),
                "keys": self.keys,
                "halves": self.halves,
                "rates": self.rates,
                "branch_crc": self.branch_crc,
                "items": self.items,
                "first": self.first,
                "warnings": self.warnings,
                "prune_at": self.prune_at,
            },
        )

    # ------------------------------------------------------------ reading

    def mark(self, name: str) -> bool:
        """Set a once-per-session mark (the guard's soft warning); False if it was set.
        Its own file: the status line, saving the state at the same moment, cannot undo it."""
        path = f"{self.path}.{name}"
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            return False
        except OSError as exc:  # no state dir to remember it in: say it every time
            log_error("mark", exc)
        return True

    def update(self) -> None:
        """Read what was appended to the transcript and its sub-agent files."""
        paths = [self.transcript]
        folder = os.path.join(self.transcript[: -len(".jsonl")], "subagents")
        if self.transcript.endswith(".jsonl") and os.path.isdir(folder):
            with os.scandir(folder) as found:
                paths += sorted(e.path for e in found if e.name.endswith(".jsonl") and e.is_file())
        for path in paths:
            self._read(path)

    def _read(self, path: str) -> None:
        from costlog.safefs import open_log

        with open_log(path) as fh:
            st = os.fstat(fh.fileno())
            known = self.files.get(path)
            if known is not None and known[0] == st.st_size and known[1] == st.st_ino:
                return  # unchanged
            offset, lines = (known[2], known[3]) if known is not None else (0, 0)
            if known is not None and (st.st_ino != known[1] or st.st_size < known[2]):
                self._forget(path)  # replaced or cut short: read it again
                offset, lines = 0, 0
            fh.seek(offset)
            start = offset
            offset, lines = self._lines(fh, path, offset, lines)
            self.budget -= offset - start
            behind = self.budget <= 0 and offset < st.st_size
            self.behind = self.behind or behind
        # a file read only part way is kept with the size read to: "grown" at the next call
        self.files[path] = [offset if behind else st.st_size, st.st_ino, offset, lines]
        self.changed = True

    def _forget(self, path: str) -> None:
        tag = _file_tag(path)
        for key in [k for k in self.responses if k.startswith(tag)]:
            del self.responses[key]
            self._open.pop(key.partition("\x1e")[2], None)
        self.closed.pop(tag, None)
        self.halves.pop(tag, None)
        if self.keys.pop(tag, None) is not None:
            self._done = {k for keys in self.keys.values() for k in keys}

    def _lines(self, fh: Any, path: str, offset: int, lines: int) -> tuple[int, int]:
        """Complete lines from `offset` on, until the end or this call's read budget;
        returns the offset after the last line read and the lines counted so far."""
        tag = _file_tag(path)
        carry = b""
        skipping = False
        limit = offset + max(0, self.budget)
        while offset < limit:
            chunk = fh.read(_CHUNK)
            if not chunk:
                break
            data = carry + chunk
            start = 0
            while offset + start < limit:
                end = data.find(b"\n", start)
                if end < 0:
                    break
                lines += 1
                if skipping:
                    skipping = False
                elif b'"usage"' in data[start:end]:
                    self._line(data[start:end], tag, lines, path)
                start = end + 1
            offset += start
            carry = data[start:]
            if len(carry) > MAX_LINE:  # an over-long line: skip it in reads, unparsed
                offset += len(carry)
                carry = b""
                skipping = True
        return offset, lines

    def _line(self, raw: bytes, tag: str, lineno: int, path: str) -> None:
        try:
            line = json.loads(raw)
        except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
            self.warnings += 1
            return
        # `progress` lines mirror a sub-agent's messages, which its own file holds
        if not isinstance(line, dict) or line.get("type") == "progress":
            return
        if line.get("isApiErrorMessage") is True:
            return
        message = line.get("message")
        if not isinstance(message, dict):
            return
        usage = message.get("usage")
        if not isinstance(usage, dict):
            return
        model = message.get("model")
        if not isinstance(model, str) or not model or model == "<synthetic>":
            return
        when = line.get("timestamp") if isinstance(line.get("timestamp"), str) else None
        if self.first is None and when:
            self.first = when
        branch = line.get("gitBranch")
        if isinstance(branch, str) and branch:
            self.branch = branch
        sid = line.get("sessionId")
        if isinstance(sid, str) and sid and sid != self.sid and self._replayed_from(sid, path):
            return  # another session's call, copied here by a resume: it stays with it
        mid, rid = message.get("id"), line.get("requestId")
        if isinstance(mid, str) and mid:
            compact = _compact(mid, rid)
            if compact in self._done:
                return  # a response already counted (and closed): a copy of it
            if line.get("isSidechain") is True:
                if mid[-16:] in self.seen:
                    return  # a replay of a main-thread response (ccusage and scan drop it too)
            else:
                self.seen.add(mid[-16:])
            key = self._open.get(compact) or f"{tag}{compact}"
            self._open[compact] = key
        else:
            key = f"{tag}#{lineno}"
        cache = usage.get("cache_creation")
        if isinstance(cache, dict):
            cw5, cw1 = (
                _count(cache.get("ephemeral_5m_input_tokens")),
                _count(cache.get("ephemeral_1h_input_tokens")),
            )
        else:
            cw5, cw1 = _count(usage.get("cache_creation_input_tokens")), 0
        logged = line.get("costUSD")
        record = [
            model,
            usage.get("speed") if isinstance(usage.get("speed"), str) else None,
            _count(usage.get("input_tokens")),
            _count(usage.get("output_tokens")),
            _count(usage.get("cache_read_input_tokens")),
            cw5,
            cw1,
            when,
            str(logged)
            if isinstance(logged, int | float) and not isinstance(logged, bool)
            else None,
            None,
        ]
        old = self.responses.get(key)
        if old is not None:  # another line of the same response: one request, largest counts
            for i in (_IN, _OUT, _CR, _CW5, _CW1):
                record[i] = max(record[i], old[i])
            record[_TS] = old[_TS] or record[_TS]
            record[_SPEED] = record[_SPEED] or old[_SPEED]
            if record[_IN : _CW1 + 1] == old[_IN : _CW1 + 1] and record[_SPEED] == old[_SPEED]:
                return
        self.responses[key] = record

    def _replayed_from(self, sid: str, path: str) -> bool:
        """Whether session `sid`'s transcript lies beside this session's (so its calls are
        counted there); asked once per session id and call."""
        found = self._foreign.get(sid)
        if found is None:
            folder = os.path.dirname(self.transcript)
            found = self._foreign[sid] = os.path.isfile(os.path.join(folder, sid + ".jsonl"))
        return found

    # ------------------------------------------------------------ money

    def priced(self, prices_file: str | None) -> tuple[int, int]:
        """(session cost so far, unpriced requests), each response priced once and kept;
        then all but the last `OPEN` responses of each file are closed (kept as a time,
        a token count and a cost), which keeps the state small for a long session."""
        per_tag: dict[str, list[str]] = {}
        for key, record in self.responses.items():
            if record[_COST] is None:
                record[_COST] = self._price(record, prices_file)
                self.changed = True
            per_tag.setdefault(key.partition("\x1e")[0], []).append(key)
        for tag, keys in per_tag.items():
            if len(keys) <= OPEN:
                continue
            closed = self.closed.setdefault(tag + "\x1e", [0, 0, []])
            done = self.keys.setdefault(tag + "\x1e", [])
            halves = self.halves.setdefault(tag + "\x1e", {})
            for key in keys[:-OPEN]:
                r = self.responses.pop(key)
                compact = key.partition("\x1e")[2]
                if not compact.startswith("#"):
                    self._open.pop(compact, None)
                    self._done.add(compact)
                    done.append(compact)
                if r[_COST] == -1:
                    closed[1] += 1
                else:
                    closed[0] += r[_COST]
                    half = _half(r[_TS])
                    halves[half] = halves.get(half, 0) + r[_COST]
                if r[_TS]:
                    closed[2].append([r[_TS], _tokens(r), r[_COST]])
            self.changed = True
        if sum(len(c[2]) for c in self.closed.values()) > self.prune_at:
            self._drop_old_windows()
            left = sum(len(c[2]) for c in self.closed.values())
            self.prune_at = max(KEEP_POINTS, 2 * left)  # one long window: not every call
        total = sum(c[0] for c in self.closed.values())
        unpriced = sum(c[1] for c in self.closed.values())
        for record in self.responses.values():
            if record[_COST] == -1:
                unpriced += 1
            else:
                total += record[_COST]
        return total, unpriced

    def by_day(self, timezone: str | None) -> dict[str, int]:
        """The session's cost per local day (YYYY-MM-DD in `timezone`), by each request's
        time; call after `priced`. Costs are kept per UTC half hour, so a zone whose offset
        is not a whole half hour (Nepal) may put up to 15 minutes of it on the next day."""
        halves: dict[str, int] = {}
        for per_file in self.halves.values():
            for half, cost in per_file.items():
                halves[half] = halves.get(half, 0) + cost
        for record in self.responses.values():
            if record[_COST] is not None and record[_COST] != -1:
                half = _half(record[_TS])
                halves[half] = halves.get(half, 0) + record[_COST]
        out: dict[str, int] = {}
        for half, cost in halves.items():
            day = _local_day(half, timezone)
            out[day] = out.get(day, 0) + cost
        return out

    def windows(self, now: Any = None) -> list[Any]:
        """This session's 5-hour windows (`costlog.blocks`, ccusage's rules)."""
        from decimal import Decimal

        from costlog.timeutil import parse_log_time

        blocks = blocks_module()
        points = []
        for when, tokens, cost in self.points():
            parsed = parse_log_time(when)
            if parsed is not None:
                dollars = None if cost is None else Decimal(cost) / UNIT
                points.append(blocks.Point(parsed, input=tokens, cost=dollars))
        return list(blocks.blocks(points, now))

    def _drop_old_windows(self) -> None:
        """Forget the times of closed requests before the latest window: their cost stays
        in the totals, and the latest window's start follows from its own first request,
        so the windows shown are the same."""
        found = self.windows()
        if len(found) < 2:
            return
        start = found[-1].first
        from costlog.timeutil import parse_log_time

        for closed in self.closed.values():
            kept = []
            for point in closed[2]:
                when = parse_log_time(point[0])
                if when is None or when >= start:
                    kept.append(point)
            closed[2] = kept

    def points(self) -> list[tuple[str, int, int | None]]:
        """(time, tokens, cost) per request, for the 5-hour window."""
        out: list[tuple[str, int, int | None]] = []
        for closed in self.closed.values():
            out += [(ts, n, None if cost == -1 else cost) for ts, n, cost in closed[2]]
        for r in self.responses.values():
            if r[_TS]:
                out.append((r[_TS], _tokens(r), None if r[_COST] == -1 else r[_COST]))
        return out

    def _price(self, record: list[Any], prices_file: str | None) -> int:
        """Femto-dollars; -1 when the model has no price."""
        if record[_LOGGED] is not None:
            logged = units(record[_LOGGED])
            if logged is not None:
                return logged
        day = (record[_TS] or "")[:10]
        rkey = f"{record[_MODEL]}|{day}|{record[_SPEED] or ''}"
        rates = self.rates.get(rkey)
        if rates is None:
            rates = self.rates[rkey] = _rates(record[_MODEL], day, record[_SPEED], prices_file)
        if not rates:
            return -1
        factor, tiers = rates
        prompt = record[_IN] + record[_CR] + record[_CW5] + record[_CW1]
        chosen = tiers[0]
        for tier in tiers[1:]:
            if prompt > tier[0]:
                chosen = tier
        counts = (record[_IN], record[_OUT], record[_CR], record[_CW5], record[_CW1])
        # tokens x (USD per million x 10**9) is femto-dollars; the factor is in thousandths
        return int(sum(n * r for n, r in zip(counts, chosen[1:], strict=True)) * factor // 1000)


#: session state files unused this long are removed (when a new session's is made)
STALE_SECONDS = 30 * 86_400


def _prune(folder: str) -> None:
    """Remove the state of sessions not seen for `STALE_SECONDS`: the folder would
    otherwise keep one file per session for ever."""
    cutoff = time.time() - STALE_SECONDS
    try:
        with os.scandir(folder) as found:
            for entry in found:
                if entry.is_file(follow_symlinks=False) and entry.stat().st_mtime < cutoff:
                    os.unlink(entry.path)
    except OSError:
        pass


def _half(when: str | None) -> str:
    """The UTC half hour of a logged time ("2026-12-02T09:41:07.123Z" -> "...T09:30");
    a time that does not read so is kept as its first ten characters (its day)."""
    if not when or len(when) < 16 or when[10] != "T" or not when.endswith("Z"):
        return (when or "")[:10]
    return when[:14] + ("00" if when[14:16] < "30" else "30")


def _local_day(half: str, timezone: str | None) -> str:
    if not timezone or timezone == "UTC" or len(half) != 16:
        return half[:10]
    from datetime import datetime

    try:
        from zoneinfo import ZoneInfo

        moment = datetime.fromisoformat(half + ":00+00:00").astimezone(ZoneInfo(timezone))
    except (ValueError, KeyError, OSError):
        return half[:10]
    return moment.date().isoformat()


def _compact(mid: str, rid: object) -> str:
    """A response's identity, short: the random tails of its message and request ids
    (~22 characters against ~60, for a state that keeps one per response)."""
    return f"{mid[-14:]}\x1f{rid[-7:] if isinstance(rid, str) else ''}"


def _file_tag(path: str) -> str:
    """Keys of a file's responses start with its name: forgettable per file."""
    return os.path.basename(path) + "\x1e"


def _tokens(record: list[Any]) -> int:
    return int(record[_IN] + record[_OUT] + record[_CR] + record[_CW5] + record[_CW1])


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _rates(model: str, day: str, speed: str | None, prices_file: str | None) -> list[Any]:
    """[factor x 1000, [[0, base rates x 10**9...], [above, tier rates x 10**9...], ...]]
    as ints (exact for rates of up to 9 decimals, factors of up to 3); [] when the table
    does not know the model. Imports the price table: only on a model's first call."""
    from datetime import date
    from pathlib import Path

    from costlog.pricing.rates import Tier
    from costlog.pricing.table import PriceTable

    table = PriceTable.load(Path(prices_file) if prices_file else None)
    try:
        when = date.fromisoformat(day)
    except ValueError:
        when = None
    plan = table.plan(model, 0, when, speed)
    found = table.model(model)
    if plan is None or found is None:
        return []
    base = found.at(when)
    fields = ("input", "output", "cache_read", "cache_write_5m", "cache_write_1h")
    scale = 10**9
    tiers: list[list[Any]] = [[0, *(round(getattr(base, f) * scale) for f in fields)]]
    for tier in sorted(base.tiers, key=lambda t: t.above):
        assert isinstance(tier, Tier)
        tiers.append([tier.above, *(round(getattr(tier, f) * scale) for f in fields)])
    return [round(plan.factor * 1000), tiers]


# ---------------------------------------------------------------- the repository


def find_root(start: str | None) -> str | None:
    """The work tree holding `start` (a `.git` dir or file above it), or None."""
    here = os.path.abspath(start or os.getcwd())
    while True:
        if os.path.exists(os.path.join(here, ".git")):
            return here
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


def _stat_sig(path: str) -> list[int]:
    try:
        st = os.stat(path)
    except OSError:
        return [0, 0, 0]
    return [st.st_mtime_ns, st.st_size, st.st_ino]


def _ledger_sig(root: str, ledger_dir: str) -> list[Any]:
    """The config, price file and ledger folders' stats: any write changes one of them
    (ledger files are renamed into place, which touches their folder)."""
    sig: list[Any] = [_stat_sig(os.path.join(root, ".costlog", "config.yaml"))]
    folder = os.path.join(root, ledger_dir)
    sig.append(_stat_sig(folder))
    try:
        with os.scandir(folder) as found:
            for entry in sorted(found, key=lambda e: e.name):
                if entry.is_dir(follow_symlinks=False):
                    sig.append([entry.name, *_stat_sig(entry.path)])
    except OSError:
        pass
    return sig


class RepoSummary:
    """The ledger's figures and the config values the live tools need, for one repo."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.path = os.path.join(state_dir(), "repos", _key_name(root) + ".json")
        data = _load_json(self.path)
        self.data: dict[str, Any] = data if isinstance(data, dict) else {}
        ledger_dir = self.data.get("ledger_dir") or ".costlog/sessions"
        #: read afresh in this call (the config may have changed its patterns)
        self.fresh = False
        today = time.strftime("%Y-%m-%d", time.gmtime())  # plans are dated: once a day
        if (
            self.data.get("version") != VERSION
            or self.data.get("day") != today
            or self.data.get("sig") != _ledger_sig(root, ledger_dir)
        ):
            self.data = _summarise(root)
            self.fresh = True
            self.data["sig"] = _ledger_sig(root, self.data["ledger_dir"])
            self.data["day"] = today
            save_quietly(self.path, self.data, f"ledger state {root}")

    def get(self, key: str) -> Any:
        return self.data.get(key)

    def items_for(self, state: SessionState) -> list[str]:
        """The work-item keys the session's branch names (config `work_item_patterns`),
        found again only when the branch or the config changed."""
        if state.branch is not None:
            import zlib

            crc = zlib.crc32(state.branch.encode("utf-8", "surrogateescape"))
            if crc != state.branch_crc or self.fresh:
                from pathlib import Path

                from costlog import config as config_mod
                from costlog.recording.attribution import WorkItems

                found = WorkItems(config_mod.load(Path(self.root))).find(state.branch)
                state.branch_crc, state.items, state.changed = crc, found, True
        return list(state.items)

    def spent(
        self,
        exclude: str,
        *,
        day: str | None = None,
        month: str | None = None,
        item: str | None = None,
    ) -> int:
        """The ledger's total for a day, a month or a work item, without session `exclude`
        (the live one, which the caller adds as it stands now)."""
        mine = self.data["recent"].get(exclude)  # [day, cost, work items, paid] or None
        if day is not None:
            total = self.data["days"].get(day, 0)
            counted = mine is not None and mine[0] == day
        elif month is not None:
            total = self.data["months"].get(month, 0)
            counted = mine is not None and mine[0][:7] == month
        else:
            total = self.data["items"].get(item, 0)
            counted = mine is not None and item in mine[2]
        return int(total - mine[1] if counted and mine is not None else total)

    def paid_month(self, exclude: str, month: str) -> int | None:
        """Money paid in `month` (`budget.watch: paid`): plan fees and the pay-as-you-go
        sessions' cost, without session `exclude`; None when the budget watches the
        API-equivalent figure (or the month has turned since the summary was made)."""
        paid = self.data.get("paid")
        if not isinstance(paid, dict) or paid.get("month") != month:
            return None
        mine = self.data["recent"].get(exclude)
        total = int(paid["total"])
        if mine is not None and mine[0][:7] == month and len(mine) > 3 and mine[3]:
            total -= int(mine[1])
        return total


def _summarise(root: str) -> dict[str, Any]:
    """Read the config and every ledger entry once (the slow path: after a change)."""
    from pathlib import Path

    from costlog import analysis
    from costlog import config as config_mod
    from costlog.gitrepo import find
    from costlog.ledger.store import Ledger
    from costlog.timeutil import zone

    repo = find(Path(root))
    config = config_mod.load(repo.root)
    tz = zone(config.timezone)
    # totals per day, month and work item; and, for sessions of the last week (the live
    # one may be among them, recorded earlier), each one's part, to leave it out
    days: dict[str, int] = {}
    months: dict[str, int] = {}
    items: dict[str, int] = {}
    recent: dict[str, list[Any]] = {}
    week_ago = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 8 * 86_400))
    entries = list(Ledger(repo, config.ledger_dir).load_all())
    # `budget.watch: paid`: the month's share is of money paid, as `costlog budget` counts
    # it (plan fees, plus the sessions not on a plan), not of the API-equivalent total
    paid: dict[str, Any] | None = None
    if config.budget.watch == "paid":
        from costlog.analysis import plans as plan_analysis

        month_now = local_today(config.timezone)[0][:7]
        unpaid, fees = plan_analysis.paid_view(entries, config, tz, month_now)
        paid_ids = {e.id for e in unpaid}
        total = units(format(fees, "f")) or 0
        for entry in unpaid:
            found = analysis.cost(entry)
            if found is not None and analysis.local_day(entry, tz).isoformat()[:7] == month_now:
                total += units(format(found, "f")) or 0
        paid = {"month": month_now, "total": total}
    for entry in entries:
        found = analysis.cost(entry)
        cost = None if found is None else units(format(found, "f"))
        if cost is None:
            continue
        day = analysis.local_day(entry, tz).isoformat()
        days[day] = days.get(day, 0) + cost
        months[day[:7]] = months.get(day[:7], 0) + cost
        for key in dict.fromkeys(entry.work_items):
            items[key] = items.get(key, 0) + cost
        if day >= week_ago:
            counted = paid is None or entry.id in paid_ids
            recent[entry.id] = [day, cost, list(entry.work_items), counted]
    prices = config.prices_path(repo.root)
    budget = config.budget
    plan = None
    if config.plans:  # the plan this person's Claude Code sessions run on today
        from datetime import UTC, datetime

        from costlog.pricing.plans import plan_for
        from costlog.recording.identity import author_of

        on = plan_for(config, "claude-code", author_of(repo, config.people), datetime.now(UTC))
        plan = on.name if on is not None else None
    return {
        "version": VERSION,
        "ledger_dir": config.ledger_dir,
        "timezone": config.timezone,
        "prices_file": str(prices) if prices is not None and prices.exists() else None,
        "monthly_usd": None if budget.monthly_usd is None else str(budget.monthly_usd),
        "session_soft_usd": _text(getattr(budget, "session_soft_usd", None)),
        "session_hard_usd": _text(getattr(budget, "session_hard_usd", None)),
        "days": days,
        "months": months,
        "items": items,
        "recent": recent,
        "plan": plan,
        "paid": paid,
    }


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def local_today(timezone: str | None) -> tuple[str, str]:
    """(YYYY-MM-DD, month name) now, in the repo's zone (UTC without importing datetime)."""
    if not timezone or timezone == "UTC":
        now = time.gmtime()
        return time.strftime("%Y-%m-%d", now), time.strftime("%b", now)
    from datetime import UTC, datetime

    moment = datetime.now(UTC)
    try:
        from zoneinfo import ZoneInfo

        moment = moment.astimezone(ZoneInfo(timezone))
    except (ValueError, KeyError, OSError):
        pass
    return moment.date().isoformat(), moment.strftime("%b")


def read_stdin(limit: int = 1 << 20) -> dict[str, Any]:
    """The JSON object the agent writes on stdin ({} when there is none or it is not JSON)."""
    try:
        raw = sys.stdin.buffer.read(limit)
        data = json.loads(raw) if raw.strip() else {}
    except (OSError, ValueError, AttributeError, RecursionError) as exc:
        log_error("stdin is not the agent's JSON", exc)  # printed errors would show in the agent
        return {}
    if not isinstance(data, dict):
        log_error("stdin", ValueError(f"a JSON {type(data).__name__}, not an object"))
        return {}
    return data


def units(text: object) -> int | None:
    """Dollars written as text ("1.25", "3", "1e-05") as femto-dollars; None if not a
    number >= 0. Exact for up to 15 decimals (more are cut)."""
    value = str(text).strip()
    if "e" in value.lower():  # old logged costs may be floats in exponent form
        from decimal import Decimal, InvalidOperation

        try:
            value = format(Decimal(value), "f")
        except InvalidOperation:
            return None
    whole, _, frac = value.partition(".")
    if (whole and not whole.isdigit()) or (frac and not frac.isdigit()) or not (whole or frac):
        return None
    return int(whole or "0") * UNIT + int((frac + "0" * 15)[:15])


def money(value: int) -> str:
    """$1.23 below $100, $140 above (femto-dollars in, rounded half up): a status line has
    little room."""
    cents = (value + UNIT // 200) // (UNIT // 100)
    if cents >= 10_000:
        return f"${(cents + 50) // 100:,}"
    return f"${cents // 100:,}.{cents % 100:02d}"


def percent(part: int, whole: int) -> int:
    """`part` as a whole percentage of `whole`, rounded half up."""
    return (part * 200 + whole) // (2 * whole)


def blocks_module() -> Any:
    """`costlog.blocks`, imported on first use: a status line with no 5-hour window to show
    never pays for it. It sits in the base layer, not in `costlog.analysis`, whose package
    imports every analysis module (some 60 ms, too slow for a status line)."""
    from costlog import blocks

    return blocks
