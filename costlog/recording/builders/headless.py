"""A headless agent run's own result as a ledger entry: `costlog record --from-json FILE`.

For agent runs in CI, whose transcript is gone with the runner. Reads what
`claude -p --output-format json` prints (one result object), or the `stream-json` output
(its last `"type": "result"` line), or a JSON array of such events:

    {"type": "result", "session_id": "...", "duration_ms": 3952, "num_turns": 4,
     "total_cost_usd": 0.1045, "usage": {"input_tokens": 2, "output_tokens": 9, ...},
     "modelUsage": {"claude-opus-4-5-20251101": {"inputTokens": 8, "outputTokens": 269,
                    "cacheReadInputTokens": 23048, "cacheCreationInputTokens": 13507,
                    "costUSD": 0.1027}}}

`modelUsage` and `total_cost_usd` include sub-agents (`usage` covers only the main loop), so
they are what is recorded: per-model tokens and Claude Code's own cost, source `actual`.
Current versions split each model's cache writes (`cacheCreationEphemeral5mInputTokens`,
`...1hInputTokens`); the split is kept, as a 1-hour write costs 1.6x a 5-minute one. The
cost is Claude Code's own estimate, computed on the client at list prices (not what the
account is billed), and the method says so; it is a binary float, kept to the micro-dollar.

The result carries no times, only `duration_ms`. The run's times come from the session's
transcript when it is on this machine (its first and last request); else the result file's
modification time is taken as the end (the result is written when the run ends) and the
start as that minus `duration_ms`. `methods.times` says which. Commits are linked (by
`recording.headless`) by the transcript's evidence when it is here, else by the run's time
window, labelled as such.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from costlog.errors import CostlogError
from costlog.ledger.methods import HEADLESS, HEADLESS_AGENT
from costlog.models import Entry, ModelUsage, Session, Usage
from costlog.timeutil import FIRST_YEAR, from_epoch, in_range
from costlog.yamlfile import clean_text

#: Claude Code's costUSD is a float: its noise below the micro-dollar is dropped
_MICRO = Decimal("0.000001")


def load_result(path: Path) -> dict[str, Any]:
    """The result object in a `--output-format json` or `stream-json` file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CostlogError(f"cannot read: {exc}", path=path) from None
    candidates: list[Any] = []
    try:
        data = json.loads(text)
        candidates = data if isinstance(data, list) else [data]
    except ValueError:
        for line in text.splitlines():
            try:
                candidates.append(json.loads(line))
            except ValueError:
                continue
    results = [
        c
        for c in candidates
        if isinstance(c, dict) and (c.get("type") == "result" or "total_cost_usd" in c)
    ]
    if not results:
        raise CostlogError(
            "no agent result found",
            path=path,
            hint="expected the output of `claude -p --output-format json`",
        )
    return results[-1]


def _money(value: Any, path: Path, field: str) -> Decimal | None:
    if value is None:
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise CostlogError(f"`{field}` is not a number: {value!r}", path=path) from None
    if not amount.is_finite() or amount < 0:
        raise CostlogError(f"`{field}` must be a cost >= 0, not {value!r}", path=path)
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -6:
        amount = amount.quantize(_MICRO)
    return amount


def _count(raw: dict[str, Any], key: str) -> int:
    value = raw.get(key, 0)
    return value if isinstance(value, int) and value >= 0 else 0


def _models(result: dict[str, Any], path: Path, turns: int) -> dict[str, ModelUsage]:
    raw = result.get("modelUsage")
    if not isinstance(raw, dict) or not raw:
        return {}
    models = {}
    for name, numbers in raw.items():
        if not isinstance(numbers, dict):
            continue
        five, hour = _cache_writes(numbers)
        usage = Usage(
            input=_count(numbers, "inputTokens"),
            output=_count(numbers, "outputTokens"),
            cache_read=_count(numbers, "cacheReadInputTokens"),
            cache_write_5m=five,
            cache_write_1h=hour,
        )
        cost = _money(numbers.get("costUSD"), path, f"modelUsage.{name}.costUSD")
        models[clean_text(str(name))] = ModelUsage(
            requests=max(turns, 1) if len(raw) == 1 else 1,
            usage=usage,
            cost_usd=cost,
            source="actual",
        )
    return models


def _cache_writes(numbers: dict[str, Any]) -> tuple[int, int]:
    """(5-minute, 1-hour) cache writes of one model; a total above the split's sum (or no
    split, from an older Claude Code) is counted at the 5-minute rate."""
    total = _count(numbers, "cacheCreationInputTokens")
    five = _count(numbers, "cacheCreationEphemeral5mInputTokens")
    hour = _count(numbers, "cacheCreationEphemeral1hInputTokens")
    return five + max(total - five - hour, 0), hour


def run_times(
    result: dict[str, Any], path: Path, transcript: Session | None, ended: datetime | None
) -> tuple[datetime, datetime, str]:
    """(started, ended, what they are based on) of the run."""
    if transcript is not None and transcript.started and transcript.ended:
        where = transcript.paths[0] if transcript.paths else "its transcript"
        return transcript.started, transcript.ended, f"from the session's transcript ({where})"
    duration = result.get("duration_ms")
    seconds = duration / 1000 if isinstance(duration, int | float) and duration > 0 else 0
    if ended is not None:
        based = "ended when recorded (given); started = that minus the result's duration_ms"
    else:
        try:
            ended = from_epoch(path.stat().st_mtime)
        except OSError:
            ended = None
        if ended is None:
            raise CostlogError("cannot tell when the run ended (no file time)", path=path)
        based = (
            "no transcript of the session here: ended = when the result file was written, "
            "started = that minus the result's duration_ms"
        )
    try:
        started = ended - timedelta(seconds=seconds)
    except OverflowError:  # 1e300 ms, inf
        started = datetime.min
    if not in_range(started):
        raise CostlogError(
            f"`duration_ms` {duration!r} would start the run before {FIRST_YEAR}", path=path
        )
    return started, ended, based


def _fallback_model(result: dict[str, Any], model: str | None, path: Path) -> dict[str, ModelUsage]:
    usage = result.get("usage") if isinstance(result.get("usage"), dict) else {}
    assert isinstance(usage, dict)
    if model is None:
        raise CostlogError(
            "the result has no modelUsage", path=path, hint="pass --model to say which model ran"
        )
    return {
        model: ModelUsage(
            requests=max(int(result.get("num_turns") or 1), 1),
            usage=Usage(
                input=_count(usage, "input_tokens"),
                output=_count(usage, "output_tokens"),
                cache_read=_count(usage, "cache_read_input_tokens"),
                cache_write_5m=_count(usage, "cache_creation_input_tokens"),
            ),
            cost_usd=_money(result.get("total_cost_usd"), path, "total_cost_usd"),
            source="actual",
        )
    }


def headless_entry(
    result: dict[str, Any],
    path: Path,
    *,
    ended: datetime | None = None,
    transcript: Session | None = None,
    agent: str = HEADLESS_AGENT,
    model: str | None = None,
) -> Entry:
    """The entry of one result. `transcript`: the session's transcript when found (its times
    are the run's); `ended`: when the run ended, if known (else the file's time)."""
    sid = result_session_id(result, path)
    started, ended, based = run_times(result, path, transcript, ended)
    turns = result.get("num_turns") if isinstance(result.get("num_turns"), int) else 1
    models = _models(result, path, int(turns or 1)) or _fallback_model(result, model, path)
    total = _money(result.get("total_cost_usd"), path, "total_cost_usd")
    if total is None and all(m.cost_usd is not None for m in models.values()):
        total = sum((m.cost_usd or Decimal(0) for m in models.values()), Decimal(0))
    return Entry(
        id=f"{agent}/{sid}",
        agent=agent,
        started=started,
        ended=ended,
        models=models,
        cost_usd=total,
        source="actual",
        methods={"cost": HEADLESS, "times": based},
    )


def result_session_id(result: dict[str, Any], path: Path) -> str:
    sid = result.get("session_id")
    if not isinstance(sid, str) or not sid:
        raise CostlogError("the result has no session_id", path=path)
    return clean_text(sid)  # a lone surrogate or NUL from the JSON: replaced, never a crash
