"""git's merge driver for COST_LOG.md (`merge.costlog.driver`, set by `costlog init`).

COST_LOG.md is generated from the ledger, so a conflict inside its generated blocks is no
conflict at all: once the ledger is merged, rendering it again gives the right text. Only
what people wrote by hand around those blocks can truly conflict.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

from costlog import gitrepo
from costlog.gitrepo import Repo


def merge_driver(repo: Repo, args: Sequence[str], *, say: Callable[[str], None]) -> int:
    """`%O %A %B %P`: a 3-way merge of COST_LOG.md; then its generated blocks are rendered
    from the merged ledger (ours in the work tree + the ledger files theirs added, found
    through the GITHEAD_<sha> variable `git merge` sets). Without that (rebase,
    cherry-pick), conflicts inside generated blocks take our side and the post-merge hook
    or `costlog render` brings them up to date. Hand-written conflicts stay (exit 1)."""
    from costlog import render
    from costlog.errors import CostlogError

    base, ours, theirs, path = args[:4]
    status = gitrepo.merge_file(ours, base, theirs)
    if status < 0 or status > 127:
        return 1
    text = Path(ours).read_text(encoding="utf-8")
    try:
        resolved = render.resolve_conflicts(text, path)
    except CostlogError as exc:
        say(exc.one_line())
        return 1
    fresh = _merged_render(repo)
    if fresh is not None:
        resolved = render.splice(resolved, fresh, path)
    Path(ours).write_text(resolved, encoding="utf-8")
    return 0


def _merged_render(repo: Repo) -> str | None:
    """COST_LOG.md as the merged ledger renders it, or None when theirs is unknown."""
    from costlog import config as config_mod
    from costlog import render
    from costlog.errors import CostlogError
    from costlog.ledger.store import Ledger, changed_at, entries_at

    heads = [k[len("GITHEAD_") :] for k in os.environ if k.startswith("GITHEAD_")]
    if len(heads) != 1:
        return None
    theirs = heads[0]
    config = config_mod.load(repo.root)
    try:
        since = gitrepo.merge_base(repo.root, "HEAD", theirs)
    except CostlogError:
        return None
    if not since:
        return None
    entries = {e.id: e for e in Ledger(repo, config.ledger_dir).load_all()}
    paths = changed_at(repo.root, config.ledger_dir, since, theirs, "AM")
    for entry in entries_at(repo.root, theirs, paths):
        entries.setdefault(entry.id, entry)
    merged = sorted(entries.values(), key=lambda e: (e.started, e.id))
    return render.document(repo, config, merged).text
