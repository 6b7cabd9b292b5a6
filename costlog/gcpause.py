"""One switch for the cyclic garbage collector while building many small objects.

Ledger entries, requests and report rows are acyclic: reference counting frees them. With
100,000 of them the collector's repeated scans of the new objects cost more than the work
itself (about 2x on a warm ledger load, ~40 % of a warm scan), so the builders pause it.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def gc_paused(*, freeze: bool = False) -> Iterator[None]:
    """Pause collection; with `freeze`, what was built is exempt from later collections
    (for data that lives until the process exits, such as a loaded ledger)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if freeze:
            gc.freeze()
        if enabled:
            gc.enable()
