"""costlog's command line: the only package that imports click.

Each module holds the click definitions of a group of commands: options, help and printing.
The work is a plain function in costlog.commands.<command>; errors become messages and exit
codes in one place, `errors.CostlogGroup`. Modules import costlog's own code inside the
command bodies, so `costlog --help` and the installed hooks start fast.
"""

from __future__ import annotations

import gc
import importlib
import os
import sys
from typing import NoReturn

import click

from costlog import __version__
from costlog.cli.errors import CostlogGroup
from costlog.gcpause import gc_paused

#: every command: its name and the module of costlog.cli that defines it (and the function's
#: name there). A run imports only the module of the command it runs, not all six and what
#: they import (a few ms of every run's start-up; tests/test_p1_lazy_cli.py keeps this table
#: complete).
COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("setup", "init"),
    "uninstall": ("setup", "uninstall"),
    "doctor": ("setup", "doctor"),
    "hook": ("setup", "hook"),
    "statusline": ("setup", "statusline"),
    "guard": ("setup", "guard"),
    "record": ("record", "record"),
    "scan": ("analysis", "scan"),
    "backfill": ("ledger", "backfill"),
    "render": ("ledger", "render"),
    "check": ("ledger", "check"),
    "pr-summary": ("ledger", "pr_summary"),
    "report": ("analysis", "report"),
    "budget": ("analysis", "budget"),
    "anomalies": ("analysis", "anomalies"),
    "export": ("export", "export"),
    "query": ("export", "query"),
    "reprice": ("ledger", "reprice"),
    "import": ("ledger", "import_"),
    "reconcile": ("pricing", "reconcile"),
    "calibrate": ("pricing", "calibrate"),
    "demo": ("setup", "demo"),
    "pricing": ("pricing", "pricing"),
}


class _LazyGroup(CostlogGroup):
    """The costlog group whose commands are imported when first asked for (`COMMANDS`):
    running one imports its module, `--help` all of them."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is None and cmd_name in COMMANDS:
            module, name = COMMANDS[cmd_name]
            found = getattr(importlib.import_module(f"costlog.cli.{module}"), name)
            if not isinstance(found, click.Command):  # a wrong table entry: fail loudly
                raise TypeError(f"costlog.cli.{module}.{name} is not a command")
            self.add_command(found, cmd_name)
            command = found
        return command

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        if args and args[0] not in COMMANDS:  # a name costlog lacks: click suggests one
            for name in COMMANDS:  # from the loaded commands, so load them all
                self.get_command(ctx, name)
        return super().resolve_command(ctx, args)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="costlog")
def cli() -> None:
    """Keep an honest, reviewable ledger of what AI coding agents cost, in this repo.

    The ledger (.costlog/sessions/, one YAML file per session) is the source of truth;
    COST_LOG.md is generated from it. Exit codes: 0 ok, 1 error, 2 usage error,
    3 check failed, 4 over budget.
    """


def main() -> NoReturn:
    """The `costlog` program. The cyclic garbage collector is paused for the whole run:
    see costlog.gcpause."""
    with gc_paused():
        cli.main(prog_name="costlog")
    sys.exit(0)


#: what commands hand to `held()` to be kept until the process ends; a list only while
#: `run` runs (it leaves by os._exit, so nothing in it is ever freed), None otherwise
_held: list[object] | None = None


def held() -> list[object] | None:
    """Where a command may put what it would free just before the process ends (the
    100,000 entries `check` loaded: ~0.3 s of freeing them one by one), or None when
    the process is not about to end (`main` called from Python, the tests' runner)."""
    return _held


def run() -> NoReturn:
    """`python -m costlog` (what the launcher `costlog init` writes runs): `main`, then,
    once its output is flushed, the process leaves by os._exit with the same code.
    Tearing the interpreter down frees every object one by one, which a leaving process
    does not need; it is skipped only when nothing is left to run at exit
    (`_may_leave`), else `main` ends as it always does. Python code that calls `main`
    gets its SystemExit as before."""
    global _held
    _held = []
    # main's pause of the collector then ends without enabling it: enabled, it would
    # first scan every object the run made (~0.3 s at 100,000 entries) on the way out
    gc.disable()
    try:
        main()
    except SystemExit as done:
        code = done.code
        if (code is None or type(code) is int) and _may_leave() and _flushed():
            os._exit(code or 0)
        raise


def _may_leave() -> bool:
    """Whether leaving now skips nothing that matters: no thread still running (they are
    joined at exit), no atexit handler (`multiprocessing`, `logging`, coverage register
    one), and no profiler or tracer (cProfile writes its stats after the program)."""
    import atexit
    import threading

    handlers = getattr(atexit, "_ncallbacks", None)  # CPython's; elsewhere: exit as usual
    return (
        handlers is not None
        and handlers() == 0
        and threading.active_count() == 1
        and sys.getprofile() is None
        and sys.gettrace() is None
    )


def _flushed() -> bool:
    """Flush stdout and stderr; False when that fails (a closed pipe, a full disk): the
    usual exit then reports it as it always has."""
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
    except (OSError, ValueError):
        return False
    return True
