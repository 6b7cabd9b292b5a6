"""The typed shape of a rollout line for a scan that does not gather the attribution
facts: its time, its type, its payload's type and the few payload fields a scan reads, for
msgspec to decode while it only checks the rest (tool output, reasoning) without building
it. A line that does not fit (not JSON as msgspec reads it, a payload that is not an
object) is parsed in full instead.
Imported only by such a scan: msgspec costs ~15 ms to import.
"""

from __future__ import annotations

from typing import Any

import msgspec


class Counts(msgspec.Struct):
    """A usage object (`total_token_usage`, `last_token_usage`): its counts in
    `rollout.FIELDS` order, absent as 0, so that `astuple` gives them as `dict.get` does in
    `Reader._usage_numbers`. Any JSON value is taken: `Reader` checks each count itself and
    warns as for a dict, so an odd count costs its event, not the block's struct decode."""

    input_tokens: Any = 0
    cached_input_tokens: Any = 0
    cache_write_input_tokens: Any = 0
    output_tokens: Any = 0
    reasoning_output_tokens: Any = 0


#: any JSON value other than an object is kept as itself (a number, a list...), for
#: `Reader` to tell apart from a usage object
_Value = list[Any] | str | int | float | bool | None


class Info(msgspec.Struct):
    """A token_count event's `info`: decoded typed, so a scan builds no dict per event."""

    total_token_usage: Counts | _Value = None
    last_token_usage: Counts | _Value = None
    model: Any = None


class Kind(msgspec.Struct):
    """A payload's type, and the fields a scan reads of a token_count event (`info`,
    `model`, `rate_limits`) and of a turn_context (`model`, `model_name`, `cwd`): absent
    or null are None, as `dict.get` gives them."""

    type: Any = None
    info: Info | _Value = None
    model: Any = None
    model_name: Any = None
    rate_limits: Any = None
    cwd: Any = None


class Record(msgspec.Struct):
    timestamp: Any = None
    type: Any = None
    payload: Kind | None = None


DECODER = msgspec.json.Decoder(Record)
#: a `Counts`' counts as a tuple, in field order
astuple = msgspec.structs.astuple
#: what a line that does not fit raises
ERRORS = (msgspec.DecodeError, msgspec.ValidationError, ValueError, RecursionError)
