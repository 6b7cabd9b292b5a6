"""The Claude output fit: output tokens of a response from its content sizes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from claude_logs import REAL, expand

from costlog.sources.claude.output_estimate import (
    claude_new_tokenizer,
    claude_output_estimate,
    content_features,
)


def test_claude_output_fit() -> None:
    # classic: 0.269*1000 + 0.240*200 + 0.220*500 + 54*3
    assert (
        claude_output_estimate("claude-sonnet-4-6", text=1000, tool=200, signature=500, blocks=3)
        == 589
    )
    # new tokenizer: 0.403*1000 + 0.400*200 + 0.280*500 + 47*3
    assert (
        claude_output_estimate("claude-opus-4-7", text=1000, tool=200, signature=500, blocks=3)
        == 764
    )
    assert [
        claude_new_tokenizer(m)
        for m in (
            "claude-opus-4-6",
            "claude-sonnet-4-5-20250929",
            "claude-haiku-4-5",
            "claude-opus-4-7",
            "claude-opus-5",
            "claude-fable-5",
        )
    ] == [False, False, False, True, True, True]


def test_exit_plan_mode_plan_is_not_model_output() -> None:
    plan = {
        "type": "tool_use",
        "id": "t",
        "name": "ExitPlanMode",
        "input": {"plan": "x" * 10_000, "allowedPrompts": []},
    }
    assert content_features([plan]) == (0, len('{"allowedPrompts": []}ExitPlanMode'), 0, 1)


def test_estimator_error_on_real_final_counts(tmp_path: Path) -> None:
    """On real responses whose final count is known, the content-size estimate (ignoring
    the logged number) lands within a few percent in aggregate."""
    from costlog.sources.claude.output_estimate import claude_output_estimate

    totals: dict[str, list[int]] = {}
    for src in sorted(REAL.glob("*.jsonl")):
        groups: dict[str, list[dict[str, Any]]] = {}
        for raw in expand(src, tmp_path / src.name).read_text().splitlines():
            line = json.loads(raw)
            groups.setdefault(line["message"]["id"], []).append(line)
        for lines in groups.values():
            if not any(
                ln["message"]["stop_reason"] or "iterations" in ln["message"]["usage"]
                for ln in lines
            ):
                continue
            feats = [
                sum(x)
                for x in zip(
                    *(content_features(ln["message"]["content"]) for ln in lines), strict=True
                )
            ]
            est = claude_output_estimate(
                lines[0]["message"]["model"],
                text=feats[0],
                tool=feats[1],
                signature=feats[2],
                blocks=feats[3],
            )
            version = tuple(int(p) for p in lines[0]["version"].split("."))
            era = "placeholder" if version < (2, 1, 59) else "final"
            total = totals.setdefault(era, [0, 0])
            total[0] += est
            total[1] += max(ln["message"]["usage"]["output_tokens"] for ln in lines)
    assert totals == {"placeholder": [24159, 22212], "final": [137028, 141256]}
