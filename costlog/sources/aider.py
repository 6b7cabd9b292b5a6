"""aider: `.aider.chat.history.md` usage lines and the `--analytics-log` JSONL.

Chat history, numbers marked `parsed` because they are scraped from text:

* A session starts at each `# aider chat started at YYYY-MM-DD HH:MM:SS` header (aider's
  local time, no zone: read in the machine's zone). Its id is `aider-YYYYmmddTHHMMSS`
  from that header; cwd is the folder holding the history file (aider writes it in the
  repo root). Lines before the first header form a session `aider-unknown-start`.
* The model is the last `> Main model: X ...` (or older `> Model: X ...`) line seen;
  `/model` switches print it again.
* One request per `> Tokens: {sent} sent[, {w} cache write][, {h} cache hit],
  {r} received.` line, with `Cost: ${m} message, ${s} session.` on the same line or (when
  both cache parts appear) alone on the next line; older versions say `request` for
  `message`, print `12,566`, newer ones `7.8k` / `12k` (read as 7800 / 12000: rounded).
  A `Tokens:` line that does not parse is warned.
* The cost: tokens x the table's price, like every other agent. aider's `$m` is rounded
  to two significant digits ("$0.05" for a call the table prices at $0.0037), so it is
  kept only as a cross-check, in `methods.logged_cost`, never as the entry's cost.
* Commits: `> Commit <sha> <subject>` names each commit aider made itself (auto-commits,
  `/commit`): the session's commit evidence, as a sha in another agent's tool output is.
  A history has no end time, so no commit is ever linked to it by time alone.
* What `sent` holds depends on aider's and litellm's versions: recent aider prints
  prompt_tokens + cache writes, and litellm's prompt_tokens already holds cache reads
  (and DeepSeek's always did), so `sent` is the whole prompt; aider 0.50 printed
  Anthropic's uncached `input_tokens` alone (`194 sent, 9,474 cache hit`). Rule: when
  `sent >= write + hit` the cache parts are inside `sent` and input = sent - write - hit;
  otherwise `sent` is the uncached input. Writes go to cache_write_5m (aider's own cost
  formula prices them at 1.25x: the 5-minute rate).

Analytics log (`--analytics-log FILE`, JSONL `{"event", "properties", "time"}`), marked
`estimated`: each `message_send` event is one request with input = `prompt_tokens`, output
= `completion_tokens`, model = `main_model`. With streaming (aider's default) those are
aider's own tokenizer counts, not the API's usage (2.5k logged against 12,345 true prompt
tokens in one run), and the entry says so in `methods.tokens`; `cost` is aider's figure
from them, kept as the cross-check only. It has no cache split, so cached prompt tokens
count as input there. A `launched` event starts a new session, with the id the chat
history gives the same run, `aider-YYYYmmddTHHMMSS` (the local time of its first event: the
two are written in the same second), so recording one and backfilling the other keeps one
entry. It ends at its last event (`exit`); cwd is unknown (the log lives wherever the user
put it).

Roots: aider keeps no global data dir. `default_roots` returns the current directory's
`.aider.chat.history.md` (or `$AIDER_CHAT_HISTORY_FILE`), the natural root for `scan
--project`. It never adds the analytics log on its own because the same run would then
count twice; pass that with `--path`. A directory root means its
`.aider.chat.history.md`; a file root is sniffed (JSON lines vs markdown).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from costlog.models import Request, Session, Usage
from costlog.safefs import check_log, open_log_text
from costlog.sources import Warn, covers, span
from costlog.sources._lines import iter_json_lines
from costlog.sources._usage import MAX_TOKENS, BadUsage, count
from costlog.timeutil import log_time, parse_log_time

HISTORY_NAME = ".aider.chat.history.md"

_NUM = r"[\d][\d.,]*[kKmM]?"
_COST = r"Cost: \$(?P<msg>[\d.]+) (?:message|request), \$(?P<sess>[\d.]+) session\."
_USAGE = re.compile(
    rf"^>?\s*Tokens: (?P<sent>{_NUM}) sent(?:, (?P<cw>{_NUM}) cache write)?"
    rf"(?:, (?P<ch>{_NUM}) cache hit)?, (?P<recv>{_NUM}) received\.(?:\s*{_COST})?"
)
_COST_LINE = re.compile(rf"^>?\s*{_COST}")
_HEADER = re.compile(r"^# aider chat started at (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)")
_MODEL = re.compile(r"^> (?:Main model|Model): (\S+)")
_COMMIT = re.compile(r"^> Commit ([0-9a-f]{7,40}) (.+?)\s*$")
_PROMPT = "#### "
_SCALE = {"k": 1000, "m": 1_000_000}
#: the analytics log's costs are floats (0.005457999999999999): shown to the micro-dollar
_MICRO = Decimal("0.000001")


# -- chat history ---------------------------------------------------------------------


def parse_tokens(text: str) -> int:
    """`12,566` / `7.8k` / `12k` / `1.2M` as an int (aider rounds the k forms)."""
    scale = _SCALE.get(text[-1].lower(), 1)
    digits = text[:-1] if scale > 1 else text
    try:
        value = int(Decimal(digits.replace(",", "")) * scale)
    except InvalidOperation:
        raise BadUsage(f"not a token count: {text!r}") from None
    if value > MAX_TOKENS:
        raise BadUsage(f"token count is absurd: {text}")
    return value


def usage_from_line(match: re.Match[str]) -> Usage:
    sent = parse_tokens(match["sent"])
    write = parse_tokens(match["cw"]) if match["cw"] else 0
    hit = parse_tokens(match["ch"]) if match["ch"] else 0
    uncached = sent - write - hit if sent >= write + hit else sent
    return Usage(
        input=uncached, output=parse_tokens(match["recv"]), cache_read=hit, cache_write_5m=write
    )


def _cost(text: str | None) -> Decimal | None:
    return Decimal(text) if text else None


class _HistoryReader:
    """One pass over a history file, streaming, yielding a Session per header."""

    def __init__(self, path: Path, warn: Warn) -> None:
        self.path = path
        self.warn = warn
        self.cwd = str(path.resolve().parent)
        self.model = "unknown"
        self.session: Session | None = None
        self.pending: Request | None = None
        self.seen: dict[str, int] = {}
        #: the costs aider printed, per session (by object id): a cross-check only
        self.logged: dict[int, Decimal] = {}

    def sessions(self) -> Iterator[Session]:
        try:
            handle = open_log_text(self.path)  # a regular file only, within a time bound
        except OSError as exc:
            self.warn(f"{self.path}: cannot read: {exc.strerror or exc}")
            return
        with handle:
            for number, line in enumerate(handle, start=1):
                done = self._line(number, line.rstrip("\n").rstrip())
                if done is not None:
                    yield done
        last = self._finish()
        if last is not None:
            yield last

    def _line(self, number: int, text: str) -> Session | None:
        header = _HEADER.match(text)
        if header:
            done = self._finish()
            if not self._start(header.group(1)):
                self.warn(
                    f"{self.path}:{number}: not a real time in the session header "
                    f"({header.group(1)}), session undated"
                )
            return done
        if self.pending is not None:
            cost = _COST_LINE.match(text)
            self._flush(_cost(cost["msg"]) if cost else None)
            if cost:
                return None
        self._content(number, text)
        return None

    def _content(self, number: int, text: str) -> None:
        model = _MODEL.match(text)
        commit = _COMMIT.match(text) if model is None else None
        if model:
            self.model = model.group(1)
        elif commit:  # aider's own commit: the sha and subject, as tool output has them
            self._current().tool_output_refs.update((commit.group(1), commit.group(2)))
        elif text.startswith(_PROMPT):
            session = self._current()
            session.first_prompt = session.first_prompt or text[len(_PROMPT) :].strip()
        elif text.startswith(("> Tokens:", "Tokens:")):
            self._usage(number, text)

    def _usage(self, number: int, text: str) -> None:
        match = _USAGE.match(text)
        if match is None:
            self.warn(f"{self.path}:{number}: unrecognised aider usage line")
            return
        try:
            usage = usage_from_line(match)
        except BadUsage as exc:
            self.warn(f"{self.path}:{number}: {exc}")
            return
        self.pending = Request(model=self.model, usage=usage, source="parsed")
        if match["msg"]:
            self._flush(_cost(match["msg"]))

    def _flush(self, cost: Decimal | None) -> None:
        if self.pending is None:
            return
        session = self._current()
        session.requests.append(self.pending)
        if cost is not None:
            self.logged[id(session)] = self.logged.get(id(session), Decimal(0)) + cost
        self.pending = None

    def _current(self) -> Session:
        if self.session is None:
            self.session = self._new("aider-unknown-start", None)
        return self.session

    def _start(self, stamp: str) -> bool:
        """Open the session a header starts; False when its time does not exist."""
        # aider writes local time; None for 2026-13-45 99:99:99 or a year outside 1970-2100
        started = parse_log_time(stamp, naive=None)
        self.session = self._new(
            "aider-" + stamp.replace("-", "").replace(":", "").replace(" ", "T"), started
        )
        return started is not None

    def _new(self, base: str, started: datetime | None) -> Session:
        self.seen[base] = self.seen.get(base, 0) + 1
        sid = base if self.seen[base] == 1 else f"{base}-{self.seen[base]}"
        return Session(
            agent="aider", session_id=sid, cwd=self.cwd, started=started, paths=[str(self.path)]
        )

    def _finish(self) -> Session | None:
        self._flush(None)
        done, self.session = self.session, None
        if done is not None:
            _label(done, HISTORY_TOKENS, self.logged.pop(id(done), None))
        return done


# -- analytics log --------------------------------------------------------------------


#: what `methods.tokens` says about the numbers of each of aider's files
HISTORY_TOKENS = "aider's own token counts, as its chat history prints them (rounded)"
ANALYTICS_TOKENS = (
    "aider's own tokenizer counts from its analytics log (with streaming, not the API's usage)"
)


def _label(session: Session, tokens: str, logged: Decimal | None) -> None:
    """Say what the numbers are, and keep aider's own cost figure beside them."""
    if not session.requests:
        return
    session.methods["tokens"] = tokens
    if logged is not None:
        session.methods["logged_cost"] = (
            f"aider logged ${logged.quantize(_MICRO).normalize():f} "
            "(a cross-check: the cost is tokens x price)"
        )


def _analytics_request(
    props: Mapping[str, Any], when: datetime | None
) -> tuple[Request, Decimal | None]:
    usage = Usage(input=count(props, "prompt_tokens"), output=count(props, "completion_tokens"))
    cost = props.get("cost")
    logged: Decimal | None = None
    if cost is not None:
        if isinstance(cost, bool) or not isinstance(cost, int | float) or cost < 0:
            raise BadUsage(f"cost is not a non-negative number: {cost!r}")
        logged = Decimal(str(cost))
    model = props.get("main_model")
    request = Request(
        model=model if isinstance(model, str) and model else "unknown",
        usage=usage,
        timestamp=when,
        source="estimated",
    )
    return request, logged


def _analytics_id(when: datetime | None, fallback: str) -> str:
    if when is None:
        return f"aider-{fallback}-analytics"
    return "aider-" + when.astimezone().strftime("%Y%m%dT%H%M%S")


def read_analytics(path: Path, warn: Warn) -> Iterator[Session]:
    """Sessions of an analytics JSONL, split at `launched` events."""
    session: Session | None = None
    logged: Decimal | None = None
    for number, obj in iter_json_lines(path, warn):
        when = log_time(obj.get("time"), f"{path}:{number}", warn)
        event = obj.get("event")
        if session is None or event == "launched":
            if session is not None:
                yield _close(session, logged)
            session = Session(
                agent="aider",
                session_id=_analytics_id(when, path.stem),
                started=when,
                paths=[str(path)],
            )
            logged = None
        if when is not None and (session.ended is None or when > session.ended):
            session.ended = when  # its last event, `exit` when aider ended normally
        if event != "message_send":
            continue
        props = obj.get("properties")
        try:
            if not isinstance(props, Mapping):
                raise BadUsage("message_send without properties")
            request, cost = _analytics_request(props, when)
        except BadUsage as exc:
            warn(f"{path}:{number}: {exc}")
            continue
        session.requests.append(request)
        if cost is not None:
            logged = cost + (logged or Decimal(0))
    if session is not None:
        yield _close(session, logged)


def _close(session: Session, logged: Decimal | None) -> Session:
    span(session)
    _label(session, ANALYTICS_TOKENS, logged)
    return session


# -- the adapter ----------------------------------------------------------------------


def _is_jsonl(path: Path) -> bool:
    if path.suffix in (".jsonl", ".json"):
        return True
    try:
        with open_log_text(path) as handle:
            for line in handle:
                if line.strip():
                    return line.lstrip().startswith("{")
    except OSError:
        return False
    return False


def _files(roots: Sequence[Path], warn: Warn) -> Iterator[Path]:
    """The history files `roots` name; one that is not a regular file (a FIFO, a link to a
    device) is left out with a warning."""
    for root in roots:
        candidate = root / HISTORY_NAME if root.is_dir() else root
        if candidate.is_file():
            yield candidate
        elif candidate.exists():
            check_log(candidate, warn)


def read_file(path: Path, warn: Warn) -> Iterator[Session]:
    if _is_jsonl(path):
        yield from read_analytics(path, warn)
    else:
        yield from _HistoryReader(path, warn).sessions()


class AiderAdapter:
    name = "aider"

    def default_roots(self, env: Mapping[str, str], home: Path) -> list[Path]:
        """The current directory's history file (aider writes it in the repo root)."""
        roots = []
        configured = env.get("AIDER_CHAT_HISTORY_FILE")
        if configured:
            roots.append(Path.cwd() / Path(configured).expanduser())
        roots.append(Path.cwd() / HISTORY_NAME)
        return list(dict.fromkeys(roots))

    def scan(
        self,
        roots: Sequence[Path],
        *,
        project: Path | None = None,
        since: datetime | None = None,
        warn: Warn,
    ) -> Iterator[Session]:
        for path in _files(roots, warn):
            for session in read_file(path, warn):
                if session.requests and covers(session, since):
                    yield session

    def find_session(self, roots: Sequence[Path], session_id: str, *, warn: Warn) -> Session | None:
        return next((s for s in self.scan(roots, warn=warn) if s.session_id == session_id), None)


ADAPTER = AiderAdapter()
