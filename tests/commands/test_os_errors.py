"""A full disk, a read-only `.git/costlog` and an absurd amount in a ledger file each give
the promised message: one line naming the path, exit 1, nothing half-written; never
"internal error ... please report it".

The full disk is simulated twice: a failing fsync (always), and a real 4 MB tmpfs filled
to the brim (when this runs as root with `mount`). The read-only dir is a real read-only
bind mount, and an immutable dir and files (`chattr -R +i`); both need root and are skipped
without it.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests_support import git, run

RECORD = ("record", "--model", "claude-sonnet-4-6", "--cost", "0.50", "--no-stage")


def costlog(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "costlog", *args],
        cwd=root,
        text=True,
        capture_output=True,
        timeout=120,
        env=os.environ.copy(),
    )


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file of the work tree outside .git, and every temp file anywhere."""
    files = {
        str(p.relative_to(root)): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file() and ".git" not in p.relative_to(root).parts
    }
    files.update({str(p): b"" for p in root.rglob("*.tmp")})
    return files


def assert_one_line(output: str, *parts: str) -> None:
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    assert lines[0].startswith("costlog: error: "), output
    assert "internal error" not in output and "please report" not in output
    for part in parts:
        assert part in lines[0], output


@pytest.fixture
def ready(repo: Path) -> Path:
    run("init")
    run(*RECORD, "--session", "s0")
    return repo


# ---------------------------------------------------------------- a full disk


def test_a_full_disk_names_the_file_and_writes_nothing(
    ready: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot(ready)

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    out = run(*RECORD, "--session", "s1", code=1)
    assert_one_line(
        out, ".costlog/sessions/manual/s1.yaml: No space left on device", "free some disk space"
    )
    assert snapshot(ready) == before  # no entry, no temp file, COST_LOG.md as it was
    out = run(*RECORD, "--session", "s0", "--notes", "changed", code=1)  # an update
    assert_one_line(out, ".costlog/sessions/manual/s0.yaml: No space left on device")
    assert snapshot(ready) == before


@pytest.fixture
def small_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A git repo set up with costlog on a 4 MB tmpfs of its own."""
    mount = shutil.which("mount")
    root = tmp_path / "disk"
    root.mkdir()
    if (
        os.geteuid() != 0
        or mount is None
        or subprocess.run(
            [mount, "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(root)], capture_output=True
        ).returncode
        != 0
    ):
        pytest.skip("needs root and mount to make a small tmpfs")
    try:
        git(root, "init", "-q", "-b", "main")
        monkeypatch.chdir(root)
        run("init")
        run(*RECORD, "--session", "s0")
        yield root
    finally:
        monkeypatch.chdir(tmp_path)
        subprocess.run(["umount", "-l", str(root)], capture_output=True)


def fill(root: Path) -> None:
    try:
        with open(root / "filler", "wb") as handle:
            while True:
                handle.write(b"\0" * 4096)
                handle.flush()
    except OSError as exc:
        assert exc.errno == errno.ENOSPC


def test_a_really_full_disk_gives_one_line_and_leaves_the_ledger_whole(small_disk: Path) -> None:
    root = small_disk
    fill(root)
    before = snapshot(root)
    done = costlog(root, *RECORD, "--session", "s1")
    assert done.returncode == 1, done.stderr
    assert_one_line(done.stderr, "No space left on device", ".costlog/sessions/manual/s1.yaml")
    before.pop("filler")
    after = snapshot(root)
    after.pop("filler")
    assert after == before
    (root / "filler").unlink()
    assert costlog(root, *RECORD, "--session", "s1").returncode == 0  # room again: it works


# ---------------------------------------------------------------- a read-only .git/costlog


@pytest.fixture
def read_only_state(ready: Path) -> Iterator[Path]:
    state = ready / ".git" / "costlog"
    mount = shutil.which("mount")
    if os.geteuid() != 0 or mount is None:
        pytest.skip("needs root and mount for a read-only bind mount")
    if (
        subprocess.run([mount, "--bind", str(state), str(state)], capture_output=True).returncode
        != 0
    ):
        pytest.skip("mount --bind is not permitted here")
    try:
        if (
            subprocess.run(
                [mount, "-o", "remount,ro,bind", str(state)], capture_output=True
            ).returncode
            != 0
        ):
            pytest.skip("a read-only remount is not permitted here")
        yield ready
    finally:
        subprocess.run(["umount", "-l", str(state)], capture_output=True)


def test_a_read_only_state_dir_names_it(read_only_state: Path) -> None:
    root = read_only_state
    before = snapshot(root)
    done = costlog(root, *RECORD, "--session", "s1")
    assert done.returncode == 1, done.stderr
    assert_one_line(done.stderr, ".git/costlog/", "Read-only file system")
    assert snapshot(root) == before


def test_an_immutable_state_dir_names_it(ready: Path) -> None:
    state = ready / ".git" / "costlog"
    chattr = shutil.which("chattr")
    if (
        chattr is None
        or subprocess.run([chattr, "-R", "+i", str(state)], capture_output=True).returncode != 0
    ):
        pytest.skip("chattr +i is not available here")
    try:
        before = snapshot(ready)
        done = costlog(ready, *RECORD, "--session", "s1")
        assert done.returncode == 1, done.stderr
        assert_one_line(done.stderr, ".git/costlog/", "Operation not permitted")
        assert snapshot(ready) == before
    finally:
        subprocess.run([chattr, "-R", "-i", str(state)], capture_output=True)


def test_the_mapping_names_the_path_relative_to_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from costlog.errors import from_os_error

    monkeypatch.chdir(tmp_path)
    inside = from_os_error(
        PermissionError(errno.EACCES, "Permission denied", str(tmp_path / "a" / "b.yaml"))
    )
    assert (
        inside.one_line() == "a/b.yaml: Permission denied (costlog may not write or read "
        "there: check the permissions)"
    )
    outside = from_os_error(OSError(errno.EIO, "Input/output error", "/elsewhere/x"))
    assert outside.one_line() == "/elsewhere/x: Input/output error"
    assert (
        from_os_error(OSError(errno.ENOSPC, "No space left on device")).one_line()
        == "No space left on device (free some disk space, then run it again)"
    )


# ---------------------------------------------------------------- absurd amounts


@pytest.mark.parametrize(
    "amount",
    [
        "1e30",
        "nan",
        "NaN",
        "inf",
        "-Infinity",
        "-1",
        "-0.01",
        "1000000000.01",
        "2e9",
        "sNaN",
        "12abc",
    ],
)
@pytest.mark.parametrize("where", ["entry", "model"])
def test_an_absurd_amount_in_a_ledger_file_is_named_by_file_and_line(
    ready: Path, amount: str, where: str
) -> None:
    path = ready / ".costlog" / "sessions" / "manual" / "s0.yaml"
    lines = path.read_text().splitlines(keepends=True)
    number = next(
        n
        for n, line in enumerate(lines, 1)
        if ("claude-sonnet-4-6:" in line) == (where == "model") and "cost_usd:" in line
    )
    lines[number - 1] = lines[number - 1].replace('"0.500000"', f'"{amount}"')
    path.write_text("".join(lines))
    before = snapshot(ready)
    for command, code in (("render", 1), ("report", 1), ("check", 3)):
        out = run(command, code=code)
        assert_one_line(out, f".costlog/sessions/manual/s0.yaml:{number}: ", repr(amount))
    assert snapshot(ready) == before


def test_large_but_sane_amounts_still_load(ready: Path) -> None:
    run(*RECORD[:-3], "--cost", "999999999.99", "--session", "big", "--no-stage")
    assert "$1,000,000,000.49" in run("report")  # with s0's $0.50: sums may pass the cap
