"""costlog's command line: the only package that imports click.

Each module holds the click definitions of a group of commands: options, help and printing.
The work is a plain function in costlog.commands.<command>; errors become messages and exit
codes in one place, `errors.CostlogGroup`. Modules import costlog's own code inside the
command bodies, so `costlog --help` and the installed hooks start fast.
"""

from __future__ import annotations

import importlib
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
