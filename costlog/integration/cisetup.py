"""The CI side of `costlog init --ci github`: two GitHub Actions workflows.

`costlog.yml` runs `costlog check` and `costlog pr-summary` on `pull_request` with a
read-only token and uploads the summary; `costlog-comment.yml` runs on `workflow_run` and
posts it as one comment, never checking out the pull request (the files say why, for the
user who reads them). Both are whole files costlog owns, written through the change plan
so `costlog uninstall` takes them back. A workflow file already there with other content
is the user's: init refuses to replace it unless forced, and uninstall then puts it back.
"""

from __future__ import annotations

from pathlib import Path

from costlog import resources, safefs
from costlog.errors import CostlogError
from costlog.gitrepo import Repo
from costlog.integration.changeplan import Change, Manifest, Plan, Stripper

#: the first line of every workflow costlog writes: how uninstall knows an edited copy
WORKFLOW_ID = "costlog-workflow"
WORKFLOWS = ".github/workflows"
GITHUB = {
    "costlog.yml": "costlog check on pull requests, read-only token",
    "costlog-comment.yml": "posts the pr-summary comment (workflow_run, also for forks)",
}
CHOICES = ("github",)


def github_paths(repo: Repo) -> list[Path]:
    return [repo.root / WORKFLOWS / name for name in GITHUB]


def changes(repo: Repo, ci: str, plan: Plan, *, force: bool = False) -> None:
    """Plan the workflow files; refuse (before anything is written) to replace one that
    differs, unless `force`. Links on the way and non-regular files are refused too."""
    if ci not in CHOICES:
        raise CostlogError(f"unknown CI {ci!r}", hint=f"choose from {', '.join(CHOICES)}")
    for name, what in GITHUB.items():
        path = repo.root / WORKFLOWS / name
        shown = f"{WORKFLOWS}/{name}"
        new = resources.ci_workflow(ci, name).read_text(encoding="utf-8")
        old = safefs.read_repo_text(repo.root, path)
        if old is not None and old != new and not force:
            raise CostlogError(
                "exists with different content; costlog leaves it alone",
                path=shown,
                hint="--force replaces it; `costlog uninstall` then puts yours back",
            )
        plan.changes.append(Change(path, new, f"{shown}: {what}"))
    plan.notes.append(
        f"commit {WORKFLOWS}/: GitHub runs the comment workflow only once it is on the "
        "default branch"
    )


def strippers(repo: Repo) -> dict[Path, Stripper]:
    """For each workflow init wrote: once edited (a pinned version, say), uninstall still
    takes back a file that carries costlog's id line, restoring what was there before."""
    manifest = Manifest(repo)
    out: dict[Path, Stripper] = {}
    for path in github_paths(repo):
        record = manifest.files.get(str(path))
        if record is None:
            continue  # never written by init: not ours, and not worth a symlink check
        before = record["before"]

        def strip(_path: Path, text: str, before: str | None = before) -> str | None:
            return before if WORKFLOW_ID in text.split("\n", 1)[0] else text

        out[path] = strip
    return out
