"""The one place an error becomes a message and an exit code.

Every command runs inside `CostlogGroup.invoke`: a CostlogError prints its one line and
exits with its code (costlog.errors lists them); an OS error (a full disk, a read-only
directory) becomes one line too; a bug prints one line and leaves its traceback in
`~/.cache/costlog/errors.log`. `COSTLOG_DEBUG=1` lets the last two raise instead.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from costlog import __version__
from costlog.errors import EXIT_ERROR, CostlogError, from_os_error


class _Failed(click.ClickException):
    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code  # type: ignore[misc]

    def show(self, file: Any = None) -> None:
        click.echo(f"costlog: error: {self.message}", err=True)


class CostlogGroup(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CostlogError as exc:
            raise _Failed(exc.one_line(), exc.exit_code) from None
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except KeyboardInterrupt:
            raise click.exceptions.Exit(130) from None
        except BrokenPipeError:  # `costlog report | head`: the reader left; say nothing
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            raise click.exceptions.Exit(1) from None
        except OSError as exc:  # a full disk, a read-only dir, a missing permission
            if os.environ.get("COSTLOG_DEBUG"):
                raise
            failed = from_os_error(exc)
            raise _Failed(failed.one_line(), failed.exit_code) from None
        except Exception as exc:
            if os.environ.get("COSTLOG_DEBUG"):
                raise
            log = _crash_log()
            raise _Failed(
                f"internal error: {type(exc).__name__}: {exc} (traceback in {log}; "
                "please report it)",
                EXIT_ERROR,
            ) from None


def _crash_log() -> str:
    """Where the traceback of a bug went (`traceback` and `datetime` are imported only
    then: a run that does not crash never needs them)."""
    import traceback
    from datetime import UTC, datetime

    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "costlog"
    try:
        base.mkdir(parents=True, exist_ok=True)
        path = base / "errors.log"
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(
                f"--- {datetime.now(UTC).isoformat()} costlog {__version__} "
                f"{sys.argv[1:]}\n{traceback.format_exc()}\n"
            )
        return str(path)
    except OSError:
        return "stderr (could not write the log)"
