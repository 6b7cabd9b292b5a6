"""Several repositories at once: which ones (`--repo`, `--repos-from`, globs), their labels,
and their ledgers loaded as one, each shared session counted once.

Every repository is read the way costlog reads the one it runs in: its own
`.costlog/config.yaml` (its `ledger_dir`, its time zone), validated as untrusted input, and
its ledger files through `Ledger`, which refuses symlinks and paths outside the work tree.
An error in one of them names that repository.

A session whose id is in several ledgers (a fork, a mirror, a clone that records on its
own) counts once. The copy kept is the latest one: the one that ended last, then the one
with more requests, then the one whose file text sorts last; equal copies are one. It is
attributed to the first repository listed that holds it, so a fork listed after its parent
adds only what the parent lacks.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from costlog.errors import EXIT_USAGE, CostlogError

if TYPE_CHECKING:
    from costlog.config import Config
    from costlog.gitrepo import Repo
    from costlog.models import Entry

_MAGIC = ("*", "?", "[")
T = TypeVar("T")


@dataclass(frozen=True)
class Source:
    """One repository to read: its label in reports and exports, the repo, its config."""

    label: str
    repo: Repo
    config: Config


@dataclass
class Loaded:
    """The sessions of every source, each id once, in the order the sources were listed."""

    #: (source, its sessions started in the window, by start time), in listing order
    parts: list[tuple[Source, list[Entry]]]
    #: copies of a session found in a later repository too, and left out
    shared: int = 0


def current() -> list[Source]:
    """The repository around the current directory, as the one source."""
    from costlog.commands.context import repo_and_config

    repo, config = repo_and_config()
    return [Source(repo.root.name, repo, config)]


def sources(
    paths: Sequence[str], repos_from: Path | None = None, *, base: Path | None = None
) -> list[Source]:
    """The repositories `--repo` (paths or globs, relative to `base`) and `--repos-from`
    name, in that order; none given: the current one. The same work tree twice is one."""
    named: list[tuple[Path, bool]] = []
    here = base or Path.cwd()
    for text in paths:
        named.extend(_expand(text, here, where=None))
    from_option = len(named)  # those are an option's values: a bad one is a usage error
    if repos_from is not None:
        named.extend(_from_file(repos_from))
    if not named:
        return current()
    found: list[tuple[Repo, Config]] = []
    roots: set[Path] = set()
    for number, (path, strict) in enumerate(named):
        try:
            opened = _open(path, strict)
        except CostlogError as exc:
            if number < from_option and exc.message.startswith(_NOT_A_REPO):
                exc.message = f"--repo {exc.path or path}: {exc.message}"
                exc.path, exc.exit_code = None, EXIT_USAGE
            raise
        if opened is not None and opened[0].root not in roots:
            roots.add(opened[0].root)
            found.append(opened)
    labels = _labels([repo.root for repo, _ in found])
    return [
        Source(label, repo, config) for label, (repo, config) in zip(labels, found, strict=True)
    ]


def _expand(text: str, base: Path, where: str | None) -> Iterator[tuple[Path, bool]]:
    """A path, `~` expanded and made absolute; a glob's matches (sorted). True marks a
    path named on its own, which must be a costlog repository; a glob's matches that are
    not are skipped, since `~/src/*` names every project, not only those using costlog."""
    expanded = os.path.expanduser(text)
    path = expanded if os.path.isabs(expanded) else os.path.join(base, expanded)
    if not any(c in text for c in _MAGIC):
        yield Path(path), True
        return
    matches = sorted(glob.glob(path, recursive=True))
    kept = [Path(m) for m in matches if _looks_like_one(Path(m))]
    if not kept:
        raise CostlogError(
            f"{text!r} matches no git repository with a costlog ledger",
            path=where,
            hint="a repository qualifies once `costlog init` ran in it",
        )
    for match in kept:
        yield match, False


def _looks_like_one(path: Path) -> bool:
    return (path / ".git").exists() and (path / ".costlog").is_dir()


def _from_file(list_file: Path) -> Iterator[tuple[Path, bool]]:
    """One path or glob a line; blank lines and `#` comments skipped; relative to the file."""
    try:
        text = list_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise CostlogError(
            f"cannot read the list of repositories: {reason}", path=list_file
        ) from None
    base = list_file.resolve().parent
    for number, line in enumerate(text.splitlines(), 1):
        item = line.strip()
        if item and not item.startswith("#"):
            yield from _expand(item, base, where=f"{list_file}:{number}")


#: what `_open` says of a path that is no costlog repository: given to `--repo`, a bad
#: option value (exit 2); a broken config or ledger inside one stays an error (1)
_NOT_A_REPO = ("no such directory", "not a git repository", "has no costlog ledger")


def _open(path: Path, strict: bool) -> tuple[Repo, Config] | None:
    """The repository whose work tree's top is `path`, and its config; an explicitly named
    path that is not one is an error naming it."""
    from costlog import config as config_mod
    from costlog import gitrepo

    shown = str(path)
    if not path.is_dir():
        if not strict:
            return None
        raise CostlogError("no such directory", path=shown)
    top = path.resolve()
    if not (top / ".git").exists():
        if not strict:
            return None
        raise CostlogError(
            "not a git repository (give its top directory)",
            path=shown,
        )
    repo = gitrepo.find(top)
    config = in_repo(repo, lambda: config_mod.load(repo.root))
    if not (top / ".costlog").is_dir() and not config.ledger_path(top).is_dir():
        if not strict:
            return None
        raise CostlogError(
            "has no costlog ledger", path=shown, hint="run `costlog init` there first"
        )
    return repo, config


def in_repo(repo: Repo, work: Callable[[], T]) -> T:
    """`work()`, with an error's repo-relative path made to name the repository."""
    try:
        return work()
    except CostlogError as exc:
        where = Path(exc.path) if exc.path is not None else None
        if where is None or not where.is_absolute():
            exc.path = repo.root / where if where is not None else repo.root
        raise


def _labels(roots: Sequence[Path]) -> list[str]:
    """Each work tree's directory name; names that collide get as many parent
    directories as it takes to tell them apart (`a/app`, `b/app`)."""
    depth = [1] * len(roots)

    def label(i: int) -> str:
        parts = roots[i].parts[-depth[i] :]
        return "/".join(p for p in parts if p != "/") or str(roots[i])

    while True:
        seen: dict[str, list[int]] = {}
        for i in range(len(roots)):
            seen.setdefault(label(i), []).append(i)
        clashes = [ids for ids in seen.values() if len(ids) > 1]
        grown = False
        for ids in clashes:
            for i in ids:
                if depth[i] < len(roots[i].parts):
                    depth[i] += 1
                    grown = True
        if not clashes or not grown:
            return [label(i) for i in range(len(roots))]


def load(
    chosen: Sequence[Source], since: datetime | None = None, until: datetime | None = None
) -> Loaded:
    """Every source's sessions started in [since, until), each session id once."""
    from costlog.commands.report import select
    from costlog.ledger.store import Ledger

    kept: dict[str, tuple[int, Entry]] = {}
    shared = 0
    for index, source in enumerate(chosen):
        ledger = Ledger(source.repo, source.config.ledger_dir)
        for entry in in_repo(source.repo, ledger.load_all):
            held = kept.get(entry.id)
            if held is None:
                kept[entry.id] = (index, entry)
                continue
            shared += 1
            if held[1] != entry and _later(entry, held[1]):
                kept[entry.id] = (held[0], entry)
    per_source: list[list[Entry]] = [[] for _ in chosen]
    for index, entry in kept.values():
        per_source[index].append(entry)
    parts = []
    for source, entries in zip(chosen, per_source, strict=True):
        entries.sort(key=lambda e: (e.started, e.id))
        parts.append((source, select(entries, since, until)))
    return Loaded(parts, shared)


def _later(new: Entry, old: Entry) -> bool:
    """Whether `new` is the copy to keep over `old` (module docstring: latest wins)."""
    return _rank(new) > _rank(old)


def _rank(entry: Entry) -> tuple[datetime, int, str]:
    from costlog import yamlfile
    from costlog.ledger.format import entry_to_dict

    requests = sum(mu.requests for mu in entry.models.values())
    return entry.ended or entry.started, requests, yamlfile.dump(entry_to_dict(entry))
