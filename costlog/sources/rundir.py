"""Run directories of a home-grown agent runner (`--agent rundir`).

A runner that drives a builder model and a reviewer model over a work order typically
leaves, per run (the layout is configurable under `rundir:` in `.costlog/config.yaml`):

    .system/runs/<run-id>/run.log                  model names, `Builder iteration N` /
                                                   `Reviewer iteration N` markers, timestamps
    .system/runs/<run-id>/builder/iter-N/result.json   summary, changes, maybe `usage`
    .system/runs/<run-id>/reviewer/iter-N/*.json       verdict / feedback, maybe `usage`
    work_orders/<WO-id>.md                          the work order the run was given

Each run is one session `rundir/<run-id>`; each builder and reviewer iteration is one
request. Its work item is the work-order id (`WO-2026-110`), found in run.log, the path of
the work order, or the run id. The work order is the first existing `*.md` path run.log
names on a line about the work order (or whose name holds the id), relative to the repo
root or the run, else the first match of the `rundir.work_orders` globs (`{wo}` = the
id).

Where an iteration's JSON carries usage (`usage: {input_tokens, output_tokens, ...}` in
Anthropic or OpenAI Responses shape, `{prompt_tokens, completion_tokens}`, or Codex's
`cached_input_tokens`), it is used as is and marked `actual`. Otherwise the iteration is
**estimated** (the methodology of the runner's own backfill, WO-2026-110), every count of
text made with the fitted character heuristic (PRICING.md §3.3, ~4 % per sample), every
parameter in the config, and the arithmetic written into the entry's `methods`:

* builder input = work-order tokens + constitution (1793) + builder system prompt (2000)
  + (iteration - 1) x (test output 1000 + reviewer feedback 500);
* reviewer input = work-order tokens + diff tokens + constitution (1793) + reviewer
  system prompt (2000); the diff is a `*.diff` / `*.patch` file in the reviewer's or the
  builder's iteration directory, else the `git log -p` of the commits made during the
  builder iteration of the same number;
* builder output = (tokens of `summary` + tokens of `json.dumps(changes)`) x 10
  (a result summary is about a tenth of what the model wrote);
* reviewer output = tokens of its recorded verdict/feedback x 1.

Models come from run.log (`model: X`, `model=X`, `--model X`; on a marker line for that
iteration, on a `builder`/`reviewer` line for that role, else for the iteration in
progress), else `rundir.builder_model` / `reviewer_model`, else the iteration is left
unpriced (never a silent $0). Timestamps are the markers' (naive ones are UTC), else the
result file's mtime. Estimates are directional (the seed work order accepted that): check
them against the provider's bill with `costlog reconcile`, or fit them with `calibrate`.
Only counts, ids, model names and times leave this module; work-order text, summaries
and diffs are counted in memory and never stored.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from costlog.config import Config, RunDir
from costlog.errors import CostlogError
from costlog.estimate.tokens import HEURISTIC_METHOD, count_tokens
from costlog.models import Request, Session, Usage
from costlog.safefs import open_log_text, read_regular
from costlog.sources import Warn
from costlog.timeutil import log_time

AGENT = "rundir"
UNKNOWN_MODEL = "unknown"
#: diff text read from git per iteration, at most (bytes): a counted estimate, not a copy
MAX_DIFF_BYTES = 4_000_000

_STAMP = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?")
_MARKER = re.compile(r"\b(builder|reviewer)\s+iteration\b(?:\s*#?\s*(\d+))?", re.I)
_ROLE = re.compile(r"\b(builder|reviewer)\b", re.I)
_MODEL = re.compile(r"(?:--model[= ]|\bmodel\s*[=:]\s*)[\"'(]?([A-Za-z][\w.\-/:@]*\w)", re.I)
_MD_PATH = re.compile(r"[\w./~-]*[\w-]\.md\b")
_WO_WORDS = re.compile(r"work[\s_-]*order|\bWO\b", re.I)
_ITER = re.compile(r"(\d+)")
_USAGE_KEYS = ("usage", "token_usage", "tokens")
_TEXT_SKIP = frozenset({"usage", "token_usage", "tokens", "model", "timestamp"})


# ---------------------------------------------------------------- run.log


@dataclass
class Iteration:
    role: str
    number: int
    when: datetime | None = None
    model: str | None = None
    #: builder: result.json; reviewer: its directory
    path: Path | None = None


@dataclass
class RunLog:
    started: datetime | None = None
    ended: datetime | None = None
    iterations: dict[tuple[str, int], Iteration] = field(default_factory=dict)
    role_models: dict[str, str] = field(default_factory=dict)
    md_paths: list[str] = field(default_factory=list)
    wo_id: str | None = None


class _LogReader:
    """Reads run.log line by line, keeping only times, markers, model names and paths."""

    def __init__(
        self, settings: RunDir, path: Path | None = None, warn: Warn | None = None
    ) -> None:
        self.log = RunLog()
        self.wo = re.compile(settings.work_order_id)
        self.current: Iteration | None = None
        self.last_number: dict[str, int] = {}
        self.path, self.warn, self.number = path, warn or (lambda _m: None), 0

    def line(self, text: str) -> None:
        self.number += 1
        stamp = _STAMP.search(text)
        when = log_time(stamp.group(0), f"{self.path}:{self.number}", self.warn) if stamp else None
        if when is not None:
            self.log.started = min(self.log.started or when, when)
            self.log.ended = max(self.log.ended or when, when)
        marker = _MARKER.search(text)
        model = _MODEL.search(text)
        if marker:
            self._marker(marker, when)
        if model:
            self._model(model.group(1), text, marker is not None)
        paths = _MD_PATH.findall(text)
        if paths and (_WO_WORDS.search(text) or self.wo.search(" ".join(paths))):
            self.log.md_paths += paths
        if self.log.wo_id is None and (found := self.wo.search(text)):
            self.log.wo_id = found.group(0)

    def _marker(self, marker: re.Match[str], when: datetime | None) -> None:
        role = marker.group(1).lower()
        number = int(marker.group(2)) if marker.group(2) else self.last_number.get(role, 0) + 1
        self.last_number[role] = number
        item = self.log.iterations.setdefault((role, number), Iteration(role, number))
        item.when = item.when or when
        self.current = item

    def _model(self, name: str, text: str, on_marker: bool) -> None:
        role = _ROLE.search(text)
        if on_marker and self.current is not None:
            self.current.model = self.current.model or name
        elif role:
            self.log.role_models.setdefault(role.group(1).lower(), name)
        elif self.current is not None and self.current.model is None:
            self.current.model = name
        else:  # before any marker, naming no role: every role's model
            self.log.role_models.setdefault("*", name)


def read_run_log(path: Path, settings: RunDir, warn: Warn) -> RunLog:
    reader = _LogReader(settings, path, warn)
    try:
        with open_log_text(path) as handle:  # a regular file only, within a time bound
            for text in handle:
                reader.line(text)
    except OSError as exc:
        warn(f"{path}: cannot read: {exc.strerror or exc}")
    return reader.log


# ---------------------------------------------------------------- iteration files


def _number(path: Path) -> int | None:
    """The iteration number: from the file's stem, else its directory (`iter-3/`)."""
    for part in (path.stem, path.parent.name):
        found = _ITER.findall(part)
        if found:
            return int(found[-1])
    return None


def _add_files(log: RunLog, run: Path, settings: RunDir) -> None:
    for role, pattern in (
        ("builder", settings.builder_results),
        ("reviewer", settings.reviewer_dirs),
    ):
        for path in sorted(run.glob(pattern)):
            number = _number(path)
            if number is None or (role == "reviewer" and not path.is_dir()):
                continue
            item = log.iterations.setdefault((role, number), Iteration(role, number))
            item.path = path


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
    from costlog.sources import api_jsonl

    raw = next((data[k] for k in _USAGE_KEYS if isinstance(data.get(k), Mapping)), None)
    if raw is None:
        return None
    if "cached_input_tokens" in raw:  # Codex's shape: input includes the cached part
        total = api_jsonl.count(raw, "input_tokens")
        cached = api_jsonl.count(raw, "cached_input_tokens")
        return Usage(
            input=api_jsonl.check_cached(total, cached, "input_tokens"),
            cache_read=cached,
            output=api_jsonl.count(raw, "output_tokens"),
            reasoning=api_jsonl.count(raw, "reasoning_output_tokens"),
        )
    kind = api_jsonl.usage_kind(raw, data)
    return None if kind is None else api_jsonl.NORMALISERS[kind](raw)


def _text_tokens(value: Any) -> int:
    if value is None or value == "":
        return 0
    return count_tokens(value if isinstance(value, str) else json.dumps(value))


# ---------------------------------------------------------------- estimates


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
            return sum(_file_tokens(p) for p in patches)
    window = _builder_window(run, number)
    return (
        0 if window is None or run.repo_root is None else _git_diff_tokens(run.repo_root, *window)
    )


def _file_tokens(path: Path) -> int:
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
    args = [
        "git",
        "log",
        "--all",
        "--no-merges",
        "-p",
        "--format=",
        f"--since={int(start.timestamp())}",
        f"--until={int(end.timestamp())}",
    ]
    try:
        with subprocess.Popen(
            args, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        ) as proc:
            assert proc.stdout is not None
            data = proc.stdout.read(MAX_DIFF_BYTES)
            proc.kill()
    except OSError:
        return 0
    return count_tokens(data.decode("utf-8", "replace")) if data else 0


# ---------------------------------------------------------------- one run -> Session


def _work_order(run: Run) -> tuple[str | None, Path | None]:
    """(work-order id, work-order file) of a run."""
    wo_re = re.compile(run.settings.work_order_id)
    bases = [b for b in (run.repo_root, run.path) if b is not None]
    for name in run.log.md_paths:
        for base in bases:
            candidate = Path(name).expanduser()
            candidate = candidate if candidate.is_absolute() else base / candidate
            if candidate.is_file():
                found = wo_re.search(candidate.name)
                return (found.group(0) if found else run.log.wo_id), candidate
    wo_id = run.log.wo_id
    if wo_id is None and (found := wo_re.search(run.path.name)):
        wo_id = found.group(0)
    if wo_id is None or run.repo_root is None:
        return wo_id, None
    for pattern in run.settings.work_orders:
        hits = sorted(run.repo_root.glob(pattern.replace("{wo}", glob_escape(wo_id))))
        if hits:
            return wo_id, hits[0]
    return wo_id, None


def glob_escape(text: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", text)


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
    except ValueError as exc:  # api_jsonl.BadUsage: numbers that cannot be trusted
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
    _add_files(log, path, settings)
    run = Run(path, settings, repo_root, log, warn=warn)
    wo_id, wo_file = _work_order(run)
    session = Session(
        agent=AGENT,
        session_id=path.name,
        started=log.started,
        ended=log.ended,
        cwd=str(repo_root or path),
    )
    session.paths = [str(log_path)] if log_path.is_file() else []
    if wo_file is not None:
        run.wo_tokens = _file_tokens(wo_file)
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


def work_item(session: Session, settings: RunDir) -> str | None:
    """The work-order id of a run session (its only work item)."""
    if session.agent != AGENT or not session.first_prompt:
        return None
    found = re.search(settings.work_order_id, session.first_prompt)
    return found.group(0) if found else None


# ---------------------------------------------------------------- discovery


def _context(root: Path) -> tuple[Path | None, RunDir]:
    from costlog import config as config_mod
    from costlog import gitrepo as repo_mod

    try:
        repo = repo_mod.find(root if root.is_dir() else root.parent)
    except CostlogError:
        return None, Config().rundir
    try:
        return repo.root, config_mod.load(repo.root).rundir
    except CostlogError:
        return repo.root, Config().rundir


def run_dirs(root: Path, settings: RunDir) -> Iterator[Path]:
    """Runs under `root`: a runs dir, one run dir, or a run's log file. A run log that is
    not a regular file (a FIFO) still marks a run: reading it says why it is skipped."""
    if not root.is_dir():
        if root.name == settings.run_log and root.exists():
            yield root.parent
        return
    if _log_there(root / settings.run_log) or any(root.glob(settings.builder_results)):
        yield root
        return
    for child in sorted(root.iterdir()):
        if child.is_dir() and (
            _log_there(child / settings.run_log) or any(child.glob(settings.builder_results))
        ):
            yield child


def _log_there(path: Path) -> bool:
    return path.exists() and not path.is_dir()


class RunDirAdapter:
    name = AGENT

    def default_roots(self, env: Mapping[str, str], home: Path) -> list[Path]:
        """This repo's runs dir (the repo of the current directory)."""
        root, settings = _context(Path.cwd())
        return [] if root is None else [root / settings.runs_dir]

    def scan(
        self,
        roots: Sequence[Path],
        *,
        project: Path | None = None,
        since: datetime | None = None,
        warn: Warn,
    ) -> Iterator[Session]:
        for root in roots:
            repo_root, settings = _context(root)
            for path in run_dirs(root, settings):
                session = read_run(path, settings, repo_root, warn)
                if not session.requests:
                    continue
                if since is not None and session.ended is not None and session.ended < since:
                    continue
                yield session

    def find_session(self, roots: Sequence[Path], session_id: str, *, warn: Warn) -> Session | None:
        run_id = session_id.removeprefix(f"{AGENT}/")
        for session in self.scan(roots, warn=warn):
            if session.session_id == run_id:
                return session
        return None


ADAPTER = RunDirAdapter()
