"""The typed shape of a transcript line that carries usage, for msgspec to decode.

Only the fields the reader uses are named; msgspec skips every other field without building
it, and keeps `message.content` as raw bytes (the output estimate decodes it only for a
response that has no final count yet). A line whose named fields have another shape (a
`message` that is a string, say) does not fit and is read by the plain JSON path instead.
Imported only by a scan, or a big read afresh (`transcript.FAST_AFRESH`): msgspec costs
~15 ms to import, which the hook path need not pay. `gc=False`: decoded JSON cannot make a
reference cycle, so the collector need not track the (many, short-lived) lines.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from costlog.sources.claude import counts
from costlog.sources.claude.counts import Numbers, checked_counts


class Message(msgspec.Struct, gc=False):
    model: Any = None
    id: Any = None
    stop_reason: Any = None
    usage: Any = None
    #: absent: empty bytes (the reader reads that as no content)
    content: msgspec.Raw = msgspec.Raw()


class Line(msgspec.Struct, gc=False):
    type: Any = None
    timestamp: Any = None
    isSidechain: Any = None
    isApiErrorMessage: Any = None
    requestId: Any = None
    agentId: Any = None
    cwd: Any = None
    gitBranch: Any = None
    version: Any = None
    costUSD: Any = None
    message: Message | None = None
    data: Data | None = None


class Data(msgspec.Struct, gc=False):
    """A `progress` line's payload: the sub-agent line it mirrors."""

    message: Line | None = None


#: a token count as `counts.checked_counts` accepts it (an int in 0..MAX_TOKENS), checked
#: by msgspec as it decodes: a count out of range (or a float, a bool) does not fit, and the
#: untyped line's `usage_numbers` rejects it, with the reason
Count = Annotated[int, msgspec.Meta(ge=0, le=counts.MAX_TOKENS)]


class CacheSplit(msgspec.Struct, gc=False):
    """`usage.cache_creation`: the cache writes by lifetime."""

    ephemeral_5m_input_tokens: Count | msgspec.UnsetType | None = msgspec.UNSET
    ephemeral_1h_input_tokens: Count | msgspec.UnsetType | None = msgspec.UNSET


class Details(msgspec.Struct, gc=False):
    """`usage.output_tokens_details`."""

    thinking_tokens: int | None = None


class Usage(msgspec.Struct, gc=False):
    """`message.usage` with every count an integer in range (`Count`) or null, as nearly
    every line has it:
    decoded into fields, which is faster than building the same object as a dict and
    reading it with `get` (about 15 % of a usage line's cost). UNSET: the key is absent
    (the reader tells absent from null where `counts.usage_numbers` does)."""

    input_tokens: Count | msgspec.UnsetType | None = msgspec.UNSET
    output_tokens: Count | msgspec.UnsetType | None = msgspec.UNSET
    cache_read_input_tokens: Count | None = None
    cache_creation_input_tokens: Count | None = None
    cache_creation: CacheSplit | None = None
    output_tokens_details: Details | msgspec.UnsetType | None = msgspec.UNSET
    server_tool_use: Any = msgspec.UNSET
    iterations: Any = msgspec.UNSET
    speed: Any = msgspec.UNSET


class TypedMessage(msgspec.Struct, gc=False):
    """`Message` with `usage` typed (`Usage`)."""

    model: Any = None
    id: Any = None
    stop_reason: Any = None
    usage: Usage | None = None
    content: msgspec.Raw = msgspec.Raw()


class TypedLine(Line):
    """`Line` with a typed usage. A line whose usage has another shape (a count that is a
    float or text, a `cache_creation` that is not an object) does not fit: it is decoded
    as a `Line`, so what the reader makes of it is exactly what it made before."""

    message: TypedMessage | None = None  # type: ignore[assignment]
    data: TypedData | None = None  # type: ignore[assignment]


class TypedData(msgspec.Struct, gc=False):
    message: TypedLine | None = None


def typed_numbers(usage: Any) -> Numbers | str:
    """`usage_numbers` of a usage decoded as a `linestruct.Usage` (every count an int or
    null, UNSET where the key is absent): the same values read from the fields. The usual
    usage (every count there, the cache split too, no thinking count) is checked in one
    expression, without the list `checked_counts` walks: this runs once per usage line."""
    unset = msgspec.UNSET
    inp, out = usage.input_tokens, usage.output_tokens
    split = usage.cache_creation
    if split is not None and usage.output_tokens_details is unset:
        cread, write = usage.cache_read_input_tokens, usage.cache_creation_input_tokens
        five, hour = split.ephemeral_5m_input_tokens, split.ephemeral_1h_input_tokens
        # each an int in range (`Count`) unless null or absent
        if type(inp) is type(out) is type(cread) is type(write) is type(five) is type(hour) is int:
            return inp, out, cread, five, hour, 0
    if inp is unset and out is unset:
        return "usage without input_tokens/output_tokens"
    write = usage.cache_creation_input_tokens
    split = usage.cache_creation
    if split is not None and (
        split.ephemeral_5m_input_tokens is not unset or split.ephemeral_1h_input_tokens is not unset
    ):
        five, hour = split.ephemeral_5m_input_tokens, split.ephemeral_1h_input_tokens
        five = None if five is unset else five
        hour = None if hour is unset else hour
    else:
        five, hour = write, 0
    details = usage.output_tokens_details
    return checked_counts(
        [
            None if inp is unset else inp,
            None if out is unset else out,
            usage.cache_read_input_tokens,
            write,
            five,
            hour,
            0 if details is None or details is unset else details.thinking_tokens,
        ]
    )


def typed_final(usage: Any) -> bool:
    """Whether a `linestruct.Usage` has one of the keys only the final usage has (those of
    the reader's final marker: server_tool_use, iterations, speed, output_tokens_details),
    null or not."""
    unset = msgspec.UNSET
    return (
        usage.server_tool_use is not unset
        or usage.iterations is not unset
        or usage.speed is not unset
        or usage.output_tokens_details is not unset
    )


#: an absent key of a typed usage
UNSET = msgspec.UNSET
DECODER = msgspec.json.Decoder(Line)
TYPED = msgspec.json.Decoder(TypedLine)
#: what a line that does not fit raises
ERRORS = (msgspec.DecodeError, msgspec.ValidationError, ValueError, RecursionError)
