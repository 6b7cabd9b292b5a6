"""The garbage-collector pause lives at the programs' entry points only."""

from __future__ import annotations

import ast
import gc
from pathlib import Path

import pytest

import costlog
from costlog import gcpause

PACKAGE = Path(costlog.__file__).resolve().parent


def _users() -> set[str]:
    """Modules that import `gc` or costlog.gcpause (gcpause itself aside)."""
    found = set()
    for path in PACKAGE.rglob("*.py"):
        module = ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            if module != "gcpause" and ({"gc", "costlog.gcpause"} & set(names)):
                found.add(module)
    return found


def test_only_the_cli_and_the_hook_runtime_pause_the_collector() -> None:
    assert _users() == {"cli.__init__", "integration.hookrun"}


def test_the_pause_ends_with_its_block_also_on_an_error() -> None:
    assert gc.isenabled()
    with pytest.raises(ValueError), gcpause.gc_paused():
        assert not gc.isenabled()
        raise ValueError
    assert gc.isenabled()
