"""The estimation guides a manual entry's per-task rates may have come from, for
`costlog check` (costlog.ledger.guide_check).

`costlog record --tasks` priced the session with the guide of that moment: the config's
seed rows, or rates measured from the ledger as it was then. That ledger is gone (later
sessions were added, re-recorded or repriced since), so the exact guide cannot be
rebuilt; check accepts a rate only when it is one of these, each computed from what is
in the repo and never from the entry's own text:

1. the seed rows of the repo's config;
2. costlog's default seed rows (a config that set none, or set them later);
3. the rates measured from the sessions that started before the entry did;
4. the rates measured from the whole ledger (what COST_LOG.md shows now).

The guides of (3) are built in one pass over the sessions sorted by start, the per-task
costs of each row kept in order, a row recomputed only when a session joins it; so
check stays fast on a large ledger with many such entries, and one without any pays
nothing.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import defaultdict
from collections.abc import Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from costlog.analysis.estimation import guide_rate, guide_rows, measured_row, sample, with_seeds
from costlog.config import Config
from costlog.ledger.guide_check import GuideRate
from costlog.ledger.methods import GUIDE
from costlog.models import Entry

Rows = list[dict[str, Any]]
#: a session that feeds the guide: its start, the rows it counts in, its cost per task
_Fed = tuple[datetime, list[tuple[str, str]], Decimal]


class GuideHistory:
    """Called with an entry: the guides (as `GuideRate`s) it may have been priced with."""

    def __init__(self, entries: Sequence[Entry], config: Config) -> None:
        self._entries = entries
        self._config = config
        self._seeds: list[Rows] | None = None
        self._feeding: list[_Fed] | None = None
        self._starts: list[datetime] = []
        #: the guide measured from the first n feeding sessions (and the seeds), by n
        self._measured: dict[int, Rows] = {}

    def __call__(self, entry: Entry) -> Iterator[GuideRate]:
        if self._seeds is None:
            self._seeds = [guide_rows({}, self._config)]
            default = Config()
            if default.estimation_guide != self._config.estimation_guide:
                self._seeds.append(guide_rows({}, default))
        for rows in self._seeds:
            yield _rate(rows)
        feeding = self._sessions()
        before = bisect_left(self._starts, entry.started)
        for n in dict.fromkeys((before, len(feeding))):
            yield _rate(self._rows(n))

    def _sessions(self) -> list[_Fed]:
        if self._feeding is None:
            found: list[_Fed] = []
            for entry in self._entries:
                fed = sample(entry)
                if fed is not None:
                    found.append((entry.started, *fed))
            found.sort(key=lambda item: item[0])
            self._feeding = found
            self._starts = [start for start, _, _ in found]
            asking = (e.started for e in self._entries if _priced_from_guide(e))
            self._sweep(sorted({bisect_left(self._starts, s) for s in asking} | {len(found)}))
        return self._feeding

    def _sweep(self, wanted: list[int]) -> None:
        """The guides measured from the first n sessions, for each n of `wanted` (sorted)."""
        feeding = self._feeding or []
        per_task: dict[tuple[str, str], list[Decimal]] = defaultdict(list)
        rows: dict[tuple[str, str], dict[str, Any]] = {}
        least = self._config.guide_min_sessions
        done = 0
        for n in wanted:
            changed: set[tuple[str, str]] = set()
            for _, keys, each in feeding[done:n]:
                for key in keys:
                    insort(per_task[key], each)
                    changed.add(key)
            for key in changed:
                if len(per_task[key]) >= least:
                    rows[key] = measured_row(key, per_task[key])
            self._measured[n] = with_seeds(list(rows.values()), self._config)
            done = n

    def _rows(self, n: int) -> Rows:
        """The guide measured from the first `n` feeding sessions (and the seeds); an
        entry the sweep did not foresee is measured on its own."""
        rows = self._measured.get(n)
        if rows is None:
            per_task: dict[tuple[str, str], list[Decimal]] = defaultdict(list)
            for _, keys, each in self._sessions()[:n]:
                for key in keys:
                    per_task[key].append(each)
            rows = self._measured[n] = guide_rows(per_task, self._config)
        return rows


def _priced_from_guide(entry: Entry) -> bool:
    return entry.source == "manual" and entry.methods.get("cost", "").startswith(GUIDE)


def _rate(rows: Rows) -> GuideRate:
    return lambda model, task_type: guide_rate(rows, model, task_type)
