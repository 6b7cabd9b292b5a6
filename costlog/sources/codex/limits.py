"""Rate limits and plan from Codex `token_count` events.

Every `token_count` event may carry `rate_limits`: the `primary` (300-minute) and
`secondary` (weekly) windows with `used_percent`, `window_minutes` and `resets_at` (epoch
seconds), `rate_limit_reached_type` (null until a limit is hit) and `plan_type` (`"plus"`,
..., or null when the CLI runs on an API key). costlog keeps, per session, the peak
`used_percent` of each window, the last `window_minutes` and `resets_at`, how many times a
limit was reached (distinct events, see `summarize`), and the plan the log names.

Each report is kept (in the read cache) as a compact list of those values; consecutive
equal reports are one. Its key is its values, so a fork that replays its parent's lines
does not count the parent's reports again (see `sessions`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from costlog.models import LimitWindow, RateLimits
from costlog.sources.codex.rollout import FileData, Key

#: a plan or limit name as a log may write it; anything else is not kept
_NAME = re.compile(r"[A-Za-z0-9_.-]{1,40}")
#: far beyond any real epoch second (year ~2500); a larger one is not a time
MAX_EPOCH = 17_000_000_000
MAX_MINUTES = 1_000_000
#: used_percent above this is not a share of a window (it may pass 100 slightly)
_MAX_PCT = Decimal(1000)

Snapshot = tuple[Any, ...]
#: said of a report whose values are not well formed
NOT_UNDERSTOOD = "rate_limits not understood, not counted"
#: msgspec's UNSET, a typed report's absent `plan_type` (`observe_typed`), taken from
#: msgspec by the first such report: this module's other users never load msgspec
_UNSET: Any = None


def key_of(snapshot: Snapshot) -> Key:
    return ("limits", *snapshot)


def observe(data: FileData, raw: object, warn: Any, where: str) -> None:
    """Keep one `rate_limits` report of a token_count event (absent or null: nothing)."""
    if raw is None or not isinstance(raw, Mapping):  # None first: no ABC check per event
        return
    snap = snapshot(raw)
    if snap is None:
        warn(f"{where}: {NOT_UNDERSTOOD}")
        return
    _keep(data, snap)


def observe_typed(data: FileData, raw: Any) -> bool:
    """`observe` of a report msgspec decoded as a `linestruct.Limits`: the decode checked
    each window's number types and ranges, so only what `snapshot` checks beyond them is
    checked here. False when `observe` would not understand the report: the caller warns
    (`NOT_UNDERSTOOD`). Every token_count event of Codex 0.171 carries a report: this
    is `snapshot` without a dict lookup."""
    global _UNSET
    if _UNSET is None:  # msgspec is loaded: it made `raw`
        from msgspec import UNSET

        _UNSET = UNSET
    primary, secondary = _typed_window(raw.primary), _typed_window(raw.secondary)
    if primary is None or secondary is None:
        return False
    reached = raw.rate_limit_reached_type
    if reached is not None:
        reached = _reached(reached)
    plan = raw.plan_type
    stated, plan = (False, None) if plan is _UNSET else _plan(plan)
    _keep(data, (*primary, *secondary, reached, stated, plan))
    return True


def _keep(data: FileData, snap: Snapshot) -> None:
    """Keep a report's snapshot, unless it repeats the one before (consecutive equal
    reports are one)."""
    if not data.limits or data.limits[-1] != snap:
        data.limits.append(snap)


def _typed_window(raw: Any) -> tuple[str | None, int | None, int | None] | None:
    """`_window` of a `linestruct.Window`, whose numbers' types and ranges the decode
    checked (absent or null: no figures)."""
    if raw is None:
        return (None, None, None)
    used = raw.used_percent
    if used is None:
        return (None, raw.window_minutes, raw.resets_at)
    pct = _pct(used)
    return None if pct is None else (pct, raw.window_minutes, raw.resets_at)


def _plan(plan: object) -> tuple[bool, Any]:
    """(whether the report names its plan, the plan) of a `plan_type` the report has:
    null is an API key; a value no plan has is as if the report did not say."""
    if plan is None or (isinstance(plan, str) and _NAME.fullmatch(plan)):
        return True, plan
    return False, None


def _reached(reached: object) -> str | None:
    """A report's `rate_limit_reached_type` as `snapshot` keeps it."""
    if not isinstance(reached, str) or not reached:
        return None  # only a name says a limit was reached; true, 1 or {} say nothing
    return reached if _NAME.fullmatch(reached) else "other"


#: `_percent` of the used_percent values seen: every token_count event of a history carries
#: one, and the same few values come again and again (a Decimal each costs most of a report)
_PERCENTS: dict[tuple[type, float], str | None] = {}


def _pct(used: float) -> str | None:
    """`_percent`, memoised (`_PERCENTS`)."""
    key = (type(used), used)  # by type too: equal numbers of two types may read apart
    pct = _PERCENTS.get(key, "")
    if pct == "":
        pct = _percent(used)
        if len(_PERCENTS) < 4096:
            _PERCENTS[key] = pct
    return pct


def _percent(used: float) -> str | None:
    """used_percent as text (`12.5`, `42`), or None when it is not a share of a window."""
    try:
        value = Decimal(str(used))
    except InvalidOperation:
        return None
    if not value.is_finite() or value < 0 or value > _MAX_PCT:
        return None
    return str(value.normalize()) if value != value.to_integral() else str(int(value))


def _window(raw: object) -> tuple[str | None, int | None, int | None] | None:
    """(used_percent as text, window_minutes, resets_at), or None when malformed."""
    if raw is None:
        return (None, None, None)
    if not isinstance(raw, Mapping):
        return None
    used, minutes, resets = raw.get("used_percent"), raw.get("window_minutes"), raw.get("resets_at")
    pct: str | None = None
    if used is not None:
        if isinstance(used, bool) or not isinstance(used, int | float):
            return None
        pct = _pct(used)
        if pct is None:
            return None
    for number, top in ((minutes, MAX_MINUTES), (resets, MAX_EPOCH)):
        if number is not None and (
            isinstance(number, bool) or not isinstance(number, int) or not 0 <= number <= top
        ):
            return None
    return (pct, minutes, resets)


def snapshot(raw: Mapping[str, Any]) -> Snapshot | None:
    """The values costlog keeps of one report, or None when they are not well formed."""
    primary, secondary = _window(raw.get("primary")), _window(raw.get("secondary"))
    if primary is None or secondary is None:
        return None
    reached = _reached(raw.get("rate_limit_reached_type"))
    stated, plan = _plan(raw["plan_type"]) if "plan_type" in raw else (False, None)
    return (*primary, *secondary, reached, stated, plan)


class _Peak:
    """One window's figures over a session's reports, as `summarize` goes: its peak share
    (compared as text first: most reports repeat it) and the last minutes and reset time
    reported, the reset made a time once, at the end (`window`)."""

    __slots__ = ("minutes", "peak", "resets", "text", "was")

    def __init__(self, was: LimitWindow | None) -> None:
        self.was = was  # the window the figures are added to, as `into` had it
        self.peak = was.peak_pct if was is not None else None
        self.text: str | None = None  # the peak as a report wrote it
        self.minutes = was.window_minutes if was is not None else None
        self.resets: int | datetime | None = was.resets_at if was is not None else None

    def see(self, pct: str | None, minutes: int | None, resets: int | None) -> None:
        if self.peak is None:  # no report with a share yet: the window starts with one
            if pct is not None:
                self.peak, self.text = _decimal(pct), pct
                self.minutes, self.resets = minutes, resets
            return
        if pct is not None and pct != self.text:
            value = _decimal(pct)
            if value > self.peak:
                self.peak, self.text = value, pct
        if minutes is not None:
            self.minutes = minutes
        if resets is not None:
            self.resets = resets

    def window(self) -> LimitWindow | None:
        if self.peak is None:
            return None
        resets = self.resets
        when = datetime.fromtimestamp(resets, UTC) if isinstance(resets, int) else resets
        was = self.was
        if was is None:
            return LimitWindow(self.peak, self.minutes, when)
        was.peak_pct, was.window_minutes, was.resets_at = self.peak, self.minutes, when
        return was


#: `Decimal` of the shares seen (a few hundred values, again and again)
_DECIMALS: dict[str, Decimal] = {}


def _decimal(pct: str) -> Decimal:
    value = _DECIMALS.get(pct)
    if value is None:
        value = Decimal(pct)
        if len(_DECIMALS) < 4096:
            _DECIMALS[pct] = value
    return value


#: resets_at of one window may be written a few seconds apart between reports
_SAME_WINDOW_SECONDS = 60


def _same_window(a: int | None, b: int | None) -> bool:
    return a == b or (a is not None and b is not None and abs(a - b) <= _SAME_WINDOW_SECONDS)


def summarize(snapshots: Iterable[Snapshot], into: RateLimits | None = None) -> RateLimits | None:
    """The session's figures from its reports, in order, added to `into` when given.

    `reached` counts reach events, not reports: Codex repeats `rate_limit_reached_type` on
    every report while a limit holds, so a report starts a new event only when the one
    before it did not say reached, named another limit, or was of another window."""
    out = into
    before: tuple[str | None, int | None, int | None] = (None, None, None)
    primary = secondary = None
    for snap in snapshots:
        p_pct, p_min, p_reset, s_pct, s_min, s_reset, reached, stated, plan = snap
        if out is None:
            out = RateLimits()
        if primary is None or secondary is None:
            primary, secondary = _Peak(out.primary), _Peak(out.secondary)
        primary.see(p_pct, p_min, p_reset)
        secondary.see(s_pct, s_min, s_reset)
        was, was_primary, was_secondary = before
        if reached is not None and (
            reached != was
            or not _same_window(p_reset, was_primary)
            or not _same_window(s_reset, was_secondary)
        ):
            out.reached += 1
        before = (reached, p_reset, s_reset)
        if stated:
            out.plan_stated, out.plan_type = True, plan
    if out is not None and primary is not None and secondary is not None:
        out.primary, out.secondary = primary.window(), secondary.window()
    return out


def merge(into: RateLimits | None, other: RateLimits | None) -> RateLimits | None:
    """Two sessions' figures as one (a sub-agent rolled into its parent)."""
    if other is None or into is None:
        return into or other
    for name in ("primary", "secondary"):
        mine, theirs = getattr(into, name), getattr(other, name)
        if mine is None or (theirs is not None and theirs.peak_pct > mine.peak_pct):
            setattr(into, name, theirs)
    into.reached += other.reached
    if other.plan_stated and not into.plan_stated:
        into.plan_stated, into.plan_type = True, other.plan_type
    return into
