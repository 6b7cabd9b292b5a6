"""The repository costlog works in, and the one module that runs `git`.

Finding the repository reads `.git` itself instead of spawning git, so a hook that has
nothing to do never starts a process. Everything else costlog asks of git is one of the
named functions below: every git process they start gets COSTLOG_SKIP=1, so our own hooks
never recurse, and a failed git command becomes a one-line CostlogError. `subprocess` is
imported on the first git call, not here: the post-commit hook imports this module and
usually runs no git at all.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from costlog.errors import CostlogError

if TYPE_CHECKING:
    import subprocess

#: `git -c core.quotepath=off`: paths in git's output as they are, not octal-escaped
_RAW_PATHS = ("-c", "core.quotepath=off")


@dataclass(frozen=True)
class Repo:
    #: the work tree's top directory
    root: Path
    #: the git directory shared by all worktrees (`git rev-parse --git-common-dir`)
    common_dir: Path

    @property
    def state_dir(self) -> Path:
        """Private, uncommitted state: lock, caches, queue, logs."""
        return self.common_dir / "costlog"


def find(start: Path | None = None) -> Repo:
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        dot_git = candidate / ".git"
        if dot_git.is_dir():
            return Repo(candidate, dot_git)
        if dot_git.is_file():
            return Repo(candidate, _common_dir(dot_git))
    raise CostlogError(
        f"not inside a git repository: {here}", hint="run `git init` first, or cd into a repo"
    )


def _linked_git_dir(dot_git_file: Path) -> Path:
    """A linked worktree's `.git` is a file `gitdir: <path>` naming its own git dir."""
    text = dot_git_file.read_text(encoding="utf-8").strip()
    if not text.startswith("gitdir:"):
        raise CostlogError("not a gitdir file", path=dot_git_file)
    git_dir = Path(text.split(":", 1)[1].strip())
    return git_dir if git_dir.is_absolute() else (dot_git_file.parent / git_dir).resolve()


def _common_dir(dot_git_file: Path) -> Path:
    """The linked worktree's git dir names the shared dir in its `commondir` file."""
    git_dir = _linked_git_dir(dot_git_file)
    common = git_dir / "commondir"
    if common.exists():
        target = Path(common.read_text(encoding="utf-8").strip())
        return target if target.is_absolute() else (git_dir / target).resolve()
    return git_dir


def git_dir(repo: Repo) -> Path:
    """This worktree's own git dir: rebase and merge state live there, not in the common dir."""
    dot_git = repo.root / ".git"
    return dot_git if dot_git.is_dir() else _linked_git_dir(dot_git)


def relative_cwd(repo: Repo, cwd: str | None) -> str | None:
    """A session's cwd relative to the repo root ('.' for the root); None if outside."""
    if not cwd:
        return None
    try:
        rel = os.path.relpath(Path(cwd).resolve(), repo.root)
    except ValueError:
        return None
    return None if rel.startswith("..") else rel


# ---------------------------------------------------------------- running git


def _env(env: Mapping[str, str] | None) -> dict[str, str]:
    return {**(os.environ if env is None else env), "COSTLOG_SKIP": "1"}


def _run(
    root: Path | None,
    *args: str,
    check: bool = True,
    errors: str | None = None,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """`git ARGS` in `root` (None: the current directory), its output captured as text.

    A missing git is a CostlogError; with `check`, so is a non-zero exit, with git's own
    message. `errors="replace"` is for output that may hold any bytes (diffs, messages)."""
    import subprocess

    try:
        done = subprocess.run(
            ["git", *args], cwd=root, env=_env(env), capture_output=True, text=True, errors=errors
        )
    except FileNotFoundError:
        raise CostlogError("git is not installed or not on PATH") from None
    if check and done.returncode != 0:
        why = done.stderr.strip() or done.stdout.strip()
        command = next(a for a in args if a not in _RAW_PATHS)
        raise CostlogError(f"git {command} failed: {why}")
    return done


def _lines(text: str) -> list[str]:
    return [line for line in text.split("\n") if line]


# ---------------------------------------------------------------- writes


def stage(root: Path, paths: Sequence[str]) -> None:
    """`git add` exactly these paths (the ledger file and COST_LOG.md), nothing else.

    A path that is (or lies under) a symlink is refused before git runs: staging it would
    commit a link to some file outside the repo, or fail half way."""
    from costlog.safefs import check_repo_path, repo_path

    for rel in paths:
        check_repo_path(root, repo_path(root, rel))
    if paths:
        _run(root, "add", "--", *paths)


def commit_only(root: Path, paths: Sequence[str], message: str) -> str:
    """A commit holding only these paths; whatever else is staged stays staged."""
    stage(root, paths)
    _run(root, "commit", "-q", "--only", "-m", message, "--", *paths)
    return head(root, short=True)


def init(root: Path, *, env: Mapping[str, str] | None = None) -> None:
    """A new repository whose first branch is `main`."""
    _run(root, "init", "-q", "-b", "main", env=env)


def commit_all(root: Path, message: str, *, env: Mapping[str, str] | None = None) -> str:
    """Stage everything in the work tree and commit it; returns the new commit's sha."""
    _run(root, "add", "-A", env=env)
    _run(root, "commit", "-q", "-m", message, env=env)
    return head(root, env=env)


def config_get(root: Path, key: str) -> str:
    """The repository's own (`--local`) value of `key`; "" when unset."""
    return _run(root, "config", "--local", "--get", key, check=False).stdout.rstrip("\n")


def config_set(root: Path, key: str, value: str) -> None:
    done = _run(root, "config", "--local", key, value, check=False)
    if done.returncode != 0:
        raise CostlogError(f"git config {key} failed: {done.stderr.strip()}")


def user_identity(root: Path) -> tuple[str, str]:
    """(user.name, user.email) as git is configured for this repo (every config file,
    includes too); "" for one that is unset. Only what is configured: never git's guess
    from the login name and host name, which would put the machine's name in the ledger."""
    done = _run(root, "config", "-z", "--get-regexp", r"^user\.(name|email)$", check=False)
    found = {"user.name": "", "user.email": ""}
    for item in done.stdout.split("\0"):
        key, _, value = item.partition("\n")
        if key in found:
            found[key] = value  # a key set twice: the last one wins, as in git
    return found["user.name"], found["user.email"]


def config_has_section(root: Path, section: str) -> bool:
    """Some key of `[section]` is set in the repository's own config."""
    done = _run(root, "config", "--local", "--get-regexp", f"^{section}\\.", check=False)
    return bool(done.stdout.strip())


def config_remove_section(root: Path, section: str) -> None:
    """Drop `[section]` from the repository's own config; nothing if it is not there."""
    _run(root, "config", "--local", "--remove-section", section, check=False)


# ---------------------------------------------------------------- reads


def head(root: Path, *, short: bool = False, env: Mapping[str, str] | None = None) -> str:
    """The sha HEAD points at (abbreviated with `short`)."""
    args = ("rev-parse", "--short", "HEAD") if short else ("rev-parse", "HEAD")
    return _run(root, *args, env=env).stdout.strip()


def current_branch(root: Path) -> str | None:
    """The checked-out branch; None on a detached HEAD or when git cannot tell."""
    done = _run(root, "rev-parse", "--abbrev-ref", "HEAD", check=False)
    name = done.stdout.strip()
    return name if done.returncode == 0 and name and name != "HEAD" else None


def hooks_path(root: Path) -> Path | None:
    """Where git looks for hooks (`core.hooksPath` or the git dir's `hooks`), as git
    prints it (possibly relative to `root`); None when git cannot tell."""
    done = _run(root, "rev-parse", "--git-path", "hooks", check=False)
    return Path(done.stdout.strip()) if done.returncode == 0 else None


def parents(root: Path, rev: str = "HEAD") -> list[str]:
    """The parents of `rev` (two or more for a merge commit); [] when git cannot tell."""
    out = _run(root, "rev-list", "--parents", "-n", "1", rev, check=False).stdout.split()
    return out[1:]


def merge_base(root: Path, one: str, other: str) -> str:
    """The best common ancestor of two commits."""
    return _run(root, "merge-base", one, other).stdout.strip()


def diff_names(
    root: Path, since: str, rev: str, under: str, *, kinds: str | None = None
) -> list[str]:
    """Files under `under` that differ between two commits; `kinds` is git's
    `--diff-filter` ("A" added, "M" modified), and renames count as delete plus add."""
    kind = [f"--diff-filter={kinds}"] if kinds else []
    args = ("diff", "--name-only", *kind, "--no-renames", since, rev, "--", under)
    return _lines(_run(root, *_RAW_PATHS, *args).stdout)


def show_file(root: Path, rev: str, path: str) -> str:
    """The text of `path` as committed at `rev`."""
    return _run(root, *_RAW_PATHS, "show", f"{rev}:{path}").stdout


def rev_list(root: Path, *args: str) -> list[str]:
    """`git rev-list ARGS`: the shas, one per line."""
    return _run(root, "rev-list", *args).stdout.split()


def show(root: Path, *args: str) -> str:
    """`git show ARGS`; bytes that are not text are replaced, never an error."""
    return _run(root, *_RAW_PATHS, "show", *args, errors="replace").stdout


def log(root: Path, *args: str) -> str:
    """`git log ARGS`; bytes that are not text are replaced, never an error."""
    return _run(root, *_RAW_PATHS, "log", *args, errors="replace").stdout


def log_prefix(root: Path, *args: str, limit: int) -> bytes:
    """The first `limit` bytes of `git log ARGS`. git is stopped once that much is read, so
    a huge history costs no more than `limit`; its errors are not read."""
    import subprocess

    try:
        with subprocess.Popen(
            ["git", "log", *args],
            cwd=root,
            env=_env(None),
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        ) as proc:
            assert proc.stdout is not None
            data = proc.stdout.read(limit)
            proc.kill()
    except FileNotFoundError:
        raise CostlogError("git is not installed or not on PATH") from None
    return data


def merge_file(ours: str, base: str, theirs: str) -> int:
    """`git merge-file` of three versions into `ours`, conflicts marked with the labels
    ours/base/theirs; returns git's status (the number of conflicts, or negative/over 127
    when git itself failed)."""
    labels = ("-L", "ours", "-L", "base", "-L", "theirs")
    done = _run(None, "merge-file", *labels, ours, base, theirs, check=False, errors="replace")
    return done.returncode


def refresh(root: Path, paths: Sequence[str]) -> bool:
    """Stage the new text of files the index already holds, by `git update-index` (a third
    of `git add`'s cost in a 10,000-file repo); False when git refuses (a path the index
    does not hold, say): then it staged none of them (its index lock is dropped), and the
    caller `stage`s them. Links are refused first, as `stage` does."""
    from costlog.safefs import check_repo_path, repo_path

    for rel in paths:
        check_repo_path(root, repo_path(root, rel))
    if not paths:
        return True
    return _run(root, "update-index", "--", *paths, check=False).returncode == 0


def objects(root: Path, names: Sequence[str]) -> list[tuple[str, str, bytes] | None]:
    """(id, type, content) of each object named (`rev`, `rev:path`; one per line, none
    holding a newline), in order, from one `git cat-file --batch`: None for a name git
    cannot resolve. A CostlogError when git fails as a whole."""
    import subprocess

    if any("\n" in name for name in names):
        raise CostlogError("git cat-file: a name holds a newline")
    try:
        done = subprocess.run(
            ["git", "cat-file", "--batch"],
            cwd=root,
            env=_env(None),
            input="".join(f"{name}\n" for name in names).encode("utf-8", "surrogateescape"),
            capture_output=True,
        )
    except FileNotFoundError:
        raise CostlogError("git is not installed or not on PATH") from None
    if done.returncode != 0:
        why = done.stderr.decode("utf-8", "replace").strip()
        raise CostlogError(f"git cat-file failed: {why}")
    data, pos = done.stdout, 0
    found: list[tuple[str, str, bytes] | None] = []
    for _ in names:
        end = data.find(b"\n", pos)
        if end < 0:
            raise CostlogError("git cat-file: its answer ended early")
        header = data[pos:end].split(b" ")
        pos = end + 1
        if len(header) != 3 or not header[2].isdigit():
            found.append(None)  # `<name> missing` or `<name> ambiguous`
            continue
        size = int(header[2])
        found.append((header[0].decode("ascii"), header[1].decode("ascii"), data[pos : pos + size]))
        pos += size + 1  # (git ends each content with a newline)
    return found


def changed_and_untracked(
    root: Path, since: str, under: str, *, index_only: bool = False
) -> tuple[list[str], list[str]]:
    """`changed_since`'s two lists apart: the tracked files that may differ from `since`,
    and the untracked ones (whoever stages a file needs to know which the index holds)."""
    raw = "surrogateescape"
    cached = ["--cached"] if index_only else []
    tracked = _run(root, "diff-index", *cached, "-z", "--name-only", since, "--", under, errors=raw)
    others = _run(root, "ls-files", "-z", "-o", "--", under, errors=raw)
    return _fields(tracked.stdout), _fields(others.stdout)


def _fields(text: str) -> list[str]:
    return [name for name in text.split("\0") if name]
