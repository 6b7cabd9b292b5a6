"""Compile the authored price table (data/prices.yaml) into the shipped data/prices.json.

Run `python -m costlog.pricing.build` after editing prices.yaml; a test fails while the
two disagree. Prices stay strings in the JSON so that they load as exact Decimals.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from costlog import resources, yamlfile
from costlog.pricing.table import PriceTable


def compile_text(text: str) -> str:
    data = yamlfile.load_text(text, path="costlog/data/prices.yaml")
    PriceTable.from_dict(data, "costlog/data/prices.yaml")  # validate before shipping
    return json.dumps(_strings(data), indent=1, sort_keys=False) + "\n"


def _strings(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _strings(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_strings(v) for v in value]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


def main() -> int:
    source = resources.data("prices.yaml")
    target = resources.data("prices.json")
    target.write_text(compile_text(source.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
