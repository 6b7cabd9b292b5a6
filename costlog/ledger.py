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
from costlog.errors import LedgerError
from costlog.gcpause import gc_paused
from costlog.models import TOKEN_FIELDS, Commit, Entry, ModelUsage, Usage
from costlog.repo import Repo

SCHEMA = 1
MICRO = Decimal("0.000001")
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
#: the parse cache is private, and keyed by the costlog and Python that wrote it
_CACHE_VERSION = f"3/{__version__}/{sys.version_info[0]}.{sys.version_info[1]}"


# ---------------------------------------------------------------- money and time


def money(value: Decimal) -> str:
    """A stored amount: exact to the micro-dollar, no exponent."""
    return format(value.quantize(MICRO), "f")


def stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_stamp(text: str) -> datetime:
    if len(text) == 20 and text[-1] == "Z":  # the canonical form costlog writes
        return datetime.fromisoformat(text)
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


# ---------------------------------------------------------------- entry <-> dict


def entry_to_dict(entry: Entry) -> dict[str, Any]:
    """Only these fields are ever written: counts, names, ids, times, subjects, keys."""
    doc: dict[str, Any] = {"schema": SCHEMA, "id": entry.id, "agent": entry.agent,
                           "started": stamp(entry.started)}
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
    return {"sha": c.sha, "subject": c.subject, "files": c.files, "added": c.added,
            "removed": c.removed, "evidence": c.evidence}


class _Reader:
    """Turns a parsed file into an Entry, naming file and line of the first bad field."""

    def __init__(self, path: str, text: str) -> None:
        self.path = path
        self.text = text

    def fail(self, key: str, message: str) -> LedgerError:
        return LedgerError(f"field `{key}`: {message}", path=self.path, line=self.line_of(key),
                           hint="fix or restore the file (git checkout -- FILE)")

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
        return value

    def money_(self, doc: dict[str, Any], key: str, where: str = "") -> Decimal | None:
        value = doc.get(key)
        if value is None:
            return None
        try:
            amount = Decimal(str(value))
        except InvalidOperation:
            amount = Decimal("NaN")
        if not amount.is_finite() or amount < 0:
            raise self.fail(where or key, f"`{key}` must be an amount >= 0, not {value!r}")
        return amount

    def time_(self, doc: dict[str, Any], key: str, *, required: bool = False) -> datetime | None:
        text = self.str_(doc, key, required=required)
        if text is None:
            return None
        try:
            return parse_stamp(text)
        except ValueError:
            raise self.fail(key, f"not a timestamp: {text!r}") from None

    def entry(self, doc: dict[str, Any]) -> Entry:
        schema = doc.get("schema")
        if schema != SCHEMA:
            if isinstance(schema, int) and schema > SCHEMA:
                raise self.fail("schema", f"version {schema} is newer than this costlog "
                                "understands; upgrade costlog")
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
        return entry

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
            Commit(sha=str(c.get("sha", "")), subject=str(c.get("subject", "")),
                   files=self.int_(c, "files", "commits"), added=self.int_(c, "added", "commits"),
                   removed=self.int_(c, "removed", "commits"),
                   evidence=str(c.get("evidence") or "time-window"))
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


# ---------------------------------------------------------------- the store


class Ledger:
    def __init__(self, repo: Repo, ledger_dir: str) -> None:
        self.repo = repo
        self.dir = repo.root / ledger_dir

    @property
    def tmp_dir(self) -> Path:
        return self.repo.state_dir / "tmp"

    def path_for(self, entry_id: str) -> Path:
        agent, _, session = entry_id.partition("/")
        return self.dir / _SAFE_NAME.sub("_", agent) / f"{_SAFE_NAME.sub('_', session)}.yaml"

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
        path = self.path_for(entry_id)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            raise LedgerError(f"cannot read: {exc}", path=self.rel(path)) from None
        return parse_entry(text, self.rel(path))

    def write(self, entry: Entry) -> tuple[Path, bool]:
        """Write one entry atomically; returns (path, changed). Call under `lock()`."""
        path = self.path_for(entry.id)
        text = yamlfile.dump(entry_to_dict(entry))
        try:
            if path.read_text(encoding="utf-8") == text:
                return path, False
        except (FileNotFoundError, UnicodeDecodeError):
            pass
        atomic_write(path, text, self.tmp_dir)
        return path, True

    def files(self) -> list[Path]:
        return [Path(name) for name in self.file_names()]

    def file_names(self) -> list[str]:
        """The ledger's files as sorted path strings (cheaper than Paths for 100k files)."""
        if not self.dir.is_dir():
            return []
        found: list[str] = []
        stack = [str(self.dir)]
        while stack:
            with os.scandir(stack.pop()) as it:
                for item in it:
                    if item.is_dir(follow_symlinks=False):
                        stack.append(item.path)
                    elif item.name.endswith(".yaml") and not item.name.startswith("."):
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
                raise LedgerError(f"duplicate session id {entry.id!r} (also in {seen[entry.id]})",
                                  path=rel, line=1)
            seen[entry.id] = rel
            entries.append(entry)
        cache.save()
        entries.sort(key=lambda e: (e.started, e.id))
        return entries


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
            raise LedgerError(f"not UTF-8 text ({exc.reason} at byte {exc.start})",
                              path=rel, line=exc.object.count(b"\n", 0, exc.start) + 1
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
            blob = pickle.dumps({"version": _CACHE_VERSION, "files": self.new},
                                protocol=pickle.HIGHEST_PROTOCOL)
            atomic_write(self.path, blob)


def atomic_write(path: Path, text: str | bytes, tmp_dir: Path | None = None) -> None:
    """Write text so that readers see the old file or the new one, never a torn one.

    The temp file goes to `tmp_dir` when given (the repo's private state dir, so a process
    killed mid-write leaves nothing in the work tree), else beside the target.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    folder = path.parent
    if tmp_dir is not None:
        with contextlib.suppress(OSError):
            tmp_dir.mkdir(parents=True, exist_ok=True)
            folder = tmp_dir
    tmp = folder / f".{path.name}.{os.getpid()}.tmp"
    try:
        data = text.encode("utf-8") if isinstance(text, str) else text
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.replace(tmp, path)
        except OSError as exc:
            if exc.errno != errno.EXDEV or folder == path.parent:
                raise
            atomic_write(path, text)  # another file system: write beside the target
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
