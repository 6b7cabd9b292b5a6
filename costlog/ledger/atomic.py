"""Writing files so that a reader or a crash never sees half of one."""

from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path

from costlog.safefs import check_repo_path


def atomic_write(
    path: Path,
    text: str | bytes | list[bytes],
    tmp_dir: Path | None = None,
    *,
    root: Path | None = None,
) -> None:
    """Write text so that readers see the old file or the new one, never a torn one.
    (A list of byte strings is written one after the other: a large file, such as the
    ledger's parse cache, never needs a second copy in memory to be joined.)

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
            if isinstance(data, list):
                handle.writelines(data)
            else:
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
