"""Files that ship with costlog: the template, hook scripts and CI workflows.

In a wheel they live inside the package (`costlog/_templates`, `costlog/_hooks`); in a source
checkout they are the top-level `templates/` and `hooks/` folders.
"""

from __future__ import annotations

from pathlib import Path

from costlog.errors import CostlogError

_PACKAGE = Path(__file__).resolve().parent


def _find(packaged: str, checkout: str, name: str) -> Path:
    for folder in (_PACKAGE / packaged, _PACKAGE.parent / checkout):
        if (folder / name).is_file():
            return folder / name
    raise CostlogError(
        f"costlog is installed without its {checkout}/{name}", hint="reinstall costlog"
    )


def template() -> Path:
    return _find("_templates", "templates", "COST_LOG.md.j2")


def hook_script(name: str) -> Path:
    return _find("_hooks", "hooks", name)


def ci_workflow(ci: str, name: str) -> Path:
    """A CI file `costlog init --ci` writes, e.g. ("github", "costlog.yml")."""
    return _find("_templates", "templates", f"ci/{ci}/{name}")


def data(name: str) -> Path:
    return _PACKAGE / "data" / name
