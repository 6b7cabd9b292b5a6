"""How long Claude Code keeps transcripts, and which of a repo's it holds, cheaply.

Claude Code deletes transcripts whose file was last written more than `cleanupPeriodDays`
days ago (default 30) when it starts. The setting lives in `settings.json` of its config dir
(the parent of each `projects/` root, so `CLAUDE_CONFIG_DIR` is honoured) and may also be
set in a project's `.claude/settings.json` or `.claude/settings.local.json`; the shortest
period found is the one that applies, since any of them can be in force when Claude starts.

`repo_sessions` lists this repo's sessions without reading transcripts through: discovery
(file names give the session ids), then, per file, only the lines up to the first `cwd`
and the first assistant line with usage, as the adapter decides them (a session's cwd is
the first one its main transcript logs; one with no usage is not a session to record).
A session whose every call replays an earlier one (resumed, then left) still looks like
one here; the caller confirms the few not yet recorded with the adapter.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from costlog.safefs import open_log, read_regular
from costlog.sources import cwd_inside
from costlog.sources._lines import bounded_lines
from costlog.sources.claude.discovery import discover

DEFAULT_DAYS = 30
SETTING = "cleanupPeriodDays"
#: settings files are small; one larger than this is not read
_MAX_SETTINGS = 1 << 20


@dataclass(frozen=True)
class Period:
    days: int
    #: the file that set it; None for Claude Code's default
    source: Path | None
    #: one line per settings file that could not be used
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class Listed:
    session_id: str
    #: the oldest mtime of its files (epoch seconds): the first of them to be deleted
    oldest: float
    #: the newest: when it was last written to
    newest: float
    cwd: str | None
    #: its transcript files, the main one first
    paths: tuple[Path, ...] = ()


def settings_files(roots: Sequence[Path], repo_root: Path) -> list[Path]:
    """The settings files whose `cleanupPeriodDays` can apply to this repo's transcripts."""
    found = [root.parent / "settings.json" for root in roots if root.name == "projects"]
    found += [
        repo_root / ".claude" / "settings.json",
        repo_root / ".claude" / "settings.local.json",
    ]
    return list(dict.fromkeys(found))


def period(files: Sequence[Path]) -> Period:
    """The shortest `cleanupPeriodDays` set in `files` (Claude Code's default without)."""
    best: Period | None = None
    problems: list[str] = []
    for path in files:
        value = _setting(path, problems)
        if value is not None and (best is None or value < best.days):
            best = Period(value, path)
    chosen = best or Period(DEFAULT_DAYS, None)
    return Period(chosen.days, chosen.source, tuple(problems))


def _setting(path: Path, problems: list[str]) -> int | None:
    try:
        raw = read_regular(path, limit=_MAX_SETTINGS + 1)
    except FileNotFoundError:
        return None
    except OSError as exc:
        problems.append(f"{path}: not read ({exc.strerror or exc})")
        return None
    try:
        data = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):
        problems.append(f"{path}: not valid JSON, so its {SETTING} is unknown")
        return None
    value = data.get(SETTING) if isinstance(data, dict) else None
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        problems.append(
            f"{path}: {SETTING} is {json.dumps(value)[:40]}, not a whole number of days"
        )
        return None
    return value


def repo_sessions(roots: Sequence[Path], repo_root: Path) -> list[Listed]:
    """This repo's sessions in the transcripts under `roots`, with their files' times."""
    by_id: dict[str, list[tuple[Path, bool]]] = {}
    for log in discover(roots, repo_root):
        by_id.setdefault(log.session_id, []).append((log.path, log.subagent))
    out = []
    for sid, files in by_id.items():
        mtimes = [m for m in (_mtime(p) for p, _sub in files) if m is not None]
        if not mtimes:
            continue
        # the main transcript's cwd decides; a sub-agent's only when there is none
        ordered = sorted(files, key=lambda f: f[1])
        cwd, used = None, False
        for path, _sub in ordered:
            found_cwd, found_usage = _peek(path)
            cwd = cwd or found_cwd
            used = used or found_usage
            if cwd and used:
                break
        if used and cwd is not None and cwd_inside(cwd, repo_root):
            paths = tuple(p for p, _sub in ordered)
            out.append(Listed(sid, min(mtimes), max(mtimes), cwd, paths))
    return out


def _peek(path: Path) -> tuple[str | None, bool]:
    """The first cwd in the file, and whether it has an assistant line with usage; reads
    only as far as it needs, and parses only the lines that can hold either."""
    cwd: str | None = None
    used = False
    try:
        with open_log(path) as handle:
            for raw in bounded_lines(handle):
                if isinstance(raw, int):
                    continue
                wants_cwd = cwd is None and b'"cwd"' in raw
                wants_usage = not used and b'"usage"' in raw
                if not (wants_cwd or wants_usage):
                    continue
                try:
                    obj = json.loads(raw)
                except (ValueError, RecursionError):
                    continue
                if not isinstance(obj, dict):
                    continue
                if wants_cwd and isinstance(obj.get("cwd"), str) and obj["cwd"]:
                    cwd = obj["cwd"]
                message = obj.get("message")
                if wants_usage and obj.get("type") == "assistant" and isinstance(message, dict):
                    used = isinstance(message.get("usage"), dict)
                if cwd is not None and used:
                    break
    except OSError:
        pass
    return cwd, used


def _mtime(path: Path) -> float | None:
    try:
        return path.stat().st_mtime
    except OSError:
        return None
