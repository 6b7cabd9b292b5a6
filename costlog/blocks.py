"""5-hour windows ("blocks"), as ccusage's `blocks` view draws them.

Claude's subscription limits reset on a rolling 5-hour window that opens with the first
request after a quiet spell, so usage is easier to judge per window than per day. The
rules follow ccusage (`rust/crates/ccusage/src/blocks.rs`, `identify_session_blocks`), so
the two tools put the same requests in the same windows:

- requests are taken in time order; the first one opens a window whose start is its time
  floored to the whole hour (UTC) and whose end is start + 5 h;
- a request more than 5 h after the window's start, or more than 5 h after the previous
  request, closes the window and opens a new one (floored again). Exactly 5 h is still
  inside, as in ccusage;
- a window is active when the last request is less than 5 h ago and its end is still
  ahead;
- burn rate: all tokens (input, output, cache read and write) and cost divided by the
  minutes between the window's first and last request; none with a single request;
- projection, for the active window only: what it holds now plus the burn rate times the
  whole minutes left until its end.

Money stays Decimal; token counts stay int (rates are Decimal, projections rounded).
The stretch between two windows (ccusage's "gap" rows) holds nothing and is not listed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

WINDOW = timedelta(hours=5)
_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True)
class Point:
    """One request (or, from the ledger, one session) at one time."""

    when: datetime
    input: int = 0
    output: int = 0
    cache_read: int = 0
    cache_write: int = 0
    #: None: no price for its model (counted apart, never as $0)
    cost: Decimal | None = Decimal(0)
    model: str = ""
    #: ran on a subscription plan: its cost is API-equivalent (list prices), not paid
    on_plan: bool = False
    #: the requests it stands for: 1 for a request, a recorded session's request count
    requests: int = 1


@dataclass
class Burn:
    tokens_per_minute: Decimal
    cost_per_hour: Decimal


@dataclass
class Projection:
    tokens: int
    cost: Decimal
    minutes_left: int


@dataclass
class Block:
    start: datetime
    end: datetime
    first: datetime
    last: datetime
    input: int = 0
    output: int = 0
    cache_read: int = 0
    cache_write: int = 0
    requests: int = 0
    #: points added: requests from the logs, sessions from the ledger
    points: int = 0
    cost: Decimal = Decimal(0)
    unpriced: int = 0
    #: requests (or sessions) on a subscription plan, whose cost is API-equivalent
    on_plan: int = 0
    models: list[str] = field(default_factory=list)
    active: bool = False

    @property
    def tokens(self) -> int:
        return self.input + self.output + self.cache_read + self.cache_write

    def add(self, point: Point) -> None:
        self.input += point.input
        self.output += point.output
        self.cache_read += point.cache_read
        self.cache_write += point.cache_write
        self.requests += point.requests
        self.points += 1
        if point.on_plan:
            self.on_plan += point.requests
        if point.cost is None:
            self.unpriced += 1
        else:
            self.cost += point.cost
        if point.model and point.model not in self.models:
            self.models.append(point.model)
        self.last = point.when

    def burn(self) -> Burn | None:
        minutes = Decimal((self.last - self.first) // _MICROSECOND) / 60_000_000  # exact
        if minutes <= 0:
            return None
        return Burn(self.tokens / minutes, self.cost / minutes * 60)

    def projection(self, now: datetime) -> Projection | None:
        burn = self.burn() if self.active else None
        if burn is None:
            return None
        left = max(0, round((self.end - now).total_seconds() / 60))
        tokens = (self.tokens + burn.tokens_per_minute * left).to_integral_value(ROUND_HALF_UP)
        return Projection(int(tokens), self.cost + burn.cost_per_hour / 60 * left, left)


def floor_hour(when: datetime) -> datetime:
    when = when.astimezone(UTC)
    return when.replace(minute=0, second=0, microsecond=0)


def blocks(points: Iterable[Point], now: datetime | None = None) -> list[Block]:
    """The windows of these requests, oldest first."""
    now = now or datetime.now(UTC)
    out: list[Block] = []
    current: Block | None = None
    for point in sorted(points, key=lambda p: p.when):
        when = point.when
        if current is not None and (when - current.start > WINDOW or when - current.last > WINDOW):
            current = None
        if current is None:
            start = floor_hour(when)
            current = Block(start, start + WINDOW, when, when)
            out.append(current)
        current.add(point)
    for block in out:
        block.active = now - block.last < WINDOW and now < block.end
    return out


def active(found: list[Block]) -> list[Block]:
    """The active window (none, or one: only the newest can be)."""
    return [b for b in found if b.active]
