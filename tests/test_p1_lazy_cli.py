"""The command line imports only the module of the command it runs (issue 12: a
10,000-session `render` spent a tenth of its time importing every command's module),
and still offers every command, with its help, to `--help` and to a run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click

from costlog.cli import COMMANDS, cli
from tests_support import run

#: the modules of costlog.cli that define commands
_COMMAND_MODULES = {module for module, _ in COMMANDS.values()}


def _modules_after(args: list[str], cwd: Path) -> set[str]:
    """The costlog.cli modules a real `costlog ARGS` process has imported when it ends."""
    probe = (
        "import atexit, sys\n"
        "atexit.register(lambda: sys.stderr.write('MODULES ' + ' '.join(sorted(\n"
        "    m for m in sys.modules if m.startswith('costlog.cli.'))) + '\\n'))\n"
        "from costlog.cli import main\n"
        f"sys.argv = ['costlog', *{args!r}]\n"
        "main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=cwd, capture_output=True, text=True, check=False
    )
    line = next(x for x in done.stderr.splitlines() if x.startswith("MODULES "))
    return set(line.split()[1:])


def test_render_imports_only_its_own_command_module(repo: Path) -> None:
    run("init")
    loaded = _modules_after(["render"], repo)
    assert "costlog.cli.ledger" in loaded
    assert not loaded & {f"costlog.cli.{m}" for m in _COMMAND_MODULES - {"ledger"}}


def test_every_command_of_every_module_is_offered_under_its_own_name() -> None:
    """The table names each command of the modules exactly once: a command added to a
    module but not to `COMMANDS` would be unreachable."""
    import importlib

    found: list[click.Command] = []
    for module in _COMMAND_MODULES:
        values = vars(importlib.import_module(f"costlog.cli.{module}")).values()
        found += [v for v in values if isinstance(v, click.Command)]
    # a group's subcommands (`pricing list`) are reached through their group
    inner = {id(c) for g in found if isinstance(g, click.Group) for c in g.commands.values()}
    defined = {c.name: c for c in found if id(c) not in inner}
    ctx = click.Context(cli)
    assert set(cli.list_commands(ctx)) == set(defined) == set(COMMANDS)
    for name, command in defined.items():
        assert cli.get_command(ctx, name) is command


def test_help_lists_commands_and_unknown_command_is_a_usage_error() -> None:
    from tests_support import invoke

    shown = invoke(["--help"]).output
    for name in ("render", "check", "report", "pr-summary", "import", "pricing"):
        assert f"\n  {name} " in shown
    assert "  hook " not in shown  # hidden, as before
    result = invoke(["rendr"])
    assert result.exit_code == 2 and "No such command 'rendr'." in result.output
    assert "Did you mean 'render'?" in result.output  # click's suggestion, as before
    assert invoke(["pricing", "list", "--help"]).exit_code == 0
