"""Issue 12: Codex 0.171 writes a `rate_limits` report on every token_count event, so a
scan decodes it typed (`linestruct.Limits`) and keeps its snapshot without building a dict
(`limits.observe_typed`), and a session's figures are summed with each reset time made a
time once (`limits.summarize`). Every report must still give what reading the line as a
dict gives: the same snapshots, the same warnings, the same session figures."""

from __future__ import annotations

import copy
import json
import random
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from costlog.models import LimitWindow, RateLimits
from costlog.sources.codex import limits
from costlog.sources.codex.adapter import ADAPTER
from tests_support import codex_lines_as_dicts, read_rollout

SID = "019a0020-2222-7222-8222-222222222222"


def _fast_and_dict(path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    """The file read as a scan reads it, and with every line parsed as a dict: (offset,
    state, end time, warnings) each; the state holds the reports' snapshots."""
    fast = read_rollout(path)
    with codex_lines_as_dicts(monkeypatch):
        return fast, read_rollout(path)


def _window(pct: Any = 12.5, minutes: Any = 300, resets: Any = 1796162764) -> dict[str, Any]:
    return {"used_percent": pct, "window_minutes": minutes, "resets_at": resets}


def _report(**fields: Any) -> dict[str, Any]:
    """A report as Codex 0.171 writes it, with `fields` in place of its own."""
    report = {
        "limit_id": "codex",
        "limit_name": None,
        "primary": _window(),
        "secondary": _window(42.0, 10080, 1796245564),
        "credits": {"has_credits": True, "unlimited": False, "balance": "12.34"},
        "individual_limit": None,
        "spend_control_reached": None,
        "plan_type": "plus",
        "rate_limit_reached_type": None,
    }
    report.update(fields)
    return report


#: one odd value at a time in an otherwise real report
ODD_REPORTS: list[Any] = [
    _report(),
    _report(primary=_window(pct=True)),
    _report(primary=_window(pct="12")),
    _report(primary=_window(pct=None)),
    _report(primary=_window(pct=-1)),
    _report(primary=_window(pct=1001)),
    _report(primary=_window(pct=10**30)),
    _report(primary=_window(pct=100)),
    _report(primary=_window(pct=100.0)),
    _report(primary=_window(minutes=True)),
    _report(primary=_window(minutes=-1)),
    _report(primary=_window(minutes=1_000_001)),
    _report(primary=_window(minutes=300.0)),
    _report(primary=_window(minutes="300")),
    _report(secondary=_window(resets=17_000_000_001)),
    _report(secondary=_window(resets=-5)),
    _report(secondary=_window(resets=1.5)),
    _report(secondary=_window(resets=None)),
    _report(primary="odd"),
    _report(primary=[]),
    _report(primary=None),
    {k: v for k, v in _report().items() if k != "primary"},
    _report(primary={"used_percent": 3, "extra": {"nested": [1, 2]}}),
    _report(rate_limit_reached_type="primary"),
    _report(rate_limit_reached_type="not a name!"),
    _report(rate_limit_reached_type=True),
    _report(rate_limit_reached_type={}),
    _report(rate_limit_reached_type=""),
    _report(plan_type=None),
    _report(plan_type="not a name!"),
    _report(plan_type=5),
    _report(plan_type={"name": "plus"}),
    _report(plan_type=["plus"]),
    {k: v for k, v in _report().items() if k != "plan_type"},
    [],
    "odd",
    5,
    None,
]


def _token_count(second: int, total: int, report: Any) -> str:
    usage = {"input_tokens": total, "cached_input_tokens": 0, "output_tokens": 10}
    payload = {
        "type": "token_count",
        "info": {"total_token_usage": usage, "last_token_usage": {**usage, "input_tokens": 100}},
        "rate_limits": report,
    }
    record = {"timestamp": f"2026-03-05T09:{second // 60:02d}:{second % 60:02d}.000Z"}
    return json.dumps({**record, "type": "event_msg", "payload": payload})


def _rollout(path: Path, reports: list[Any]) -> Path:
    meta = {"id": SID, "cwd": "/w", "timestamp": "2026-03-05T09:00:00.000Z"}
    lines = [
        json.dumps({"timestamp": meta["timestamp"], "type": "session_meta", "payload": meta}),
        *(_token_count(i + 1, 100 * (i + 1), r) for i, r in enumerate(reports)),
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def test_odd_reports_keep_the_snapshots_and_warnings_of_a_dict_parse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _rollout(tmp_path / "rollout-odd.jsonl", ODD_REPORTS)
    fast, slow = _fast_and_dict(path, monkeypatch)
    assert fast == slow
    warnings = fast[3]
    assert len(fast[1]["limits"]) > 10  # the reports understood were kept, one per change
    odd = [w for w in warnings if "rate_limits not understood" in w]
    assert f"{path}:3: rate_limits not understood, not counted" in odd  # used_percent: true
    assert len(odd) == 15, warnings  # each report with a value not a share, minute or time


def test_a_duplicated_key_and_an_escaped_name_read_as_a_dict_parse_reads_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    line = _token_count(1, 100, _report())
    twice = line.replace('"plan_type": "plus"', '"plan_type": "plus", "plan_type": "pro"')
    escaped = _token_count(2, 200, _report()).replace('"plus"', '"pl\\u0075s"')
    path = tmp_path / "rollout-dup.jsonl"
    _rollout(path, [])
    path.write_text(path.read_text() + twice + "\n" + escaped + "\n")
    fast, slow = _fast_and_dict(path, monkeypatch)
    assert fast == slow
    assert [snap[-1] for snap in fast[1]["limits"]] == ["pro", "plus"]


def _reference(snapshots: list[tuple[Any, ...]], into: RateLimits | None) -> RateLimits | None:
    """The figures one report at a time, as `summarize` once worked them out: each window
    made on its first share, its peak the highest share, its minutes and reset time the
    last given; reached counted per event, the plan the last one stated."""
    out = into
    before: tuple[Any, Any, Any] = (None, None, None)
    for p_pct, p_min, p_reset, s_pct, s_min, s_reset, reached, stated, plan in snapshots:
        out = out or RateLimits()
        for name, pct, minutes, resets in (
            ("primary", p_pct, p_min, p_reset),
            ("secondary", s_pct, s_min, s_reset),
        ):
            window = getattr(out, name)
            when = datetime.fromtimestamp(resets, UTC) if resets is not None else None
            if window is None:
                if pct is not None:
                    setattr(out, name, LimitWindow(Decimal(pct), minutes, when))
                continue
            if pct is not None and Decimal(pct) > window.peak_pct:
                window.peak_pct = Decimal(pct)
            window.window_minutes = minutes if minutes is not None else window.window_minutes
            window.resets_at = when if when is not None else window.resets_at
        was, was_p, was_s = before
        near = limits._same_window
        if reached is not None and (
            reached != was or not near(p_reset, was_p) or not near(s_reset, was_s)
        ):
            out.reached += 1
        before = (reached, p_reset, s_reset)
        if stated:
            out.plan_stated, out.plan_type = True, plan
    return out


def _random_snapshot(rng: random.Random) -> tuple[Any, ...]:
    def window() -> tuple[Any, Any, Any]:
        pct = rng.choice([None, "0", "12.5", "42", "99.5", "100", "7"])
        minutes = rng.choice([None, 300, 10080])
        resets = rng.choice([None, 1796162764, 1796162800, 1796245564])
        return pct, minutes, resets

    reached = rng.choice([None, None, "primary", "secondary"])
    stated = rng.random() < 0.5
    plan = rng.choice([None, "plus", "pro"]) if stated else None
    return (*window(), *window(), reached, stated, plan)


@pytest.mark.parametrize("seed", range(40))
def test_session_figures_are_those_of_one_report_at_a_time(seed: int) -> None:
    rng = random.Random(seed)
    snapshots = [_random_snapshot(rng) for _ in range(rng.randint(0, 30))]
    start = None
    if rng.random() < 0.5:  # a second file of the session adds to the figures of the first
        start = _reference([_random_snapshot(rng) for _ in range(3)], None)
    expected = _reference(snapshots, copy.deepcopy(start))
    got = limits.summarize(iter(snapshots), copy.deepcopy(start))
    assert got == expected


def test_a_scan_reports_the_peak_and_the_last_reset_of_real_reports(tmp_path: Path) -> None:
    home = tmp_path / "codex" / "sessions" / "2026" / "03" / "05"
    reports = [
        _report(primary=_window(pct=12.5, resets=1796162764)),
        _report(primary=_window(pct=61.0, resets=1796162764)),
        _report(primary=_window(pct=3.5, resets=1796180764)),  # the window reset
    ]
    _rollout(home / f"rollout-2026-03-05T09-00-00-{SID}.jsonl", reports)
    warnings: list[str] = []
    (session,) = ADAPTER.scan([tmp_path / "codex"], warn=warnings.append, use_cache=False)
    figures = session.rate_limits
    assert warnings == []
    assert figures is not None and figures.primary is not None
    assert figures.primary.peak_pct == Decimal("61")
    assert figures.primary.resets_at == datetime.fromtimestamp(1796180764, UTC)
    assert figures.secondary is not None and figures.secondary.peak_pct == Decimal(42)
    assert figures.plan_stated and figures.plan_type == "plus"
