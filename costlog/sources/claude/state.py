"""Claude Code's own totals for a project's last session, from `~/.claude.json`.

When a Claude Code process exits it writes its in-process cost tracker into the global
config file, under `projects["<absolute cwd>"]`: `lastSessionId`, `lastCost` (USD, priced
client-side at list price), `lastTotalInputTokens`, `lastTotalOutputTokens`,
`lastTotalCacheCreationInputTokens`, `lastTotalCacheReadInputTokens`, and per model
`lastModelUsage: {model: {inputTokens, outputTokens, cacheReadInputTokens,
cacheCreationInputTokens, webSearchRequests, costUSD}}`. The tracker counts every call the
process made (main thread, in-process sub-agents, auxiliary calls) with final output
counts, so for that one session per project it is a check on what the transcript shows.
It only ever describes the *last* session that exited in that directory: costlog uses it
only when `lastSessionId` is the session being recorded.

Where: Claude Code keeps the file at `$CLAUDE_CONFIG_DIR/.claude.json` when that variable is
set, else `~/.claude.json`; an old install may still have only the legacy
`<config dir>/.config.json` (config dir = `$CLAUDE_CONFIG_DIR` or `~/.claude`), which Claude
Code reads when the new file is absent. The file also holds account and OAuth details:
costlog reads only the numbers of the one project entry and keeps nothing else.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from costlog.models import Usage
from costlog.safefs import read_regular

Warn = Callable[[str], None]

FILE_NAME = ".claude.json"
LEGACY_NAME = ".config.json"


@dataclass(frozen=True, slots=True)
class ModelTotals:
    #: cache creation split 5m/1h when the tracker wrote `cacheCreationEphemeral5m/1h...`
    #: (`split`), else all in cache_write_5m
    usage: Usage
    cost_usd: Decimal | None = None
    web_search_requests: int = 0
    split: bool = False


def model_totals(mu: Mapping[str, Any]) -> ModelTotals:
    """One model's totals as Claude Code's cost tracker writes them (`~/.claude.json`
    `lastModelUsage`, a transcript's `cost-state` line). Current versions also split cache
    creation into `cacheCreationEphemeral5mInputTokens` / `...1hInputTokens`; a total above
    their sum keeps the unsplit rest in 5m."""
    total = _int(mu.get("cacheCreationInputTokens"))
    five, hour = (
        mu.get("cacheCreationEphemeral5mInputTokens"),
        mu.get("cacheCreationEphemeral1hInputTokens"),
    )
    split = five is not None or hour is not None
    c5, c1 = (_int(five), _int(hour)) if split else (total, 0)
    return ModelTotals(
        usage=Usage(
            input=_int(mu.get("inputTokens")),
            output=_int(mu.get("outputTokens")),
            cache_read=_int(mu.get("cacheReadInputTokens")),
            cache_write_5m=c5 + max(total - c5 - c1, 0),
            cache_write_1h=c1,
        ),
        cost_usd=_money(mu.get("costUSD")),
        web_search_requests=_int(mu.get("webSearchRequests")),
        split=split,
    )


@dataclass(frozen=True, slots=True)
class LastSession:
    """What Claude Code recorded for a project's last session."""

    session_id: str
    project: str
    cost_usd: Decimal | None = None
    api_duration_ms: int | None = None
    usage: Usage = field(default_factory=Usage)
    models: dict[str, ModelTotals] = field(default_factory=dict)
    path: str = ""


def state_paths(env: Mapping[str, str], home: Path) -> list[Path]:
    """Where Claude Code's global config may be, in the order Claude Code prefers."""
    configured = (env.get("CLAUDE_CONFIG_DIR") or "").strip()
    base = _expand(configured, home) if configured else home
    config_home = base if configured else home / ".claude"
    return [base / FILE_NAME, config_home / LEGACY_NAME]


def _expand(value: str, home: Path) -> Path:
    if value == "~":
        return home
    return home / value[2:] if value.startswith("~/") else Path(value)


def find_state(env: Mapping[str, str], home: Path) -> Path | None:
    for path in state_paths(env, home):
        if path.is_file():
            return path
    return None


def last_session(path: Path, cwd: str, warn: Warn) -> LastSession | None:
    """The project entry for `cwd` (exactly as Claude Code keys it, else resolved)."""
    try:  # a regular file only, read within a time bound
        doc = json.loads(read_regular(path))
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        warn(f"{path}: cannot read Claude Code's state: {type(exc).__name__}")
        return None
    projects = doc.get("projects") if isinstance(doc, dict) else None
    if not isinstance(projects, dict):
        return None
    entry = projects.get(cwd)
    if entry is None:
        entry = projects.get(str(Path(cwd).resolve()))
    if not isinstance(entry, dict) or not isinstance(entry.get("lastSessionId"), str):
        return None
    return _parse(entry, cwd, str(path))


def _parse(entry: Mapping[str, Any], cwd: str, path: str) -> LastSession:
    usage = Usage(
        input=_int(entry.get("lastTotalInputTokens")),
        output=_int(entry.get("lastTotalOutputTokens")),
        cache_read=_int(entry.get("lastTotalCacheReadInputTokens")),
        cache_write_5m=_int(entry.get("lastTotalCacheCreationInputTokens")),
    )
    models: dict[str, ModelTotals] = {}
    raw_models = entry.get("lastModelUsage")
    for name, mu in raw_models.items() if isinstance(raw_models, dict) else []:
        if isinstance(name, str) and isinstance(mu, dict):
            models[name] = model_totals(mu)
    duration = entry.get("lastAPIDuration")
    return LastSession(
        session_id=str(entry["lastSessionId"]),
        project=cwd,
        cost_usd=_money(entry.get("lastCost")),
        api_duration_ms=_int(duration) if duration is not None else None,
        usage=usage,
        models=models,
        path=path,
    )


def _int(value: Any) -> int:
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return max(value, 0)
    if isinstance(value, float) and value.is_integer():
        return max(int(value), 0)
    return 0


def _money(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        money = Decimal(str(value))
    except InvalidOperation:
        return None
    return money if money.is_finite() and money >= 0 else None
