"""Calibrated estimate factors: read from the config and applied to a session's estimates.

`costlog calibrate --write` stores `estimate_factors: {claude-sonnet: {input: "1.31",
output: "1.04"}}` in `.costlog/config.yaml`; recording a session then scales only its
*estimated* token counts by them (never numbers the agent logged) and says so in the
entry's `methods`.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from costlog.config import Config
from costlog.errors import ConfigError
from costlog.models import Session

COMPONENTS = ("input", "output")


def family_key(model: str) -> str:
    """`claude-sonnet`, `claude-opus:new-tokenizer`, `gpt-5`, ... for factors and reports."""
    from costlog.analysis.families import family_of
    from costlog.sources.claude.output_estimate import claude_new_tokenizer

    key = family_of(model).lower().replace(" ", "-")
    if key.startswith("claude") and claude_new_tokenizer(model):
        key += ":new-tokenizer"
    return key


def configured_factors(config: Config) -> dict[str, dict[str, Decimal]]:
    """`estimate_factors` of the config, validated (ConfigError names the bad value)."""
    raw = config.estimate_factors or {}
    if not isinstance(raw, Mapping):
        raise ConfigError("`estimate_factors` must be a mapping of family: {input, output}")
    out: dict[str, dict[str, Decimal]] = {}
    for family, parts in raw.items():
        if not isinstance(parts, Mapping):
            raise ConfigError(f"`estimate_factors.{family}` must be a mapping")
        out[str(family)] = {}
        for component, value in parts.items():
            try:
                number = Decimal(str(value))
            except InvalidOperation:
                number = Decimal(-1)
            if component not in COMPONENTS or not number.is_finite() or number <= 0:
                raise ConfigError(
                    f"`estimate_factors.{family}.{component}` must be input or "
                    f"output with a factor > 0, not {value!r}"
                )
            out[str(family)][str(component)] = number
    return out


def apply_factors(session: Session, table: Mapping[str, Mapping[str, Decimal]]) -> int:
    """Scale the *estimated* tokens of a session by the calibrated factors; say so.

    Output: a request whose output was estimated (`estimated_output` > 0) gets
    `max(logged, estimate x factor)`. Input: a request whose numbers are all estimated
    (`source == "estimated"`) gets its input scaled. Actual numbers are never touched.
    Returns the number of requests changed and notes the factors in `session.methods`.
    """
    changed = 0
    used: dict[str, Decimal] = {}
    for request in session.requests:
        family = family_key(request.model)
        parts = table.get(family) or {}
        out_f, in_f = parts.get("output"), parts.get("input")
        if out_f is not None and request.estimated_output > 0:
            logged = request.usage.output - request.estimated_output
            scaled = int((request.usage.output * out_f).to_integral_value(ROUND_HALF_UP))
            request.usage.output = max(logged, scaled)
            request.estimated_output = request.usage.output - logged
            used[f"{family} output"] = out_f
            changed += 1
        if in_f is not None and request.source == "estimated" and request.usage.input:
            request.usage.input = int((request.usage.input * in_f).to_integral_value(ROUND_HALF_UP))
            used[f"{family} input"] = in_f
            changed += 1
    if used:
        session.methods["calibration"] = (
            "estimates x calibrated factors (costlog calibrate): "
            + ", ".join(f"{k} x{v}" for k, v in sorted(used.items()))
        )
    return changed
