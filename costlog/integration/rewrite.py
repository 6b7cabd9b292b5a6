"""The post-rewrite hook (amend, rebase): move the ledger's commit links to the new shas.

git gives the hook `<old-sha> <new-sha>` per rewritten commit on stdin, once at the end of
a rebase (the post-commit hooks of the commits it replays stop in the shim, before Python
starts), so the work is done once. Entries keep 12-character shas, so both sides are cut
to that before they are compared.

Moving a link changes no line of COST_LOG.md (nothing the template receives holds a sha,
which a test keeps true), so only the ledger files are written and staged, and COST_LOG.md
is rendered only when the rebase may have left it behind: when both the replayed commits
and the commits they were moved onto changed ledger files.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING

from costlog import gitrepo
from costlog.gitrepo import Repo

if TYPE_CHECKING:
    from costlog.config import Config


def read_rewrites(stdin: IO[str]) -> dict[str, str]:
    """post-rewrite's stdin: `<old-sha> <new-sha> [extra]` per line."""
    mapping = {}
    for line in stdin.read().splitlines():
        parts = line.split()
        if len(parts) >= 2:
            mapping[parts[0]] = parts[1]
    return mapping


def post_rewrite(repo: Repo, args: Sequence[str], stdin: IO[str]) -> list[str]:
    mapping = read_rewrites(stdin)
    if not mapping:
        return []
    rebase = bool(args) and args[0] == "rebase"
    quick = _quick_ledger_dir(repo.root)
    behind: bool | None = None  # whether COST_LOG.md may be behind, once asked
    # the common case, no entry links a rewritten commit: no config, YAML or ledger
    # import (the hook runs once per rebase, but a rebase is what the user waits for)
    if quick is not None and _none_mention(repo.root / quick, mapping):
        behind = rebase and _both_sides_changed_ledger(repo, quick, mapping)
        if not behind:
            return []
    from costlog import config as config_mod

    config = config_mod.load(repo.root)
    changed = rewrite_shas(repo, config, mapping)
    lines = []
    if changed:
        gitrepo.stage(repo.root, changed)
        lines.append(
            f"moved commit links to the rewritten commits in {len(changed)} ledger "
            f"file{'s' if len(changed) != 1 else ''} (staged)"
        )
    if behind is None:
        behind = rebase and _both_sides_changed_ledger(repo, config.ledger_dir, mapping)
    if behind:
        lines += _render_and_stage(repo, config)
    return lines


#: = Config.ledger_dir's default (a test keeps them equal)
DEFAULT_LEDGER_DIR = ".costlog/sessions"


def _quick_ledger_dir(root: Path) -> str | None:
    """The ledger dir when the config leaves it at its default (a line scan, no YAML);
    None when a line sets it, or the config cannot be read: then the config decides."""
    import re

    try:
        text = (root / ".costlog" / "config.yaml").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    if re.search(r"^[ \t]*[^#\s][^\n]*ledger_dir", text, re.M):
        return None
    return DEFAULT_LEDGER_DIR


_SHA = re.compile(rb"(?<![0-9a-f])[0-9a-f]{12}(?![0-9a-f])")


def _none_mention(folder: Path, mapping: dict[str, str]) -> bool:
    """True when no ledger file holds one of the old shas, by a byte search of plain
    files; False when one does, or when anything is not a plain file or directory (a
    link, a FIFO): the careful path, which refuses those, then looks."""
    olds = {old[:12].encode("ascii", "replace") for old in mapping}
    if os.path.islink(folder) or os.path.islink(folder.parent):
        return False
    stack = [str(folder)]
    while stack:
        try:
            items = list(os.scandir(stack.pop()))
        except FileNotFoundError:
            continue
        except OSError:
            return False
        for item in items:
            if item.is_symlink():
                return False
            if item.is_dir(follow_symlinks=False):
                stack.append(item.path)
            elif (
                item.name.endswith(".yaml")
                and not item.name.startswith(".")
                and (not item.is_file(follow_symlinks=False) or _mentions(item.path, olds))
            ):
                return False
    return True


def rewrite_shas(repo: Repo, config: Config, mapping: dict[str, str]) -> list[str]:
    """Replace old shas by new ones in ledger entries; returns the files changed."""
    from costlog.ledger.format import parse_entry
    from costlog.ledger.store import Ledger
    from costlog.safefs import check_repo_path, read_repo_text

    short = {old[:12]: new[:12] for old, new in mapping.items()}
    ledger = Ledger(repo, config.ledger_dir)
    changed: list[str] = []
    # COST_LOG.md may be rendered and staged after these writes: refuse a symlink first
    check_repo_path(repo.root, config.output_path(repo.root))
    needles = {old.encode("ascii", "replace") for old in short}
    with ledger.lock():
        for name in ledger.file_names():  # refuses links and non-regular files in the ledger
            if not _mentions(name, needles):
                continue  # a byte search first: parse only the files that mention one
            path = Path(name)
            text = read_repo_text(repo.root, path) or ""
            entry = parse_entry(text, ledger.rel(path))
            hits = [c for c in entry.commits if c.sha in short]
            for commit in hits:
                commit.sha = short[commit.sha]
            if hits and ledger.write(entry)[1]:
                changed.append(ledger.rel(path))
    return changed


def _mentions(name: str, needles: set[bytes]) -> bool:
    """Whether the file holds one of the 12-character shas (read raw: the caller has just
    refused links and non-regular files, and O_NOFOLLOW refuses one swapped in since)."""
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return True  # let the careful read say what is wrong with it
    try:
        data = os.read(fd, 1 << 20)
    finally:
        os.close(fd)
    return not needles.isdisjoint(_SHA.findall(data))


def _both_sides_changed_ledger(repo: Repo, ledger_dir: str, mapping: dict[str, str]) -> bool:
    """Whether the replayed commits and the ones they now sit on both changed the ledger:
    then COST_LOG.md, merged one commit at a time without the whole ledger, may be behind.
    (git lists the rewrites oldest first: the last old sha is the old tip.)"""
    from costlog.errors import CostlogError

    old_tip = list(mapping)[-1]
    first_new = next(iter(mapping.values()))
    try:
        base = gitrepo.merge_base(repo.root, "HEAD", old_tip)
        if not base:
            return True  # unrelated histories: look
        replayed = gitrepo.diff_names(repo.root, base, old_tip, ledger_dir)
        if not replayed:
            return False
        return bool(gitrepo.diff_names(repo.root, base, f"{first_new}^", ledger_dir))
    except CostlogError:
        return True  # cannot tell (a root commit rewritten, say): look


def _render_and_stage(repo: Repo, config: Config) -> list[str]:
    from costlog import render

    if not render.render(repo, config).changed:
        return []
    gitrepo.stage(repo.root, [config.output])
    return [f"re-rendered {config.output} for the rebased ledger (staged)"]
