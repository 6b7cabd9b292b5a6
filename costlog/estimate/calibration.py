"""How far the token estimator is off, measured on logs with real usage (`costlog calibrate`).

Method ("hide the usage, estimate, compare"), on Claude Code transcripts whose usage is
trustworthy:

* **output**: every response with a final output count (a line with `stop_reason` set)
  is estimated from its content alone, exactly as the Claude Code reader does for
  placeholder counts (`estimate.claude_output_estimate`: text, tool-input and
  thinking-signature characters plus a per-block cost), and compared with the logged count;
* **input**: every request's prompt (input + cache read + cache writes, as logged) is
  compared with `estimate.count_tokens` of the conversation text sent so far (user text,
  tool results, assistant text and tool inputs of the main thread): what an estimator that
  sees only the transcript text would say. System prompt and tool definitions are not in
  the transcript, so this estimate is low; the fitted factor carries that offset.

Errors are reported per model family (Claude Opus/Sonnet/Haiku; the post-4.7 tokenizer
apart) and component: bias = sum(estimate) / sum(actual) - 1, and the mean absolute error
per response before and after the fitted factor = sum(actual) / sum(estimate).

`factors` turns the fits into the `estimate_factors` that `costlog calibrate --write`
stores; costlog.estimate.factors applies them to later estimates.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from costlog.estimate.factors import family_key

FACTOR_PLACES = Decimal("0.001")


@dataclass(frozen=True, slots=True)
class Sample:
    model: str
    component: str  # input | output
    actual: int
    estimated: int


@dataclass
class Fit:
    family: str
    component: str
    samples: int
    actual: int
    estimated: int
    #: mean absolute error per response, in % of the actual count, before/after the factor
    mae_pct: Decimal
    mae_after_pct: Decimal

    @property
    def factor(self) -> Decimal:
        return (
            (Decimal(self.actual) / Decimal(self.estimated)).quantize(FACTOR_PLACES)
            if self.estimated
            else Decimal(1)
        )

    @property
    def bias_pct(self) -> Decimal:
        """How much the estimate over- (+) or under- (-) states the total."""
        if not self.actual:
            return Decimal(0)
        return _pct(Decimal(self.estimated) / Decimal(self.actual) - 1)


def _pct(ratio: Decimal) -> Decimal:
    return (ratio * 100).quantize(Decimal("0.1"), ROUND_HALF_UP)


# ---------------------------------------------------------------- samples from transcripts


@dataclass
class _Message:
    model: str
    prompt: int
    estimated_prompt: int
    final_output: int | None = None
    features: list[int] = field(default_factory=lambda: [0, 0, 0, 0])
    blocks_seen: set[str] = field(default_factory=set)


def _lines(path: Path, warn: Any) -> Iterator[dict[str, Any]]:
    """The JSON objects of a transcript; an over-long line is passed over unread, a line that
    is not JSON is warned about and skipped."""
    from costlog.sources._lines import bounded_lines

    with open(path, "rb") as handle:
        for number, raw in enumerate(bounded_lines(handle), 1):
            if isinstance(raw, int) or not raw.strip():
                continue
            try:
                obj = json.loads(raw)
            except ValueError:
                warn(f"{path}:{number}: not JSON, skipped")
                continue
            if isinstance(obj, dict):
                yield obj


def _text_of(content: Any) -> str:
    """The text an API request resends for one message's content."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    parts: list[str] = []
    for block in content:
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        if kind == "text":
            parts.append(str(block.get("text") or ""))
        elif kind == "tool_use":
            parts.append(json.dumps(block.get("input"), ensure_ascii=False))
        elif kind == "tool_result":
            parts.append(_text_of(block.get("content")))
    return "\n".join(p for p in parts if p)


def _usage_int(usage: Mapping[str, Any], key: str) -> int:
    value = usage.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def transcript_samples(path: Path, warn: Any = lambda _m: None) -> list[Sample]:
    """Input and output samples of one Claude Code transcript (see module doc)."""
    from costlog.estimate.tokens import count_tokens
    from costlog.sources.claude.output_estimate import content_features

    running = 0
    messages: dict[str, _Message] = {}
    for obj in _lines(path, warn):
        msg = obj.get("message")
        if obj.get("isSidechain") or not isinstance(msg, dict):
            continue
        content = msg.get("content")
        kind = obj.get("type") or msg.get("role")
        if kind == "user":
            running += count_tokens(_text_of(content))
            continue
        usage = msg.get("usage")
        if kind != "assistant" or not isinstance(usage, dict) or not msg.get("id"):
            continue
        model = str(msg.get("model") or "")
        if not model or model.startswith("<"):
            continue
        current = messages.get(str(msg["id"]))
        if current is None:
            prompt = sum(
                _usage_int(usage, k)
                for k in ("input_tokens", "cache_read_input_tokens", "cache_creation_input_tokens")
            )
            current = messages[str(msg["id"])] = _Message(model, prompt, running)
        fresh = _add_content(current, content, content_features)
        if msg.get("stop_reason"):
            out = _usage_int(usage, "output_tokens")
            current.final_output = max(current.final_output or 0, out)
        running += count_tokens(_text_of(fresh))
    return _to_samples(messages.values())


def _add_content(message: _Message, content: Any, features: Any) -> list[Any]:
    """Add the blocks not seen before in this message; returns them."""
    if not isinstance(content, list):
        content = [{"type": "text", "text": content}] if isinstance(content, str) else []
    fresh = []
    for block in content:
        key = json.dumps(block, sort_keys=True, default=str)
        if key in message.blocks_seen:  # a streamed line repeating a block already counted
            continue
        message.blocks_seen.add(key)
        fresh.append(block)
        for i, value in enumerate(features([block])):
            message.features[i] += value
    return fresh


def _to_samples(messages: Iterable[_Message]) -> list[Sample]:
    from costlog.sources.claude.output_estimate import claude_output_estimate

    samples: list[Sample] = []
    for m in messages:
        if m.prompt and m.estimated_prompt:
            samples.append(Sample(m.model, "input", m.prompt, m.estimated_prompt))
        if m.final_output:
            text, tool, sig, blocks = m.features
            guess = claude_output_estimate(
                m.model, text=text, tool=tool, signature=sig, blocks=blocks
            )
            samples.append(Sample(m.model, "output", m.final_output, guess))
    return samples


# ---------------------------------------------------------------- fitting


def fit(samples: Iterable[Sample]) -> list[Fit]:
    groups: dict[tuple[str, str], list[Sample]] = defaultdict(list)
    for sample in samples:
        if sample.actual > 0 and sample.estimated > 0:
            groups[(family_key(sample.model), sample.component)].append(sample)
    fits = []
    for (family, component), group in sorted(groups.items()):
        actual = sum(s.actual for s in group)
        estimated = sum(s.estimated for s in group)
        factor = Decimal(actual) / Decimal(estimated)
        fits.append(
            Fit(
                family,
                component,
                len(group),
                actual,
                estimated,
                _mae(group, Decimal(1)),
                _mae(group, factor),
            )
        )
    return fits


def _mae(group: Sequence[Sample], factor: Decimal) -> Decimal:
    errors = [abs(Decimal(s.estimated) * factor - s.actual) / s.actual for s in group]
    return _pct(sum(errors, Decimal(0)) / len(errors))


def factors(fits: Iterable[Fit]) -> dict[str, dict[str, Decimal]]:
    out: dict[str, dict[str, Decimal]] = defaultdict(dict)
    for f in fits:
        out[f.family][f.component] = f.factor
    return dict(out)
