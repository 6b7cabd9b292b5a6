"""Planned file changes that `costlog init` makes and `costlog uninstall` takes back.

Every change is a whole-file "after" text for one path. Applying a plan records each file's
text before and after in `<git common dir>/costlog/installed.json`; uninstall puts back the
exact "before" bytes of every file still as init left it, and for a file edited since, it
removes only costlog's own parts (a shim with its id line, a marked block, a settings
handler naming `costlog hook`). So init followed by uninstall leaves the repo byte-identical.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from costlog import gitrepo
from costlog.gitrepo import Repo
from costlog.safefs import UnsafePath, check_repo_path

MANIFEST = "installed.json"


@dataclass
class Change:
    path: Path
    #: the whole new text; None removes the file
    after: str | None
    #: one line for the user: what this is
    what: str
    mode: int = 0o644
    #: for a file outside the repo: no symlink from below this directory down to it
    base: Path | None = None


@dataclass
class Plan:
    changes: list[Change] = field(default_factory=list)
    #: (key, value) set with `git config --local`
    git_config: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def read(path: Path) -> str | None:
    try:
        return path.read_bytes().decode("utf-8", "surrogateescape")
    except (FileNotFoundError, NotADirectoryError):
        return None


def guard(repo: Repo, path: Path, base: Path | None = None) -> None:
    """Refuse (UnsafePath) to touch `path` through a symlink.

    Git's own directory is trusted (costlog's private state lives there, and only the
    user's git writes it). A work-tree file is checked from the repository's top down: a
    committed `.gitattributes` linked to `~/secret` must not be read or replaced. A file
    elsewhere is checked from below `base` (an agent's own directory under $HOME) down;
    without a base it is the user's own choice (a global core.hooksPath) and trusted.
    """
    if path.is_relative_to(repo.common_dir):
        return
    if path.is_relative_to(repo.root):
        check_repo_path(repo.root, path)
    elif base is not None and path.is_relative_to(base):
        try:
            check_repo_path(base, path)
        except UnsafePath as exc:  # name it in full: it is not a repository path
            message = (
                "is a symbolic link; costlog does not write through links"
                if "symbolic link" in exc.message
                else exc.message
            )
            raise UnsafePath(message, path=base / str(exc.path)) from None


def read_in(repo: Repo, path: Path, base: Path | None = None) -> str | None:
    """`read`, after `guard`: the text of a file init is about to change."""
    guard(repo, path, base)
    return read(path)


def write(path: Path, text: str | None, mode: int | None = None) -> None:
    """Replace the file (never writing through a link: the temp file is created fresh,
    and the rename replaces a link rather than its target). Callers `guard` first."""
    if text is None:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        return
    tmp = path.with_name(f".{path.name}.costlog-tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()  # a leftover of a killed run, or a link planted under our name
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o666)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(text.encode("utf-8", "surrogateescape"))
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def file_mode(path: Path) -> int | None:
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return None


def shown(repo: Repo, path: Path) -> str:
    try:
        return str(path.relative_to(repo.root))
    except ValueError:
        return str(path)


# ---------------------------------------------------------------- the manifest


class Manifest:
    """What init changed: per file, its text (and mode) before and after."""

    def __init__(self, repo: Repo) -> None:
        self.path = repo.state_dir / MANIFEST
        data: dict[str, Any] = {}
        with contextlib.suppress(OSError, ValueError):
            data = json.loads(self.path.read_text(encoding="utf-8"))
        self.files: dict[str, dict[str, Any]] = data.get("files", {})
        self.dirs: list[str] = data.get("dirs", [])
        self.state_dir_created: bool = data.get("state_dir_created", False)

    def note(self, path: Path, before: str | None, mode: int | None, after: str | None) -> None:
        key = str(path)
        old = self.files.get(key)
        if old is None:
            self.files[key] = {"before": before, "before_mode": mode, "after": after}
            return
        if before != old["after"]:
            # edited by hand since the last init: restoring the first `before` would lose
            # that edit, so undo must strip costlog's parts instead
            old["edited"] = True
        old["after"] = after

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(
            json.dumps(
                {
                    "version": 1,
                    "files": self.files,
                    "dirs": self.dirs,
                    "state_dir_created": self.state_dir_created,
                },
                indent=1,
            ),
            encoding="utf-8",
        )


def _make_dirs(folder: Path, manifest: Manifest) -> None:
    missing = []
    for parent in (folder, *folder.parents):
        if parent.exists():
            break
        missing.append(parent)
    for parent in reversed(missing):
        parent.mkdir()
        manifest.dirs.append(str(parent))


def apply(repo: Repo, plan: Plan) -> list[str]:
    """Make the planned changes, recording them; returns a line per change made."""
    for change in plan.changes:  # all of them before the first write: no half-done init
        guard(repo, change.path, change.base)
    created_state = not repo.state_dir.exists()
    manifest = Manifest(repo)
    if created_state:
        manifest.state_dir_created = True
    done = []
    for change in plan.changes:
        before = read(change.path)
        if before == change.after and file_mode(change.path) in (None, change.mode):
            continue
        _make_dirs(change.path.parent, manifest)
        manifest.note(change.path, before, file_mode(change.path), change.after)
        write(change.path, change.after, change.mode)
        done.append(change.what)
    done += _set_git_config(repo, plan.git_config, manifest)
    manifest.save()
    return done


def git_config_path(repo: Repo) -> Path:
    return repo.common_dir / "config"


def _set_git_config(repo: Repo, pairs: Sequence[tuple[str, str]], manifest: Manifest) -> list[str]:
    wanted = [(k, v) for k, v in pairs if gitrepo.config_get(repo.root, k) != v]
    if not wanted:
        return []
    path = git_config_path(repo)
    before, mode = read(path), file_mode(path)
    for key, value in wanted:
        gitrepo.config_set(repo.root, key, value)
    manifest.note(path, before, mode, read(path))
    return [f"git config {key}" for key, _ in wanted]


# ---------------------------------------------------------------- uninstall


#: path -> the text with costlog's own parts taken out (None: remove the file)
Stripper = Callable[[Path, str], str | None]


def undo(
    repo: Repo,
    strippers: dict[Path, Stripper],
    config_sections: Sequence[str],
    *,
    dry_run: bool = False,
    bases: Mapping[Path, Path] | None = None,
    keep: Mapping[Path, str] | None = None,
) -> list[str]:
    """Take back what init did: exact restore where unchanged, else strip our parts.

    Every path is checked for symlinks (`guard`, `bases` as there) before anything is
    changed. One outside the repo that init never wrote (e.g. a linked ~/.codex) is left
    alone with a line saying so; anywhere else a link is an error. A path in `keep` (a
    user-wide file another repo still uses) is left alone, its value saying why.
    """
    manifest = Manifest(repo)
    done: list[str] = []
    paths = {Path(p) for p in manifest.files} | set(strippers)
    skipped: set[Path] = set()
    for path, why in (keep or {}).items():
        skipped.add(path)
        if os.path.lexists(path):
            done.append(f"left {shown(repo, path)} alone: {why}")
    for path in sorted(paths - skipped, key=str):
        try:
            guard(repo, path, (bases or {}).get(path))
        except UnsafePath as exc:
            if str(path) in manifest.files or path.is_relative_to(repo.root):
                raise
            skipped.add(path)
            if os.path.lexists(path):
                done.append(f"left {shown(repo, path)} alone: {exc.one_line()}")
    for path in sorted(paths - skipped, key=str):
        current = read(path)
        record = manifest.files.get(str(path))
        if record is not None and current == record["after"] and not record.get("edited"):
            new, mode = record["before"], record["before_mode"]
        elif current is not None and path in strippers:
            new, mode = strippers[path](path, current), file_mode(path)
        elif current is not None and path == git_config_path(repo):
            new, mode = current, None  # edited since: remove our sections below
        else:
            continue
        if new == current and (mode is None or mode == file_mode(path)):
            continue
        done.append(f"{'restore' if new is not None else 'remove'} {shown(repo, path)}")
        if not dry_run:
            write(path, new, mode)
    if not any(line.endswith(f" {shown(repo, git_config_path(repo))}") for line in done):
        done += _unset_config(repo, manifest, config_sections, dry_run)
    if not dry_run:
        _remove_dirs(manifest)
    return done


def _unset_config(
    repo: Repo, manifest: Manifest, sections: Sequence[str], dry_run: bool
) -> list[str]:
    done = []
    for section in sections:
        if gitrepo.config_has_section(repo.root, section):
            done.append(f"git config --remove-section {section}")
            if not dry_run:
                gitrepo.config_remove_section(repo.root, section)
    return done


def _remove_dirs(manifest: Manifest) -> None:
    for folder in sorted(manifest.dirs, key=len, reverse=True):
        with contextlib.suppress(OSError):
            Path(folder).rmdir()  # only if empty: never anything the user put there


def forget(repo: Repo) -> None:
    """Drop the manifest; remove the state dir too if init made it."""
    manifest = Manifest(repo)
    with contextlib.suppress(FileNotFoundError):
        manifest.path.unlink()
    if manifest.state_dir_created:
        import shutil

        shutil.rmtree(repo.state_dir, ignore_errors=True)
