"""The run-directory adapter: finds the runs under a root and reads each one.

Run directories belong to a repository, and how they are laid out is that repository's
`rundir:` configuration. Callers hand adapters roots only (a runs dir, one run, a run
log), so the adapter asks its `context` for the repository root and the settings that
apply to a root. The default context looks them up (the git repository holding the root,
and its `.costlog/config.yaml`); a caller that already knows them passes its own
(`RunDirAdapter.for_repo`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path

from costlog import config, gitrepo
from costlog.config import Config, RunDir
from costlog.errors import CostlogError
from costlog.models import Session
from costlog.sources import Warn
from costlog.sources.rundir import AGENT
from costlog.sources.rundir.session import read_run

#: a root -> (the repository root it belongs to, or None; the run-dir settings for it)
Context = Callable[[Path], tuple[Path | None, RunDir]]


def repo_context(root: Path) -> tuple[Path | None, RunDir]:
    """The git repository holding `root` and its `rundir:` settings; the default settings
    outside a repository or when its config cannot be read."""
    try:
        repo = gitrepo.find(root if root.is_dir() else root.parent)
    except CostlogError:
        return None, Config().rundir
    try:
        return repo.root, config.load(repo.root).rundir
    except CostlogError:
        return repo.root, Config().rundir


def run_dirs(root: Path, settings: RunDir) -> Iterator[Path]:
    """Runs under `root`: a runs dir, one run dir, or a run's log file. A run log that is
    not a regular file (a FIFO) still marks a run: reading it says why it is skipped."""
    if not root.is_dir():
        if root.name == settings.run_log and root.exists():
            yield root.parent
        return
    if _log_there(root / settings.run_log) or any(root.glob(settings.builder_results)):
        yield root
        return
    for child in sorted(root.iterdir()):
        if child.is_dir() and (
            _log_there(child / settings.run_log) or any(child.glob(settings.builder_results))
        ):
            yield child


def _log_there(path: Path) -> bool:
    return path.exists() and not path.is_dir()


class RunDirAdapter:
    name = AGENT

    def __init__(self, context: Context = repo_context) -> None:
        self.context = context

    @classmethod
    def for_repo(cls, root: Path, settings: RunDir) -> RunDirAdapter:
        """An adapter for the runs of one repository whose settings the caller holds."""
        return cls(lambda _path: (root, settings))

    def default_roots(self, env: Mapping[str, str], home: Path) -> list[Path]:
        """This repo's runs dir (the repo of the current directory)."""
        root, settings = self.context(Path.cwd())
        return [] if root is None else [root / settings.runs_dir]

    def scan(
        self,
        roots: Sequence[Path],
        *,
        project: Path | None = None,
        since: datetime | None = None,
        warn: Warn,
    ) -> Iterator[Session]:
        for root in roots:
            repo_root, settings = self.context(root)
            for path in run_dirs(root, settings):
                session = read_run(path, settings, repo_root, warn)
                if not session.requests:
                    continue
                if since is not None and session.ended is not None and session.ended < since:
                    continue
                yield session

    def find_session(self, roots: Sequence[Path], session_id: str, *, warn: Warn) -> Session | None:
        run_id = session_id.removeprefix(f"{AGENT}/")
        for session in self.scan(roots, warn=warn):
            if session.session_id == run_id:
                return session
        return None


ADAPTER = RunDirAdapter()
