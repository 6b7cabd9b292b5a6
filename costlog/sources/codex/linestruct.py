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


class Kind(msgspec.Struct):
    """A payload's type, and the fields a scan reads of a token_count event (`info`,
    `model`, `rate_limits`) and of a turn_context (`model`, `model_name`, `cwd`): absent
    or null are None, as `dict.get` gives them."""

    type: Any = None
    info: Any = None
    model: Any = None
    model_name: Any = None
    rate_limits: Any = None
    cwd: Any = None


class Record(msgspec.Struct):
    timestamp: Any = None
    type: Any = None
    payload: Kind | None = None


DECODER = msgspec.json.Decoder(Record)
#: what a line that does not fit raises
ERRORS = (msgspec.DecodeError, msgspec.ValidationError, ValueError, RecursionError)
