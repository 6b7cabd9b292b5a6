"""The ledger: one small YAML file per session, the source of truth, committed in the repo.

One file per session means two branches that each record sessions add different files, so
a plain `git merge` (or GitHub's merge button, which runs no merge driver) never conflicts.
Writes are atomic (temp file + fsync + rename) and serialised by an flock in the git dir,
which the kernel releases when a process dies, so a killed run never leaves a stale lock.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import pickle
import re
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from costlog import __version__, yamlfile
from costlog.errors import CostlogError, LedgerError
from costlog.gcpause import gc_paused
from costlog.gitrepo import Repo
from costlog.models import SOURCES, TOKEN_FIELDS, Commit, Entry, ModelUsage, Usage
from costlog.safefs import UnsafePath, check_repo_path, read_repo_text
from costlog.timeutil import FIRST_YEAR, LAST_YEAR, in_range

SCHEMA = 1
MICRO = Decimal("0.000001")
#: no session costs a billion dollars; a larger amount is a typo or an attack (and beyond
#: it sums and the micro-dollar rounding would overflow Decimal's precision)
MAX_COST = Decimal(10**9)
#: the largest count (tokens of one kind, requests, lines) an entry may hold
MAX_COUNT = 10**12
#: `source` of an entry and of each model (`mixed`: one model's numbers combine kinds)
SOURCE_NAMES: tuple[str, ...] = (*SOURCES, "mixed")
#: an adapter's name (claude-code, codex, ...), `manual`, or the `--agent NAME` of a record
#: by hand (cursor, copilot): a plain name, like the ledger folder it is kept in
AGENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
#: the parse cache is private, and keyed by the costlog and Python that wrote it
_CACHE_VERSION = f"3/{__version__}/{sys.version_info[0]}.{sys.version_info[1]}"


# ---------------------------------------------------------------- money and time


def money(value: Decimal) -> str:
    """A stored amount: exact to the micro-dollar, no exponent."""
    return format(value.quantize(MICRO), "f")


def stamp(value: datetime) -> str:
    """A stored time: UTC, whole seconds, always a 4-digit year (strftime's `%Y` writes
    year 1 as `1` on glibc, which no ISO 8601 reader takes back)."""
    v = value.astimezone(UTC)
    return f"{v.year:04d}-{v.month:02d}-{v.day:02d}T{v.hour:02d}:{v.minute:02d}:{v.second:02d}Z"


def parse_stamp(text: str) -> datetime:
    """A stored time as aware UTC; ValueError unless it is ISO 8601 in FIRST_YEAR..LAST_YEAR
    (year 1 or 9999 would overflow as soon as it is shifted into a time zone)."""
    if len(text) == 20 and text[-1] == "Z":  # the canonical form costlog writes
        value = datetime.fromisoformat(text)
    else:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        if in_range(value):  # checked first: out of range, the shift itself overflows
            value = value.astimezone(UTC)
    if not in_range(value):
        raise ValueError(f"year {value.year} is outside {FIRST_YEAR}-{LAST_YEAR}")
    return value


# ---------------------------------------------------------------- entry <-> dict


def entry_to_dict(entry: Entry) -> dict[str, Any]:
    """Only these fields are ever written: counts, names, ids, times, subjects, keys."""
    doc: dict[str, Any] = {
        "schema": SCHEMA,
        "id": entry.id,
        "agent": entry.agent,
        "started": stamp(entry.started),
    }
    if entry.ended is not None:
        doc["ended"] = stamp(entry.ended)
    _put(doc, "cwd", entry.cwd)
    _put(doc, "branch", entry.branch)
    doc["source"] = entry.source
    if entry.methods:
        doc["methods"] = dict(sorted(entry.methods.items()))
    if entry.pricing_table:
        doc["pricing"] = {"table": entry.pricing_table}
    if entry.models:
        doc["models"] = {name: _model_dict(mu) for name, mu in sorted(entry.models.items())}
    doc["cost_usd"] = None if entry.cost_usd is None else money(entry.cost_usd)
    if entry.subagents:
        doc["subagents"] = entry.subagents
    if entry.commits:
        doc["commits"] = [_commit_dict(c) for c in entry.commits]
    if entry.work_items:
        doc["work_items"] = list(entry.work_items)
    if entry.tasks_completed is not None or entry.task_types:
        tasks: dict[str, Any] = {}
        if entry.tasks_completed is not None:
            tasks["completed"] = entry.tasks_completed
        if entry.task_types:
            tasks["types"] = dict(entry.task_types)
        doc["tasks"] = tasks
    _put(doc, "notes", entry.notes)
    return doc


def _put(doc: dict[str, Any], key: str, value: Any) -> None:
    if value is not None and value != "":
        doc[key] = value


def _model_dict(mu: ModelUsage) -> dict[str, Any]:
    out: dict[str, Any] = {"requests": mu.requests, **mu.usage.as_dict()}
    out["cost_usd"] = None if mu.cost_usd is None else money(mu.cost_usd)
    out["source"] = mu.source
    return out


def _commit_dict(c: Commit) -> dict[str, Any]:
    return {
        "sha": c.sha,
        "subject": c.subject,
        "files": c.files,
        "added": c.added,
        "removed": c.removed,
        "evidence": c.evidence,
    }


class _Reader:
    """Turns a parsed file into an Entry, naming file and line of the first bad field."""

    def __init__(self, path: str, text: str) -> None:
        self.path = path
        self.text = text

    def fail(self, key: str, message: str) -> LedgerError:
        return LedgerError(
            f"field `{key}`: {message}",
            path=self.path,
            line=self.line_of(key),
            hint="fix or restore the file (git checkout -- FILE)",
        )

    def line_of(self, key: str) -> int | None:
        match = re.search(rf"^ *\"?{re.escape(key)}\"?:", self.text, re.MULTILINE)
        return self.text.count("\n", 0, match.start()) + 1 if match else None

    def str_(self, doc: dict[str, Any], key: str, *, required: bool = False) -> str | None:
        value = doc.get(key)
        if value is None:
            if required:
                raise self.fail(key, "is missing")
            return None
        if not isinstance(value, str):
            raise self.fail(key, f"expected text, found {value!r}")
        return value

    def int_(self, doc: dict[str, Any], key: str, where: str = "") -> int:
        value = doc.get(key, 0)
        if value is None:
            return 0
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise self.fail(where or key, f"`{key}` must be a whole number >= 0, not {value!r}")
        if value > MAX_COUNT:  # no session logs 10^12 of anything: a typo or a forgery
            raise self.fail(
                where or key,
                f"`{key}` is absurdly large ({value:.3g}; at most {MAX_COUNT:.0e} per entry)",
            )
        return value

    def money_(self, doc: dict[str, Any], key: str, where: str = "") -> Decimal | None:
        value = doc.get(key)
        if value is None:
            return None
        try:
            amount = Decimal(str(value))
        except InvalidOperation:
            amount = Decimal("NaN")
        if not amount.is_finite() or amount < 0 or amount > MAX_COST:
            raise self.fail(
                where or key,
                f"`{key}` must be an amount from 0 to {MAX_COST:,} dollars, not {value!r}",
            )
        return amount

    def time_(self, doc: dict[str, Any], key: str, *, required: bool = False) -> datetime | None:
        text = self.str_(doc, key, required=required)
        if text is None:
            return None
        try:
            return parse_stamp(text)
        except ValueError as exc:
            reason = str(exc) if str(exc).startswith("year ") else "not an ISO 8601 time"
            raise self.fail(key, f"{reason}: {text!r}") from None

    def entry(self, doc: dict[str, Any]) -> Entry:
        schema = doc.get("schema")
        if schema != SCHEMA:
            if isinstance(schema, int) and schema > SCHEMA:
                raise self.fail(
                    "schema",
                    f"version {schema} is newer than this costlog understands; upgrade costlog",
                )
            raise self.fail("schema", f"expected {SCHEMA}, found {schema!r}")
        started = self.time_(doc, "started", required=True)
        assert started is not None
        entry = Entry(
            id=self.str_(doc, "id", required=True) or "",
            agent=self.str_(doc, "agent", required=True) or "",
            started=started,
            ended=self.time_(doc, "ended"),
            cost_usd=self.money_(doc, "cost_usd"),
            source=self.str_(doc, "source") or "manual",
            cwd=self.str_(doc, "cwd"),
            branch=self.str_(doc, "branch"),
            subagents=self.int_(doc, "subagents"),
            notes=self.str_(doc, "notes"),
        )
        entry.methods = self._str_map(doc, "methods")
        pricing = doc.get("pricing")
        if isinstance(pricing, dict):
            entry.pricing_table = self.str_(pricing, "table")
        entry.models = self._models(doc.get("models") or {})
        entry.commits = self._commits(doc.get("commits") or [])
        entry.work_items = self._str_list(doc, "work_items")
        tasks = doc.get("tasks") or {}
        if not isinstance(tasks, dict):
            raise self.fail("tasks", "expected a mapping")
        if "completed" in tasks:
            entry.tasks_completed = self.int_(tasks, "completed", "tasks")
        types = tasks.get("types") or {}
        if not isinstance(types, dict):
            raise self.fail("tasks", "`types` must be a mapping of type: count")
        entry.task_types = {str(k): self.int_(types, k, "tasks") for k in types}
        if entry.cost_usd is None and not entry.unpriced_models and entry.models:
            raise self.fail("cost_usd", "is missing although every model is priced")
        self._check_names(entry)
        return entry

    def _check_names(self, entry: Entry) -> None:
        """`source` and `agent` are names from short lists, not free text: a hand-edited
        file must not slip table columns or HTML into COST_LOG.md through them."""
        known = ", ".join(SOURCE_NAMES)
        if entry.source not in SOURCE_NAMES:
            raise self.fail("source", f"must be one of {known}, not {entry.source!r}")
        for name, mu in entry.models.items():
            if mu.source not in SOURCE_NAMES:
                raise self.fail(name, f"`source` must be one of {known}, not {mu.source!r}")
        if not AGENT_NAME.fullmatch(entry.agent):
            raise self.fail(
                "agent",
                "must be an agent name such as claude-code, manual or "
                f"cursor (letters, digits, '.', '_', '-'), not {entry.agent!r}",
            )

    def _models(self, raw: Any) -> dict[str, ModelUsage]:
        if not isinstance(raw, dict):
            raise self.fail("models", "expected a mapping of model: usage")
        out: dict[str, ModelUsage] = {}
        for name, item in raw.items():
            if not isinstance(item, dict):
                raise self.fail(str(name), "expected a mapping of token counts")
            usage = Usage(**{f: self.int_(item, f, str(name)) for f in TOKEN_FIELDS})
            out[str(name)] = ModelUsage(
                requests=self.int_(item, "requests", str(name)),
                usage=usage,
                cost_usd=self.money_(item, "cost_usd", str(name)),
                source=str(item.get("source") or "actual"),
            )
        return out

    def _commits(self, raw: Any) -> list[Commit]:
        if not isinstance(raw, list) or not all(isinstance(c, dict) for c in raw):
            raise self.fail("commits", "expected a list of {sha, subject, ...}")
        return [
            Commit(
                sha=str(c.get("sha", "")),
                subject=str(c.get("subject", "")),
                files=self.int_(c, "files", "commits"),
                added=self.int_(c, "added", "commits"),
                removed=self.int_(c, "removed", "commits"),
                evidence=str(c.get("evidence") or "time-window"),
            )
            for c in raw
        ]

    def _str_list(self, doc: dict[str, Any], key: str) -> list[str]:
        value = doc.get(key) or []
        if not isinstance(value, list):
            raise self.fail(key, "expected a list")
        return [str(v) for v in value]

    def _str_map(self, doc: dict[str, Any], key: str) -> dict[str, str]:
        value = doc.get(key) or {}
        if not isinstance(value, dict):
            raise self.fail(key, "expected a mapping")
        return {str(k): str(v) for k, v in value.items()}


def parse_entry(text: str, path: str) -> Entry:
    return _Reader(path, text).entry(yamlfile.load_text(text, path=path))


# ---------------------------------------------------------------- file names

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


# ---------------------------------------------------------------- the store


class Ledger:
    def __init__(self, repo: Repo, ledger_dir: str) -> None:
        self.repo = repo
        self.dir = repo.root / ledger_dir
        #: per agent folder: its file names, exactly and case-folded (see path_for)
        self._names: dict[str, tuple[set[str], set[str]]] = {}
        #: after load_all: each id and the file (repo-relative) holding it
        self.homes: dict[str, str] = {}

    @property
    def tmp_dir(self) -> Path:
        return self.repo.state_dir / "tmp"

    def path_for(self, entry_id: str) -> Path:
        """The one file of the session with this id (`<agent>/<session>`), existing or not.

        A plain id keeps its own name, so existing files keep their paths; any other id
        gets `hashed_name` (costlog check reports a file elsewhere). The plain name also
        yields to the hashed one when a file whose name differs only in case already
        holds another session (`ABC.yaml` and `abc.yaml` are one file on macOS and
        Windows), or when the hashed file already exists.
        """
        names = file_names_for(entry_id)
        if len(names) == 1:
            return self._legacy(entry_id, self.dir / names[0])
        plain, hashed = names
        folder, name = plain.split("/", 1)
        exact, folded = self._folder_names(folder)
        other = hashed.split("/", 1)[1]
        if name not in exact and (other in exact or name.casefold() in folded):
            plain, name = hashed, other
        exact.add(name)  # this process may be about to write it: a later case twin yields
        folded.add(name.casefold())
        return self.dir / plain

    def _legacy(self, entry_id: str, path: Path) -> Path:
        """`path`, or the file costlog 0.1 wrote this id to (every character outside
        [A-Za-z0-9._-] made `_`) while it is still there and holds this id: recording the
        session again then updates that file instead of adding a second one for the same
        id. `costlog check` asks for it to be renamed."""
        agent, _, session = yamlfile.clean_text(entry_id).partition("/")
        old = self.dir / dir_name(agent) / f"{_LEGACY_NAME.sub('_', session)}.yaml"
        if old.name.startswith(".") or not os.path.lexists(old) or os.path.lexists(path):
            return path  # a dot-file the loader skips is left for check to report
        try:
            text = read_repo_text(self.repo.root, old)
            held = None if text is None else parse_entry(text, self.rel(old)).id
        except CostlogError:
            return path
        return old if held == yamlfile.clean_text(entry_id) else path

    def _folder_names(self, folder: str) -> tuple[set[str], set[str]]:
        known = self._names.get(folder)
        if known is None:
            try:
                exact = {n for n in os.listdir(self.dir / folder) if n.endswith(".yaml")}
            except OSError:  # not there yet (or unreadable: the write says so)
                exact = set()
            known = self._names[folder] = (exact, {n.casefold() for n in exact})
        return known

    def rel(self, path: Path) -> str:
        return os.path.relpath(path, self.repo.root)

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        self.repo.state_dir.mkdir(parents=True, exist_ok=True)
        with open(self.repo.state_dir / "ledger.lock", "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                sweep_temp_files(self.tmp_dir)
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def get(self, entry_id: str) -> Entry | None:
        """The stored entry, or None; a ledger file reached through a symlink is refused."""
        path = self.path_for(entry_id)
        try:
            text = read_repo_text(self.repo.root, path)
        except UnsafePath:
            raise
        except CostlogError as exc:
            raise LedgerError(exc.message, path=self.rel(path), line=exc.line) from None
        if text is None:
            return None
        entry = parse_entry(text, self.rel(path))
        if entry.id != yamlfile.clean_text(entry_id):  # a file named by costlog 0.1 (`a b`
            # and `a_b` both went to a_b.yaml): never merge one session into another
            raise LedgerError(
                f"holds session {entry.id!r}, not {entry_id!r}",
                path=self.rel(path),
                hint="`costlog check` says where it belongs",
            )
        return entry

    def write(self, entry: Entry) -> tuple[Path, bool]:
        """Write one entry atomically; returns (path, changed). Call under `lock()`.

        Refuses (UnsafePath) a file or directory on the way that is a symlink, before
        anything is written."""
        path = self.path_for(entry.id)
        text = yamlfile.dump(entry_to_dict(entry))
        try:
            old = read_repo_text(self.repo.root, path)
        except UnsafePath:
            raise
        except CostlogError:  # unreadable or not UTF-8: replaced by the new entry
            old = None
        if old == text:
            return path, False
        atomic_write(path, text, self.tmp_dir, root=self.repo.root)
        return path, True

    def files(self) -> list[Path]:
        return [Path(name) for name in self.file_names()]

    def file_names(self) -> list[str]:
        """The ledger's files as sorted path strings (cheaper than Paths for 100k files)."""
        root = self.repo.root
        check_repo_path(root, self.dir)  # the ledger dir, .costlog/ and the dirs above it
        if not self.dir.is_dir():
            return []
        found: list[str] = []
        stack = [str(self.dir)]
        while stack:
            with os.scandir(stack.pop()) as it:
                for item in it:
                    if item.is_symlink():  # never read (nor skipped): the ledger holds no links
                        check_repo_path(root, Path(item.path))
                    if item.is_dir(follow_symlinks=False):
                        stack.append(item.path)
                    elif item.name.endswith(".yaml") and not item.name.startswith("."):
                        if not item.is_file(follow_symlinks=False):  # a FIFO would hang
                            raise UnsafePath(
                                "is not a regular file", path=item.path[len(str(root)) + 1 :]
                            )
                        found.append(item.path)
        return sorted(found)

    def load_all(self) -> list[Entry]:
        """Every entry, sorted by start time; LedgerError names the first bad file."""
        with gc_paused(freeze=True):  # 100k small objects: the collector would double the load time
            return self._load_all()

    def _load_all(self) -> list[Entry]:
        cache = _Cache(self.repo.state_dir / "ledger-cache.pickle")
        entries: list[Entry] = []
        seen: dict[str, str] = {}
        cut = len(str(self.repo.root)) + 1
        for path in self.file_names():
            rel = path[cut:]
            entry = cache.get(path, rel)
            if entry.id in seen:
                raise LedgerError(
                    f"session id {entry.id!r} is in two files: {seen[entry.id]} and {rel}",
                    path=rel,
                    line=1,
                    hint="keep one of them (git rm the other)",
                )
            seen[entry.id] = rel
            entries.append(entry)
        cache.save()
        self.homes = seen
        entries.sort(key=lambda e: (e.started, e.id))
        return entries

    def verify(self) -> list[Entry]:
        """`load_all`, refusing also what only `costlog check` needs to: a file that is not
        where its id puts it, two file names that differ only in case (one file on macOS
        and Windows), and a `.yaml` file the loader skips for its leading dot. LedgerError
        names the first such file, how many there are, and the fix."""
        entries = self.load_all()
        problems: list[LedgerError] = []
        top = self.rel(self.dir) + os.sep
        folded: dict[str, str] = {}
        plain_agents: dict[str, bool] = {}
        for entry_id, rel in self.homes.items():
            agent, _, session = entry_id.partition("/")
            if agent not in plain_agents:
                plain_agents[agent] = plain_name(agent)
            if (
                rel != f"{top}{agent}{os.sep}{session}.yaml"
                or not plain_agents[agent]
                or not plain_name(session)
            ):
                names = file_names_for(entry_id)
                if rel[len(top) :].replace(os.sep, "/") not in names:
                    want = self.rel(
                        self.dir / names[0] if len(names) == 1 else self.path_for(entry_id)
                    )
                    problems.append(
                        LedgerError(
                            f"holds session {entry_id!r}, whose file is {want}",
                            path=rel,
                            hint=f"git mv {rel} {want}",
                        )
                    )
            twin = folded.setdefault(rel.casefold(), rel)
            if twin != rel:
                names = file_names_for(entry_id)
                problems.append(
                    LedgerError(
                        f"its name differs from {twin} only in case: one file on macOS and Windows",
                        path=rel,
                        hint=f"git mv {rel} {top}{names[-1]}",
                    )
                )
        problems += self._skipped()
        if problems:
            first = problems[0]
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            raise LedgerError(first.message + more, path=first.path, hint=first.hint)
        return entries

    def _skipped(self) -> list[LedgerError]:
        """Session files the loader does not read: dot-files (costlog 0.1 wrote an id such as
        `.hidden` to one). macOS's `._*` resource forks are not ledger files."""
        out: list[LedgerError] = []
        try:
            folders = sorted(
                item.path for item in os.scandir(self.dir) if item.is_dir(follow_symlinks=False)
            )
        except OSError:
            return out
        for folder in folders:
            try:
                found = sorted(os.listdir(folder))
            except OSError:
                continue
            for name in found:
                if name.startswith(".") and not name.startswith("._") and name.endswith(".yaml"):
                    out.append(self._dot_file(Path(folder) / name))
        return out

    def _dot_file(self, path: Path) -> LedgerError:
        rel = self.rel(path)
        hint = "rename it without the leading dot"
        try:
            text = read_repo_text(self.repo.root, path)
            if text is not None:
                hint = f"git mv {rel} {self.rel(self.path_for(parse_entry(text, rel).id))}"
        except CostlogError:
            pass  # unreadable or invalid: the generic hint
        return LedgerError("is not loaded: its name starts with a dot", path=rel, hint=hint)


class _Cache:
    """Validated entries keyed by their file's (size, mtime, inode): a warm load parses
    nothing and builds no object by hand.

    Lives in the git dir (never committed; only what the ledger itself holds), pickled,
    and keyed by costlog's and Python's versions; anything unreadable is rebuilt from the
    ledger files, which stay the source of truth.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.old: dict[str, tuple[tuple[int, int, int], Entry]] = {}
        self.new: dict[str, tuple[tuple[int, int, int], Entry]] = {}
        self.dirty = False
        try:
            with open(path, "rb") as handle:
                data = pickle.loads(handle.read())
            if data.get("version") == _CACHE_VERSION:
                self.old = data["files"]
        except Exception:  # any damage or an older layout: rebuild from the files
            self.old = {}

    def get(self, path: str, rel: str) -> Entry:
        st = os.stat(path)
        key = (st.st_size, st.st_mtime_ns, st.st_ino)
        hit = self.old.get(rel)
        if hit is not None and hit[0] == key:
            self.new[rel] = hit
            return hit[1]
        try:
            text = Path(path).read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise LedgerError(
                f"not UTF-8 text ({exc.reason} at byte {exc.start})",
                path=rel,
                line=exc.object.count(b"\n", 0, exc.start) + 1,
            ) from None
        entry = parse_entry(text, rel)  # validated, with file and line on error
        self.new[rel] = (key, entry)
        self.dirty = True
        return entry

    def save(self) -> None:
        if not self.dirty and len(self.new) == len(self.old):
            return
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            blob = pickle.dumps(
                {"version": _CACHE_VERSION, "files": self.new}, protocol=pickle.HIGHEST_PROTOCOL
            )
            atomic_write(self.path, blob)


def atomic_write(
    path: Path, text: str | bytes, tmp_dir: Path | None = None, *, root: Path | None = None
) -> None:
    """Write text so that readers see the old file or the new one, never a torn one.

    The temp file goes to `tmp_dir` when given (the repo's private state dir, so a process
    killed mid-write leaves nothing in the work tree), else beside the target. With `root`
    (a work tree), a symlink at `path` or on the way to it is refused before anything is
    written (UnsafePath). The temp file is created fresh, never opened through a link.
    """
    if root is not None:
        check_repo_path(root, path)
    path.parent.mkdir(parents=True, exist_ok=True)
    folder = path.parent
    if tmp_dir is not None:
        with contextlib.suppress(OSError):
            tmp_dir.mkdir(parents=True, exist_ok=True)
            folder = tmp_dir
    tmp = folder / f".{path.name}.{os.getpid()}.tmp"
    try:
        data = text.encode("utf-8") if isinstance(text, str) else text
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()  # a stale one of a reused pid, or a link someone planted there
        fd = os.open(
            tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o666
        )
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.replace(tmp, path)
        except OSError as exc:
            if exc.errno != errno.EXDEV or folder == path.parent:
                raise
            atomic_write(path, text)  # another file system: write beside the target
    except OSError as exc:
        if exc.filename is None:  # a failed write or fsync (a full disk) names no file
            exc.filename = str(path)
        raise
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    with contextlib.suppress(OSError):
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def sweep_temp_files(tmp_dir: Path) -> None:
    """Remove temp files of writers that died (their pid is gone). Call under the lock."""
    try:
        names = os.listdir(tmp_dir)
    except OSError:
        return
    for name in names:
        pid = name.rsplit(".", 2)[-2] if name.endswith(".tmp") else ""
        if pid.isdigit() and not _alive(int(pid)):
            with contextlib.suppress(OSError):
                os.unlink(tmp_dir / name)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)
