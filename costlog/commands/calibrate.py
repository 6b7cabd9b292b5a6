"""`costlog calibrate`: measure the token estimator on this repo's Claude Code transcripts
(costlog.estimate.calibration), and with `--write` store the fitted factors."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from costlog.errors import CostlogError
from costlog.estimate.calibration import Fit, factors, fit, transcript_samples

if TYPE_CHECKING:
    from costlog.config import Config
    from costlog.estimate.calibration import Sample
    from costlog.gitrepo import Repo


@dataclass
class Result:
    files: int
    fits: list[Fit]
    bill_factors: dict[str, str]
    warnings: list[str]


def find_transcripts(paths: Sequence[Path], project: Path | None) -> list[Path]:
    """The given files/dirs, else this repo's Claude Code transcripts in the usual places."""
    import os

    from costlog.sources.claude import paths as claude_paths
    from costlog.sources.claude.discovery import discover

    roots = list(paths) or claude_paths.default_roots(os.environ, Path.home())
    logs = discover(roots, project=None if paths else project)
    return sorted(log.path for log in logs)


def run(config: Config, files: Sequence[Path]) -> Result:
    warnings: list[str] = []
    samples: list[Sample] = []
    for path in files:
        samples.extend(transcript_samples(path, warnings.append))
    return Result(len(files), fit(samples), dict(config.correction_factors or {}), warnings)


def to_text(result: Result) -> str:
    if not result.fits:
        return (
            f"read {result.files} transcript(s): no response with real usage to calibrate against"
        )
    lines = [
        f"read {result.files} transcript(s); estimate vs logged usage:",
        f"  {'family':<32} {'part':<7} {'n':>6} {'actual':>12} {'estimated':>12} "
        f"{'bias':>8} {'err/resp':>9} {'factor':>7} {'err after':>9}",
    ]
    for f in result.fits:
        lines.append(
            f"  {f.family:<32} {f.component:<7} {f.samples:>6} {f.actual:>12,} "
            f"{f.estimated:>12,} {f.bias_pct:>+7}% {f.mae_pct:>8}% "
            f"{f.factor:>7} {f.mae_after_pct:>8}%"
        )
    lines.append(
        "bias: total estimate vs total actual; err/resp: mean absolute error per "
        "response; factor = actual / estimated"
    )
    if result.bill_factors:
        lines.append(
            "bill-based factors (costlog reconcile): "
            + ", ".join(f"{m} {v}" for m, v in sorted(result.bill_factors.items()))
        )
    lines.extend(f"warning: {w}" for w in result.warnings[:5])
    return "\n".join(lines)


def write(repo: Repo, result: Result) -> str:
    """Store the fitted factors as `estimate_factors`; the line to print."""
    from costlog.commands.factors import write_factors

    fitted = factors(result.fits)
    if not fitted:
        raise CostlogError("nothing to write: no response with real usage was found")
    path = write_factors(repo.root, fitted, key="estimate_factors")
    return (
        f"wrote estimate factors for {len(fitted)} famil"
        f"{'y' if len(fitted) == 1 else 'ies'} to {path.relative_to(repo.root)}"
    )
