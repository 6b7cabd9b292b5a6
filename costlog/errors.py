"""The one error type costlog raises, and the exit codes it maps to.

Exit codes (documented in the README):
  0  ok
  1  error (bad input, broken ledger or config, a failed operation)
  2  usage error (click's own code for a bad option)
  3  check failed: COST_LOG.md is stale or the ledger is invalid
  4  over budget: `budget --fail-on LEVEL` and an alert at that level fired
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_CHECK_FAILED = 3
EXIT_OVER_BUDGET = 4


class CostlogError(Exception):
    """A problem the user can fix; carries a one-line message and an exit code."""

    exit_code = EXIT_ERROR

    def __init__(
        self,
        message: str,
        *,
        path: Path | str | None = None,
        line: int | None = None,
        hint: str | None = None,
        exit_code: int | None = None,
    ) -> None:
        self.message = message
        self.path = path
        self.line = line
        self.hint = hint
        if exit_code is not None:
            self.exit_code = exit_code
        super().__init__(self.one_line())

    def one_line(self) -> str:
        where = ""
        if self.path is not None:
            where = f"{self.path}:{self.line}: " if self.line else f"{self.path}: "
        text = f"{where}{self.message}"
        if self.hint:
            text += f" ({self.hint})"
        return text.replace("\n", " ")


class LedgerError(CostlogError):
    """A ledger file is unreadable, invalid or of an unknown schema."""


class ConfigError(CostlogError):
    """The config file is invalid."""


class CheckFailed(CostlogError):
    exit_code = EXIT_CHECK_FAILED


class OverBudget(CostlogError):
    exit_code = EXIT_OVER_BUDGET


#: what to do about the system errors a user can fix
_OS_HINTS = {
    errno.ENOSPC: "free some disk space, then run it again",
    errno.EDQUOT: "free some disk space, then run it again",
    errno.EACCES: "costlog may not write or read there: check the permissions",
    errno.EPERM: "costlog may not write or read there: check the permissions and "
    "attributes (lsattr)",
}


def from_os_error(exc: OSError) -> CostlogError:
    """An OSError as the one-line message the CLI promises: the path (relative to the
    current directory when inside it) and what the system said; nothing was half written,
    since every write goes to a temp file renamed into place."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    path: str | None = None
    if exc.filename is not None:
        path = _shown(os.fsdecode(exc.filename))
        if exc.filename2 is not None:
            reason += f" (renaming to {_shown(os.fsdecode(exc.filename2))})"
    return CostlogError(reason, path=path, hint=_OS_HINTS.get(exc.errno or 0))


def _shown(name: str) -> str:
    try:
        here = os.getcwd()
    except OSError:
        return name
    full = os.path.abspath(name)
    if os.path.commonpath([here, full]) == here:
        return os.path.relpath(full, here)
    return name
