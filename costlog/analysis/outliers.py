"""Anomalies: priced sessions that cost far more than the ledger's median session, each
with the likely causes (where the session is far from the medians).

Which cost is an anomaly is judged against the whole ledger: money is money whatever the
agent. A session's shape (context, requests, subagents, hours) is judged against sessions
of the same kind only, since what a session counts depends on who recorded it: a record
by hand or an aider chat says 1 request, a Claude Code log counts every API call. So the
shape medians are those of the same agent's priced sessions when there are at least
`PEERS` of them, else those of the sessions read from agent logs, else the ledger's; each
cause names which.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from itertools import compress, repeat
from operator import eq
from typing import Any

from costlog.analysis.facts import Facts, dollars, hours, primary, requests
from costlog.analysis.typical import Typical
from costlog.config import Config
from costlog.models import Entry


def anomalies(
    entries: Sequence[Entry],
    config: Config,
    typical: Typical | None = None,
    explain: int | None = None,
    facts: Facts | None = None,
) -> list[dict[str, Any]]:
    """Priced sessions costing more than `anomaly_factor` x the median, costliest first.

    Causes are judged for the first `explain` rows (all when None): COST_LOG.md shows a few.
    `facts`, the render's one pass over `entries`, saves working them out again.
    """
    facts = facts or Facts(entries)
    typical = typical or Typical.of_facts(facts)
    tail = _over(facts, typical, config)
    out: list[dict[str, Any]] = [_row(facts, i, typical) for i in sorted(tail)]  # ledger order
    out.sort(key=lambda row: (-row["cost"], row["entry"].id))
    _explain(out[:explain], entries, typical, config, facts)
    return out


def top_anomalies(
    entries: Sequence[Entry],
    config: Config,
    typical: Typical,
    rows: int,
    facts: Facts,
) -> tuple[list[dict[str, Any]], int]:
    """`anomalies(...)[:rows]`, each with its causes, and how many anomalies there are in
    all, without a row for each of them: COST_LOG.md lists a few of a ledger's thousands.

    The anomalies are the tail of the cost order, so the costliest come off its end; the
    equal costs at the cut are all taken and put in id order, as `anomalies` sorts them."""
    tail = _over(facts, typical, config)
    known, ids = facts.priced, facts.entries
    picked: list[int] = []
    end = len(tail)
    while end and len(picked) < rows:
        start = end - 1
        while start and known[tail[start - 1]] == known[tail[end - 1]]:
            start -= 1
        picked += sorted(tail[start:end], key=lambda i: ids[i].id)  # equal costs, by id
        end = start
    out = [_row(facts, i, typical) for i in picked[:rows]]
    _explain(out, entries, typical, config, facts)
    return out, len(tail)


def _over(facts: Facts, typical: Typical, config: Config) -> list[int]:
    """The priced sessions over `anomaly_factor` x the median, cheapest first: the tail
    of the cost order (none when the median is 0 or there are under three sessions)."""
    order = facts.priced_order  # cheapest first
    if typical.cost <= 0 or len(order) < 3:
        return []
    limit = typical.cost * config.anomaly_factor
    priced = facts.priced
    over = len(order)
    while over and priced[order[over - 1]] > limit:  # type: ignore[operator]
        over -= 1
    return order[over:]


def _row(facts: Facts, i: int, typical: Typical) -> dict[str, Any]:
    amount: Decimal = facts.priced[i]  # type: ignore[assignment]  # a priced session
    return {"entry": facts.entries[i], "cost": amount, "ratio": amount / typical.cost}


def _explain(
    rows: list[dict[str, Any]],
    entries: Sequence[Entry],
    typical: Typical,
    config: Config,
    facts: Facts,
) -> None:
    """Each row's likely causes, against the medians of its peers."""
    peers = Peers(entries, typical, facts)
    for row in rows:
        label, like = peers.of(row["entry"])
        row["causes"] = causes(row["entry"], typical, config.anomaly_factor, like, label)


#: how many priced sessions of one agent make its own medians worth comparing with
PEERS = 3
#: entry sources whose counts were read from an agent's log (not typed or estimated)
_LOGGED = ("actual", "parsed")


class Peers:
    """The sessions a session's shape is compared with (module docstring), each group's
    medians computed once."""

    def __init__(self, entries: Sequence[Entry], typical: Typical, facts: Facts | None = None):
        self._entries = entries
        self._typical = typical
        self._facts = facts or Facts(entries)
        self._found: dict[str, tuple[str, Typical]] = {}

    def of(self, entry: Entry) -> tuple[str, Typical]:
        """(whose medians, as the word before "median" in a cause; the medians)."""
        if entry.agent not in self._found:
            self._found[entry.agent] = self._choose(entry.agent)
        return self._found[entry.agent]

    def _choose(self, agent: str) -> tuple[str, Typical]:
        facts = self._facts
        order = facts.priced_order
        agents = list(map(facts.agent.__getitem__, order))
        same = list(compress(order, map(eq, agents, repeat(agent))))  # in cost order
        if len(same) >= PEERS:
            return agent, Typical.of_facts(facts, same, models=False)
        if "logged" not in self._found:
            source = facts.source
            logged = [i for i in order if source[i] in _LOGGED]
            self._found["logged"] = (
                ("logged-session", Typical.of_facts(facts, logged, models=False))
                if len(logged) >= PEERS
                else ("ledger", self._typical)
            )
        return self._found["logged"]


def causes(
    entry: Entry,
    typical: Typical,
    factor: Decimal,
    like: Typical | None = None,
    label: str = "ledger",
) -> list[str]:
    """Likely reasons a session is expensive: a model whose sessions cost more than the
    ledger's median, or a shape far from the medians of `like` (sessions of its kind,
    named by `label`; the ledger's when None)."""
    f = float(factor)
    like = like or typical
    found = [_model_cause(entry, typical, factor)]
    tokens = entry.tokens
    if tokens.prompt_tokens > f * like.prompt_tokens > 0:
        share = tokens.cache_read / tokens.prompt_tokens
        found.append(
            f"large context: {tokens.prompt_tokens:,} prompt tokens, "
            f"{tokens.prompt_tokens / like.prompt_tokens:.1f}x the {label} median "
            f"({share:.0%} cache reads)"
        )
    if entry.subagents >= 3 and entry.subagents > f * like.subagents:
        found.append(f"many subagents: {entry.subagents} ({label} median {like.subagents:g})")
    if requests(entry) > f * like.requests > 0:
        found.append(f"many requests: {requests(entry)} ({label} median {like.requests:g})")
    duration = hours(entry)
    if duration is not None and duration >= 1 and duration > f * like.hours:
        found.append(f"long session: {duration:.1f} h ({label} median {like.hours:.1f} h)")
    return [c for c in found if c] or ["no single cause stands out"]


def _model_cause(entry: Entry, typical: Typical, factor: Decimal) -> str:
    model = primary(entry) or "-"
    usual = typical.model_cost.get(model)
    if usual is None or usual <= typical.cost * factor:
        return ""
    return (
        f"expensive model: {model} (its median session {dollars(usual)}, "
        f"all sessions {dollars(typical.cost)})"
    )
