"""Which of this repo's Claude Code logs went idle: a few stats, no parsing.

The post-commit hook asks this on every commit, so it is kept light (no config, adapter or
YAML import): it lists the project dirs Claude Code keeps for this repo and compares each
log's mtime with what it saw last (`<state_dir>/idle-seen.json`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from costlog.gitrepo import Repo

#: the post-commit hook only picks up idle sessions this recent (seconds)
RECENT = 2 * 24 * 3600


def claude_project_dirs(repo: Repo, env: Mapping[str, str]) -> list[Path]:
    """Claude Code keeps a project's logs in a dir named after its cwd (non-alphanumerics
    -> '-'); sessions started in a subdirectory have a longer name with the same prefix."""
    from costlog.sources.claude.paths import default_roots, encode_cwd

    home = Path(env.get("HOME") or Path.home())
    prefix = encode_cwd(str(repo.root))
    found = []
    for base in default_roots(env, home):
        try:
            found += [d for d in base.iterdir() if d.name.startswith(prefix) and d.is_dir()]
        except OSError:
            continue
    return found


def idle_transcripts(
    repo: Repo, idle_minutes: int, env: Mapping[str, str], now: float
) -> list[Path]:
    """This repo's Claude Code transcripts that changed since last seen and are now idle."""
    import json

    seen_path = repo.state_dir / "idle-seen.json"
    try:
        seen = json.loads(seen_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        seen = {}
    limit = idle_minutes * 60
    out = []
    for folder in claude_project_dirs(repo, env):
        for path in folder.glob("*.jsonl"):
            try:
                mtime = path.stat().st_mtime
            except OSError:
                continue
            # older history is for `costlog backfill`, not for a commit hook
            if limit <= now - mtime <= RECENT and seen.get(str(path)) != mtime:
                out.append(path)
    return out


def remember(repo: Repo, paths: Sequence[Path]) -> None:
    import json

    from costlog.ledger.atomic import atomic_write

    if not paths:
        return
    seen_path = repo.state_dir / "idle-seen.json"
    try:
        seen = json.loads(seen_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        seen = {}
    for path in paths:
        try:
            seen[str(path)] = path.stat().st_mtime
        except OSError:
            continue
    atomic_write(seen_path, json.dumps(seen))


#: = Config.idle_minutes' default
DEFAULT_IDLE_MINUTES = 30


def quick_idle_minutes(root: Path) -> int:
    """`idle_minutes` from .costlog/config.yaml by a line scan (no YAML import), for the
    post-commit hook's early exit; 0 (check everything) when the line is not plain."""
    import re

    try:
        text = (root / ".costlog" / "config.yaml").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return DEFAULT_IDLE_MINUTES
    if "idle_minutes" not in text:
        return DEFAULT_IDLE_MINUTES
    found = re.search(r"^idle_minutes:[ \t]*(\d+)[ \t]*(?:#.*)?$", text, re.M)
    if found:
        return int(found.group(1))
    if not re.search(r"^[ \t]*[^#\s][^\n]*idle_minutes", text, re.M):
        return DEFAULT_IDLE_MINUTES  # only in a comment
    return 0
