"""Everything COST_LOG.md and `costlog report` show, derived from ledger entries.

Nothing here is stored: it is recomputed from the ledger on every render. Money stays
Decimal until the very end, where the context turns it into decimal strings.

Functions take entries sorted by start time, as `Ledger.load_all` returns them (trend,
alerts and routing's ledger span rely on that order).

Rules a user can rely on (the template's methodology section says the same):
- An unpriced session (a model with no known price) counts $0 in sums and is flagged;
  it never feeds a median, a guide row or a routing estimate.
- A session's cost is split among its work items by the lines its commits changed for
  each item (see `work_item_split`), evenly when the commits say nothing.
- "Typical" always means the median over the ledger, so anomalies, their causes and
  routing adapt to the team's own numbers instead of fixed dollar amounts.
"""

from __future__ import annotations

import heapq
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from costlog.config import Config
from costlog.models import Entry, ModelUsage

if TYPE_CHECKING:
    from costlog.pricing.table import PriceTable

ZERO = Decimal(0)
MILLION = Decimal(1_000_000)
#: sessions listed per alert row (the JSON says how many more)
ALERT_SESSIONS = 5


UTC_ZONE = ZoneInfo("UTC")
ZERO_DELTA = timedelta(0)


# ---------------------------------------------------------------- per-entry facts


def cost(entry: Entry) -> Decimal:
    """An entry's known cost (unpriced models count 0 here and are flagged separately)."""
    if entry.cost_usd is not None:
        return entry.cost_usd
    return sum((mu.cost_usd or ZERO for mu in entry.models.values()), ZERO)


def primary(entry: Entry) -> str | None:
    """The entry's costliest model (Entry.primary_model, fast for one-model sessions)."""
    if len(entry.models) == 1:
        return next(iter(entry.models))
    return entry.primary_model


def priced(entry: Entry) -> bool:
    return entry.cost_usd is not None


def requests(entry: Entry) -> int:
    if len(entry.models) == 1:
        return next(iter(entry.models.values())).requests
    return sum(mu.requests for mu in entry.models.values())


def prompt_tokens(entry: Entry) -> int:
    if len(entry.models) == 1:
        return next(iter(entry.models.values())).usage.prompt_tokens
    return sum(mu.usage.prompt_tokens for mu in entry.models.values())


def hours(entry: Entry) -> float | None:
    if entry.ended is None:
        return None
    return max(0.0, (entry.ended - entry.started).total_seconds() / 3600)


def tasks(entry: Entry) -> int:
    return entry.tasks_completed or sum(entry.task_types.values())


def local_day(entry: Entry, tz: tzinfo) -> date:
    started = entry.started
    if started.tzinfo is tz or (tz is UTC_ZONE and started.utcoffset() == ZERO_DELTA):
        return started.date()
    return started.astimezone(tz).date()


def month_of(entry: Entry, tz: tzinfo) -> str:
    day = local_day(entry, tz)
    return f"{day.year:04d}-{day.month:02d}"


def short_id(entry_id: str) -> str:
    return entry_id.split("/", 1)[-1][:8]


def task_types_text(types: dict[str, int]) -> str:
    return ", ".join(f"{n} {t}" for t, n in types.items())


# ---------------------------------------------------------------- model classes


@cache
def _words(model: str) -> tuple[str, ...]:
    return tuple(re.split(r"[-_/.:@]", model.lower()))


@cache
def provider_of(model: str) -> str:
    name = model.lower()
    if "claude" in name or name.startswith(("opus", "sonnet", "haiku")):
        return "Anthropic"
    if name.startswith(("gpt", "o1", "o3", "o4", "codex", "chatgpt")):
        return "OpenAI"
    if "gemini" in name or "gemma" in name:
        return "Google"
    return "Other"


@cache
def family_of(model: str) -> str:
    """Model family for spend tables: Claude split into Opus/Sonnet/Haiku, Codex apart."""
    words = _words(model)
    for word in ("opus", "sonnet", "haiku"):
        if word in words:
            return f"Claude {word.capitalize()}"
    if "codex" in words:
        return "Codex"
    if provider_of(model) == "OpenAI":
        return "GPT"
    if "gemini" in words:
        return "Gemini Flash" if "flash" in words else "Gemini Pro" if "pro" in words else "Gemini"
    return "Other"


_SMALL_WORDS = frozenset({"haiku", "mini", "nano", "flash", "lite", "luna"})


@cache
def is_small(model: str) -> bool:
    """Haiku, *-mini, *-nano, Gemini Flash/Lite: the cheap tier of each provider."""
    return not _SMALL_WORDS.isdisjoint(_words(model))


def is_large(model: str) -> bool:
    words = _words(model)
    return not is_small(model) and ("opus" in words or "pro" in words)


@cache
def is_opus(model: str) -> bool:
    return "opus" in _words(model)


#: the next smaller model of the same provider, by family (first match wins)
SMALLER = (
    ("opus", "claude-sonnet-4-6"),
    ("sonnet", "claude-haiku-4-5"),
    ("gemini", "gemini-2.5-flash"),
    ("codex", "gpt-5.1-codex-mini"),
    ("gpt", "gpt-5-mini"),
)
#: what a risky task type on a small model should use instead, by provider
LARGER = {
    "Anthropic": "Claude Opus",
    "OpenAI": "GPT-5 / Codex (not mini)",
    "Google": "Gemini Pro",
    "Other": "a large model",
}


def smaller_model(model: str) -> str | None:
    if is_small(model):
        return None
    words = _words(model)
    return next(
        (small for word, small in SMALLER if word in words or words[0].startswith(word)), None
    )


# ---------------------------------------------------------------- typical values


def median(values: Sequence[Any]) -> Any:
    return statistics.median(values) if values else None


@dataclass(frozen=True)
class Typical:
    """Medians over the priced sessions of a ledger: what "usual" means for it."""

    cost: Decimal
    prompt_tokens: float
    requests: float
    hours: float
    subagents: float
    model_cost: dict[str, Decimal]
    model_hours: dict[str, float]

    @classmethod
    def of(cls, entries: Sequence[Entry]) -> Typical:
        costs: list[Decimal] = []
        prompts: list[int] = []
        counts: list[int] = []
        durations: list[float] = []
        subagents: list[int] = []
        model_costs: dict[str, list[Decimal]] = defaultdict(list)
        model_hours: dict[str, list[float]] = defaultdict(list)
        for entry in entries:
            if not priced(entry):
                continue
            amount, model, duration = cost(entry), primary(entry) or "-", hours(entry)
            costs.append(amount)
            prompts.append(prompt_tokens(entry))
            counts.append(requests(entry))
            subagents.append(entry.subagents)
            model_costs[model].append(amount)
            if duration is not None:
                durations.append(duration)
                model_hours[model].append(duration)
        return cls(
            cost=median(costs) or ZERO,
            prompt_tokens=median(prompts) or 0,
            requests=median(counts) or 0,
            hours=median(durations) or 0,
            subagents=median(subagents) or 0,
            model_cost={m: median(v) for m, v in model_costs.items()},
            model_hours={m: median(model_hours.get(m, [])) or 0.0 for m in model_costs},
        )


# ---------------------------------------------------------------- summaries


@dataclass
class Money:
    """Sums of cost and tasks over a group of sessions."""

    sessions: int = 0
    tasks: int = 0
    cost: Decimal = ZERO
    unpriced: int = 0

    def add(self, entry: Entry) -> None:
        self.sessions += 1
        self.tasks += entry.tasks_completed or 0
        self.cost += cost(entry)
        self.unpriced += 0 if priced(entry) else 1


def months(entries: Sequence[Entry], tz: tzinfo) -> list[dict[str, Any]]:
    """One row per calendar month, newest first; primary model = most sessions."""
    groups: dict[str, list[Entry]] = defaultdict(list)
    for entry in entries:
        groups[month_of(entry, tz)].append(entry)
    return [_month_row(month, groups[month]) for month in sorted(groups, reverse=True)]


def _month_row(month: str, group: list[Entry]) -> dict[str, Any]:
    total = Money()
    model_count: Counter[str] = Counter()
    model_cost: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for entry in group:
        total.add(entry)
        model = primary(entry) or "-"
        model_count[model] += 1
        model_cost[model] += cost(entry)
    top = max(model_count, key=lambda m: (model_count[m], model_cost[m], m))
    return {
        "month": month,
        "sessions": total.sessions,
        "tasks": total.tasks,
        "cost": total.cost,
        "per_session": total.cost / total.sessions,
        "per_task": total.cost / total.tasks if total.tasks else None,
        "primary_model": top,
        "primary_sessions": model_count[top],
        "unpriced": total.unpriced,
    }


def _same(model: str) -> str:
    return model


_LABELS: dict[str, Callable[[str], str]] = {
    "model": _same,
    "family": family_of,
    "provider": provider_of,
}


def spend_by(entries: Iterable[Entry], key: str) -> list[dict[str, Any]]:
    """Spend per model, model family or provider, from per-model costs inside sessions."""
    return spend_tables(entries, (key,))[key]


def spend_tables(
    entries: Iterable[Entry], keys: Sequence[str] = ("provider", "family", "model")
) -> dict[str, list[dict[str, Any]]]:
    """Several spend tables in one pass: a session counts once in each row it touches."""
    labels = [(key, _LABELS[key]) for key in keys]
    sums: dict[tuple[str, str], list[Any]] = {}  # [cost, sessions, tokens, unpriced]
    for entry in entries:
        seen: set[tuple[str, str]] = set()
        unpriced: set[tuple[str, str]] = set()
        for model, mu in entry.models.items():
            for key, label in labels:
                slot = (key, label(model))
                row = sums.get(slot)
                if row is None:
                    row = sums[slot] = [ZERO, 0, 0, 0]
                row[0] += mu.cost_usd or ZERO
                row[2] += mu.usage.total
                if slot not in seen:
                    seen.add(slot)
                    row[1] += 1
                if mu.cost_usd is None and slot not in unpriced:
                    unpriced.add(slot)
                    row[3] += 1
    return {
        key: _spend_rows(key, {name: v for (k, name), v in sums.items() if k == key})
        for key in keys
    }


def _spend_rows(key: str, sums: dict[str, list[Any]]) -> list[dict[str, Any]]:
    total = sum((v[0] for v in sums.values()), ZERO)
    return [
        {
            key: name,
            "sessions": v[1],
            "tokens": v[2],
            "cost": v[0],
            "share": v[0] / total if total else ZERO,
            "unpriced": v[3],
        }
        for name, v in sorted(sums.items(), key=lambda item: (-item[1][0], item[0]))
    ]


def trend(entries: Sequence[Entry], tz: tzinfo, n: int = 30) -> list[dict[str, Any]]:
    """The last n sessions, oldest first (the Mermaid chart and its table)."""
    return [
        {
            "id": e.id,
            "short_id": short_id(e.id),
            "date": local_day(e, tz).isoformat(),
            "agent": e.agent,
            "model": primary(e) or "-",
            "cost": e.cost_usd,
            "known_cost": cost(e),
        }
        for e in entries[-n:]
    ]


def family_trend(entries: Sequence[Entry], n: int = 30) -> list[dict[str, Any]]:
    """Spend per model family: the last n sessions next to the n before them."""
    last, before = entries[-n:], entries[-2 * n : -n] if len(entries) > n else []
    now = {r["family"]: r for r in spend_by(last, "family")}
    then = {r["family"]: r for r in spend_by(before, "family")}
    names = sorted(set(now) | set(then), key=lambda f: (-(now[f]["cost"] if f in now else ZERO), f))
    empty = {"sessions": 0, "cost": ZERO, "unpriced": 0}
    return [{"family": f, "last": now.get(f, empty), "before": then.get(f, empty)} for f in names]


# ---------------------------------------------------------------- work items


@cache
def _key_pattern(key: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w-]){re.escape(key)}(?![\w]|-\d)", re.IGNORECASE)


def work_item_split(entry: Entry) -> dict[str, Decimal]:
    """How a session's cost is shared among its work items.

    Each commit's changed lines (added + removed) go to the session's work items that its
    subject names; a commit that names none counts for every item equally. Each item gets
    the session's cost in proportion to its lines. No commits, or no lines: equal shares.
    """
    items = list(dict.fromkeys(entry.work_items))
    if len(items) < 2:
        return {item: cost(entry) for item in items}
    weights = dict.fromkeys(items, ZERO)
    for commit in entry.commits:
        named = [k for k in items if _key_pattern(k).search(commit.subject)] or items
        lines = Decimal(commit.added + commit.removed)
        for key in named:
            weights[key] += lines / len(named)
    total = sum(weights.values(), ZERO)
    if not total:
        weights, total = dict.fromkeys(items, Decimal(1)), Decimal(len(items))
    whole = cost(entry)
    return {key: whole * weight / total for key, weight in weights.items()}


def unlinked(entries: Iterable[Entry]) -> dict[str, Any]:
    """Sessions with no work item: the rest of the total the work-item table leaves out."""
    none = [e for e in entries if not e.work_items]
    return {"sessions": len(none), "cost": sum((cost(e) for e in none), ZERO)}


def work_items(entries: Iterable[Entry]) -> list[dict[str, Any]]:
    cost_by: dict[str, Decimal] = defaultdict(lambda: ZERO)
    sessions: Counter[str] = Counter()
    last: dict[str, datetime] = {}
    for entry in entries:
        for key, share in work_item_split(entry).items():
            cost_by[key] += share
            sessions[key] += 1
            last[key] = max(last.get(key, entry.started), entry.started)
    return [
        {
            "work_item": key,
            "sessions": sessions[key],
            "cost": cost_by[key],
            "last": last[key].date().isoformat(),
        }
        for key in sorted(cost_by, key=lambda k: (-cost_by[k], k))
    ]


def directories(entries: Iterable[Entry], configured: Sequence[str]) -> list[dict[str, Any]]:
    """Cost per configured repo directory, by where each session ran (its cwd).

    A session counts for the deepest configured directory that holds its cwd; sessions
    that ran elsewhere (e.g. at the repo root) form the "other" row, so the table adds up
    to the total. Empty when no directories are configured.
    """
    if not configured:
        return []
    dirs = sorted({d.strip("/") for d in configured if d.strip("/")}, key=len, reverse=True)
    cost_by: dict[str, Decimal] = defaultdict(lambda: ZERO)
    sessions: Counter[str] = Counter()
    for entry in entries:
        where = (entry.cwd or ".").strip("/")
        key = next((d for d in dirs if where == d or where.startswith(d + "/")), "(other)")
        cost_by[key] += cost(entry)
        sessions[key] += 1
    return [
        {"directory": key, "sessions": sessions[key], "cost": cost_by[key]}
        for key in sorted(cost_by, key=lambda k: (k == "(other)", -cost_by[k], k))
    ]


# ---------------------------------------------------------------- estimation guide


@cache
def guide_key(model: str) -> str:
    """The guide's model column: a Claude family (any version), else the model itself."""
    words = _words(model)
    for word in ("opus", "sonnet", "haiku"):
        if word in words:
            return f"claude-{word}"
    return model


def guide(entries: Sequence[Entry], config: Config) -> list[dict[str, Any]]:
    """Cost per task by model family and task type: measured once there is enough data.

    A session's cost per task is its cost divided by its tasks; it counts once for each
    task type it did, and once in its model's "any other task type" row (`*`), which is
    the fallback for task types without a row. Manual sessions (priced from this guide)
    and unpriced ones are left out. A measured row replaces the seed row of the same
    model and task type.
    """
    per_task: dict[tuple[str, str], list[Decimal]] = defaultdict(list)
    for entry in entries:
        n, model = tasks(entry), primary(entry)
        if not model or not n or entry.source == "manual" or not priced(entry):
            continue
        family, each = guide_key(model), cost(entry) / n
        for task_type in entry.task_types:
            per_task[(family, task_type)].append(each)
        per_task[(family, "*")].append(each)  # any other task type: the family's pool
        per_task[("*", "*")].append(each)
    rows = [
        _measured(key, values)
        for key, values in per_task.items()
        if len(values) >= config.guide_min_sessions
    ]
    measured = {(r["model"], r["task_type"]) for r in rows}
    rows += [row for row in _seeds(config) if (row["model"], row["task_type"]) not in measured]
    return sorted(
        rows, key=lambda r: (r["model"] == "*", r["model"], r["task_type"] == "*", r["task_type"])
    )


def _measured(key: tuple[str, str], values: list[Decimal]) -> dict[str, Any]:
    values = sorted(values)
    n, mid = len(values), len(values) // 2
    middle = values[mid] if n % 2 else (values[mid - 1] + values[mid]) / 2
    return {
        "model": key[0],
        "task_type": key[1],
        "low": values[n // 10],
        "high": values[-1 - n // 10],
        "median": middle,
        "n": n,
        "basis": "measured",
    }


def _seeds(config: Config) -> list[dict[str, Any]]:
    rows = []
    for seed in config.estimation_guide:
        low, high = Decimal(str(seed["low"])), Decimal(str(seed["high"]))
        rows.append(
            {
                "model": str(seed["model"]),
                "task_type": str(seed["task_type"]),
                "low": low,
                "high": high,
                "median": (low + high) / 2,
                "n": 0,
                "basis": "seed",
            }
        )
    return rows


def guide_rate(rows: Sequence[dict[str, Any]], model: str, task_type: str) -> Decimal | None:
    """Cost per task for a model and task type, from the best-matching guide row: the
    closest model first (exact or family, then name prefix, then `*`), then measured data
    over a seed, then the exact task type over `*`."""
    key = guide_key(model)
    best: tuple[tuple[int, int, int], Decimal] | None = None
    for row in rows:
        m, t = row["model"], row["task_type"]
        model_score = (
            3
            if m in (model, key)
            else 2
            if m != "*" and model.startswith(m)
            else 1
            if m == "*"
            else 0
        )
        type_score = 2 if t == task_type else 1 if t == "*" else 0
        if model_score and type_score:
            score = (model_score, int(row["basis"] == "measured"), type_score)
            if best is None or score > best[0]:
                best = (score, row["median"])
    return best[1] if best else None


# ---------------------------------------------------------------- anomalies


def anomalies(
    entries: Sequence[Entry],
    config: Config,
    typical: Typical | None = None,
    explain: int | None = None,
) -> list[dict[str, Any]]:
    """Priced sessions costing more than `anomaly_factor` x the median, costliest first.

    Causes are judged for the first `explain` rows (all when None): COST_LOG.md shows a few.
    """
    typical = typical or Typical.of(entries)
    if sum(1 for e in entries if priced(e)) < 3 or typical.cost <= 0:
        return []
    limit = typical.cost * config.anomaly_factor
    out: list[dict[str, Any]] = [
        {"entry": e, "cost": cost(e), "ratio": cost(e) / typical.cost}
        for e in entries
        if priced(e) and cost(e) > limit
    ]
    out.sort(key=lambda row: (-row["cost"], row["entry"].id))
    for row in out[:explain]:
        row["causes"] = causes(row["entry"], typical, config.anomaly_factor)
    return out


def causes(entry: Entry, typical: Typical, factor: Decimal) -> list[str]:
    """Likely reasons a session is expensive: where it is far from the ledger's median."""
    f = float(factor)
    found = [_model_cause(entry, typical, factor)]
    tokens = entry.tokens
    if tokens.prompt_tokens > f * typical.prompt_tokens > 0:
        share = tokens.cache_read / tokens.prompt_tokens
        found.append(
            f"large context: {tokens.prompt_tokens:,} prompt tokens, "
            f"{tokens.prompt_tokens / typical.prompt_tokens:.1f}x the median "
            f"({share:.0%} cache reads)"
        )
    if entry.subagents >= 3 and entry.subagents > f * typical.subagents:
        found.append(f"many subagents: {entry.subagents} (median {typical.subagents:g})")
    if requests(entry) > f * typical.requests > 0:
        found.append(f"many requests: {requests(entry)} (median {typical.requests:g})")
    duration = hours(entry)
    if duration is not None and duration >= 1 and duration > f * typical.hours:
        found.append(f"long session: {duration:.1f} h (median {typical.hours:.1f} h)")
    return [c for c in found if c] or ["no single cause stands out"]


def _model_cause(entry: Entry, typical: Typical, factor: Decimal) -> str:
    model = primary(entry) or "-"
    usual = typical.model_cost.get(model)
    if usual is None or usual <= typical.cost * factor:
        return ""
    return (
        f"expensive model: {model} (its median session {_usd(usual)}, "
        f"all sessions {_usd(typical.cost)})"
    )


# ---------------------------------------------------------------- budget alerts


def alerts(
    entries: Sequence[Entry], config: Config, tz: tzinfo, today: date | None = None
) -> list[dict[str, Any]]:
    """The five alerts, always in this order. Months and weeks end at the latest session
    (or `today`), so a render is the same whenever it runs, and names no date while the
    ledger is empty."""
    end = today or (local_day(entries[-1], tz) if entries else None)
    if end is None:
        return [
            _spike(entries, config),
            _monthly([], config, "-"),
            _rolling([], config, tz, None),
            _small_use([], config, "-"),
            _opus_use([], config, "-"),
        ]
    month = f"{end.year:04d}-{end.month:02d}"
    recent = _since(entries, tz, min(end.replace(day=1), end - timedelta(days=6)))
    in_month = [e for e in recent if month_of(e, tz) == month]
    return [
        _spike(entries, config),
        _monthly(in_month, config, month),
        _rolling(recent, config, tz, end),
        _small_use(in_month, config, month),
        _opus_use(in_month, config, month),
    ]


def _since(entries: Sequence[Entry], tz: tzinfo, first: date) -> list[Entry]:
    """The entries from local day `first` on (entries are sorted by start time)."""
    start = len(entries)
    while start and local_day(entries[start - 1], tz) >= first:
        start -= 1
    return list(entries[start:])


def _spike(entries: Sequence[Entry], config: Config) -> dict[str, Any]:
    limit = config.budget.session_spike_usd
    over = [e for e in entries if cost(e) > limit]
    return _alert(
        "Session cost spike",
        max((cost(e) for e in entries), default=ZERO),
        f"any session over {_usd(limit)}",
        bool(over),
        over,
        "Review: was a large model used appropriately?",
    )


def _monthly(in_month: list[Entry], config: Config, month: str) -> dict[str, Any]:
    limit = config.budget.monthly_usd
    spent = sum((cost(e) for e in in_month), ZERO)
    name = f"Monthly total ({month})"
    if limit is None:
        return _off(name, spent, "budget.monthly_usd", "Set a monthly budget")
    return _alert(
        name,
        spent,
        f"over {_usd(limit)}",
        spent > limit,
        in_month,
        "Review model routing decisions",
    )


def _rolling(
    entries: Sequence[Entry], config: Config, tz: tzinfo, end: date | None
) -> dict[str, Any]:
    limit = config.budget.rolling_7d_usd
    name, window = "Rolling 7-day spend", []
    if end is not None:
        first = end - timedelta(days=6)
        window = [e for e in entries if first <= local_day(e, tz) <= end]
        name += f" ({first.isoformat()} to {end.isoformat()})"
    spent = sum((cost(e) for e in window), ZERO)
    if limit is None:
        return _off(name, spent, "budget.rolling_7d_usd", "Set a weekly threshold")
    return _alert(
        name,
        spent,
        f"over {_usd(limit)}",
        spent > limit,
        window,
        "Look at the week's largest sessions",
    )


def _small_use(in_month: list[Entry], config: Config, month: str) -> dict[str, Any]:
    small = [e for e in in_month if any(is_small(m) for m in e.models)]
    need = config.budget.haiku_min_sessions
    return _alert(
        f"Small-model (Haiku) under-use ({month})",
        Decimal(len(small)),
        f"fewer than {need} small-model session{'s' if need != 1 else ''}",
        bool(in_month) and len(small) < need,
        [],
        "Are we using a large model for everything?",
        unit="count",
    )


def _opus_use(in_month: list[Entry], config: Config, month: str) -> dict[str, Any]:
    opus = [e for e in in_month if any(is_opus(m) for m in e.models)]
    share = Decimal(len(opus)) / len(in_month) if in_month else ZERO
    over = share > config.budget.opus_share_max
    return _alert(
        f"Opus over-use ({month})",
        share,
        f"over {config.budget.opus_share_max:.0%} of sessions",
        over,
        opus if over else [],
        "Are architecture decisions this frequent?",
        unit="share",
    )


def _alert(
    name: str,
    value: Decimal,
    threshold: str,
    fired: bool,
    sessions: Sequence[Entry],
    action: str,
    unit: str = "usd",
) -> dict[str, Any]:
    shown = (
        heapq.nsmallest(ALERT_SESSIONS, sessions, key=lambda e: (-cost(e), e.id)) if fired else []
    )
    return {
        "alert": name,
        "value": value,
        "unit": unit,
        "threshold": threshold,
        "state": "warning" if fired else "ok",
        "action": action,
        "sessions": [e.id for e in shown],
        "more": max(0, len(sessions) - ALERT_SESSIONS) if fired else 0,
    }


def _off(name: str, value: Decimal, setting: str, action: str) -> dict[str, Any]:
    row = _alert(name, value, f"not set ({setting})", False, [], action)
    row["state"] = "off"
    return row


def _usd(value: Decimal) -> str:
    return f"${value:,.2f}"


# ---------------------------------------------------------------- routing


def routing(
    entries: Sequence[Entry],
    config: Config,
    table: PriceTable | None = None,
    typical: Typical | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """Task types cheap and short on a large model -> a smaller one; risky types on a small
    model -> flagged. Evidence in every row."""
    if table is None:
        from costlog.pricing.table import PriceTable

        table = PriceTable.load()
    typical = typical or Typical.of(entries)
    groups = _by_type_and_model(entries)
    span = _months_spanned(entries)
    down = [
        row
        for (task_type, model), group in sorted(groups.items())
        if (row := _downgrade(task_type, model, group, config, table, typical, span))
    ]
    down.sort(key=lambda r: (-r["monthly_savings"], r["task_type"], r["model"]))
    risky = [
        _risky(task_type, model, group)
        for (task_type, model), group in sorted(groups.items())
        if _is_risky(task_type, config) and is_small(model)
    ]
    return {"downgrade": down, "risky": risky}


def _by_type_and_model(entries: Sequence[Entry]) -> dict[tuple[str, str], list[Entry]]:
    groups: dict[tuple[str, str], list[Entry]] = defaultdict(list)
    for entry in entries:
        model = primary(entry)
        if model and priced(entry):
            for task_type in entry.task_types:
                groups[(task_type, model)].append(entry)
    return groups


def _is_risky(task_type: str, config: Config) -> bool:
    return task_type.lower() in {t.lower() for t in config.risky_task_types}


def _months_spanned(entries: Sequence[Entry]) -> Decimal:
    if not entries:
        return Decimal(1)
    days = (entries[-1].started - entries[0].started).total_seconds() / 86400
    return max(Decimal(1), Decimal(str(round(days / 30, 2))))


def _downgrade(
    task_type: str,
    model: str,
    group: list[Entry],
    config: Config,
    table: PriceTable,
    typical: Typical,
    span: Decimal,
) -> dict[str, Any] | None:
    """Fires when a task type on a model is consistently cheap and short *for that model*:
    enough sessions, median cost and median duration below the model's own medians, and at
    least 3 in 4 of its sessions cheaper than the model's median session."""
    small = smaller_model(model)
    if small is None or table.rates(small) is None or _is_risky(task_type, config):
        return None
    if len(group) < config.guide_min_sessions:
        return None
    usual_cost, usual_hours = typical.model_cost[model], typical.model_hours[model]
    costs = [cost(e) for e in group]
    durations = [h for e in group if (h := hours(e)) is not None]
    cheap = sum(1 for c in costs if c < usual_cost)
    if not (
        median(costs) < usual_cost
        and cheap * 4 >= len(group) * 3
        and (not durations or median(durations) < usual_hours)
    ):
        return None
    saved = sum((_saving(e, model, small, table) for e in group), ZERO)
    return {
        "task_type": task_type,
        "model": model,
        "recommended": small,
        "n": len(group),
        "median": median(costs),
        "model_median": usual_cost,
        "median_hours": median(durations),
        "cheap_share": Decimal(cheap) / len(group),
        "monthly_savings": saved / span,
    }


def _saving(entry: Entry, model: str, small: str, table: PriceTable) -> Decimal:
    """This session's spend on `model` minus the same tokens at `small`'s base prices."""
    mu: ModelUsage = entry.models[model]
    rates = table.rates(small, entry.started.date())
    if rates is None or mu.cost_usd is None:
        return ZERO
    u = mu.usage
    repriced = (
        u.input * rates.input
        + u.output * rates.output
        + u.cache_read * rates.cache_read
        + u.cache_write_5m * rates.cache_write_5m
        + u.cache_write_1h * rates.cache_write_1h
    ) / MILLION
    return max(ZERO, mu.cost_usd - repriced)


def _risky(task_type: str, model: str, group: list[Entry]) -> dict[str, Any]:
    return {
        "task_type": task_type,
        "model": model,
        "n": len(group),
        "median": median([cost(e) for e in group]),
        "recommended": LARGER[provider_of(model)],
        "sessions": [e.id for e in group[-ALERT_SESSIONS:]],
    }


# ---------------------------------------------------------------- methodology


def methodology(entries: Sequence[Entry]) -> list[dict[str, Any]]:
    cost_by: dict[str, Decimal] = defaultdict(lambda: ZERO)
    count: Counter[str] = Counter()
    methods: dict[str, Counter[str]] = defaultdict(Counter)
    for entry in entries:
        cost_by[entry.source] += cost(entry)
        count[entry.source] += 1
        if entry.methods:
            methods[entry.source].update(f"{k}: {v}" for k, v in entry.methods.items())
    total = sum(cost_by.values(), ZERO)
    order = ["actual", "parsed", "estimated", "mixed", "manual"]
    order += sorted(s for s in count if s not in order)
    return [
        {
            "source": s,
            "sessions": count[s],
            "cost": cost_by[s],
            "share": cost_by[s] / total if total else ZERO,
            "methods": [m for m, _ in methods[s].most_common(3)],
        }
        for s in order
        if count[s]
    ]
