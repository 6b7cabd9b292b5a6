"""Claude Code: sessions from the `~/.claude/projects/<project>/<session>.jsonl` transcripts.

The reader, in the order the data flows:

* `paths`: where Claude Code keeps its transcripts;
* `discovery`: which files there are, and which session each belongs to;
* `transcript`: one file's lines into a `FileState` of `responses.Response`s, with the token
  counts checked by `counts` and the content measured by `output_estimate`;
* `incremental`: the scan cache around that (unchanged files are not opened, grown files
  are read on), and worker processes for big cold reads;
* `sessions`: the responses of all files, each counted once, into sessions.

Prompt text, tool output and edited paths are never cached: `find_session`,
`scan(..., use_cache=False)` and a single file given as root read the files again and also
fill `first_prompt`, `tool_output_refs` (sha and subject printed by `git commit`) and
`edited_files` (Edit/Write/MultiEdit/NotebookEdit targets), from `attribution`.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path

from costlog.models import Session
from costlog.sources.cache import FileCache
from costlog.sources.claude.discovery import LogFile, discover, project_dir, under_transcript
from costlog.sources.claude.filestate import FileState
from costlog.sources.claude.incremental import SCHEMA, Job, read_file, read_many
from costlog.sources.claude.paths import default_roots
from costlog.sources.claude.sessions import AGENT, Part, build_sessions
from costlog.sources.workers import PARALLEL_BYTES

Warn = Callable[[str], None]


class ClaudeCode:
    name = AGENT

    def default_roots(self, env: Mapping[str, str], home: Path) -> list[Path]:
        return default_roots(env, home)

    def scan(
        self,
        roots: Sequence[Path],
        *,
        project: Path | None = None,
        since: datetime | None = None,
        warn: Warn,
        use_cache: bool = True,
        attribution: bool | Callable[[Path, datetime | None], bool] = False,
    ) -> Iterator[Session]:
        """Every session under `roots` (data dirs) through the incremental cache, unless
        `use_cache` is False. Roots that are all single transcripts are read afresh, with
        the in-memory attribution fields, and only their sessions are returned.
        `attribution` (backfill): a session whose files all have to be read whole anyway
        (none in the cache) gets its attribution fields from that one read, still cached
        (a test of whether they are worth it is not asked: here they cost next to nothing)."""
        if roots and all(r.is_file() for r in roots):
            yield from _transcripts(roots, warn, use_cache)
            return
        logs = discover(roots, project, since, _once(warn))
        files = [r for r in roots if r.is_file()]  # transcripts named among the roots
        fresh = (
            {log.path for log in logs}
            if not use_cache
            else {
                log.path
                for log in logs
                if any(log.path == r or under_transcript(log.path, r) for r in files)
            }
        )
        yield from _read_all(logs, fresh, warn, use_cache, attribution=bool(attribution))

    def find_session(self, roots: Sequence[Path], session_id: str, *, warn: Warn) -> Session | None:
        """The session read afresh (with attribution fields); its project's other
        transcripts come from the cache, so calls a resumed session replays stay with the
        session that made them."""
        skipped = _once(warn)
        mine = [log for log in discover(roots, warn=skipped) if log.session_id == session_id]
        if not mine:
            return None
        folders = {project_dir(log) for log in mine}
        paths = {log.path for log in mine}
        logs = mine + [
            log for log in discover(sorted(folders), warn=skipped) if log.path not in paths
        ]
        for session in _read_all(logs, paths, warn, True, loud=paths):
            if session.session_id == session_id:
                return session
        return None


def _transcripts(files: Sequence[Path], warn: Warn, use_cache: bool) -> Iterator[Session]:
    """Sessions of these transcript files (and their sub-agents), read afresh. In a Claude
    projects tree the other transcripts of the same project are consulted too (through the
    cache, silently), so the calls a resumed session replays stay with their own session."""
    skipped = _once(warn)
    mine = discover(files, warn=skipped)
    ids = {log.session_id for log in mine}
    paths = {log.path for log in mine}
    folders = {
        log.path.parent
        for log in mine
        if not log.subagent and log.path.parent.parent.name == "projects"
    }
    others = (
        [log for log in discover(sorted(folders), warn=skipped) if log.path not in paths]
        if use_cache
        else []
    )
    for session in _read_all(mine + others, paths, warn, use_cache, loud=paths):
        if session.session_id in ids:
            yield session


def _once(warn: Warn) -> Warn:
    """`warn`, saying each line once (a folder can be listed twice in one look-up)."""
    said: set[str] = set()

    def say(line: str) -> None:
        if line not in said:
            said.add(line)
            warn(line)

    return say


def _read_all(
    logs: Sequence[LogFile],
    fresh: set[Path],
    warn: Warn,
    use_cache: bool,
    loud: set[Path] | None = None,
    attribution: bool = False,
) -> list[Session]:
    """Sessions from these files; `fresh` ones are read without the cache and with the
    attribution fields; only `loud` files (default: all) report problems through `warn`.
    A list, not a generator: the cache and the per-file states are freed on return."""

    def warn_for(path: Path) -> Warn:
        return warn if loud is None or path in loud else _ignore

    cache = FileCache(AGENT, SCHEMA, enabled=use_cache)
    states: dict[Path, FileState | None] = {}
    cold: list[Job] = []
    afresh: list[Job] = []
    for log in logs:
        collect = log.path in fresh
        states[log.path] = read_file(
            log, warn_for(log.path), None if collect else cache, collect, cold, afresh
        )
    whole: set[Path] = set()
    if attribution:  # backfill: sessions none of whose files were served by the cache
        served = {log.session_id for log in logs if states[log.path] is not None}
        whole = {log.path for log, _ in cold if log.session_id not in served}
    states.update(read_many(cold, warn_for, cache, afresh, facts_too=whole))
    saved = _save_beside(cache, sum(st.st_size for _, st in cold))
    try:
        return build_sessions(Part(log, states[log.path] or FileState()) for log in logs)
    finally:
        saved()


def _save_beside(cache: FileCache, read: int) -> Callable[[], None]:
    """Save the cache; after a big cold read (`read` bytes) in a forked child, while this
    process builds the sessions: its marshal and write are then off the critical path.
    Returns the call that waits for it (the cache is whole when the scan returns). A child
    that fails leaves the cache as it was, as a failed write does."""
    if read < PARALLEL_BYTES or not hasattr(os, "fork"):
        cache.save()
        return _nothing
    try:
        pid = os.fork()
    except OSError:
        cache.save()
        return _nothing
    if pid == 0:  # the child: saves, and leaves by os._exit (no atexit, no output)
        status = 1
        try:
            cache.save()
            status = 0
        finally:
            os._exit(status)

    def wait() -> None:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)

    return wait


def _nothing() -> None:
    return None


def _ignore(_message: str) -> None:
    return None


ADAPTER = ClaudeCode()
