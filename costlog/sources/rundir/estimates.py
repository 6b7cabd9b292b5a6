"""Estimates for an iteration that recorded no usage: counted text and configured sizes,
with the arithmetic written out for the entry's `methods`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from costlog import gitrepo
from costlog.config import RunDir
from costlog.errors import CostlogError
from costlog.estimate.tokens import count_tokens
from costlog.models import Usage
from costlog.safefs import open_log_text
from costlog.sources import Warn
from costlog.sources.rundir.runlog import RunLog

#: diff text read from git per iteration, at most (bytes): a counted estimate, not a copy
MAX_DIFF_BYTES = 4_000_000
_TEXT_SKIP = frozenset({"usage", "token_usage", "tokens", "model", "timestamp"})


def _text_tokens(value: Any) -> int:
    if value is None or value == "":
        return 0
    return count_tokens(value if isinstance(value, str) else json.dumps(value))


@dataclass
class Run:
    """What one run's estimate needs: its files, settings and repository."""

    path: Path
    settings: RunDir
    repo_root: Path | None
    log: RunLog
    wo_tokens: int = 0
    warn: Warn = field(default=lambda _m: None)


def _scale(tokens: int, factor: Decimal) -> int:
    return int((Decimal(tokens) * factor).to_integral_value(ROUND_HALF_UP))


def builder_estimate(run: Run, number: int, result: Mapping[str, Any]) -> tuple[Usage, str]:
    s = run.settings
    feedback = s.test_output_tokens + s.reviewer_feedback_tokens
    repeats = max(number - 1, 0)
    tokens_in = run.wo_tokens + s.constitution_tokens + s.builder_system_tokens + repeats * feedback
    written = _text_tokens(result.get("summary")) + _text_tokens(result.get("changes"))
    tokens_out = _scale(written, s.output_multiplier)
    method = (
        f"input: WO {run.wo_tokens} + constitution {s.constitution_tokens} + system "
        f"{s.builder_system_tokens} + {repeats} x feedback {feedback} = {tokens_in}; "
        f"output: (summary+changes {written}) x {s.output_multiplier} = {tokens_out}"
    )
    return Usage(input=tokens_in, output=tokens_out), method


def reviewer_estimate(run: Run, number: int, review: Mapping[str, Any]) -> tuple[Usage, str]:
    s = run.settings
    diff = diff_tokens(run, number)
    tokens_in = run.wo_tokens + diff + s.constitution_tokens + s.reviewer_system_tokens
    written = _text_tokens({k: v for k, v in review.items() if k not in _TEXT_SKIP})
    tokens_out = _scale(written, s.reviewer_output_multiplier)
    method = (
        f"input: WO {run.wo_tokens} + diff {diff} + constitution "
        f"{s.constitution_tokens} + system {s.reviewer_system_tokens} = {tokens_in}; "
        f"output: (feedback {written}) x {s.reviewer_output_multiplier} = {tokens_out}"
    )
    return Usage(input=tokens_in, output=tokens_out), method


def diff_tokens(run: Run, number: int) -> int:
    """Tokens of the diff reviewed in iteration `number`: a patch file, else git."""
    for key in (("reviewer", number), ("builder", number)):
        item = run.log.iterations.get(key)
        folder = (
            None
            if item is None or item.path is None
            else (item.path if item.path.is_dir() else item.path.parent)
        )
        if folder is None:
            continue
        patches = sorted([*folder.glob("*.diff"), *folder.glob("*.patch")])
        if patches:
            return sum(file_tokens(p) for p in patches)
    window = _builder_window(run, number)
    return (
        0 if window is None or run.repo_root is None else _git_diff_tokens(run.repo_root, *window)
    )


def file_tokens(path: Path) -> int:
    try:
        with open_log_text(path) as handle:
            return count_tokens(handle.read(MAX_DIFF_BYTES))
    except OSError:
        return 0


def _builder_window(run: Run, number: int) -> tuple[datetime, datetime] | None:
    item = run.log.iterations.get(("builder", number))
    if item is None or item.when is None:
        return None
    later = [
        i.when
        for i in run.log.iterations.values()
        if i.when is not None and i.when > item.when and i is not item
    ]
    end = min(later) if later else (run.log.ended or item.when)
    return item.when, end


def _git_diff_tokens(root: Path, start: datetime, end: datetime) -> int:
    try:
        data = gitrepo.log_prefix(
            root,
            "--all",
            "--no-merges",
            "-p",
            "--format=",
            f"--since={int(start.timestamp())}",
            f"--until={int(end.timestamp())}",
            limit=MAX_DIFF_BYTES,
        )
    except (OSError, CostlogError):
        return 0
    return count_tokens(data.decode("utf-8", "replace")) if data else 0
