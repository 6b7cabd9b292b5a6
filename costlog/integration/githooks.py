"""The post-commit and post-merge hooks: record what is waiting, keep COST_LOG.md current.

Both run under the hook runtime (`hookrun`), which has already found the repository,
skipped a half-done rebase or merge, and taken the one-run-at-a-time lock.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Sequence
from typing import IO

from costlog import gitrepo
from costlog.gitrepo import Repo
from costlog.integration import agentlogs, queue


def ledger_busy(repo: Repo) -> bool:
    """Another costlog process holds the ledger lock (never wait for it in a hook)."""
    try:
        handle = open(repo.state_dir / "ledger.lock", "a+b")  # noqa: SIM115
    except OSError:
        return False
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
    return False


def post_commit(repo: Repo, args: Sequence[str], stdin: IO[str]) -> list[str]:
    from costlog.integration import watch
    from costlog.sources.claude import idle

    started = time.time()
    tip = watch.take_squash(repo)
    lines = _after_squash(repo, tip) if tip is not None else []
    agentlogs.queue_changed(repo)  # aider has no SessionEnd hook: its history grew
    # the common case, nothing queued and no log went idle: a few stats, no heavy import
    minutes = idle.quick_idle_minutes(repo.root)
    if not queue.pending(repo.state_dir) and not idle.idle_transcripts(
        repo, minutes, os.environ, started
    ):
        watch.write(repo, minutes, os.environ, started)
        return lines
    if ledger_busy(repo):
        return lines  # a `costlog record` or backfill is writing: the queue waits for next time
    from costlog.integration import pending

    written: list[str] = []

    def stage() -> None:  # before the queue lets go of the items: a kill here loses nothing
        if written:
            _stage(repo, written)

    lines += pending.process_pending(repo, on_record=written.append, before_release=stage)
    if written:
        lines.append("staged the ledger and COST_LOG.md for your next commit")
    watch.write(repo, minutes, os.environ, started)
    return lines


def _after_squash(repo: Repo, tip: str) -> list[str]:
    """The commit of a `git merge --squash`: its COST_LOG.md may predate the ledger files
    the squash brought (git takes one side's file when only that side changed it). Not
    when the ledger and COST_LOG.md are, as a whole, the squashed branch's (`tip`) or the
    parent's: then they are as right as they were there, and nothing is rendered."""
    return _settle(repo, [tip, "HEAD^"] if tip else ["HEAD^"], "squash-merged")


def after_picks(repo: Repo, args: Sequence[str], stdin: IO[str]) -> list[str]:
    """The last commit of a `git cherry-pick` (hookrun calls it for that commit only; the
    earlier ones skipped the hook)."""
    return _after_sequence(repo, "cherry-picked")


def after_stopped_pick(repo: Repo, args: Sequence[str], stdin: IO[str]) -> list[str]:
    """The commit that ends the last pick after it stopped on a conflict (`--continue`, or a
    plain `git commit` for a single pick). git removed the sequencer and with it where the
    picks started, so nothing shows COST_LOG.md is right: it is rendered (and only staged,
    with a notice, when that changed it). No pick follows, so what is queued is recorded
    first, as after any commit."""
    lines = post_commit(repo, args, stdin)
    return lines + _settle(repo, [], "cherry-picked")


def after_reverts(repo: Repo, args: Sequence[str], stdin: IO[str]) -> list[str]:
    """The last commit of a `git revert` of several commits."""
    return _after_sequence(repo, "reverted")


def after_revert(repo: Repo, args: Sequence[str], stdin: IO[str]) -> list[str]:
    """The commit of a `git revert` of one commit: git merged COST_LOG.md back without the
    whole ledger, so it may be behind, as after a pick. Its commit is the user's next one
    too (no sequence to wait for), so what is queued is recorded first, as after any
    commit; a render that already took in the reverted ledger leaves nothing to say."""
    lines = post_commit(repo, args, stdin)
    return lines + _settle(repo, ["HEAD^"], "reverted")


def _after_sequence(repo: Repo, what: str) -> list[str]:
    """Each picked (or reverted) commit merged COST_LOG.md without the whole ledger, so
    it may be behind: not when the ledger and COST_LOG.md are, as a whole, as before the
    first pick (the picks changed neither) or as in the newest picked commit (picked onto
    a branch whose ledger had not moved). The queue waits for the next commit, as during
    a rebase: recording between picks would stage files the next pick trips over."""
    here = gitrepo.git_dir(repo)
    since = ["HEAD^"]
    try:  # several commits: git noted where HEAD was before the first
        start = (here / "sequencer" / "head").read_text(encoding="utf-8").strip()
        since = [start] if _is_hex(start) else []
    except (OSError, UnicodeDecodeError):
        pass
    for name in ("CHERRY_PICK_HEAD", "REVERT_HEAD"):
        try:
            tip = (here / name).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError):
            continue
        if _is_hex(tip):
            since.append(tip)
    return _settle(repo, since, what)


def _is_hex(text: str) -> bool:
    return bool(text) and not text.strip("0123456789abcdef")


def _settle(repo: Repo, since: Sequence[str], what: str) -> list[str]:
    """Render and stage COST_LOG.md unless the ledger and COST_LOG.md at HEAD are, as a
    whole, as they were at one of the commits in `since` (then as right as there)."""
    from costlog import config as config_mod
    from costlog import render
    from costlog.errors import CostlogError

    config = config_mod.load(repo.root)
    ours = [config.ledger_dir, config.output]
    for rev in since:
        try:
            if not gitrepo.diff_names(repo.root, rev, "HEAD", ours[0]) and not (
                gitrepo.diff_names(repo.root, rev, "HEAD", ours[1])
            ):
                return []
        except CostlogError:
            continue  # an unknown commit: render
    result = render.render(repo, config)
    if not result.changed:
        return []
    gitrepo.stage(repo.root, [config.output])
    return [
        f"re-rendered {config.output} for the {what} ledger and staged it; commit it "
        "(e.g. `git commit --amend --no-edit`)"
    ]


def _stage(repo: Repo, ledger_paths: Sequence[str]) -> None:
    from costlog import config as config_mod

    config = config_mod.load(repo.root)
    paths = [*ledger_paths]
    if config.output_path(repo.root).exists():
        paths.append(config.output)
    gitrepo.stage(repo.root, paths)


def post_merge(repo: Repo, args: Sequence[str], stdin: IO[str]) -> list[str]:
    """After a merge or pull that brought ledger files: bring COST_LOG.md up to date.

    After a merge commit (made without the merge driver, e.g. in another clone's config)
    it re-renders and stages COST_LOG.md for an amend. After a fast-forward it only says
    so: files left modified there would block the user's next checkout or rebase, and
    `costlog render` is the one command that fixes it.
    """
    from costlog import config as config_mod
    from costlog.errors import CostlogError

    if args and args[0] == "1":  # a squash merge made no commit: the commit after it checks
        from costlog.integration import watch

        watch.mark_squash(repo, watch.squash_tip(gitrepo.git_dir(repo)))
        return []
    config = config_mod.load(repo.root)
    try:
        if not gitrepo.diff_names(repo.root, "ORIG_HEAD", "HEAD", config.ledger_dir):
            return []
    except CostlogError:
        return []  # no ORIG_HEAD (a first pull into an empty branch): nothing to compare
    from costlog import render

    if len(gitrepo.parents(repo.root)) < 2:  # a fast-forward: keep the tree as it is
        if render.document(repo, config).changed:
            return [
                f"{config.output} is behind the merged ledger: run `costlog render` and commit it"
            ]
        return []
    result = render.render(repo, config)
    if not result.changed:
        return []
    gitrepo.stage(repo.root, [config.output])
    return [
        f"re-rendered {config.output} for the merged ledger and staged it; commit it "
        "(e.g. `git commit --amend --no-edit` on an unpushed merge)"
    ]
