"""Everything COST_LOG.md and `costlog report` show, derived from ledger entries.

Nothing here is stored: it is recomputed from the ledger on every render. Money stays
Decimal until the very end, where the context turns it into decimal strings.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from costlog.config import Config
from costlog.errors import ConfigError
from costlog.models import Entry

ZERO = Decimal(0)


def zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"unknown time zone {name!r}", hint="use an IANA name such as "
                          "Europe/Berlin or UTC") from None


def cost(entry: Entry) -> Decimal:
    """An entry's known cost (unpriced models count 0 here and are flagged separately)."""
    if entry.cost_usd is not None:
        return entry.cost_usd
    return sum((mu.cost_usd or ZERO for mu in entry.models.values()), ZERO)


def provider_of(model: str) -> str:
    name = model.lower()
    if "claude" in name or name.startswith(("opus", "sonnet", "haiku")):
        return "Anthropic"
    if name.startswith(("gpt", "o1", "o3", "o4", "codex", "chatgpt")):
        return "OpenAI"
    if "gemini" in name or "gemma" in name:
        return "Google"
    return "Other"


def family_of(model: str) -> str:
    """Model family for spend tables: Claude split into Opus/Sonnet/Haiku, Codex apart."""
    name = model.lower()
    for word in ("opus", "sonnet", "haiku"):
        if word in name:
            return f"Claude {word.capitalize()}"
    if "codex" in name:
        return "Codex"
    if name.startswith(("gpt", "o1", "o3", "o4", "chatgpt")):
        return "GPT"
    if "gemini" in name:
        return "Gemini Flash" if "flash" in name else "Gemini Pro" if "pro" in name else "Gemini"
    return "Other"


def is_large(model: str) -> bool:
    name = model.lower()
    return "opus" in name or ("pro" in name and "gemini" in name) or name.endswith("-pro")


def is_small(model: str) -> bool:
    name = model.lower()
    return any(w in name for w in ("haiku", "mini", "nano", "flash", "lite"))


def task_types_text(types: dict[str, int]) -> str:
    return ", ".join(f"{n} {t}" for t, n in types.items())


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
        self.unpriced += 1 if entry.cost_usd is None else 0


def local_day(entry: Entry, tz: tzinfo) -> date:
    return entry.started.astimezone(tz).date()


def months(entries: Sequence[Entry], tz: tzinfo) -> list[dict[str, Any]]:
    groups: dict[str, list[Entry]] = defaultdict(list)
    for entry in entries:
        groups[local_day(entry, tz).strftime("%Y-%m")].append(entry)
    rows = []
    for month in sorted(groups, reverse=True):
        group = groups[month]
        total = Money()
        model_cost: Counter[str] = Counter()
        for entry in group:
            total.add(entry)
            model_cost[entry.primary_model or "-"] += 1
        rows.append({
            "month": month,
            "sessions": total.sessions,
            "tasks": total.tasks,
            "cost": total.cost,
            "per_session": total.cost / total.sessions,
            "per_task": total.cost / total.tasks if total.tasks else None,
            "primary_model": model_cost.most_common(1)[0][0],
            "unpriced": total.unpriced,
        })
    return rows


def spend_by(entries: Iterable[Entry], key: str) -> list[dict[str, Any]]:
    """Spend per model, model family or provider, from per-model costs inside sessions."""
    label = {"model": lambda m: m, "family": family_of, "provider": provider_of}[key]
    cost_by: dict[str, Decimal] = defaultdict(lambda: ZERO)
    sessions: dict[str, set[str]] = defaultdict(set)
    tokens: Counter[str] = Counter()
    for entry in entries:
        for model, mu in entry.models.items():
            name = label(model)
            cost_by[name] += mu.cost_usd or ZERO
            sessions[name].add(entry.id)
            tokens[name] += mu.usage.total
    total = sum(cost_by.values(), ZERO)
    return [
        {key: name, "sessions": len(sessions[name]), "tokens": tokens[name],
         "cost": cost_by[name], "share": cost_by[name] / total if total else ZERO}
        for name in sorted(cost_by, key=lambda n: (-cost_by[n], n))
    ]


def work_item_split(entry: Entry) -> dict[str, Decimal]:
    """The documented rule: a session's cost is split equally among its work items."""
    if not entry.work_items:
        return {}
    share = cost(entry) / len(entry.work_items)
    return dict.fromkeys(entry.work_items, share)


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
        {"work_item": key, "sessions": sessions[key], "cost": cost_by[key],
         "last": last[key].date().isoformat()}
        for key in sorted(cost_by, key=lambda k: (-cost_by[k], k))
    ]


def guide(entries: Sequence[Entry], config: Config) -> list[dict[str, Any]]:
    """Cost per task by model and task type: measured where there is enough data."""
    per_task: dict[tuple[str, str], list[Decimal]] = defaultdict(list)
    for entry in entries:
        model = entry.primary_model
        if not model or not entry.task_types or entry.source == "manual":
            continue
        n = sum(entry.task_types.values())
        for task_type in entry.task_types:
            per_task[(model, task_type)].append(cost(entry) / n)
    rows = []
    for (model, task_type), values in sorted(per_task.items()):
        if len(values) >= config.guide_min_sessions:
            rows.append({"model": model, "task_type": task_type, "low": min(values),
                         "high": max(values), "median": statistics.median(values),
                         "n": len(values), "basis": "measured"})
    measured = {(r["model"], r["task_type"]) for r in rows}
    for seed in config.estimation_guide:
        key = (str(seed["model"]), str(seed["task_type"]))
        if key in measured:
            continue
        low, high = Decimal(str(seed["low"])), Decimal(str(seed["high"]))
        rows.append({"model": key[0], "task_type": key[1], "low": low, "high": high,
                     "median": (low + high) / 2, "n": 0, "basis": "seed"})
    return rows


def guide_rate(rows: Sequence[dict[str, Any]], model: str, task_type: str) -> Decimal | None:
    """Cost per task for a model and task type: the most specific guide row that matches."""
    best: tuple[int, Decimal] | None = None
    for row in rows:
        m, t = row["model"], row["task_type"]
        model_score = 3 if m == model else 2 if m != "*" and model.startswith(m) else \
            1 if m == "*" else 0
        type_score = 2 if t == task_type else 1 if t == "*" else 0
        if model_score and type_score:
            score = model_score * 3 + type_score
            if best is None or score > best[0]:
                best = (score, row["median"])
    return best[1] if best else None


def anomalies(entries: Sequence[Entry], config: Config) -> list[dict[str, Any]]:
    costs = [cost(e) for e in entries if e.cost_usd is not None]
    if len(costs) < 3:
        return []
    median = statistics.median(costs)
    limit = median * config.anomaly_factor
    out: list[dict[str, Any]] = []
    for entry in entries:
        c = cost(entry)
        if entry.cost_usd is not None and median > 0 and c > limit:
            out.append({"entry": entry, "cost": c, "ratio": c / median,
                        "causes": causes(entry, median, entries)})
    out.sort(key=lambda row: -row["cost"])
    return out


def causes(entry: Entry, median: Decimal, entries: Sequence[Entry]) -> list[str]:
    """Likely reasons a session is expensive, judged from its own numbers."""
    found = []
    model = entry.primary_model or ""
    if is_large(model):
        found.append(f"expensive model ({model})")
    tokens = entry.tokens
    if tokens.prompt_tokens and tokens.cache_read / tokens.prompt_tokens > Decimal("0.8") \
            and tokens.prompt_tokens > 2_000_000:
        found.append(f"large context ({tokens.prompt_tokens:,} prompt tokens, mostly cache reads)")
    if entry.subagents >= 3:
        found.append(f"many subagents ({entry.subagents})")
    requests = sum(mu.requests for mu in entry.models.values())
    typical = statistics.median([sum(mu.requests for mu in e.models.values()) or 1
                                 for e in entries])
    if requests > 3 * typical and requests > 20:
        found.append(f"many requests ({requests})")
    if entry.ended and entry.ended - entry.started > timedelta(hours=3):
        hours = (entry.ended - entry.started).total_seconds() / 3600
        found.append(f"long session ({hours:.1f} h)")
    return found or ["no single cause stands out"]


def alerts(entries: Sequence[Entry], config: Config, tz: tzinfo,
           today: date | None = None) -> list[dict[str, Any]]:
    budget = config.budget
    rows: list[dict[str, Any]] = []
    spikes = [e for e in entries if cost(e) > budget.session_spike_usd]
    rows.append(_alert("Session cost spike", max((cost(e) for e in entries), default=ZERO),
                       f"any session > {_usd(budget.session_spike_usd)}", bool(spikes), spikes,
                       "Review: was a large model used appropriately?"))
    by_month: dict[str, list[Entry]] = defaultdict(list)
    for entry in entries:
        by_month[local_day(entry, tz).strftime("%Y-%m")].append(entry)
    current = max(by_month) if by_month else None
    month_entries = by_month.get(current or "", [])
    month_cost = sum((cost(e) for e in month_entries), ZERO)
    if budget.monthly_usd is not None:
        rows.append(_alert(f"Monthly budget ({current or '-'})", month_cost,
                           f"> {_usd(budget.monthly_usd)}", month_cost > budget.monthly_usd,
                           month_entries if month_cost > budget.monthly_usd else [],
                           "Review model routing decisions"))
    if budget.rolling_7d_usd is not None:
        end = today or (entries[-1].started.astimezone(tz).date() if entries else date.today())
        window = [e for e in entries if end - timedelta(days=6) <= local_day(e, tz) <= end]
        spent = sum((cost(e) for e in window), ZERO)
        over = spent > budget.rolling_7d_usd
        rows.append(_alert(f"Rolling 7-day spend (to {end.isoformat()})", spent,
                           f"> {_usd(budget.rolling_7d_usd)}", over, window if over else [],
                           "Look at the week's largest sessions"))
    small = [e for e in month_entries if any(is_small(m) for m in e.models)]
    rows.append(_alert(f"Small-model (Haiku) under-use ({current or '-'})", Decimal(len(small)),
                       f"< {budget.haiku_min_sessions} small-model sessions",
                       bool(month_entries) and len(small) < budget.haiku_min_sessions, [],
                       "Are we using a large model for everything?", unit="count"))
    opus = [e for e in month_entries if is_large(e.primary_model or "")]
    share = Decimal(len(opus)) / len(month_entries) if month_entries else ZERO
    over = share > budget.opus_share_max
    rows.append(_alert(f"Opus over-use ({current or '-'})", share,
                       f"> {budget.opus_share_max:.0%} of sessions", over,
                       opus if over else [], "Are architecture decisions this frequent?",
                       unit="share"))
    return rows


def _alert(name: str, value: Decimal, threshold: str, fired: bool, sessions: Sequence[Entry],
           action: str, unit: str = "usd") -> dict[str, Any]:
    return {"alert": name, "value": value, "unit": unit, "threshold": threshold,
            "state": "warning" if fired else "ok", "action": action,
            "sessions": [e.id for e in sessions][:10], "more": max(0, len(sessions) - 10)}


def _usd(value: Decimal) -> str:
    return f"${value:.2f}"


def routing(entries: Sequence[Entry], config: Config) -> dict[str, list[dict[str, Any]]]:
    """Task types cheap on a large model -> a smaller one; risky types on a small model."""
    downgrade = []
    by_type: dict[tuple[str, str], list[Entry]] = defaultdict(list)
    for entry in entries:
        model = entry.primary_model or ""
        for task_type in entry.task_types:
            by_type[(task_type, model)].append(entry)
    for (task_type, model), group in sorted(by_type.items()):
        if task_type in config.risky_task_types or len(group) < 3:
            continue
        if is_small(model):
            continue
        costs = [cost(e) for e in group]
        median = statistics.median(costs)
        if median <= config.budget.session_spike_usd / 5:
            downgrade.append({"task_type": task_type, "model": model, "n": len(group),
                              "median": median, "recommended": _smaller(model)})
    risky = []
    for (task_type, model), group in sorted(by_type.items()):
        if task_type in config.risky_task_types and is_small(model):
            risky.append({"task_type": task_type, "model": model, "n": len(group),
                          "recommended": "a large model (e.g. claude-opus)"})
    return {"downgrade": downgrade, "risky": risky}


def _smaller(model: str) -> str:
    name = model.lower()
    if "claude" in name:
        return "claude-haiku-4-5"
    if "gemini" in name:
        return "gemini-2.5-flash"
    if name.startswith("gpt") or "codex" in name:
        return "gpt-5-mini"
    return "a smaller model"


def methodology(entries: Sequence[Entry]) -> list[dict[str, Any]]:
    cost_by: dict[str, Decimal] = defaultdict(lambda: ZERO)
    count: Counter[str] = Counter()
    methods: dict[str, set[str]] = defaultdict(set)
    for entry in entries:
        cost_by[entry.source] += cost(entry)
        count[entry.source] += 1
        methods[entry.source].update(f"{k}: {v}" for k, v in entry.methods.items())
    total = sum(cost_by.values(), ZERO)
    return [
        {"source": s, "sessions": count[s], "cost": cost_by[s],
         "share": cost_by[s] / total if total else ZERO, "methods": sorted(methods[s])[:5]}
        for s in ("actual", "parsed", "estimated", "mixed", "manual") if count[s]
    ]


def trend(entries: Sequence[Entry], n: int = 30) -> list[dict[str, Any]]:
    return [{"id": e.id, "date": e.started.date().isoformat(), "cost": cost(e)}
            for e in entries[-n:]]
