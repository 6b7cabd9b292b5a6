"""costlog's command line: the only package that imports click.

Each module holds the click definitions of a group of commands: options, help and printing.
The work is a plain function in costlog.commands.<command>; errors become messages and exit
codes in one place, `errors.CostlogGroup`. Modules import costlog's own code inside the
command bodies, so `costlog --help` and the installed hooks start fast.
"""

from __future__ import annotations

import sys
from typing import NoReturn

import click

from costlog import __version__
from costlog.cli import analysis, export, ledger, pricing, record, setup
from costlog.cli.errors import CostlogGroup
from costlog.gcpause import gc_paused


@click.group(cls=CostlogGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="costlog")
def cli() -> None:
    """Keep an honest, reviewable ledger of what AI coding agents cost, in this repo.

    The ledger (.costlog/sessions/, one YAML file per session) is the source of truth;
    COST_LOG.md is generated from it. Exit codes: 0 ok, 1 error, 2 usage error,
    3 check failed, 4 over budget.
    """


for _command in (
    setup.init,
    setup.uninstall,
    setup.doctor,
    setup.hook,
    setup.statusline,
    setup.guard,
    record.record,
    analysis.scan,
    ledger.backfill,
    ledger.render,
    ledger.check,
    ledger.pr_summary,
    analysis.report,
    analysis.budget,
    analysis.anomalies,
    export.export,
    export.query,
    ledger.reprice,
    ledger.import_,
    pricing.reconcile,
    pricing.calibrate,
    setup.demo,
    pricing.pricing,
):
    cli.add_command(_command)


def main() -> NoReturn:
    """The `costlog` program. The cyclic garbage collector is paused for the whole run:
    see costlog.gcpause."""
    with gc_paused():
        cli.main(prog_name="costlog")
    sys.exit(0)
