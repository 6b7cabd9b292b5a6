"""The hook path stays light (issues 12 and 13): importing the git hook runtime, the queue,
the status line and the guard loads none of the heavy libraries costlog depends on."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("rich", "msgspec", "jinja2", "click", "ruamel", "duckdb", "tiktoken")


def test_hook_status_line_and_guard_import_no_heavy_library() -> None:
    code = (
        "import sys\n"
        "import costlog.integration.hookrun, costlog.integration.githooks\n"
        "import costlog.integration.pending, costlog.integration.statusline\n"
        "import costlog.integration.guard\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
