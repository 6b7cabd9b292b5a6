"""The `methods.cost` and `methods.pricing` strings costlog writes, and which entries may
carry them.

These two keys decide how `costlog check` verifies an entry's money: a cost typed by
hand or imported is checked by its sum only, a cost the agent logged likewise, a guide
estimate against the guide. So they are not free text: a ledger file is repo content
that anyone can edit, and adding `cost: "entered by hand"` to an entry read from a log
must not turn its cost into an unverifiable claim. Each string is matched exactly, never
by a substring, and it must agree with the entry's `source` and agent, the way the code
that writes it (recording.builders, pricing.requests) leaves them. Anything else is a
check failure at the line of `methods`.

The builders take their strings from here, so writer and checker cannot drift apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from costlog.ledger.format import money
from costlog.models import Entry

#: `costlog record --model M --cost X`
HAND = "entered by hand"
#: `costlog record --model M --input-tokens ...`; the table is the one it was priced with
#: (the demo ledger writes it without a table)
HAND_TOKENS = "tokens entered by hand, priced from table"
#: `costlog record --model M --tasks/--task-types` (a per-task rate from the guide)
GUIDE = "estimation guide: "
GUIDE_NO_ROW = "estimation guide: no matching row"
#: `costlog import FILE`: a row of a hand-kept cost log
IMPORTED = "imported from {name} (hand-kept, task-based estimate)"
#: `costlog record --from-json FILE`: what `claude -p --output-format json` printed
HEADLESS = (
    "claude -p result: modelUsage.costUSD / total_cost_usd (Claude Code's list-price "
    "estimate, incl. sub-agents)"
)
#: the agent `record --from-json` records
HEADLESS_AGENT = "claude-code"
#: a pricing rule of pricing.requests: the agent's own cost for a request was kept
AGENT_LOGGED = "cost as logged by the agent"
#: costlog's adapters whose logs carry a cost per request: Claude Code (OpenTelemetry
#: events, and `costUSD` in old transcripts), aider and OpenCode. An adapter installed
#: from another package may too (see `problem`).
LOGGING_AGENTS = frozenset({"claude-code", "aider", "opencode"})
#: costlog's own adapters whose logs carry no cost
_SILENT_AGENTS = frozenset({"codex", "gemini", "llm", "api", "rundir", "manual"})
#: the sources an entry with logged costs can have: a log's numbers, never a guess or a
#: hand entry (aider's chat history is `parsed`; one model of two estimated: `mixed`)
LOGGED_SOURCES = frozenset({"actual", "parsed", "mixed"})

_HAND_TOKENS = re.compile(re.escape(HAND_TOKENS) + r"(?: \S.*)?\Z")
_IMPORTED = re.compile(
    re.escape(IMPORTED.split("{name}")[0]) + r".+" + re.escape(IMPORTED.split("{name}")[1]) + r"\Z"
)
#: the rules pricing.table and pricing.requests name, each with its count of requests
_RULE = (
    r"(?:long-context rate \(prompt > \d{1,3}(?:,\d{3})* tokens\)"
    rf"|{re.escape(AGENT_LOGGED)}"
    r"|[\w.-]+ mode x\d+(?:\.\d+)?"
    r"|[\w.-]+ mode: no multiplier known for [^,]+; standard price used)"
    r": (\d+) requests?"
)
_PRICING = re.compile(rf"{_RULE}(?:, {_RULE})*\Z")
_LOGGED = re.compile(rf"(?:\A|, ){re.escape(AGENT_LOGGED)}: (\d+) requests?(?=, |\Z)")
_GUIDE_PART = re.compile(r"(\d+) x (.+?) @ \$(\d+\.\d{4})\Z")


@dataclass(frozen=True, slots=True)
class Problem:
    #: the methods key at fault ("cost", "pricing")
    key: str
    message: str


@dataclass(frozen=True, slots=True)
class GuidePart:
    count: int
    task_type: str
    #: the rate as the method prints it (4 places)
    printed: str


def imported(name: str) -> str:
    return IMPORTED.format(name=name)


def is_imported(method: str) -> bool:
    return _IMPORTED.match(method) is not None


def hand_tokens(table: str) -> str:
    return f"{HAND_TOKENS} {table}"


def guide_parts(method: str) -> list[GuidePart] | None:
    """The `N x TYPE @ $RATE` parts of a guide method, or None when it is not one."""
    if not method.startswith(GUIDE) or method == GUIDE_NO_ROW:
        return None
    parts = []
    for text in method[len(GUIDE) :].split(", "):
        match = _GUIDE_PART.match(text)
        if match is None:
            return None
        parts.append(GuidePart(int(match.group(1)), match.group(2), match.group(3)))
    return parts


def logged_requests(pricing: str) -> int:
    """How many requests `methods.pricing` says kept the agent's own cost."""
    match = _LOGGED.search(pricing)
    return int(match.group(1)) if match else 0


def problem(entry: Entry, logs_costs: bool | None = None) -> Problem | None:
    """Why the entry's `methods.cost` / `methods.pricing` are not what costlog writes for
    an entry of its source and agent; None when they are (or it has neither).

    `logs_costs`: whether the entry's agent has an installed adapter from another package
    (which may log costs); None: only costlog's own adapters are known."""
    methods = entry.methods
    cost = methods.get("cost")
    pricing = methods.get("pricing")
    if cost is not None:
        found = _cost_problem(entry, cost)
        if found is not None:
            return found
        if pricing is not None:
            return Problem("pricing", "costlog never writes a pricing rule beside methods.cost")
    if pricing is not None:
        return _pricing_problem(entry, pricing, logs_costs)
    return None


def _cost_problem(entry: Entry, method: str) -> Problem | None:
    manual = entry.source == "manual"
    what = (
        "a cost typed by hand"
        if method == HAND
        else "tokens typed by hand"
        if _HAND_TOKENS.match(method)
        else "an estimate from the estimation guide"
        if method.startswith(GUIDE)
        else None
    )
    if what is not None:
        if not manual:
            return _says(method, f"{what} (source manual)", entry)
        if method.startswith(GUIDE) and method != GUIDE_NO_ROW and guide_parts(method) is None:
            return Problem("cost", f"methods.cost names no per-task rates: {method!r}")
        if method == GUIDE_NO_ROW and entry.cost_usd is not None:
            return Problem(
                "cost",
                "methods.cost says no guide row matched, yet the entry costs "
                f"{usd(entry.cost_usd)}",
            )
        return None
    if is_imported(method):
        if not manual or entry.agent != "manual":
            return _says(
                method, "a row imported from a hand-kept log (agent and source manual)", entry
            )
        return None
    if method == HEADLESS:
        if entry.source != "actual" or entry.agent != HEADLESS_AGENT:
            return _says(
                method, f"a `claude -p` result (source actual, agent {HEADLESS_AGENT})", entry
            )
        return None
    return Problem("cost", f"methods.cost {method!r} is not a method costlog writes")


def _pricing_problem(entry: Entry, pricing: str, logs_costs: bool | None) -> Problem | None:
    if not _PRICING.match(pricing):
        return Problem("pricing", f"methods.pricing {pricing!r} is not what costlog writes")
    logged = logged_requests(pricing)
    if not logged:
        return None
    agent_logs = entry.agent in LOGGING_AGENTS or (
        entry.agent not in _SILENT_AGENTS and bool(logs_costs)
    )
    if not agent_logs:
        return Problem(
            "pricing",
            f"methods.pricing says costs were logged by the agent, but {entry.agent} does "
            f"not log costs (of costlog's agents only {', '.join(sorted(LOGGING_AGENTS))} do)",
        )
    if entry.source not in LOGGED_SOURCES:
        return Problem(
            "pricing",
            "methods.pricing says costs were logged by the agent, which costlog reads from "
            f"its logs, but the entry's source is {entry.source}",
        )
    requests = sum(mu.requests for mu in entry.models.values())
    if logged > requests:
        return Problem(
            "pricing",
            f"methods.pricing says {logged} requests' costs were logged by the agent, "
            f"but the entry has {requests}",
        )
    return None


def needs_adapter_lookup(entry: Entry) -> bool:
    """Whether `problem` depends on the installed adapters: only for an agent costlog does
    not know claiming logged costs (rare, so the entry points are read only then)."""
    pricing = entry.methods.get("pricing")
    return (
        pricing is not None
        and entry.agent not in LOGGING_AGENTS
        and entry.agent not in _SILENT_AGENTS
        and AGENT_LOGGED in pricing
    )


def _says(method: str, what: str, entry: Entry) -> Problem:
    return Problem(
        "cost",
        f"methods.cost {method!r} is what costlog writes for {what}, not for an entry of "
        f"agent {entry.agent} with source {entry.source}",
    )


def usd(value: Decimal) -> str:
    """An amount for a message, as the ledger writes it (or plainly, if absurdly large)."""
    try:
        return f"${money(value)}"
    except InvalidOperation:
        return f"${value:E}"
