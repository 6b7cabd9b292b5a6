"""Helpers tests import (conftest.py holds only fixtures)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

#: the checkout's top directory, and the test data beside this file
REPO_ROOT = Path(__file__).resolve().parent.parent
FIXTURES_DIR = Path(__file__).resolve().parent / "fixtures"
GOLDEN_DIR = Path(__file__).resolve().parent / "golden"


def git(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=check, capture_output=True, text=True, env=os.environ.copy()
    )


def run(*args: str, code: int = 0) -> str:
    """costlog's CLI in-process; asserts the exit code and returns what it printed."""
    from click.testing import CliRunner

    from costlog.cli import cli

    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result.output
