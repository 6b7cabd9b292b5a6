"""The one error type costlog raises, and the exit codes it maps to.

Exit codes (documented in the README):
  0  ok
  1  error (bad input, broken ledger or config, a failed operation)
  2  usage error (click's own code for a bad option)
  3  check failed: COST_LOG.md is stale or the ledger is invalid
  4  over budget: an alert fired and ``--fail-on warning`` was given
"""

from __future__ import annotations

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
