"""What lets the post-commit shim skip Python when there is nothing to record.

Python's start-up alone costs more than the commit itself, so the shim (hooks/shim.sh)
answers "nothing to do" by itself when it can: nothing queued, no claim left over, no
squash merge waiting for its commit, and no Claude Code log of this repo that went quiet
since the hook last looked. For the last point each Python run of the hook leaves
`<state dir>/idle-watch`:

    costlog idle-watch 1
    <idle_minutes>
    <$HOME>|<$CLAUDE_CONFIG_DIR>|<$XDG_CONFIG_HOME>     (the environment it looked with)
    <a dir or file to compare, one a line: Claude Code's roots, this repo's project dirs,
     aider's history (integration.agentlogs)>

with the time it looked as the file's mtime, and `idle-watch.stamp`, an empty file whose
mtime is before every log it has not dealt with yet (recorded, or remembered as seen).
The invariant the shim relies on: a log the hook still has to look at changed (its ctime,
which a tool that sets the mtime back moves forward) after the stamp. So the shim needs
one `find` for the logs changed since the stamp that have been quiet for `idle_minutes`.
A directory or config newer than idle-watch (a log or project added or removed since the
look, a setting changed) sends it to Python, which writes both anew, and so does anything
it cannot read as exactly this.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Mapping
from pathlib import Path

from costlog.gitrepo import Repo
from costlog.integration import agentlogs

WATCH = "idle-watch"
#: its companion, whose mtime is before every log not dealt with
STAMP = "idle-watch.stamp"
HEADER = "costlog idle-watch 1"
#: left by the post-merge hook after `git merge --squash`: the next commit checks COST_LOG.md
SQUASH = "squash-merged"
#: seconds the stamp is set before what it covers (coarse file system clocks)
SLACK = 2.0
#: the same for the time it looked (a file system clock lags the system clock by a tick)
LOOK_SLACK = 0.1


def env_key(env: Mapping[str, str]) -> str | None:
    values = [env.get(k) or "" for k in ("HOME", "CLAUDE_CONFIG_DIR", "XDG_CONFIG_HOME")]
    if any("|" in v or "\n" in v for v in values):
        return None  # not comparable by the shim: no file, so it always asks Python
    return "|".join(values)


def write(repo: Repo, minutes: int, env: Mapping[str, str], since: float) -> None:
    """Leave the watch file after a run that dealt with every log quiet for `minutes`
    (`since`: when that run started looking). Never fails: without the file the shim
    only loses its short cut."""
    from costlog.sources.claude.idle import RECENT, claude_project_dirs
    from costlog.sources.claude.paths import default_roots

    path = repo.state_dir / WATCH
    with contextlib.suppress(OSError):
        key = env_key(env)
        projects = claude_project_dirs(repo, env)
        names = [str(d) for d in [*default_roots(env, Path(env.get("HOME") or Path.home()))]]
        names += [str(d) for d in projects]
        names += agentlogs.watched(repo)  # aider's history: a change sends the shim to Python
        if key is None or any("\n" in n or "\r" in n for n in names):
            path.unlink(missing_ok=True)
            return
        seen = _seen(repo)
        recent = time.time() - RECENT
        stamp = since
        for folder in projects:
            stamp = min(stamp, _oldest_unseen(folder, seen, recent))
        # (hook runs never overlap, hookrun holds a lock: the two files need no ordering)
        logs = repo.state_dir / STAMP
        logs.touch()
        os.utime(logs, (stamp - SLACK, stamp - SLACK))
        tmp = path.with_name(f"{WATCH}.{os.getpid()}.tmp")
        tmp.write_text("\n".join([HEADER, str(max(0, minutes)), key, *names]) + "\n")
        os.utime(tmp, (since - LOOK_SLACK, since - LOOK_SLACK))
        os.replace(tmp, path)


def _seen(repo: Repo) -> dict[str, object]:
    """The logs the hook dealt with and their mtime then (sources.claude.idle keeps it)."""
    import json

    try:
        seen = json.loads((repo.state_dir / "idle-seen.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return seen if isinstance(seen, dict) else {}


def _oldest_unseen(folder: Path, seen: Mapping[str, object], recent: float) -> float:
    """The earliest mtime of a log here the hook has not dealt with (inf if none)."""
    oldest = float("inf")
    try:
        items = list(os.scandir(folder))
    except OSError:
        return oldest
    for item in items:
        if not item.name.endswith(".jsonl"):
            continue
        try:
            st = item.stat()
        except OSError:
            continue
        if st.st_mtime >= recent and seen.get(item.path) != st.st_mtime:
            oldest = min(oldest, st.st_mtime, st.st_ctime)
    return oldest


def mark_squash(repo: Repo, tip: str = "") -> None:
    """Note a squash merge of the branch whose newest commit is `tip` (if known)."""
    with contextlib.suppress(OSError):
        repo.state_dir.mkdir(parents=True, exist_ok=True)
        (repo.state_dir / SQUASH).write_text(f"{tip}\n")


def take_squash(repo: Repo) -> str | None:
    """The mark a squash merge left (removing it): the squashed branch's newest commit,
    "" when unknown; None when there is no mark."""
    path = repo.state_dir / SQUASH
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
        path.unlink()
    except OSError:
        return None
    tip = text.strip()
    return tip if tip and all(c in "0123456789abcdef" for c in tip) else ""


def squash_tip(git_dir: Path) -> str:
    """The newest commit `git merge --squash` wrote into SQUASH_MSG ("" if none)."""
    try:
        with open(git_dir / "SQUASH_MSG", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.startswith("commit "):
                    return line.split()[1] if len(line.split()) > 1 else ""
    except OSError:
        pass
    return ""
