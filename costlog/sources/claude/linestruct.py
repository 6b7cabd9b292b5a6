"""The typed shape of a transcript line that carries usage, for msgspec to decode.

Only the fields the reader uses are named; msgspec skips every other field without building
it, and keeps `message.content` as raw bytes (the output estimate decodes it only for a
response that has no final count yet). A line whose named fields have another shape (a
`message` that is a string, say) does not fit and is read by the plain JSON path instead.
Imported only by a scan, or a big read afresh (`transcript.FAST_AFRESH`): msgspec costs
~15 ms to import, which the hook path need not pay.
"""

from __future__ import annotations

from typing import Any

import msgspec


class Message(msgspec.Struct):
    model: Any = None
    id: Any = None
    stop_reason: Any = None
    usage: Any = None
    #: absent: empty bytes (the reader reads that as no content)
    content: msgspec.Raw = msgspec.Raw()


class Line(msgspec.Struct):
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


class Data(msgspec.Struct):
    """A `progress` line's payload: the sub-agent line it mirrors."""

    message: Line | None = None


DECODER = msgspec.json.Decoder(Line)
#: what a line that does not fit raises
ERRORS = (msgspec.DecodeError, msgspec.ValidationError, ValueError, RecursionError)
