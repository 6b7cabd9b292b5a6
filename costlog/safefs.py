"""Safe file access for untrusted trees: the repository and the agents' log directories.

Everything inside a repository was written by someone else (a teammate, or a fork's pull
request that CI checks), so costlog never reads or writes a repository file through a
symbolic link, nor through a directory on the way to one, and never outside the work tree.
Agent logs are read only when they are regular files: a FIFO named like a log would block
forever, and a link to `/dev/zero` would never end.

Three entry points:

- `repo_path(root, rel, what=...)`: a path from the config (or any repo-relative name) made
  absolute, refusing absolute paths, `..`, and anything that resolves outside the work tree.
- `check_repo_path(root, path)`: refuse when the path, or any directory between the work
  tree's top and it, is a symlink. Call before every read or write of a repository file.
- `open_regular(path)`: open an agent log for reading only if it is a regular file; the
  open never blocks, and `read_regular` bounds a whole read by size and time.
"""

from __future__ import annotations

import errno
import io
import os
import stat
import time
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO, TextIO

from costlog.errors import CostlogError

#: a single log read stops after this long (a regular file on a hung network mount)
READ_SECONDS = 30.0
_CHUNK = 1 << 20


class UnsafePath(CostlogError):
    """A repository path that is a symlink, or leads outside the work tree."""


class NotRegular(OSError):
    """An agent log that is not a regular file (FIFO, device, socket, directory);
    `strerror` says what it is: "not a regular file (a FIFO)"."""


#: how a skipped log is described (the post-commit hook shows these warnings)
NOT_REGULAR = "not a regular file"


def repo_path(root: Path, rel: str, *, what: str = "path") -> Path:
    """`rel` (from the config or the command line) as an absolute path inside `root`.

    Refuses absolute paths, `~`, any `..` component and NUL; the result is lexically
    inside the work tree. Refuses any `.git` component too, in any letter case: the git
    directory holds hooks, config and costlog's own caches, which are trusted precisely
    because no committed file can reach them. Symlinks are checked separately, at the time
    of use, by `check_repo_path` (a link could appear after the config was read).
    """
    text = str(rel)
    if not text or "\x00" in text:
        raise UnsafePath(f"{what} is empty or holds a NUL byte")
    if text.startswith(("/", "\\", "~")) or (len(text) > 1 and text[1] == ":"):
        raise UnsafePath(f"{what} {text!r} must be relative to the repository")
    parts = PurePosixPath(text.replace("\\", "/")).parts
    if any(part == ".." for part in parts):
        raise UnsafePath(f"{what} {text!r} may not contain '..'")
    if any(part.rstrip(". ").casefold() == ".git" for part in parts):
        raise UnsafePath(f"{what} {text!r} may not point into a git directory")
    path = root.joinpath(*parts) if parts else root
    if os.path.commonpath([str(root), str(path)]) != str(root):
        raise UnsafePath(f"{what} {text!r} resolves outside the repository")
    return path


def check_repo_path(root: Path, path: Path) -> None:
    """Raise UnsafePath if `path` or any directory from `root` down to it is a symlink.

    Components that do not exist yet are fine (they will be created as real directories).
    `root` itself is trusted: it is where the user chose to run costlog.
    """
    try:
        rel = path.relative_to(root)
    except ValueError:
        raise UnsafePath("is outside the repository", path=path) from None
    current = root
    for part in rel.parts:
        current = current / part
        try:
            mode = os.lstat(current).st_mode
        except FileNotFoundError:
            return
        except OSError as exc:
            raise UnsafePath(f"cannot check: {exc.strerror}", path=current) from None
        if stat.S_ISLNK(mode):
            raise UnsafePath(
                "is a symbolic link; costlog does not follow links in a repository",
                path=_shown(root, current),
            )


def read_repo_text(root: Path, path: Path) -> str | None:
    """A repository file's text (UTF-8, newlines untouched), or None when it is absent.

    Refuses symlinks on the way (UnsafePath) and anything that is not a regular file.
    """
    data = read_repo_bytes(root, path)
    if data is None:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise CostlogError(
            f"not UTF-8 text ({exc.reason})", path=_shown(root, path), line=line
        ) from None


def read_repo_bytes(root: Path, path: Path) -> bytes | None:
    """A repository file's bytes, or None when it is absent: refuses symlinks on the way
    (UnsafePath) and anything that is not a regular file."""
    check_repo_path(root, path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise CostlogError(f"cannot read: {exc.strerror}", path=_shown(root, path)) from None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise UnsafePath("is not a regular file", path=_shown(root, path))
        return handle.read()


def open_regular(path: Path | str) -> BinaryIO:
    """Open a log file for binary reading, only if it is a regular file (links followed).

    A path that is not a regular file is refused before it is opened (opening some devices
    does something), and the open itself never blocks (O_NONBLOCK, which a regular file
    then ignores), so a FIFO swapped in meanwhile is refused instead of hanging. Raises
    NotRegular, or the OSError of the open.
    """
    return os.fdopen(_open_fd(path), "rb")


def _open_fd(path: Path | str) -> int:
    _refuse_other(path, os.stat(path).st_mode)
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        _refuse_other(path, os.fstat(fd).st_mode)
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _refuse_other(path: Path | str, mode: int) -> None:
    if not stat.S_ISREG(mode):
        raise NotRegular(errno.EINVAL, f"{NOT_REGULAR} ({kind(mode)})", str(path))


def kind(mode: int) -> str:
    """What a file is, for a message: "a FIFO", "a character device", ..."""
    for test, name in (
        (stat.S_ISREG, "a regular file"),
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "not a file"


def is_regular(path: Path | str) -> bool:
    """True for a regular file (links followed); False for anything else or an error."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def check_log(path: Path | str, warn: Callable[[str], None]) -> bool:
    """True when `path` is a regular file (links followed); else one warning naming it,
    `PATH: skipped, not a regular file (a FIFO)`, and False. For log discovery."""
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        warn(f"{path}: skipped, {exc.strerror or exc}")
        return False
    if stat.S_ISREG(mode):
        return True
    warn(f"{path}: skipped, {NOT_REGULAR} ({kind(mode)})")
    return False


def read_regular(
    path: Path | str, *, limit: int | None = None, seconds: float = READ_SECONDS
) -> bytes:
    """A regular file's bytes, at most `limit`, read within `seconds` (else TimeoutError,
    an OSError)."""
    deadline = time.monotonic() + seconds
    chunks: list[bytes] = []
    size = 0
    with open_regular(path) as handle:
        while limit is None or size < limit:
            want = _CHUNK if limit is None else min(_CHUNK, limit - size)
            chunk = handle.read(want)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if time.monotonic() > deadline:
                raise _too_slow(path, seconds)
    return b"".join(chunks)


def open_log(path: Path | str, *, seconds: float = READ_SECONDS) -> BinaryIO:
    """`open_regular` for a log read bit by bit (line by line, or from an offset): a read
    after `seconds` raises TimeoutError (an OSError), like `read_regular`.

    The deadline is checked where the buffer refills from the file (every 64 KiB), not per
    line, so reading lines stays at the speed of a plain `open`.
    """
    raw = _TimedRaw(_open_fd(path), str(path), seconds)
    return io.BufferedReader(raw, buffer_size=1 << 16)


def open_log_text(
    path: Path | str,
    *,
    encoding: str = "utf-8",
    errors: str = "replace",
    newline: str | None = None,
    seconds: float = READ_SECONDS,
) -> TextIO:
    """`open_log` decoded as text (the arguments of `open`)."""
    return io.TextIOWrapper(
        open_log(path, seconds=seconds), encoding=encoding, errors=errors, newline=newline
    )


class _TimedRaw(io.FileIO):
    """The file under a buffered log reader; its refills stop after a deadline (a file
    that grows without end, or a very slow mount): readers treat that as unreadable."""

    def __init__(self, fd: int, path: str, seconds: float) -> None:
        super().__init__(fd, "rb", closefd=True)
        self._path = path
        self._seconds = seconds
        self._deadline = time.monotonic() + seconds

    def readinto(self, buffer: Any, /) -> int | None:
        if time.monotonic() > self._deadline:
            raise _too_slow(self._path, self._seconds)
        return super().readinto(buffer)

    def readall(self) -> bytes:
        chunks = []
        while chunk := self.read(_CHUNK):
            chunks.append(chunk)
        return b"".join(chunks)


def _too_slow(path: Path | str, seconds: float) -> TimeoutError:
    return TimeoutError(errno.ETIMEDOUT, f"reading took over {seconds:.0f} s", str(path))


def _shown(root: Path, path: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)
