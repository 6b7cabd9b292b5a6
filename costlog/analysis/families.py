"""Model classes read from a model's name: provider, family, size tier, a smaller sibling.

Spend tables group by family and provider, the budget alerts count small and Opus
sessions, the guide pools Claude versions, and routing advice needs the next smaller
model of the same provider. A name is split into words at `-_/.:@`, so that
`claude-opus-4-6`, `anthropic/claude-opus` and `opus` all match.
"""

from __future__ import annotations

import re
from functools import cache


@cache
def _words(model: str) -> tuple[str, ...]:
    return tuple(re.split(r"[-_/.:@]", model.lower()))


@cache
def provider_of(model: str) -> str:
    name = model.lower()
    if "claude" in name or name.startswith(("opus", "sonnet", "haiku")):
        return "Anthropic"
    if name.startswith(("gpt", "o1", "o3", "o4", "codex", "chatgpt")):
        return "OpenAI"
    if "gemini" in name or "gemma" in name:
        return "Google"
    return "Other"


@cache
def family_of(model: str) -> str:
    """Model family for spend tables: Claude split into Opus/Sonnet/Haiku, Codex apart."""
    words = _words(model)
    for word in ("opus", "sonnet", "haiku"):
        if word in words:
            return f"Claude {word.capitalize()}"
    if "codex" in words:
        return "Codex"
    if provider_of(model) == "OpenAI":
        return "GPT"
    if "gemini" in words:
        return "Gemini Flash" if "flash" in words else "Gemini Pro" if "pro" in words else "Gemini"
    return "Other"


_SMALL_WORDS = frozenset({"haiku", "mini", "nano", "flash", "lite", "luna"})


@cache
def is_small(model: str) -> bool:
    """Haiku, *-mini, *-nano, Gemini Flash/Lite: the cheap tier of each provider."""
    return not _SMALL_WORDS.isdisjoint(_words(model))


@cache
def is_opus(model: str) -> bool:
    return "opus" in _words(model)


#: the next smaller model of the same provider, by family (first match wins)
SMALLER = (
    ("opus", "claude-sonnet-4-6"),
    ("sonnet", "claude-haiku-4-5"),
    ("gemini", "gemini-2.5-flash"),
    ("codex", "gpt-5.1-codex-mini"),
    ("gpt", "gpt-5-mini"),
)
#: what a risky task type on a small model should use instead, by provider
LARGER = {
    "Anthropic": "Claude Opus",
    "OpenAI": "GPT-5 / Codex (not mini)",
    "Google": "Gemini Pro",
    "Other": "a large model",
}


def smaller_model(model: str) -> str | None:
    if is_small(model):
        return None
    words = _words(model)
    return next(
        (small for word, small in SMALLER if word in words or words[0].startswith(word)), None
    )


@cache
def guide_key(model: str) -> str:
    """The estimation guide's model column: a Claude family (any version), else the model."""
    words = _words(model)
    for word in ("opus", "sonnet", "haiku"):
        if word in words:
            return f"claude-{word}"
    return model
