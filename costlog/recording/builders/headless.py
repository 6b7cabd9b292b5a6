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
The cost is Claude Code's own estimate, computed on the client at list prices (not what
the account is billed), and the method says so. Commits are linked by the run's time
window (labelled as such, by `recording.headless`).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from costlog.errors import CostlogError
from costlog.ledger.methods import HEADLESS, HEADLESS_AGENT
from costlog.models import Entry, ModelUsage, Usage
from costlog.timeutil import FIRST_YEAR, in_range
from costlog.yamlfile import clean_text


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
        usage = Usage(
            input=_count(numbers, "inputTokens"),
            output=_count(numbers, "outputTokens"),
            cache_read=_count(numbers, "cacheReadInputTokens"),
            cache_write_5m=_count(numbers, "cacheCreationInputTokens"),
        )
        cost = _money(numbers.get("costUSD"), path, f"modelUsage.{name}.costUSD")
        models[clean_text(str(name))] = ModelUsage(
            requests=max(turns, 1) if len(raw) == 1 else 1,
            usage=usage,
            cost_usd=cost,
            source="actual",
        )
    return models


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
    ended: datetime,
    agent: str = HEADLESS_AGENT,
    model: str | None = None,
) -> Entry:
    sid = result.get("session_id")
    if not isinstance(sid, str) or not sid:
        raise CostlogError("the result has no session_id", path=path)
    sid = clean_text(sid)  # a lone surrogate or NUL from the JSON: replaced, never a crash
    duration = result.get("duration_ms")
    seconds = duration / 1000 if isinstance(duration, int | float) and duration > 0 else 0
    try:
        started = ended - timedelta(seconds=seconds)
    except OverflowError:  # 1e300 ms, inf
        started = datetime.min
    if not in_range(started):
        raise CostlogError(
            f"`duration_ms` {duration!r} would start the run before {FIRST_YEAR}", path=path
        )
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
        methods={"cost": HEADLESS},
    )
