"""run.log, read line by line for times, iteration markers, model names and work-order
paths (nothing else of it is kept), and the iteration files next to it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from costlog.config import RunDir
from costlog.safefs import open_log_text
from costlog.sources import Warn
from costlog.timeutil import log_time

_STAMP = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?")
_MARKER = re.compile(r"\b(builder|reviewer)\s+iteration\b(?:\s*#?\s*(\d+))?", re.I)
_ROLE = re.compile(r"\b(builder|reviewer)\b", re.I)
_MODEL = re.compile(r"(?:--model[= ]|\bmodel\s*[=:]\s*)[\"'(]?([A-Za-z][\w.\-/:@]*\w)", re.I)
_MD_PATH = re.compile(r"[\w./~-]*[\w-]\.md\b")
_WO_WORDS = re.compile(r"work[\s_-]*order|\bWO\b", re.I)
_ITER = re.compile(r"(\d+)")


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


class LogReader:
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
    reader = LogReader(settings, path, warn)
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


def add_files(log: RunLog, run: Path, settings: RunDir) -> None:
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
