"""The package's layering, read from the source with `ast`: lower layers never import
higher ones, only the CLI imports click, and only gitrepo runs git.

The layers follow the data: agent logs are read (sources), priced (pricing), estimated
where a log is missing (estimate), turned into entries (recording) that are stored
(ledger), summarised (analysis) and written as COST_LOG.md (render); reconcile,
integration (hooks, set-up) and commands sit on top, and cli over everything. Recording
may use the ledger and the analysis (a manual record is priced from the measured guide);
neither of those may reach back into recording.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterator
from pathlib import Path

import pytest

import costlog

PACKAGE = Path(costlog.__file__).resolve().parent

#: modules of the base layer: anything may import them, they import only each other
BASE = {
    "__init__", "errors", "models", "timeutil", "safefs", "yamlfile", "resources", "config",
    "gitrepo", "gcpause", "money", "blocks", "codestamp", "forked",
}  # fmt: skip
#: what each layer must never import
FORBIDDEN = {
    "sources": {"recording", "render", "reconcile", "integration", "commands", "cli"},
    "pricing": {"sources", "recording", "render", "reconcile", "integration", "commands", "cli"},
    "estimate": {"recording", "render", "reconcile", "integration", "commands", "cli"},
    "ledger": {"recording", "analysis", "render", "reconcile", "integration", "commands", "cli"},
    "recording": {"render", "reconcile", "integration", "commands", "cli"},
    "analysis": {"recording", "render", "reconcile", "integration", "commands", "cli"},
    "render": {"recording", "reconcile", "integration", "commands", "cli"},
    "reconcile": {"recording", "render", "integration", "commands", "cli"},
    "integration": {"commands", "cli"},
    "commands": {"cli"},
}


def modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).with_suffix("")
        yield ".".join(rel.parts), path


def layer(module: str) -> str:
    top = module.split(".")[0]
    return "base" if top in BASE else top


def imports(path: Path) -> Iterator[tuple[int, str]]:
    """(line, imported module) for every import outside `if TYPE_CHECKING:` blocks."""
    yield from _imports(path)


@functools.cache
def _imports(path: Path) -> tuple[tuple[int, str], ...]:
    return tuple(_read_imports(path))


def _read_imports(path: Path) -> Iterator[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(child) for stmt in node.body for child in ast.walk(stmt))
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "costlog":
                for alias in node.names:
                    yield node.lineno, f"costlog.{alias.name}"
            else:
                yield node.lineno, node.module


def costlog_imports(path: Path) -> Iterator[tuple[int, str]]:
    for line, name in imports(path):
        if name.startswith("costlog."):
            yield line, name.removeprefix("costlog.")


def test_the_package_has_the_layers_this_test_knows() -> None:
    found = {layer(m) for m, _ in modules()}
    assert found - {"base", "hookrun", "__main__"} <= set(FORBIDDEN) | {"cli"}, found
    assert set(FORBIDDEN) <= found


@pytest.mark.parametrize(("module", "path"), list(modules()), ids=lambda v: str(v))
def test_no_layer_imports_a_higher_one(module: str, path: Path) -> None:
    own = layer(module)
    bad = []
    for line, name in costlog_imports(path):
        other = layer(name)
        if own == "base" and other != "base":
            bad.append(f"{path.name}:{line}: base module imports costlog.{name}")
        elif other in FORBIDDEN.get(own, set()):
            bad.append(f"{path.name}:{line}: {own} imports costlog.{name}")
    assert bad == []


def test_only_the_cli_imports_click() -> None:
    users = sorted(
        module
        for module, path in modules()
        if any(name.split(".")[0] == "click" for _, name in imports(path))
    )
    assert users == ["cli"] or all(u == "cli" or u.startswith("cli.") for u in users), users


def test_only_gitrepo_runs_git() -> None:
    users = sorted(
        module
        for module, path in modules()
        if any(name == "subprocess" for _, name in imports(path))
    )
    assert users == ["gitrepo"], users


def test_the_old_hook_entry_point_still_forwards() -> None:
    """Shims installed by earlier versions run `python -m costlog.hookrun`."""
    tree = ast.parse((PACKAGE / "hookrun.py").read_text(encoding="utf-8"))
    names = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert "costlog.integration.hookrun" in names
