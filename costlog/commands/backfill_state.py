"""What `costlog backfill` remembers between runs, in `.git/costlog/backfill.json`: per agent,
a fingerprint of its log files (path, size, mtime) and the ids of its sessions here.

An agent whose files have not changed since the last complete backfill, and whose sessions
are all still in the ledger, is not scanned again. Losing the file only costs speed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from costlog.config import Config
from costlog.gitrepo import Repo
from costlog.ledger.atomic import atomic_write
from costlog.models import Entry

_STATE_VERSION = 1
_STATE_FILE = "backfill.json"


def fingerprint(roots: Sequence[Path], config: Config) -> str:
    digest = hashlib.blake2b(digest_size=16)
    digest.update(repr(config.rundir).encode())
    for root in sorted(roots):
        for path, size, mtime in _walk(root):
            digest.update(f"{path}\0{size}\0{mtime}\n".encode())
    return digest.hexdigest()


def _walk(root: Path) -> Iterator[tuple[str, int, int]]:
    if root.is_file():
        st = root.stat()
        yield str(root), st.st_size, st.st_mtime_ns
        return
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            try:
                st = os.stat(os.path.join(folder, name))
            except OSError:
                continue
            yield os.path.join(folder, name), st.st_size, st.st_mtime_ns


def unchanged(saved: object, mark: str, known: Mapping[str, Entry]) -> bool:
    if not isinstance(saved, dict) or saved.get("fingerprint") != mark:
        return False
    ids = saved.get("ids")
    return isinstance(ids, list) and all(i in known for i in ids)


def load(repo: Repo) -> dict[str, object]:
    try:
        data = json.loads((repo.state_dir / _STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("version") != _STATE_VERSION:
        return {}
    agents = data.get("agents")
    return agents if isinstance(agents, dict) else {}


def save(repo: Repo, state: Mapping[str, object]) -> None:
    text = json.dumps({"version": _STATE_VERSION, "agents": state}, sort_keys=True)
    with contextlib.suppress(OSError):  # only costs speed next time
        atomic_write(repo.state_dir / _STATE_FILE, text, repo.state_dir / "tmp")
