"""Agent log readers ("sources"): one module per format, behind one small interface.

An adapter reads an agent's own logs into `Session` records (in memory). Built-in
adapters are listed in `_BUILTIN`; third-party formats register an object with the same
shape under the `costlog.sources` entry-point group.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from costlog.errors import CostlogError
from costlog.models import Session

Warn = Callable[[str], None]


class Adapter(Protocol):
    #: the name users type: `--agent claude-code`
    name: str

    def default_roots(self, env: Mapping[str, str], home: Path) -> list[Path]:
        """The agent's default data locations, honouring its env variables."""
        ...

    def scan(
        self,
        roots: Sequence[Path],
        *,
        project: Path | None = None,
        since: datetime | None = None,
        warn: Warn,
    ) -> Iterator[Session]:
        """Every session under `roots` (a data dir or a single log file).

        `project` limits to sessions whose cwd is inside that directory (a hint: the
        caller filters again). Corrupt lines are skipped and reported through `warn` as
        one line naming file and line.
        """
        ...

    def find_session(self, roots: Sequence[Path], session_id: str, *, warn: Warn) -> Session | None:
        """The session with this id, or None."""
        ...


def cwd_inside(cwd: str | None, project: Path | None) -> bool:
    """A session's cwd is inside `project` (true when either is unknown: filter later)."""
    if project is None or cwd is None:
        return True
    try:
        Path(cwd).resolve().relative_to(project.resolve())
    except (ValueError, OSError):
        return False
    return True


def in_scope(session: Session, project: Path | None, since: datetime | None) -> bool:
    """What `scan(project=, since=)` yields: cwd inside the project, not ended before."""
    if since is not None and session.ended is not None and session.ended < since:
        return False
    return cwd_inside(session.cwd, project)


def covers(session: Session, since: datetime | None) -> bool:
    """False when the session is known to have ended before `since`."""
    last = session.ended or session.started
    return since is None or last is None or last >= since


def span(session: Session) -> None:
    """Set started/ended from the request timestamps where they are still unknown."""
    stamps = [r.timestamp for r in session.requests if r.timestamp is not None]
    if stamps:
        session.started = session.started or min(stamps)
        session.ended = session.ended or max(stamps)


def modified_since(path: Path, since: datetime | None) -> bool:
    """True when `path` was written at or after `since` (always without one): a log last
    written before it holds nothing newer, so it need not be read. False when it is gone."""
    if since is None:
        return True
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return False
    return datetime.fromtimestamp(mtime, UTC) >= since


# name -> "module:attribute"; imported lazily so the hook path stays light
_BUILTIN: dict[str, str] = {
    "claude-code": "costlog.sources.claude.adapter:ADAPTER",
    "codex": "costlog.sources.codex.adapter:ADAPTER",
    "gemini": "costlog.sources.gemini.adapter:ADAPTER",
    "aider": "costlog.sources.aider:ADAPTER",
    "opencode": "costlog.sources.opencode:ADAPTER",
    "llm": "costlog.sources.llm_logs:ADAPTER",
    "api": "costlog.sources.api_jsonl:ADAPTER",
    "rundir": "costlog.sources.rundir.adapter:ADAPTER",
}


def _load(target: str) -> Adapter:
    module_name, _, attr = target.partition(":")
    module = importlib.import_module(module_name)
    adapter: Adapter = getattr(module, attr)
    return adapter


def _entry_points() -> dict[str, str]:
    from importlib.metadata import entry_points

    return {ep.name: ep.value for ep in entry_points(group="costlog.sources")}


def names() -> list[str]:
    """All known adapter names, built-in first."""
    extra = [n for n in _entry_points() if n not in _BUILTIN]
    return [*_BUILTIN, *sorted(extra)]


def is_builtin(name: str) -> bool:
    """A name of a built-in adapter: known without looking up installed plug-ins."""
    return name in _BUILTIN


def get(name: str) -> Adapter:
    target = _BUILTIN.get(name) or _entry_points().get(name)
    if target is None:
        raise CostlogError(f"unknown agent {name!r}", hint="known: " + ", ".join(names()))
    try:
        return _load(target)
    except (ImportError, AttributeError) as exc:
        raise CostlogError(f"agent {name!r} is not available: {exc}") from exc


#: the agent of sessions recorded by hand (`record --model`) or imported from a hand-kept
#: COST_LOG.md; no adapter reads logs for it
MANUAL = "manual"
#: a name for an agent without logs (`record --agent cursor --model M`, as the README
#: shows): lower case, since it names a folder and `Cursor/` is `cursor/` on macOS
_CUSTOM = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}\Z")


def check_agent(name: str, *, custom: bool) -> str:
    """`name` if it may be recorded as an agent, else CostlogError with exit code 2.

    An adapter's name always may; with `custom` (a record by hand, which needs no
    adapter) also `manual` and any plain lower-case name. Never `..`, `a/b` or another
    name that would not be one folder of the ledger.
    """
    from costlog.errors import EXIT_USAGE
    from costlog.ledger.names import plain_name

    if name in _BUILTIN or (custom and name == MANUAL):
        return name
    if custom and _CUSTOM.match(name) and plain_name(name):  # plain: not `con`, `nul`, ...
        return name
    if name in _entry_points() and plain_name(name):
        return name
    if custom:
        raise CostlogError(
            f"{name!r} is not a usable agent name",
            exit_code=EXIT_USAGE,
            hint="up to 40 lower-case letters, digits, - and _, e.g. cursor; "
            f"agents with logs: {', '.join(names())}",
        )
    raise CostlogError(
        f"unknown agent {name!r}", exit_code=EXIT_USAGE, hint="known: " + ", ".join(names())
    )


def available() -> Iterator[Adapter]:
    """Every adapter that can be loaded (a missing optional one is skipped)."""
    for name in names():
        try:
            yield get(name)
        except CostlogError:
            continue


#: how much of a file `recognise` looks at: a first record is small
_SNIFF_BYTES = 1 << 16


def recognise(path: Path) -> list[str]:
    """The built-in adapters that read this one log file, told by its first record; []
    when none is sure (then every adapter may try it, as before).

    `scan --path FILE` without `--agent` hands the file only to these, so a valid Codex
    rollout is not also read as a Gemini chat and warned about line by line.
    """
    from costlog.safefs import open_log

    try:
        with open_log(path) as handle:
            head = handle.read(_SNIFF_BYTES)
    except OSError:
        return []  # unreadable here: every adapter says so in its own words
    if head.startswith(b"SQLite format 3\x00"):
        return ["opencode", "llm"]
    text = head.decode("utf-8", "replace").lstrip("\ufeff")
    if text.lstrip().startswith("# aider chat started at"):
        return ["aider"]
    first = _first_object(text)
    return [] if first is None else _by_record(first)


def _first_object(text: str) -> dict[str, object] | None:
    import json

    lines = text.lstrip().splitlines()
    candidates = [lines[0]] if lines else []
    if text.lstrip().startswith("{") and len(text) < _SNIFF_BYTES:
        candidates.append(text)  # one pretty-printed JSON document, read whole
    for candidate in candidates:
        try:
            found = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(found, dict):
            return found
    return None


def _by_record(record: dict[str, object]) -> list[str]:
    from costlog.sources.formats import HANDLED, IGNORED

    kind = record.get("type")

    def types(agent: str) -> set[str]:
        names = [*HANDLED.get(agent, {}), *IGNORED.get(agent, {})]
        return {n.partition(":")[0] for n in names}

    if "payload" in record and kind in types("codex"):
        return ["codex"]
    if "projectHash" in record or "$set" in record or "$rewindTo" in record:
        return ["gemini"]
    if "sessionId" in record and "messages" in record:
        return ["gemini"]
    if "sessionId" in record and (kind in types("claude-code") or "uuid" in record):
        return ["claude-code"]
    claude_keys = ("sessionId", "requestId", "isSidechain", "parentUuid")
    if isinstance(record.get("message"), dict) and any(k in record for k in claude_keys):
        return ["claude-code"]
    if "event" in record and "properties" in record:
        return ["aider"]
    usage_keys = ("usage", "usageMetadata", "input_tokens", "prompt_tokens", "promptTokenCount")
    if kind == "message_start" or any(k in record for k in usage_keys):
        return ["api"]
    if isinstance(record.get("response"), dict):
        return ["api"]
    return []
