"""Finding Gemini CLI chat files, and the project directory each belongs to.

The chats do not log the cwd. `tmp/<project>` is a slug whose owner is written in
`<project>/.project_root` and in `~/.gemini/projects.json`; older directories are named by
`sha256(project root)`, as is a chat's `projectHash`, so the root is recovered by hashing
known paths (the registry's and the `--project` being scanned).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from costlog.safefs import check_log, read_regular
from costlog.sources import Warn


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class Projects:
    """Maps a `tmp/<project>` directory (slug or hash) back to the project root."""

    def __init__(self, tmp_dirs: Iterable[Path], hint: Path | None) -> None:
        self.known: dict[str, str] = {}  # slug or sha256 -> root
        candidates: list[str] = []
        for tmp in tmp_dirs:
            for root, slug in _registry(tmp.parent / "projects.json").items():
                self.known.setdefault(slug, root)
                candidates.append(root)
        if hint is not None:
            candidates.append(str(hint))
        for root in candidates:
            self.known.setdefault(sha256_hex(root), root)

    def root(self, project_dir: Path, project_hash: object) -> str | None:
        marker = project_dir / ".project_root"
        try:
            owner = read_regular(marker, limit=1 << 16).decode("utf-8").strip()
        except (OSError, UnicodeDecodeError):
            owner = ""
        if owner:
            return owner
        found = self.known.get(project_dir.name)
        if found is None and isinstance(project_hash, str):
            found = self.known.get(project_hash)
        return found


def _registry(path: Path) -> dict[str, str]:
    """`~/.gemini/projects.json`: {"projects": {"/abs/path": "slug"}}."""
    try:
        data = json.loads(read_regular(path))
    except (OSError, ValueError, RecursionError):
        return {}
    projects = data.get("projects") if isinstance(data, dict) else None
    if not isinstance(projects, dict):
        return {}
    return {str(k): v for k, v in projects.items() if isinstance(v, str)}


# ------------------------------------------------------------------ discovery


def _tmp_dirs(root: Path) -> list[Path]:
    """The `tmp` directories (holding `<project>/chats/`) that `root` names or contains."""
    for tmp in (root / "tmp", root / ".gemini" / "tmp"):  # a ~/.gemini or a home
        if tmp.is_dir():
            return [tmp]
    return [root]


def chat_files(roots: Sequence[Path], warn: Warn | None = None) -> Iterator[tuple[Path, Path]]:
    """(chat file, its project directory) under `roots` (a data dir, a project dir, a file).
    One named like a chat file that is not a regular file (a FIFO, a link to a device) is
    left out, with a warning through `warn`."""
    seen: set[Path] = set()
    for root in roots:
        for path, project_dir in _chat_files_of(root, warn or (lambda _m: None)):
            if path.resolve() not in seen:
                seen.add(path.resolve())
                yield path, project_dir


def _chat_files_of(root: Path, warn: Warn) -> Iterator[tuple[Path, Path]]:
    if root.is_file():
        chats = next((p for p in root.parents if p.name == "chats"), root.parent)
        yield root, chats.parent
        # its sub-agents, in chats/<full session id>/ (the file name has the first 8 chars)
        short = root.stem.rsplit("-", 1)[-1]
        if root.parent == chats and root.name.startswith("session-") and len(short) == 8:
            for sub in sorted(chats.glob(f"{short}*/*.jsonl")):
                yield sub, chats.parent
        return
    if root.exists() and not root.is_dir():
        check_log(root, warn)  # a FIFO or device given by name: say why it is not read
        return
    if root.name == "chats":
        chat_dirs = [root]
    elif (root / "chats").is_dir():
        chat_dirs = [root / "chats"]
    else:
        chat_dirs = [d for tmp in _tmp_dirs(root) for d in sorted(tmp.glob("*/chats"))]
    for chats in chat_dirs:
        for path in sorted(chats.rglob("*.json*")):
            if path.suffix in (".json", ".jsonl") and not path.is_dir() and check_log(path, warn):
                yield path, chats.parent
