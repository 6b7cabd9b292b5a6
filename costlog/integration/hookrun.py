"""What the installed hooks run (`costlog hook NAME`): fast, quiet, and never failing.

- `post-commit`: records what the SessionEnd hooks queued and sessions idle long enough,
  then stages the ledger files and COST_LOG.md it wrote for your next commit;
- `post-rewrite` (amend, rebase): moves the ledger's commit links to the new shas;
- `post-merge`: re-renders COST_LOG.md after a merge commit that brought ledger files
  (after a fast-forward it only says so);
- `session-end`: an agent's SessionEnd hook; appends its JSON to the queue and exits;
- `merge-driver`: git's merge driver for COST_LOG.md.

Every error goes to `<git common dir>/costlog/hook.log` with one line on stderr, and the
exit status is 0: a hook can never block or fail a commit. Nothing runs while a rebase,
merge or cherry-pick is in progress, nor with COSTLOG_SKIP=1 (costlog's own git commands
set it). Heavy modules (jinja2, the adapters, pricing) load only when there is work.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING

from costlog.gitrepo import Repo
from costlog.integration import queue

if TYPE_CHECKING:
    from costlog.config import Config

LOG = "hook.log"
#: = costlog.config.CONFIG_PATH (importing that module costs 15 ms; a test keeps them equal)
CONFIG_PATH = ".costlog/config.yaml"
#: files in the per-worktree git dir that mean "an operation is half done"
IN_PROGRESS = ("rebase-merge", "rebase-apply", "MERGE_HEAD", "CHERRY_PICK_HEAD", "REVERT_HEAD")
GIT_HOOKS = ("post-commit", "post-rewrite", "post-merge")
Say = Callable[[str], None]


def _say(line: str) -> None:
    print(f"costlog: {line}", file=sys.stderr)


def run(name: str, args: Sequence[str], stdin: IO[str], *, say: Say = _say) -> int:
    """Entry point for every hook; returns the exit status (0, except a conflicted merge)."""
    if os.environ.get("COSTLOG_SKIP") == "1":
        return 0
    repo: Repo | None = None
    try:
        if name == "session-end":
            return session_end(args, stdin)
        from costlog import gitrepo as repo_mod

        repo = repo_mod.find()
        if name == "merge-driver":
            return merge_driver(repo, args)
        if name not in GIT_HOOKS:
            raise ValueError(f"unknown hook {name!r}")
        if in_progress(repo, name) or not (repo.root / CONFIG_PATH).exists():
            return 0  # mid-rebase/merge/cherry-pick, or a repo costlog is not set up in
        with _single(repo) as mine:
            if mine:
                for line in _GIT_HOOK[name](repo, args, stdin):
                    say(line)
    except Exception as exc:
        where = _log_failure(repo, name)
        say(f"{name} hook skipped: {type(exc).__name__}: {_first_line(exc)} (details in {where})")
        # a merge driver that crashed must leave a conflict, never a silent "merged"
        return 1 if name == "merge-driver" else 0
    return 0


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


def git_dir(repo: Repo) -> Path:
    """This worktree's own git dir (rebase state lives there, not in the common dir)."""
    dot_git = repo.root / ".git"
    if dot_git.is_dir():
        return dot_git
    text = dot_git.read_text(encoding="utf-8").strip()
    path = Path(text.split(":", 1)[1].strip())
    return path if path.is_absolute() else (repo.root / path).resolve()


def in_progress(repo: Repo, hook: str = "post-commit") -> bool:
    """A rebase, merge or cherry-pick is half done: post-commit waits for it to finish.
    post-rewrite is how a rebase reports its end, and git runs post-merge while
    MERGE_HEAD still exists, so those two only skip inside a rebase (or never)."""
    if hook == "post-rewrite":
        return False
    names = IN_PROGRESS if hook == "post-commit" else IN_PROGRESS[:2]
    here = git_dir(repo)
    return any((here / name).exists() for name in names)


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


# ---------------------------------------------------------------- git hooks


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
    from costlog.sources.claude import idle

    # the common case, nothing queued and no log went idle: a few stats, no heavy import
    minutes = idle.quick_idle_minutes(repo.root)
    if not queue.pending(repo.state_dir) and not idle.idle_transcripts(
        repo, minutes, os.environ, time.time()
    ):
        return []
    if ledger_busy(repo):
        return []  # a `costlog record` or backfill is writing: the queue waits for next time
    from costlog.recording import auto as autorecord

    written: list[str] = []

    def stage() -> None:  # before the queue lets go of the items: a kill here loses nothing
        if written:
            _stage(repo, written)

    lines = autorecord.process_pending(repo, on_record=written.append, before_release=stage)
    if written:
        lines.append("staged the ledger and COST_LOG.md for your next commit")
    return lines


def _stage(repo: Repo, ledger_paths: Sequence[str]) -> None:
    from costlog import config as config_mod
    from costlog import gitops

    config = config_mod.load(repo.root)
    paths = [*ledger_paths]
    if config.output_path(repo.root).exists():
        paths.append(config.output)
    gitops.stage(repo.root, paths)


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
    from costlog.ledger.store import Ledger, parse_entry
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
    from costlog import gitops, render

    render.render(repo, config)
    gitops.stage(repo.root, [*ledger_paths, config.output])


def post_merge(repo: Repo, args: Sequence[str], stdin: IO[str]) -> list[str]:
    """After a merge or pull that brought ledger files: bring COST_LOG.md up to date.

    After a merge commit (made without the merge driver, e.g. in another clone's config)
    it re-renders and stages COST_LOG.md for an amend. After a fast-forward it only says
    so: files left modified there would block the user's next checkout or rebase, and
    `costlog render` is the one command that fixes it.
    """
    import subprocess

    from costlog import config as config_mod

    config = config_mod.load(repo.root)
    out = subprocess.run(
        ["git", "diff", "--name-only", "ORIG_HEAD", "HEAD", "--", config.ledger_dir],
        cwd=repo.root,
        capture_output=True,
        text=True,
    )
    if out.returncode != 0 or not out.stdout.strip():
        return []
    from costlog import gitops, render

    parents = subprocess.run(
        ["git", "rev-list", "--parents", "-n", "1", "HEAD"],
        cwd=repo.root,
        capture_output=True,
        text=True,
    ).stdout.split()
    if len(parents) < 3:  # a fast-forward: touching the tree would block the next checkout
        if render.document(repo, config).changed:
            return [
                f"{config.output} is behind the merged ledger: run `costlog render` and commit it"
            ]
        return []
    result = render.render(repo, config)
    if not result.changed:
        return []
    gitops.stage(repo.root, [config.output])
    return [
        f"re-rendered {config.output} for the merged ledger and staged it; commit it "
        "(e.g. `git commit --amend --no-edit` on an unpushed merge)"
    ]


_GIT_HOOK: dict[str, Callable[[Repo, Sequence[str], IO[str]], list[str]]] = {
    "post-commit": post_commit,
    "post-rewrite": post_rewrite,
    "post-merge": post_merge,
}


# ---------------------------------------------------------------- agent hooks


def session_end(args: Sequence[str], stdin: IO[str]) -> int:
    """Queue the ending session for the next post-commit hook; nothing slow here."""
    agent = args[args.index("--agent") + 1] if "--agent" in args else "claude-code"
    payload = read_payload(stdin)
    cwd = str(payload.get("cwd") or os.environ.get("CLAUDE_PROJECT_DIR") or os.getcwd())
    from costlog import gitrepo as repo_mod
    from costlog.errors import CostlogError

    try:
        repo = repo_mod.find(Path(cwd))
    except (CostlogError, OSError):
        return 0  # a session outside any git repo: nothing to record here
    item = {
        key: payload[key]
        for key in ("session_id", "transcript_path", "cwd", "reason", "hook_event_name")
        if payload.get(key)
    }
    item["agent"] = agent
    item["queued_at"] = int(time.time())
    queue.enqueue(repo.state_dir, item)
    return 0


def read_payload(stdin: IO[str]) -> dict[str, object]:
    """The hook's JSON input; {} for a terminal, empty or invalid input (never blocks)."""
    import json

    if stdin.isatty():
        return {}
    try:
        data = json.loads(stdin.read() or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


# ---------------------------------------------------------------- merge driver


def merge_driver(repo: Repo, args: Sequence[str]) -> int:
    """`%O %A %B %P`: a 3-way merge of COST_LOG.md; then its generated blocks are rendered
    from the merged ledger (ours in the work tree + the ledger files theirs added, found
    through the GITHEAD_<sha> variable `git merge` sets). Without that (rebase,
    cherry-pick), conflicts inside generated blocks take our side and the post-merge hook
    or `costlog render` brings them up to date. Hand-written conflicts stay (exit 1)."""
    import subprocess

    from costlog import render
    from costlog.errors import CostlogError

    base, ours, theirs, path = args[:4]
    done = subprocess.run(
        ["git", "merge-file", "-L", "ours", "-L", "base", "-L", "theirs", ours, base, theirs],
        capture_output=True,
    )
    if done.returncode < 0 or done.returncode > 127:
        return 1
    text = Path(ours).read_text(encoding="utf-8")
    try:
        resolved = render.resolve_conflicts(text, path)
    except CostlogError as exc:
        _say(exc.one_line())
        return 1
    fresh = _merged_render(repo)
    if fresh is not None:
        resolved = render.splice(resolved, fresh, path)
    Path(ours).write_text(resolved, encoding="utf-8")
    return 0


def _merged_render(repo: Repo) -> str | None:
    """COST_LOG.md as the merged ledger renders it, or None when theirs is unknown."""
    import subprocess

    from costlog import config as config_mod
    from costlog import render
    from costlog.commands import prsummary
    from costlog.ledger.store import Ledger

    heads = [k[len("GITHEAD_") :] for k in os.environ if k.startswith("GITHEAD_")]
    if len(heads) != 1:
        return None
    theirs = heads[0]
    config = config_mod.load(repo.root)
    since = subprocess.run(
        ["git", "merge-base", "HEAD", theirs], cwd=repo.root, capture_output=True, text=True
    ).stdout.strip()
    if not since:
        return None
    entries = {e.id: e for e in Ledger(repo, config.ledger_dir).load_all()}
    paths = prsummary.changed_files(repo.root, config.ledger_dir, since, theirs, "AM")
    for entry in prsummary.entries_at(repo.root, theirs, paths):
        entries.setdefault(entry.id, entry)
    merged = sorted(entries.values(), key=lambda e: (e.started, e.id))
    return render.document(repo, config, merged).text


def main() -> None:
    """`python -m costlog.integration.hookrun NAME ...`: what the shims run (no click)."""
    if len(sys.argv) < 2:
        print("usage: python -m costlog.integration.hookrun HOOK [ARGS...]", file=sys.stderr)
        sys.exit(2)
    sys.exit(run(sys.argv[1], sys.argv[2:], sys.stdin))


if __name__ == "__main__":
    main()
