"""The typed shape of a rollout line for a scan that does not gather the attribution
facts: its time, its type, its payload's type and the few payload fields a scan reads, for
msgspec to decode while it only checks the rest (tool output, reasoning) without building
it. A line that does not fit (not JSON as msgspec reads it, a payload that is not an
object, a token count that is not one) is parsed in full instead. The lines a scan only
takes the time of are mostly not decoded at all (`reader._SKIPPABLE`).
Imported only by such a scan: msgspec costs ~15 ms to import.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from costlog.sources._usage import MAX_TOKENS, MAX_TOTAL_TOKENS
from costlog.sources.codex.limits import MAX_EPOCH, MAX_MINUTES

#: a count of a usage object as `_usage.token_count` takes it: an int (not a bool, not a
#: float) from 0 to the limit; msgspec checks it, so the usual event costs no Python check
_TotalCount = Annotated[int, msgspec.Meta(ge=0, le=MAX_TOTAL_TOKENS)]
_StepCount = Annotated[int, msgspec.Meta(ge=0, le=MAX_TOKENS)]


class Total(msgspec.Struct):
    """A `total_token_usage` object: its counts in `rollout.FIELDS` order, absent as 0,
    so that `astuple` gives them as `Reader._usage_numbers` does from a dict. A count that
    is not one (a string, a negative, one over MAX_TOTAL_TOKENS, null) fails the line's
    decode, and `Reader` reads that line as a dict, which warns about it as ever."""

    input_tokens: _TotalCount = 0
    cached_input_tokens: _TotalCount = 0
    cache_write_input_tokens: _TotalCount = 0
    output_tokens: _TotalCount = 0
    reasoning_output_tokens: _TotalCount = 0


class Step(msgspec.Struct):
    """A `last_token_usage` object, as `Total` with MAX_TOKENS for its limit."""

    input_tokens: _StepCount = 0
    cached_input_tokens: _StepCount = 0
    cache_write_input_tokens: _StepCount = 0
    output_tokens: _StepCount = 0
    reasoning_output_tokens: _StepCount = 0


#: any JSON value other than an object is kept as itself (a number, a list...), for
#: `Reader` to tell apart from a usage object
_Value = list[Any] | str | int | float | bool | None


#: the ranges `limits._window` accepts for a window's minutes and reset time
_Minutes = Annotated[int, msgspec.Meta(ge=0, le=MAX_MINUTES)]
_Epoch = Annotated[int, msgspec.Meta(ge=0, le=MAX_EPOCH)]


class Window(msgspec.Struct):
    """One window of a `rate_limits` report: a value `limits._window` would refuse (a bool,
    a string, a minute count out of range) fails the line's decode, and `Reader` reads
    that line as a dict, which warns about it as ever."""

    used_percent: int | float | None = None
    window_minutes: _Minutes | None = None
    resets_at: _Epoch | None = None


class Limits(msgspec.Struct):
    """A token_count event's `rate_limits`, the fields `limits.snapshot` reads; the rest
    (credits, limit ids) is checked as JSON and skipped. `plan_type` is UNSET when absent:
    a report that names no plan is told from one that says null."""

    primary: Window | None = None
    secondary: Window | None = None
    rate_limit_reached_type: Any = None
    plan_type: Any = msgspec.UNSET


class Info(msgspec.Struct):
    """A token_count event's `info`: decoded typed, so a scan builds no dict per event."""

    total_token_usage: Total | _Value = None
    last_token_usage: Step | _Value = None
    model: Any = None


class Kind(msgspec.Struct):
    """A payload's type, and the fields a scan reads of a token_count event (`info`,
    `model`, `rate_limits`: every event of Codex 0.171 carries one) and of a turn_context
    (`model`, `model_name`, `cwd`): absent or null are None, as `dict.get` gives them."""

    type: Any = None
    info: Info | _Value = None
    model: Any = None
    model_name: Any = None
    rate_limits: Limits | _Value = None
    cwd: Any = None


class Record(msgspec.Struct):
    timestamp: Any = None
    type: Any = None
    payload: Kind | None = None


DECODER = msgspec.json.Decoder(Record)
#: a `Total`'s or `Step`'s counts as a tuple, in field order
astuple = msgspec.structs.astuple
#: what a line that does not fit raises
ERRORS = (msgspec.DecodeError, msgspec.ValidationError, ValueError, RecursionError)
