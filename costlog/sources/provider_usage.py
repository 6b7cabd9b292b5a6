"""Model providers' usage objects, normalised to costlog's `Usage`.

Usage semantics differ per provider; costlog's `input` always EXCLUDES cached input, so
each shape is normalised here (shared by the `api`, `aider`, `llm`, `opencode` and
`rundir` adapters):

* OpenAI Chat Completions `usage.prompt_tokens` INCLUDES `prompt_tokens_details.
  cached_tokens` -> input = prompt - cached, cache_read = cached; `completion_tokens`
  already includes `completion_tokens_details.reasoning_tokens` (kept as `reasoning`).
* OpenAI Responses `usage.input_tokens` includes `input_tokens_details.cached_tokens`,
  `output_tokens` includes `output_tokens_details.reasoning_tokens`: same rule.
* Anthropic `usage.input_tokens` already EXCLUDES the cache; `cache_read_input_tokens`
  -> cache_read; `cache_creation_input_tokens` -> cache_write_5m except the part the
  `cache_creation.ephemeral_1h_input_tokens` split puts in cache_write_1h.
* Gemini `usageMetadata.promptTokenCount` INCLUDES `cachedContentTokenCount`;
  `thoughtsTokenCount` is billed as output and is NOT inside `candidatesTokenCount`;
  `toolUsePromptTokenCount` is extra prompt input. input = prompt - cached + tool,
  output = candidates + thoughts, reasoning = thoughts.

A count that is not a token count, or a cached part larger than its whole, raises
`BadUsage` (the caller warns and skips the line).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from costlog.models import Usage
from costlog.sources._usage import BadUsage, check_cached, count


def openai_chat_usage(u: Mapping[str, Any]) -> Usage:
    prompt = count(u, "prompt_tokens")
    cached = count(u, "prompt_tokens_details", "cached_tokens")
    return Usage(
        input=check_cached(prompt, cached, "prompt_tokens"),
        cache_read=cached,
        output=count(u, "completion_tokens"),
        reasoning=count(u, "completion_tokens_details", "reasoning_tokens"),
    )


def openai_responses_usage(u: Mapping[str, Any]) -> Usage:
    prompt = count(u, "input_tokens")
    cached = count(u, "input_tokens_details", "cached_tokens")
    return Usage(
        input=check_cached(prompt, cached, "input_tokens"),
        cache_read=cached,
        output=count(u, "output_tokens"),
        reasoning=count(u, "output_tokens_details", "reasoning_tokens"),
    )


def anthropic_usage(u: Mapping[str, Any]) -> Usage:
    usage = Usage(
        input=count(u, "input_tokens"),
        output=count(u, "output_tokens"),
        cache_read=count(u, "cache_read_input_tokens"),
        reasoning=count(u, "output_tokens_details", "thinking_tokens"),
    )
    usage.cache_write_5m, usage.cache_write_1h = anthropic_cache_writes(u)
    return usage


def anthropic_cache_writes(u: Mapping[str, Any]) -> tuple[int, int]:
    """(5-minute, 1-hour) cache writes: the 1h split is taken out of the total."""
    one_hour = count(u, "cache_creation", "ephemeral_1h_input_tokens")
    five_min = count(u, "cache_creation", "ephemeral_5m_input_tokens")
    total = (
        count(u, "cache_creation_input_tokens")
        if "cache_creation_input_tokens" in u
        else five_min + one_hour
    )
    if one_hour > total:
        raise BadUsage(
            f"ephemeral_1h_input_tokens ({one_hour}) exceed cache_creation_input_tokens ({total})"
        )
    return total - one_hour, one_hour


def gemini_usage(u: Mapping[str, Any]) -> Usage:
    prompt = count(u, "promptTokenCount")
    cached = count(u, "cachedContentTokenCount")
    thoughts = count(u, "thoughtsTokenCount")
    return Usage(
        input=check_cached(prompt, cached, "promptTokenCount")
        + count(u, "toolUsePromptTokenCount"),
        cache_read=cached,
        output=count(u, "candidatesTokenCount") + thoughts,
        reasoning=thoughts,
    )


def usage_kind(u: Mapping[str, Any], body: Mapping[str, Any]) -> str | None:
    """Which provider shape a usage object has: openai / responses / anthropic / gemini."""
    if "promptTokenCount" in u or "candidatesTokenCount" in u:
        return "gemini"
    if "prompt_tokens" in u or "completion_tokens" in u:
        return "openai"
    if "input_tokens" in u or "output_tokens" in u:
        details = u.get("output_tokens_details")
        if (
            "input_tokens_details" in u
            or body.get("object") == "response"
            or (isinstance(details, Mapping) and "reasoning_tokens" in details)
        ):
            return "responses"
        return "anthropic"
    return None


NORMALISERS: dict[str, Callable[[Mapping[str, Any]], Usage]] = {
    "openai": openai_chat_usage,
    "responses": openai_responses_usage,
    "anthropic": anthropic_usage,
    "gemini": gemini_usage,
}
