"""Helpers tests import (conftest.py holds only fixtures)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from click.testing import Result

#: the checkout's top directory, and the test data beside this file
REPO_ROOT = Path(__file__).resolve().parent.parent
FIXTURES_DIR = Path(__file__).resolve().parent / "fixtures"
GOLDEN_DIR = Path(__file__).resolve().parent / "golden"


def git(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=check, capture_output=True, text=True, env=os.environ.copy()
    )


def invoke(args: Sequence[str], **kwargs: Any) -> Result:
    """costlog's CLI in-process, the one way tests call it: a bug raises out of the test
    (catch_exceptions=False) instead of reading as an exit code."""
    from click.testing import CliRunner

    from costlog.cli import cli

    kwargs.pop("catch_exceptions", None)
    return CliRunner().invoke(cli, list(args), catch_exceptions=False, **kwargs)


def run(*args: str, code: int = 0) -> str:
    """costlog's CLI in-process; asserts the exit code and returns what it printed."""
    result = invoke(args)
    assert result.exit_code == code, result.output
    return result.output
