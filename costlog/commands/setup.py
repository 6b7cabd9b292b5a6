"""`costlog init`, `costlog uninstall` and `costlog hook`: set this repo up, take it back, and
what the installed hooks run. The work is in costlog.integration; these find the repo."""

from __future__ import annotations

from collections.abc import Sequence
from typing import IO


def init(*, dry_run: bool, agents: Sequence[str], local: bool) -> list[str]:
    """Set the repo up (or, with `dry_run`, list what it would touch); the lines to print."""
    from costlog import gitrepo
    from costlog.integration import setup

    return setup.init(gitrepo.find(), dry_run=dry_run, agents=agents, local=local)


def uninstall(*, dry_run: bool) -> list[str]:
    """Remove what `init` added; the lines to print."""
    from costlog import gitrepo
    from costlog.integration import setup

    return setup.uninstall(gitrepo.find(), dry_run=dry_run)


def hook(name: str, args: Sequence[str], stdin: IO[str]) -> int:
    """Run one installed hook; its exit code (0 unless a merge driver must fail the merge)."""
    from costlog.integration import hookrun

    return hookrun.run(name, args, stdin)
