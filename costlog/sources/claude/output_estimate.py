"""Output tokens of a Claude response that logged only a placeholder count.

Claude Code writes one transcript line per content block of an API response, each built
from the `message_start` snapshot, where `output_tokens` is a streaming placeholder of about
1-30. When no line of a response carries the final count, the reader estimates it from what
the model wrote: a least-squares fit on the response's content sizes,

    0.269 x text + 0.240 x tool-input + 0.220 x thinking-signature characters
    + 54 per text or tool block

(Opus 4.7 and later generations, whose tokenizer gives about 1.5x tokens per character:
0.403 / 0.400 / 0.280 / 47). On 128 real responses whose final count is known the estimate
totals 0.99x the real output (1.09x on the 34 from the placeholder-era versions), with a mean
error of about 20 % per response; the placeholder itself, which ccusage keeps, is typically
1-30 tokens against hundreds or thousands real. `costlog calibrate` measures the estimate
again on a user's own logs.

This lives with the Claude reader, not in `costlog.estimate`, because the reader needs it
and sources sit below the estimate layer, which imports it from here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

#: (text, tool, signature, per-block) weights, ordinary least squares on 5,080 responses
CLASSIC = (0.269, 0.240, 0.220, 54.0)
NEW_TOKENIZER = (0.403, 0.400, 0.280, 47.0)

_NEW_TOKENIZER_MODEL = re.compile(
    r"opus-4-(?:[7-9]|\d\d)|(?:opus|sonnet|haiku)-(?:[5-9]|\d\d)"
    r"|fable|mythos"
)

#: how the estimate is described in a ledger entry's `methods.output`
CLAUDE_OUTPUT_METHOD = (
    "max(logged, estimate from the characters of text, tool input and thinking signatures)"
)


def claude_new_tokenizer(model: str) -> bool:
    """Opus 4.7 and later generations use the tokenizer with ~1.5x tokens per character."""
    return bool(_NEW_TOKENIZER_MODEL.search(model))


def claude_output_estimate(model: str, *, text: int, tool: int, signature: int, blocks: int) -> int:
    """Output tokens of one Claude response from its content sizes (in characters).

    `text`: characters of text blocks; `tool`: characters of `json.dumps(input)` plus the tool
    name of tool_use blocks; `signature`: characters of thinking signatures (or redacted
    thinking data); `blocks`: number of text and tool_use blocks.
    """
    a, b, s, e = NEW_TOKENIZER if claude_new_tokenizer(model) else CLASSIC
    return round(a * text + b * tool + s * signature + e * blocks)


def content_features(content: Any) -> tuple[int, int, int, int]:
    """(text chars, tool-input chars, thinking-signature chars, blocks) of one line's content."""
    text = tool = sig = blocks = 0
    if isinstance(content, str):
        return len(content), 0, 0, 1
    if not isinstance(content, list):
        return 0, 0, 0, 0
    for block in content:
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        if kind == "text":
            text += _chars(block.get("text"))
            blocks += 1
        elif kind in ("tool_use", "server_tool_use"):
            tool += _tool_chars(block)
            blocks += 1
        elif kind == "thinking":
            sig += _chars(block.get("signature"))
        elif kind == "redacted_thinking":
            sig += _chars(block.get("data"))
    return text, tool, sig, blocks


def _chars(value: Any) -> int:
    """Length of a string field; 0 for anything else (a corrupt line's wrong type)."""
    return len(value) if isinstance(value, str) else 0


def _tool_chars(block: Mapping[str, Any]) -> int:
    name = block.get("name")
    name = name if isinstance(name, str) else ""
    args = block.get("input")
    if name == "ExitPlanMode" and isinstance(args, dict):
        # Claude Code pastes the plan file into this call's input; the model wrote no plan
        args = {k: v for k, v in args.items() if k != "plan"}
    return len(json.dumps(args)) + len(name)
