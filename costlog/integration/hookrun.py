"""What the installed hooks run (`costlog hook NAME`): fast, quiet, and never failing.

- `post-commit`: records what the SessionEnd hooks queued and sessions idle long enough,
  then stages the ledger files and COST_LOG.md it wrote for your next commit;
- `post-rewrite` (amend, rebase): moves the ledger's commit links to the new shas;
- `post-merge`: re-renders COST_LOG.md after a merge commit that brought ledger files
  (after a fast-forward it only says so);
- `post-commit` of the last commit of a cherry-pick or revert: re-renders COST_LOG.md when
  the picked ledger files may have left it behind (the earlier picks skip the hook; git's
  HEAD reflog tells a commit of the cherry-pick or revert from one the user makes while it
  is stopped, which is an ordinary commit);
- `session-end`: an agent's SessionEnd hook; appends its JSON to the queue and exits;
- `merge-driver`: git's merge driver for COST_LOG.md.

This module is the runtime they share: it finds the repository, skips what must not run,
takes the one-run-at-a-time lock, and logs failures. What each hook does lives in
`githooks`, `rewrite`, `sessionend` and `mergedriver`, each imported only when its hook runs.

Every error goes to `<git common dir>/costlog/hook.log` with one line on stderr, and the
exit status is 0: a hook can never block or fail a commit. Nothing runs while a rebase,
merge or cherry-pick is in progress (but for the check at a cherry-pick's last commit),
nor with COSTLOG_SKIP=1 (costlog's own git commands set it). Heavy modules (jinja2, the
adapters, pricing) load only when there is work.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO

from costlog import gitrepo
from costlog.gcpause import gc_paused
from costlog.gitrepo import Repo

LOG = "hook.log"
#: = costlog.config.CONFIG_PATH (importing that module costs 15 ms; a test keeps them equal)
CONFIG_PATH = ".costlog/config.yaml"
#: files in the per-worktree git dir that mean "a rebase or merge is half done" (a
#: cherry-pick or revert is told by what made the commit: see `made_by`)
IN_PROGRESS = ("rebase-merge", "rebase-apply", "MERGE_HEAD")
#: what git's HEAD reflog names as the maker of a commit of a cherry-pick or revert (the
#: text before ": "): git's sequencer itself, or a `git commit` (the user's own or the one
#: `--continue` runs) that ends a pick stopped on a conflict
PICKED = ("cherry-pick", "revert", "commit (cherry-pick)")
#: how much of the reflog's end is read for its last line (a line holds a subject only)
REFLOG_TAIL = 16384
GIT_HOOKS = ("post-commit", "post-rewrite", "post-merge")
Say = Callable[[str], None]
#: a git hook: (repo, its arguments, its stdin) -> the lines to show the user
GitHook = Callable[[Repo, Sequence[str], IO[str]], list[str]]


def _say(line: str) -> None:
    print(f"costlog: {line}", file=sys.stderr)


def run(name: str, args: Sequence[str], stdin: IO[str], *, say: Say = _say) -> int:
    """Entry point for every hook; returns the exit status (0, except a conflicted merge)."""
    if os.environ.get("COSTLOG_SKIP") == "1":
        return 0
    repo: Repo | None = None
    try:
        if name == "session-end":
            from costlog.integration.sessionend import session_end

            return session_end(args, stdin)
        repo = gitrepo.find()
        if name == "merge-driver":
            from costlog.integration.mergedriver import merge_driver

            return merge_driver(repo, args, say=say)
        if name not in GIT_HOOKS:
            raise ValueError(f"unknown hook {name!r}")
        if not (repo.root / CONFIG_PATH).exists():
            return 0  # a repo costlog is not set up in
        hook = _git_hook(repo, name)
        if hook is None:
            return 0  # mid-rebase/merge/cherry-pick: wait for its end
        with _single(repo) as mine:
            if mine:
                for line in hook(repo, args, stdin):
                    say(line)
    except Exception as exc:
        where = _log_failure(repo, name)
        say(f"{name} hook skipped: {type(exc).__name__}: {_first_line(exc)} (details in {where})")
        # a merge driver that crashed must leave a conflict, never a silent "merged"
        return 1 if name == "merge-driver" else 0
    return 0


def _git_hook(repo: Repo, name: str) -> GitHook | None:
    """The function behind a git hook, importing only its own module; None while an
    operation is half done and the hook waits for its end."""
    if in_progress(repo, name):
        return None
    if name == "post-rewrite":
        from costlog.integration.rewrite import post_rewrite

        return post_rewrite
    from costlog.integration import githooks

    if name == "post-merge":
        return githooks.post_merge
    made = made_by(repo)
    if made not in PICKED:
        return githooks.post_commit  # also the user's own commit while a pick is stopped
    if not last_pick(repo):
        return None
    sequence = (gitrepo.git_dir(repo) / "sequencer").is_dir()
    if made == "cherry-pick" or sequence:
        return githooks.after_reverts if made == "revert" else githooks.after_picks
    if made == "commit (cherry-pick)":
        return githooks.after_stopped_pick
    return githooks.after_revert  # one revert: its commit records the queue as any commit


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else ""


def _log_failure(repo: Repo | None, name: str) -> str:
    base = (
        repo.state_dir
        if repo
        else Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "costlog"
    )
    path = base / LOG
    import traceback

    try:
        base.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(
                f"--- {time.strftime('%Y-%m-%dT%H:%M:%S%z')} {name} "
                f"cwd={os.getcwd()}\n{traceback.format_exc()}\n"
            )
    except OSError:
        return "nowhere: the log could not be written"
    return str(path)


def note(state_dir: Path, line: str) -> None:
    """One line in the hook log, for what a hook decided on its own (it gave up on a
    queued session); never fails."""
    with contextlib.suppress(OSError):
        state_dir.mkdir(parents=True, exist_ok=True)
        with open(state_dir / LOG, "a", encoding="utf-8") as handle:
            handle.write(f"--- {time.strftime('%Y-%m-%dT%H:%M:%S%z')} {line}\n")


def in_progress(repo: Repo, hook: str = "post-commit") -> bool:
    """A rebase or merge is half done: post-commit waits for it to finish. post-rewrite
    is how a rebase reports its end, and git runs post-merge while MERGE_HEAD still
    exists, so those two only skip inside a rebase (or never)."""
    if hook == "post-rewrite":
        return False
    names = IN_PROGRESS if hook == "post-commit" else IN_PROGRESS[:2]
    here = gitrepo.git_dir(repo)
    return any((here / name).exists() for name in names)


def made_by(repo: Repo) -> str:
    """What made the commit post-commit runs for, as git's HEAD reflog names it ("commit",
    "cherry-pick", "commit (cherry-pick)", ...). The files a cherry-pick leaves do not
    tell: after a conflict resolved by a plain `git commit`, `sequencer` stays until
    `--continue` or `--quit`, over the user's ordinary commits too. git's own picks keep
    CHERRY_PICK_HEAD through the hook (a `git commit` removes it first). Without a
    reflog, "commit": the commit is treated as an ordinary one, which is only slower."""
    here = gitrepo.git_dir(repo)
    if (here / "CHERRY_PICK_HEAD").exists():
        return "cherry-pick"
    try:
        with open(here / "logs" / "HEAD", "rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            handle.seek(max(0, size - REFLOG_TAIL))
            tail = handle.read()
    except OSError:
        return "commit"
    lines = tail.rstrip(b"\n").rsplit(b"\n", 1)
    _, tab, message = lines[-1].partition(b"\t")
    if not tab:
        return "commit"
    return message.decode("utf-8", errors="replace").partition(": ")[0]


def last_pick(repo: Repo) -> bool:
    """A commit of a cherry-pick or revert is its last one: for several commits git keeps
    the ones still to do, this one first, in `sequencer/todo`. Then costlog looks at
    COST_LOG.md, once."""
    here = gitrepo.git_dir(repo)
    if not (here / "sequencer").is_dir():
        return True
    try:
        text = (here / "sequencer" / "todo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return True  # cannot tell: look (looking twice is only slower)
    picks = [line for line in text.splitlines() if line.strip() and line[0] != "#"]
    return len(picks) <= 1


@contextlib.contextmanager
def _single(repo: Repo) -> Iterator[bool]:
    """One hook run at a time per repo; a second one finds the lock taken and leaves."""
    repo.state_dir.mkdir(parents=True, exist_ok=True)
    with open(repo.state_dir / "hook.lock", "a+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def main() -> None:
    """`python -m costlog.integration.hookrun NAME ...`: what the shims run (no click)."""
    if len(sys.argv) < 2:
        print("usage: python -m costlog.integration.hookrun HOOK [ARGS...]", file=sys.stderr)
        sys.exit(2)
    with gc_paused():  # as in the `costlog` program: see costlog.gcpause
        status = run(sys.argv[1], sys.argv[2:], sys.stdin)
    sys.exit(status)


if __name__ == "__main__":
    main()
