"""One API response, gathered from its transcript lines, and the request it becomes.

Claude Code writes one transcript line per content block of an API response, each with a
copy of the response's usage, so the lines of one response (same `message.id` and
`requestId`) are gathered into one `Response` and never summed. Input, cache-read and
cache-write counts are fixed when the response starts and are reliable on every line.
`output_tokens` is not: each line is built from the `message_start` snapshot, where it is a
placeholder of about 1-30, and only a line written after `message_delta` holds the final
count. Versions ~2.1.62-2.1.96 get it right on the last line, 2.1.97 and later on every
line, while 1.0.x-2.1.5x and sub-agent transcripts often have no final count at all.

So, per response: if any line carries a final marker (`stop_reason` set, or the
`message_delta` usage shape with `server_tool_use`, `iterations`, `speed` or
`output_tokens_details`), the largest logged `output_tokens` is taken, which is an actual
number. Otherwise the logged number is only a lower bound, and the request gets
`max(logged, estimate)` from the response's content sizes (`output_estimate`); the part above
the logged count is kept apart as `estimated_output`. Even a perfect reading is a lower
bound of the bill: transcripts never show Claude Code's auxiliary calls (titles, summaries,
classifiers).

An old transcript's `costUSD` is the cost of the line it is on, so it is taken from the
most complete line of the response (the first final one, else the one with the largest
output count), never from a placeholder line that priced a count of 1-30 output tokens.

One line's usage may cover several model calls: with server-side tools such as the advisor,
`usage.iterations[]` lists each sampling step, and the top-level counts of a final line are
the sum of its `"message"` (executor) steps, while each step read its own prompt. The long-
context premium is charged per model call on that call's prompt, so two steps of 117k
prompt tokens each are two requests under 200k, not one of 234k. When the executor steps
add up exactly to the top-level counts, each becomes a request of its own (same model, id
and time); when they do not, the top-level counts stay one request, as logged. Non-message
steps (the advisor's own call, at its model) are separate responses (`transcript`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from itertools import starmap
from typing import Any

from costlog.models import Request, Usage
from costlog.sources.claude.counts import SPEEDS, Numbers, logged_cost, usage_numbers
from costlog.sources.claude.output_estimate import claude_output_estimate
from costlog.timeutil import from_epoch


@dataclass(slots=True)
class Response:
    """What the lines of one response say, merged; compact enough to cache per file."""

    message_id: str | None
    request_id: str | None
    model: str
    #: Unix seconds of the earliest line
    timestamp: float | None
    input: int
    output: int
    cache_read: int
    cache_write_5m: int
    cache_write_1h: int
    reasoning: int
    #: some line carried the final output count
    final: bool
    #: every line was a sidechain (sub-agent) line
    sidechain: bool
    #: content sizes for the output estimate (summed over the lines; 0 once final)
    text_chars: int
    tool_chars: int
    signature_chars: int
    blocks: int
    #: index in `counts.SPEEDS`
    speed: int
    #: an old transcript's `costUSD`, as its repr (of the most complete line)
    logged_cost: str | None
    #: the counts of each executor step in `usage.iterations[]`, when there are two or more
    steps: tuple[Numbers, ...] | None = None

    # ------------------------------------------------------------ the cache boundary

    def to_row(self) -> tuple[Any, ...]:
        """The response as a flat tuple (what the marshal cache stores)."""
        return (
            self.message_id,
            self.request_id,
            self.model,
            self.timestamp,
            self.input,
            self.output,
            self.cache_read,
            self.cache_write_5m,
            self.cache_write_1h,
            self.reasoning,
            self.final,
            self.sidechain,
            self.text_chars,
            self.tool_chars,
            self.signature_chars,
            self.blocks,
            self.speed,
            self.logged_cost,
            self.steps,
        )

    @classmethod
    def from_rows(cls, rows: Iterable[Sequence[Any]]) -> list[Response]:
        """The responses `to_row` stored; TypeError when a row does not have its shape."""
        return list(starmap(cls, rows))  # the warm scan's hot loop: no Python-level loop

    # ------------------------------------------------------------ gathering lines

    def add_content(self, content: tuple[int, int, int, int]) -> None:
        """Add a line's content (`output_estimate.content_features`) to the earlier lines'."""
        text, tool, sig, blocks = content
        if blocks or text or tool or sig:
            self.text_chars += text
            self.tool_chars += tool
            self.signature_chars += sig
            self.blocks += blocks

    def add_line(
        self,
        numbers: Numbers,
        final: bool,
        sidechain: bool,
        speed: int,
        timestamp: float | None,
        cost: Any = None,
    ) -> None:
        """Fold in a further line of the same response: the largest of each count (never
        the sum), and the line's `costUSD` when it is more complete than every earlier
        line (its content is added by `add_content`, once measured)."""
        inp, out, cread, c5, c1, reasoning = numbers
        if (final and not self.final) or (final == self.final and out > self.output):
            self.logged_cost = logged_cost(cost)
        if out > self.output:
            self.output = out
        if inp > self.input:
            self.input = inp
        if cread > self.cache_read:
            self.cache_read = cread
        if c5 > self.cache_write_5m:
            self.cache_write_5m = c5
        if c1 > self.cache_write_1h:
            self.cache_write_1h = c1
        if reasoning > self.reasoning:
            self.reasoning = reasoning
        self.final = self.final or final
        self.sidechain = self.sidechain and sidechain
        if speed > self.speed:
            self.speed = speed
        if timestamp is not None and (self.timestamp is None or timestamp < self.timestamp):
            self.timestamp = timestamp

    def merged(self, other: Response) -> Response:
        """The same response seen in two files (a replay or a progress copy): the largest
        of each number, the earliest time; a new object, both inputs stay as they are."""
        when = self.timestamp
        if other.timestamp is not None and (when is None or other.timestamp < when):
            when = other.timestamp
        return Response(
            self.message_id,
            self.request_id,
            self.model,
            when,
            max(self.input, other.input),
            max(self.output, other.output),
            max(self.cache_read, other.cache_read),
            max(self.cache_write_5m, other.cache_write_5m),
            max(self.cache_write_1h, other.cache_write_1h),
            max(self.reasoning, other.reasoning),
            self.final or other.final,
            self.sidechain and other.sidechain,
            max(self.text_chars, other.text_chars),
            max(self.tool_chars, other.tool_chars),
            max(self.signature_chars, other.signature_chars),
            max(self.blocks, other.blocks),
            max(self.speed, other.speed),
            self._complete_cost(other),
            self.steps if self.steps is not None else other.steps,
        )

    def _complete_cost(self, other: Response) -> str | None:
        """The logged cost of the more complete copy (final, then larger output)."""
        if (other.final, other.output) > (self.final, self.output):
            return other.logged_cost if other.logged_cost is not None else self.logged_cost
        return self.logged_cost if self.logged_cost is not None else other.logged_cost

    def note_steps(self, iterations: Sequence[Any]) -> None:
        """Keep the counts of the executor steps of a line's `usage.iterations[]` (module
        docstring); fewer than two, or one that does not read, keeps none."""
        steps: list[Numbers] = []
        for step in iterations:
            if isinstance(step, dict) and step.get("type") == "message":
                numbers = usage_numbers(step)
                if isinstance(numbers, str):
                    return
                steps.append(numbers)
        if len(steps) >= 2:
            self.steps = tuple(steps)

    def total(self) -> int:
        """All its tokens: which of two copies of a `/btw` aside carries more."""
        return (
            self.input + self.output + self.cache_read + self.cache_write_5m + self.cache_write_1h
        )

    # ------------------------------------------------------------ the request

    def to_requests(self) -> list[Request]:
        """The billed requests: one per executor step when the steps add up to the logged
        counts (module docstring), else the one `to_request`."""
        steps = self.steps
        if steps is None or self.logged_cost is not None or not self.final:
            return [self.to_request()]
        sums = [sum(column) for column in zip(*steps, strict=True)]
        whole = [
            self.input,
            self.output,
            self.cache_read,
            self.cache_write_5m,
            self.cache_write_1h,
        ]
        if sums[:5] != whole:
            return [self.to_request()]
        when = None if self.timestamp is None else from_epoch(self.timestamp)
        return [
            Request(
                self.model,
                Usage(inp, out, cread, c5, c1, min(reasoning, out)),
                when,
                "actual",
                0,
                SPEEDS[self.speed],
                self.request_id,
                None,
                self.sidechain,
            )
            for inp, out, cread, c5, c1, reasoning in steps
        ]

    def to_request(self) -> Request:
        """The billed request: the output estimate fills in for a placeholder count."""
        out, extra = self.output, 0
        if not self.final:
            guess = claude_output_estimate(
                self.model,
                text=self.text_chars,
                tool=self.tool_chars,
                signature=self.signature_chars,
                blocks=self.blocks,
            )
            if guess > out:
                out, extra = guess, guess - out
        logged = None
        if self.logged_cost is not None:
            try:
                logged = Decimal(self.logged_cost)
            except InvalidOperation:
                logged = None
        # positional: this runs once per request on every scan
        return Request(
            self.model,
            Usage(
                self.input,
                out,
                self.cache_read,
                self.cache_write_5m,
                self.cache_write_1h,
                self.reasoning,
            ),
            None if self.timestamp is None else from_epoch(self.timestamp),
            "actual",
            extra,
            SPEEDS[self.speed],
            self.request_id,
            logged,
            self.sidechain,
        )
