"""Where Claude Code keeps its transcripts: shared by the adapter and the commit hook.

Kept apart from the adapter so the post-commit hook can find this repo's logs without
importing the reader. `CLAUDE_CONFIG_DIR` is a comma-separated list; an entry may name the
config dir or its `projects/`, and `~` is expanded. Without it: `$XDG_CONFIG_HOME/claude`
(default `~/.config/claude`) and `~/.claude`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path


def default_roots(env: Mapping[str, str], home: Path) -> list[Path]:
    configured = (env.get("CLAUDE_CONFIG_DIR") or "").strip()
    if configured:
        out = []
        for part in (p.strip() for p in configured.split(",")):
            if not part:
                continue
            path = home / part[2:] if part.startswith("~/") else home if part == "~" else Path(part)
            out.append(path if path.name == "projects" else path / "projects")
        return out
    xdg = env.get("XDG_CONFIG_HOME")
    config = Path(xdg) if xdg else home / ".config"
    return [config / "claude" / "projects", home / ".claude" / "projects"]


def encode_cwd(path: str) -> str:
    """Claude Code's project dir name for a cwd: every non-alphanumeric -> '-'."""
    return re.sub(r"[^A-Za-z0-9]", "-", path)
