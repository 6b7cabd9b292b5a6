"""The cyclic garbage collector, paused for a whole `costlog` run.

Ledger entries, requests and report rows are acyclic: reference counting frees them. With
100,000 of them the collector's repeated scans of the new objects cost more than the work
itself (about 2x on a warm ledger load, ~40 % of a warm scan). A run is short and builds
little cyclic garbage, so the programs' entry points (`costlog.cli.main` and the hook
runtime's `main`) pause the collector for the whole run. Library functions never touch
it: a program that imports costlog keeps its own collector settings.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause collection, and restore it as it was afterwards (also on an exception)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
