"""What identifies the code a kept result was made by: this Python, costlog's version and
every source file (path, modification time, size) of costlog and of the packages named.
A changed, added, removed or upgraded file gives another stamp, so a result kept by other
code (the scan's kept result, the bundled template's output) is never served again."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence


def code_stamp(packages: Sequence[str] = ()) -> tuple[object, ...]:
    """The stamp of costlog and of `packages` (importable names, e.g. "jinja2")."""
    import importlib.util

    import costlog

    folders = [os.path.dirname(costlog.__file__)]
    for package in packages:
        spec = importlib.util.find_spec(package)
        if spec is not None and spec.submodule_search_locations:
            folders.extend(spec.submodule_search_locations)
    files: list[tuple[str, int, int]] = []
    for folder in folders:
        stat_sources(folder, files)
    return (sys.version, sys.implementation.cache_tag, costlog.__version__, tuple(files))


def stat_sources(folder: str, out: list[tuple[str, int, int]]) -> None:
    """(path, mtime in ns, size) of the code files under `folder`, in a fixed order."""
    for item in sorted(os.scandir(folder), key=lambda item: item.name):
        if item.is_dir(follow_symlinks=False):
            if item.name != "__pycache__":
                stat_sources(item.path, out)
        elif item.name.endswith((".py", ".so", ".pyd")):
            stat = item.stat()
            out.append((item.path, stat.st_mtime_ns, stat.st_size))
