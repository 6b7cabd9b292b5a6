"""One run directory read into one Session: recorded usage where the iteration logged
it, an estimate otherwise."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from costlog.config import RunDir
from costlog.estimate.tokens import HEURISTIC_METHOD
from costlog.models import Request, Session, Usage
from costlog.safefs import read_regular
from costlog.sources import Warn
from costlog.sources._usage import check_cached, count
from costlog.sources.provider_usage import NORMALISERS, usage_kind
from costlog.sources.rundir import AGENT
from costlog.sources.rundir.estimates import (
    Run,
    builder_estimate,
    file_tokens,
    reviewer_estimate,
)
from costlog.sources.rundir.runlog import Iteration, RunLog, add_files, read_run_log
from costlog.sources.rundir.workorders import work_order

UNKNOWN_MODEL = "unknown"
_USAGE_KEYS = ("usage", "token_usage", "tokens")


def read_json(path: Path, warn: Warn) -> dict[str, Any]:
    try:
        data = json.loads(read_regular(path).decode("utf-8"))
    except OSError as exc:
        warn(f"{path}: cannot read: {exc.strerror or exc}")
        return {}
    except (ValueError, RecursionError) as exc:
        warn(f"{path}: cannot read: {exc}")
        return {}
    return data if isinstance(data, dict) else {}


def usage_from(data: Mapping[str, Any]) -> Usage | None:
    """The usage an iteration's JSON recorded, normalised (input excludes cached input)."""
    raw = next((data[k] for k in _USAGE_KEYS if isinstance(data.get(k), Mapping)), None)
    if raw is None:
        return None
    if "cached_input_tokens" in raw:  # Codex's shape: input includes the cached part
        total = count(raw, "input_tokens")
        cached = count(raw, "cached_input_tokens")
        return Usage(
            input=check_cached(total, cached, "input_tokens"),
            cache_read=cached,
            output=count(raw, "output_tokens"),
            reasoning=count(raw, "reasoning_output_tokens"),
        )
    kind = usage_kind(raw, data)
    return None if kind is None else NORMALISERS[kind](raw)


def _model_for(run: Run, item: Iteration, data: Mapping[str, Any]) -> str:
    logged = data.get("model")
    if isinstance(logged, str) and logged:
        return logged
    default = run.settings.builder_model if item.role == "builder" else run.settings.reviewer_model
    models = run.log.role_models
    return item.model or models.get(item.role) or models.get("*") or default or UNKNOWN_MODEL


def _when(run: Run, item: Iteration) -> datetime | None:
    if item.when is not None:
        return item.when
    if item.path is not None:
        try:
            return datetime.fromtimestamp(item.path.stat().st_mtime, UTC)
        except OSError:
            pass
    return run.log.started


def _iteration_data(run: Run, item: Iteration) -> tuple[dict[str, Any], list[Path]]:
    if item.path is None:
        return {}, []
    if item.path.is_file():
        return read_json(item.path, run.warn), [item.path]
    merged: dict[str, Any] = {}
    files = sorted(item.path.glob("*.json"))
    for path in files:
        data = read_json(path, run.warn)
        if "usage" in merged and any(k in data for k in _USAGE_KEYS):
            run.warn(f"{path}: a second usage object in one reviewer iteration; kept the first")
            data = {k: v for k, v in data.items() if k not in _USAGE_KEYS}
        merged.update({k: v for k, v in data.items() if k not in merged})
    return merged, files


def _request(run: Run, item: Iteration, session: Session) -> Request:
    data, files = _iteration_data(run, item)
    session.paths += [str(p) for p in files]
    model = _model_for(run, item, data)
    key = f"{item.role}-{item.number}"
    try:
        usage = usage_from(data)
    except ValueError as exc:  # BadUsage: numbers that cannot be trusted
        run.warn(f"{files[0] if files else run.path}: usage ignored: {exc}")
        usage = None
    if usage is not None:
        return Request(
            model=model, usage=usage, timestamp=_when(run, item), source="actual", request_id=key
        )
    estimate = builder_estimate if item.role == "builder" else reviewer_estimate
    usage, method = estimate(run, item.number, data)
    if not files:
        method += f" (no {'result.json' if item.role == 'builder' else 'review file'})"
    session.methods[key] = method
    return Request(
        model=model,
        usage=usage,
        timestamp=_when(run, item),
        source="estimated",
        estimated_output=usage.output,
        request_id=key,
    )


def read_run(path: Path, settings: RunDir, repo_root: Path | None, warn: Warn) -> Session:
    log_path = path / settings.run_log
    # anything there but a regular file is read as nothing, with a warning
    log = read_run_log(log_path, settings, warn) if log_path.exists() else RunLog()
    add_files(log, path, settings)
    run = Run(path, settings, repo_root, log, warn=warn)
    wo_id, wo_file = work_order(run)
    session = Session(
        agent=AGENT,
        session_id=path.name,
        started=log.started,
        ended=log.ended,
        cwd=str(repo_root or path),
    )
    session.paths = [str(log_path)] if log_path.is_file() else []
    if wo_file is not None:
        run.wo_tokens = file_tokens(wo_file)
    ordered = sorted(log.iterations.values(), key=lambda i: (i.number, i.role != "builder"))
    session.requests = [_request(run, item, session) for item in ordered]
    _finish(session, run, wo_id, wo_file)
    return session


def _finish(session: Session, run: Run, wo_id: str | None, wo_file: Path | None) -> None:
    if any(r.source == "estimated" for r in session.requests):
        where = (
            "not found"
            if wo_file is None
            else (
                str(wo_file.relative_to(run.repo_root))
                if run.repo_root and wo_file.is_relative_to(run.repo_root)
                else wo_file.name
            )
        )
        session.methods["tokens"] = f"{HEURISTIC_METHOD}; work order {where}"
    if wo_id:
        session.first_prompt = wo_id  # in memory only: attribution reads the work item
    stamps = sorted(r.timestamp for r in session.requests if r.timestamp is not None)
    if stamps:
        session.started = min(session.started or stamps[0], stamps[0])
        session.ended = max(session.ended or stamps[-1], stamps[-1])
    if session.ended is None:
        session.ended = session.started
