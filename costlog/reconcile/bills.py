"""Reading providers' usage and cost exports, offline, into plain rows.

costlog never calls these APIs: it reads files a user downloaded, or JSON pages a CI job
with the admin key saved. The shape of each file is detected from its content: JSON pages
of Anthropic's usage report, cost report or Claude Code analytics
(costlog.reconcile.anthropic_export), of OpenAI's costs or completions usage
(costlog.reconcile.openai_export), or a console CSV (costlog.reconcile.console_csv).

Any malformed file, page or row is one CostlogError naming the file and row/line.
"""

from __future__ import annotations

from pathlib import Path

from costlog.errors import CostlogError
from costlog.reconcile.api_json import read_json
from costlog.reconcile.console_csv import read_csv
from costlog.reconcile.rows import Export

SHAPES = {
    "anthropic-usage": "Anthropic usage report",
    "anthropic-cost": "Anthropic cost report",
    "claude-code-analytics": "Claude Code analytics",
    "openai-costs": "OpenAI costs",
    "openai-usage": "OpenAI completions usage",
    "csv": "console CSV export",
    "empty": "an export with no results",
}


def read(path: Path) -> Export:
    """One export file, its shape detected; CostlogError names the file and row."""
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise CostlogError(f"cannot read: {exc}", path=where) from None
    if not text.strip():
        raise CostlogError("empty file", path=where)
    if text.lstrip()[0] in "[{":
        return read_json(text, where)
    return read_csv(text, where)
