"""The README is what a newcomer trusts: keep it true."""

from __future__ import annotations

import re

import click

from costlog.cli import cli
from tests_support import REPO_ROOT, invoke

ROOT = REPO_ROOT


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    first_screen = text[: text.index("## Quickstart")]
    return re.findall(r"```sh\n#[^\n]*\n([^\n]+)\n```", first_screen)


def test_first_screen_has_exactly_the_two_setup_commands() -> None:
    demo, tests = readme_commands()
    assert "costlog demo" in demo and "pip install" in demo
    assert "pytest" in tests and "pip install" in tests


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    _, tests = readme_commands()
    ci = (ROOT / ".ci" / "run").read_text()
    assert tests in ci.splitlines()


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    out = []
    ctx = click.Context(group)  # costlog's group loads its commands when asked for them
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None, name
        out.append((f"{prefix}{name}", command))
        if isinstance(command, click.Group):
            out += _commands(command, f"{prefix}{name} ")
    return out


def test_every_command_has_help_and_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    for name, command in _commands(cli):
        assert command.help, f"`costlog {name}` has no help text"
        result = invoke([*name.split(), "--help"])
        assert result.exit_code == 0, name
        top = name.split()[0]
        assert f"costlog {top}" in readme, f"`costlog {top}` is not documented in README.md"
