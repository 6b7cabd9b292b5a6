"""How long Gemini CLI keeps a project's chats: `general.sessionRetention` in its settings.

Gemini CLI deletes, when it starts in a project, that project's chats last updated longer
ago than `maxAge` (`<n>h|d|w|m`, a month being 30 days) and, with `maxCount`, all but the
newest `maxCount`. Recent versions have it on by default with `maxAge: "30d"`; `enabled:
false` turns it off, and a `maxAge` shorter than `minRetention` (default `1d`) or
unreadable makes Gemini skip the cleanup. The user's `~/.gemini/settings.json` (beside the
`tmp/` data dir) is overridden key by key by the project's `.gemini/settings.json`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from costlog.safefs import read_regular

SETTING = "general.sessionRetention"
DEFAULTS: dict[str, Any] = {"enabled": True, "maxAge": "30d", "minRetention": "1d"}
_PERIOD = re.compile(r"(\d+)([hdwm])\Z")
_HOURS = {"h": 1, "d": 24, "w": 24 * 7, "m": 24 * 30}
_MAX_SETTINGS = 1 << 20


@dataclass(frozen=True)
class Policy:
    #: seconds a chat is kept after its last update; None: no age limit
    max_age: float | None
    #: as written, for the message ("30d")
    max_age_text: str | None
    #: newest chats kept per project; None: no count limit
    max_count: int | None
    #: the file that set the rule; None for the default
    source: Path | None
    problems: tuple[str, ...] = ()

    @property
    def deletes(self) -> bool:
        return self.max_age is not None or self.max_count is not None


def settings_files(roots: Sequence[Path], repo_root: Path) -> list[Path]:
    """User settings (beside each `tmp/` root) first, then the project's, which wins."""
    found = [root.parent / "settings.json" for root in roots if root.name == "tmp"]
    found.append(repo_root / ".gemini" / "settings.json")
    return list(dict.fromkeys(found))


def policy(files: Sequence[Path]) -> Policy:
    merged: dict[str, Any] = dict(DEFAULTS)
    source: Path | None = None
    problems: list[str] = []
    for path in files:
        own = _retention(path, problems)
        if own:
            merged.update(own)
            source = path
    if merged.get("enabled") is False:
        return Policy(None, None, None, source, tuple(problems))
    age_text = merged.get("maxAge")
    max_age = _seconds(age_text) if age_text else None
    minimum = _seconds(merged.get("minRetention")) or _seconds(DEFAULTS["minRetention"])
    count = merged.get("maxCount")
    if age_text and (max_age is None or (minimum is not None and max_age < minimum)):
        problems.append(
            f"{source or 'Gemini CLI settings'}: {SETTING}.maxAge {json.dumps(age_text)[:40]} is "
            "not one Gemini CLI accepts, so it deletes nothing by age"
        )
        return Policy(None, None, None, source, tuple(problems))
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        count = None
    return Policy(max_age, str(age_text) if age_text else None, count, source, tuple(problems))


def _retention(path: Path, problems: list[str]) -> dict[str, Any]:
    try:
        raw = read_regular(path, limit=_MAX_SETTINGS + 1)
    except FileNotFoundError:
        return {}
    except OSError as exc:
        problems.append(f"{path}: not read ({exc.strerror or exc})")
        return {}
    try:
        data = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):
        problems.append(f"{path}: not valid JSON, so its {SETTING} is unknown")
        return {}
    general = data.get("general") if isinstance(data, dict) else None
    found = general.get("sessionRetention") if isinstance(general, dict) else None
    return dict(found) if isinstance(found, dict) else {}


def _seconds(text: object) -> float | None:
    found = _PERIOD.match(text) if isinstance(text, str) else None
    if found is None or int(found.group(1)) == 0:
        return None
    return int(found.group(1)) * _HOURS[found.group(2)] * 3600.0
