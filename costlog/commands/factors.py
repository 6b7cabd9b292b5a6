"""Fitted factors stored in `.costlog/config.yaml`, for `reconcile --write-factors`
(`correction_factors`, billed / estimated per model) and `calibrate --write`
(`estimate_factors`, per model family and part).

The file is edited round-trip, so the user's comments, order and other keys survive.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from costlog.errors import CostlogError


def write_factors(root: Path, factors: Mapping[str, Any], key: str = "correction_factors") -> Path:
    """Merge `factors` into `.costlog/config.yaml`, keeping its comments and other keys."""
    from ruamel.yaml import YAML

    from costlog.config import CONFIG_PATH
    from costlog.ledger.atomic import atomic_write

    path = root / CONFIG_PATH
    yaml = YAML()  # round-trip: comments and order survive
    yaml.preserve_quotes = True
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    data = yaml.load(text) if text.strip() else None
    if data is None:
        from ruamel.yaml.comments import CommentedMap

        data = CommentedMap()
    if not hasattr(data, "get"):
        raise CostlogError("expected a mapping of settings", path=CONFIG_PATH)
    current = data.get(key) or {}
    merged = dict(current)
    merged.update({name: _plain(value) for name, value in factors.items()})
    data[key] = dict(sorted(merged.items()))
    buffer = _Buffer()
    yaml.dump(data, buffer)
    atomic_write(path, buffer.text)
    return path


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): str(v) for k, v in value.items()}
    return str(value)


class _Buffer:
    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, data: str | bytes) -> None:
        self.parts.append(data.decode() if isinstance(data, bytes) else data)

    @property
    def text(self) -> str:
        return "".join(self.parts)
