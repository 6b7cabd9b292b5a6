"""A re-scan with nothing changed answers from the last scan's result.

`scan` over a large history spends most of a warm run building every request again from
the per-file caches, only to arrive at the same table. So the whole result is kept, keyed
exactly by what it depends on:

* every file and folder under the roots the selected readers read: path, size, mtime and
  inode (a file that changed, appeared or went away makes a new key);
* the scan's options (agents, paths, project, range, zone, grouping), the price table in
  force (its version and every model's prices), and costlog's own code (its version and
  the newest modification time of its modules);
* the environment variables that choose the readers' roots (through the roots themselves).

Only the built-in Claude Code and Codex readers are known to read nothing outside their
roots; a scan that would run any other reader is not kept. The result holds what `scan`
prints anyway (counts, costs, model names, session ids, warnings), in a private file in the
scan cache directory (never inside a repository), as marshal data with no code in it.
Anything that cannot be keyed or stored exactly is simply not kept.
"""

from __future__ import annotations

import dataclasses
import hashlib
import marshal
import os
import stat
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from operator import attrgetter
from pathlib import Path
from typing import Any

from costlog.codestamp import code_stamp
from costlog.safefs import read_regular
from costlog.sources.cache import cache_dir, write_private

#: bump when what is stored changes shape
VERSION = 1
#: readers whose results depend on nothing but the files under their roots
PURE = frozenset({"claude-code", "codex"})
#: results kept (the newest)
KEEP = 8


class _Unkeyable(Exception):
    """Something the key or the stored result cannot hold exactly."""


def key(options: Any, table: Any, roots: Mapping[str, Sequence[Path]]) -> str | None:
    """The key of a scan of these readers' roots with these options, or None when such a
    scan is not kept (another reader, an option that cannot be keyed)."""
    if not roots or not set(roots) <= PURE:
        return None
    text = repr(options)
    models = getattr(table, "_models", None)
    if " at 0x" in text or models is None:  # an object without a stable description
        return None
    digest = hashlib.blake2b(digest_size=20)
    for part in (text, repr(getattr(table, "version", None)), repr(sorted(models.items()))):
        digest.update(part.encode("utf-8", "surrogatepass") + b"\0")
    digest.update(repr(code_stamp()).encode("utf-8", "surrogatepass"))
    for name in sorted(roots):
        digest.update(name.encode() + b"\0")
        for root in roots[name]:
            _tree_into(str(root), digest.update)
    return digest.hexdigest()


def _tree_into(top: str, update: Callable[[bytes], object]) -> None:
    """One line per entry under `top` (itself included), in a fixed order, links listed
    and not followed; each encoded and ended by a newline, given to `update` (the key's
    digest) as it is made: on strings, with no Path and no generator per folder (a cold
    scan keys some 1,800 entries before it can start reading)."""
    try:
        st = os.lstat(top)
    except OSError:
        update(f"{top}\0absent\n".encode("utf-8", "surrogateescape"))
        return
    update(
        f"{top}\0{st.st_mode}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ino}\n".encode(
            "utf-8", "surrogateescape"
        )
    )
    if not stat.S_ISDIR(st.st_mode):  # a link (lstat) or a file: nothing below it
        return
    try:
        entries = sorted(os.scandir(top), key=_NAME)
    except OSError:
        update(f"{top}\0unlistable\n".encode("utf-8", "surrogateescape"))
        return
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            _tree_into(entry.path, update)
            continue
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            update(f"{entry.path}\0gone\n".encode("utf-8", "surrogateescape"))
            continue
        update(
            f"{entry.path}\0{st.st_mode}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ino}\n".encode(
                "utf-8", "surrogateescape"
            )
        )


_NAME = attrgetter("name")


# ---------------------------------------------------------------- the stored form


def _encode(value: Any, tz: Any, classes: Mapping[str, type]) -> Any:
    if value is None or type(value) in (bool, int, float, str):
        return value
    if tz is not None and value is tz:
        return ("z",)
    if isinstance(value, Decimal):
        return ("d", str(value))
    if isinstance(value, datetime):
        if value.tzinfo is UTC:  # log times are kept in UTC
            return ("t", value.isoformat())
        raise _Unkeyable("a time in another zone")
    if isinstance(value, date):
        return ("a", value.isoformat())
    if isinstance(value, (set, frozenset)):
        return ("s", sorted(_encode(v, tz, classes) for v in value))
    if isinstance(value, list):
        return ("l", [_encode(v, tz, classes) for v in value])
    if isinstance(value, tuple):
        return ("u", [_encode(v, tz, classes) for v in value])
    if isinstance(value, dict):
        if not all(type(k) is str for k in value):
            raise _Unkeyable("a mapping with keys that are not text")
        return ("m", {k: _encode(v, tz, classes) for k, v in value.items()})
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        name = type(value).__name__
        if classes.get(name) is not type(value):
            raise _Unkeyable(name)
        fields = {
            f.name: _encode(getattr(value, f.name), tz, classes) for f in dataclasses.fields(value)
        }
        return ("c", name, fields)
    raise _Unkeyable(type(value).__name__)


def _decode(value: Any, tz: Any, classes: Mapping[str, type]) -> Any:
    if type(value) is not tuple:
        return value
    tag = value[0]
    if tag == "z":
        return tz
    if tag == "d":
        return Decimal(value[1])
    if tag == "t":
        return datetime.fromisoformat(value[1]).replace(tzinfo=UTC)
    if tag == "a":
        return date.fromisoformat(value[1])
    if tag == "s":
        return {_decode(v, tz, classes) for v in value[1]}
    if tag == "l":
        return [_decode(v, tz, classes) for v in value[1]]
    if tag == "u":
        return tuple(_decode(v, tz, classes) for v in value[1])
    if tag == "m":
        return {k: _decode(v, tz, classes) for k, v in value[1].items()}
    if tag == "c":
        cls = classes[value[1]]
        made = {k: _decode(v, tz, classes) for k, v in value[2].items()}
        return cls(**made)
    raise _Unkeyable(f"tag {tag!r}")


class Memo:
    """The kept results, loaded once; `get` and `put` by key."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        py = f"{sys.version_info[0]}{sys.version_info[1]}"
        self.path = cache_dir(env) / f"scan-results.v{VERSION}.py{py}.marshal"
        self._rows: list[Any] = []
        try:  # a regular file only (a FIFO put there would hang every scan)
            rows = marshal.loads(read_regular(self.path))
        except (OSError, ValueError, EOFError, TypeError):
            rows = []
        if isinstance(rows, list):
            self._rows = [r for r in rows if isinstance(r, tuple) and len(r) == 2]

    def get(self, name: str, tz: Any, classes: Mapping[str, type]) -> Any:
        """The result kept under `name`, or None."""
        for row_key, blob in self._rows:
            if row_key == name:
                try:
                    return _decode(blob, tz, classes)
                except (_Unkeyable, KeyError, TypeError, ValueError, IndexError):
                    return None
        return None

    def put(self, name: str, result: Any, tz: Any, classes: Mapping[str, type]) -> None:
        """Keep `result` under `name` (the oldest kept result makes room); `classes`: the
        record types it may hold, by name."""
        try:
            blob = _encode(result, tz, classes)
            rows = [(name, blob), *[r for r in self._rows if r[0] != name]][:KEEP]
            data = marshal.dumps(rows)
        except (_Unkeyable, ValueError):
            return
        if write_private(self.path, data):
            self._rows = rows


def reader_roots(options: Any, env: Mapping[str, str] | None = None) -> dict[str, list[Path]]:
    """The roots each reader a scan with `options` would read (as `scan.sessions_for`
    picks them); empty when a reader named cannot be had (the scan itself says why)."""
    from costlog import sources
    from costlog.errors import CostlogError

    environ = os.environ if env is None else env
    home = Path(environ.get("HOME") or Path.home())
    out: dict[str, list[Path]] = {}
    for name in list(options.agents) or sources.names():
        light = _LIGHT_ROOTS.get(name)
        if light is not None:  # without importing the reader (~25 ms each)
            defaults = light(environ, home)
        else:
            try:
                defaults = sources.get(name).default_roots(environ, home)
            except CostlogError:
                if options.agents:
                    return {}
                continue
        roots = list(options.paths) or [p for p in defaults if p.exists()]
        if roots:
            out[name] = roots
    return out


def _claude_roots(env: Mapping[str, str], home: Path) -> list[Path]:
    from costlog.sources.claude.paths import default_roots

    return default_roots(env, home)


def _codex_roots(env: Mapping[str, str], home: Path) -> list[Path]:
    """`CodexAdapter.default_roots` (a test keeps them equal)."""
    base = Path(env["CODEX_HOME"]).expanduser() if env.get("CODEX_HOME") else home / ".codex"
    return [base / "sessions", base / "archived_sessions"]


_LIGHT_ROOTS = {"claude-code": _claude_roots, "codex": _codex_roots}
