"""Model ids as logs write them, reduced to the names the price table is indexed by.

Logs name one model many ways: with a provider prefix (`anthropic/`, `bedrock/`, ...), as a
Bedrock id with region and version, with Vertex's `@date`, a `[1m]` context suffix or a
`-fast` suffix. `normalize` strips all that and says which speed the name implies.
"""

from __future__ import annotations

import re
from functools import cache

#: a dated model id's date (`-20250929`, `-2025-09-29`): tried off when the full id is unknown
DATE_SUFFIX = re.compile(r"-(?:\d{8}|\d{4}-\d{2}-\d{2})\Z")
_BEDROCK_REGION = re.compile(r"\A(?:us|eu|apac|global|jp|au|ca|us-gov)\.")
_BEDROCK_VERSION = re.compile(r"-v\d+(?::\d+)?\Z")


@cache
def normalize(name: str) -> tuple[str, str | None]:
    """A model id as logs write it -> (lookup name, speed implied by the name).

    Handles `anthropic/`, `bedrock/`, `vertex_ai/`, `openai/`, `gemini/`, `models/` and
    other `provider/` prefixes, Bedrock ids (`us.anthropic.claude-...-v1:0`), Vertex's
    `@date`, a `[1m]` context suffix and a `-fast` suffix.
    """
    text = name.strip().lower()
    text = re.sub(r"\[[0-9a-z]+\]\Z", "", text)
    text = text.rsplit("/", 1)[-1]
    text = _BEDROCK_REGION.sub("", text)
    text = text.removeprefix("anthropic.")
    text = _BEDROCK_VERSION.sub("", text)
    text = text.replace("@", "-")
    speed = None
    if text.endswith("-fast"):
        text, speed = text[: -len("-fast")], "fast"
    return text, speed
