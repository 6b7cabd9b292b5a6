"""Text for `costlog pricing list|show`: the table as a user reads it."""

from __future__ import annotations

import json
from typing import Any

from costlog.errors import CostlogError
from costlog.pricing.table import PriceTable


def list_text(table: PriceTable, *, as_json: bool = False) -> str:
    rows: list[dict[str, Any]] = []
    for model in table.models():
        rates = table.rates(model)
        if rates is None:
            continue
        rows.append(
            {
                "model": model,
                "input": str(rates.input),
                "output": str(rates.output),
                "cache_read": str(rates.cache_read),
                "cache_write_5m": str(rates.cache_write_5m),
                "cache_write_1h": str(rates.cache_write_1h),
                "long_context": bool(rates.tiers),
            }
        )
    if as_json:
        return json.dumps({"table": table.version, "models": rows}, indent=2)
    head = ("model", "input", "output", "cache_read", "cache_write_5m", "cache_write_1h")
    widths = [max(len(h), *(len(r[h]) for r in rows)) if rows else len(h) for h in head]
    lines = [
        f"price table {table.version} (USD per million tokens; * = long-context tier)",
        "  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)),
    ]
    for r in rows:
        cells = [
            r[h].ljust(w) if i == 0 else r[h].rjust(w)
            for i, (h, w) in enumerate(zip(head, widths, strict=True))
        ]
        lines.append("  ".join(cells) + (" *" if r["long_context"] else ""))
    return "\n".join(lines)


def show_text(table: PriceTable, model: str) -> str:
    canonical = table.canonical(model)
    if canonical is None:
        known = table.known_unpriced(model)
        if known is not None:
            raise CostlogError(
                f"no price for model {model!r}: none published as of {known.checked}"
                f" ({known.reason}); its sessions show as unpriced",
                hint="add a price to .costlog/prices.yaml if you have one",
            )
        raise CostlogError(
            f"no price for model {model!r}",
            hint="`costlog pricing list` shows the known models; add yours to .costlog/prices.yaml",
        )
    return json.dumps(table.describe(canonical), indent=2, default=str)
