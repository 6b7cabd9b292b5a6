"""Everything COST_LOG.md and `costlog report` show, derived from ledger entries.

Nothing here is stored: it is recomputed from the ledger on every render. Money stays
Decimal until the very end, where the render context turns it into decimal strings.

Functions take entries sorted by start time, as `Ledger.load_all` returns them (trend,
alerts and routing's ledger span rely on that order).

Rules a user can rely on (the template's methodology section says the same):
- An unpriced session (a model with no known price) counts $0 in sums and is flagged;
  it never feeds a median, a guide row or a routing estimate.
- A session's cost is split among its work items by the lines its commits changed for
  each item (see `work_item_split`), evenly when the commits say nothing.
- "Typical" always means the median over the ledger, so anomalies, their causes and
  routing adapt to the team's own numbers instead of fixed dollar amounts.

A render works out what every table needs of each entry (its cost, main model, size,
day...) once, in `facts.Facts`: columns over the ledger, with the entries sorted by cost
once for every median and "costliest first" list. The tables take it as `facts=` and
build their rows from it; called without it, they work it out themselves, so `report`
and the other commands get the same rows from the same code.

The modules, by what they compute:
- `facts`: one entry's cost, main model, size and day, and `Facts`, the same for a whole
  ledger in one pass; `families`: model classes by name;
- `typical`: the ledger's medians; `summaries`: months, spend tables, trend, methodology;
- `allocation`: cost by work item and by directory; `estimation`: the estimation guide;
- `outliers`: anomalies and their causes; `budget`: the budget alerts;
- `advice`: routing advice (smaller models, risky task types);
- `people`: spend by author and machine (the per-person table is off by default).

Callers use this package's names (`analysis.alerts(...)`); the modules import each other.
"""

from costlog.analysis.advice import routing
from costlog.analysis.allocation import (
    directories,
    split_count,
    split_usage,
    unlinked,
    work_item_split,
    work_items,
)
from costlog.analysis.budget import alerts
from costlog.analysis.estimation import guide, guide_rate
from costlog.analysis.facts import ZERO, cost, local_day, primary, short_id, task_types_text
from costlog.analysis.families import family_of, guide_key, is_small, provider_of
from costlog.analysis.outliers import anomalies, causes, top_anomalies
from costlog.analysis.people import UNKNOWN, author_of, machine_of, people
from costlog.analysis.summaries import (
    family_trend,
    methodology,
    months,
    spend_by,
    spend_tables,
    trend,
)
from costlog.analysis.typical import Typical

__all__ = [
    "UNKNOWN",
    "ZERO",
    "Typical",
    "alerts",
    "anomalies",
    "author_of",
    "causes",
    "cost",
    "directories",
    "family_of",
    "family_trend",
    "guide",
    "guide_key",
    "guide_rate",
    "is_small",
    "local_day",
    "machine_of",
    "methodology",
    "months",
    "people",
    "primary",
    "provider_of",
    "routing",
    "short_id",
    "spend_by",
    "spend_tables",
    "split_count",
    "split_usage",
    "task_types_text",
    "top_anomalies",
    "trend",
    "unlinked",
    "work_item_split",
    "work_items",
]
