"""Plain records that flow through costlog: sources -> records -> pricing -> ledger.

Tokens are ints, money is Decimal. Nothing here holds transcript text that could be
persisted: `Session.first_prompt` and `Session.tool_output_refs` live in memory only and
are never written (the ledger writer takes fields explicitly, see ledger.entry_to_dict).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Literal

#: Where a number came from. `mixed` is only ever a session-level summary.
NumberSource = Literal["actual", "parsed", "estimated", "manual"]
SOURCES: tuple[str, ...] = ("actual", "parsed", "estimated", "manual")

#: Token kinds, in ledger order. `input` excludes cached input (Anthropic semantics);
#: `reasoning` is informational and already inside `output` where billed so.
TOKEN_FIELDS: tuple[str, ...] = (
    "input",
    "output",
    "cache_read",
    "cache_write_5m",
    "cache_write_1h",
    "reasoning",
)


@dataclass(slots=True)
class Usage:
    input: int = 0
    output: int = 0
    cache_read: int = 0
    cache_write_5m: int = 0
    cache_write_1h: int = 0
    reasoning: int = 0

    def add(self, other: Usage) -> None:
        self.input += other.input
        self.output += other.output
        self.cache_read += other.cache_read
        self.cache_write_5m += other.cache_write_5m
        self.cache_write_1h += other.cache_write_1h
        self.reasoning += other.reasoning

    @property
    def prompt_tokens(self) -> int:
        """Everything the model read for one request (the long-context tier's measure)."""
        return self.input + self.cache_read + self.cache_write_5m + self.cache_write_1h

    @property
    def total(self) -> int:
        return self.prompt_tokens + self.output

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in TOKEN_FIELDS}


@dataclass(slots=True)
class Request:
    """One billed model call, as read from a log (after de-duplication)."""

    model: str
    usage: Usage
    timestamp: datetime | None = None
    #: where the token numbers came from
    source: NumberSource = "actual"
    #: tokens of `usage.output` that were estimated rather than logged
    estimated_output: int = 0
    #: "fast" / "priority" / "standard" or None when the log does not say
    speed: str | None = None
    request_id: str | None = None
    #: a cost the agent itself logged for this call (OpenTelemetry, old `costUSD`)
    logged_cost_usd: Decimal | None = None
    subagent: bool = False


@dataclass(slots=True)
class LimitWindow:
    """One rate-limit window as an agent's log reported it (Codex: 300 minutes, weekly)."""

    #: the highest share of the window used that the log showed, 0-100
    peak_pct: Decimal
    window_minutes: int | None = None
    #: when the window resets, as of the last report
    resets_at: datetime | None = None


@dataclass(slots=True)
class RateLimits:
    """What a session's log said about its plan's rate limits (counts and names only)."""

    primary: LimitWindow | None = None
    secondary: LimitWindow | None = None
    #: reports that said a limit was reached (Codex `rate_limit_reached_type` not null)
    reached: int = 0
    #: whether the log named the plan at all; `plan_type` None then means an API key
    plan_stated: bool = False
    plan_type: str | None = None


@dataclass(slots=True)
class Session:
    """One agent session as read from its logs (in memory only)."""

    agent: str
    session_id: str
    requests: list[Request] = field(default_factory=list)
    cwd: str | None = None
    started: datetime | None = None
    ended: datetime | None = None
    branch: str | None = None
    subagents: int = 0
    #: the log files this session was read from
    paths: list[str] = field(default_factory=list)
    #: how estimated numbers were obtained, e.g. {"output": "o200k tokenizer x1.2"}
    methods: dict[str, str] = field(default_factory=dict)
    #: in memory only, never persisted: used to find work-item keys
    first_prompt: str | None = None
    #: in memory only: commit shas / subjects the agent's tool output mentions
    tool_output_refs: set[str] = field(default_factory=set)
    #: in memory only: repo files the session edited
    edited_files: set[str] = field(default_factory=set)
    #: one-line problems met while reading ("file:line: ...")
    warnings: list[str] = field(default_factory=list)
    #: rate-limit usage and plan, where the log reports them
    rate_limits: RateLimits | None = None


@dataclass(slots=True)
class ModelUsage:
    """Per-model totals of one ledger entry."""

    requests: int = 0
    usage: Usage = field(default_factory=Usage)
    #: None means unpriced (unknown model): never a silent $0
    cost_usd: Decimal | None = Decimal(0)
    source: str = "actual"


@dataclass(slots=True)
class Commit:
    sha: str
    subject: str
    files: int = 0
    added: int = 0
    removed: int = 0
    #: how the commit was linked: "tool-output", "files", "time-window", "manual"
    evidence: str = "time-window"


@dataclass(slots=True)
class Entry:
    """One recorded session: exactly what one ledger file holds."""

    id: str
    agent: str
    started: datetime
    ended: datetime | None = None
    models: dict[str, ModelUsage] = field(default_factory=dict)
    #: None when any model is unpriced and no total could be formed
    cost_usd: Decimal | None = Decimal(0)
    source: str = "manual"
    methods: dict[str, str] = field(default_factory=dict)
    pricing_table: str | None = None
    cwd: str | None = None
    branch: str | None = None
    subagents: int = 0
    commits: list[Commit] = field(default_factory=list)
    work_items: list[str] = field(default_factory=list)
    tasks_completed: int | None = None
    task_types: dict[str, int] = field(default_factory=dict)
    notes: str | None = None
    recorded: datetime | None = None
    #: who recorded it, as the config's `people:` says (name, email, a hash or nothing)
    author: str | None = None
    #: where it was recorded, as the config's `machine:` says (a hash by default)
    machine: str | None = None
    #: rate-limit usage and plan as the session's log reported them (optional)
    rate_limits: RateLimits | None = None

    @property
    def unpriced_models(self) -> list[str]:
        return sorted(name for name, mu in self.models.items() if mu.cost_usd is None)

    @property
    def primary_model(self) -> str | None:
        if not self.models:
            return None

        def weight(item: tuple[str, ModelUsage]) -> tuple[Decimal, int]:
            return (item[1].cost_usd or Decimal(0), item[1].usage.total)

        return max(self.models.items(), key=weight)[0]

    @property
    def tokens(self) -> Usage:
        total = Usage()
        for mu in self.models.values():
            total.add(mu.usage)
        return total
