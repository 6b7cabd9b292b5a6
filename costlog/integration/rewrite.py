"""The post-rewrite hook (amend, rebase): move the ledger's commit links to the new shas.

git gives the hook `<old-sha> <new-sha>` per rewritten commit on stdin. Entries keep
12-character shas, so both sides are cut to that before they are compared.
"""

from __future__ import annotations

from collections.abc import Sequence
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
    from costlog import config as config_mod

    config = config_mod.load(repo.root)
    changed = rewrite_shas(repo, config, mapping)
    if not changed:
        return []
    _render_and_stage(repo, config, changed)
    return [
        f"moved commit links to the rewritten commits in {len(changed)} ledger "
        f"file{'s' if len(changed) != 1 else ''} (staged)"
    ]


def rewrite_shas(repo: Repo, config: Config, mapping: dict[str, str]) -> list[str]:
    """Replace old shas by new ones in ledger entries; returns the files changed."""
    from costlog.ledger.format import parse_entry
    from costlog.ledger.store import Ledger
    from costlog.safefs import check_repo_path, read_repo_text

    short = {old[:12]: new[:12] for old, new in mapping.items()}
    ledger = Ledger(repo, config.ledger_dir)
    changed: list[str] = []
    # COST_LOG.md is rendered and staged after these writes: refuse a symlink before them
    check_repo_path(repo.root, config.output_path(repo.root))
    with ledger.lock():
        for path in ledger.files():  # refuses links in the ledger
            text = read_repo_text(repo.root, path) or ""
            if not any(old in text for old in short):
                continue  # a text search first: parse only the files that mention one
            entry = parse_entry(text, ledger.rel(path))
            hits = [c for c in entry.commits if c.sha in short]
            for commit in hits:
                commit.sha = short[commit.sha]
            if hits and ledger.write(entry)[1]:
                changed.append(ledger.rel(path))
    return changed


def _render_and_stage(repo: Repo, config: Config, ledger_paths: Sequence[str]) -> None:
    from costlog import render

    render.render(repo, config)
    gitrepo.stage(repo.root, [*ledger_paths, config.output])
