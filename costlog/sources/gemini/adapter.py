"""The Gemini CLI adapter: chat files under a data dir, read into sessions."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path

from costlog.models import Session
from costlog.sources import Warn, cwd_inside, in_scope, modified_since
from costlog.sources.gemini.chat import AGENT, ChatFile, read_chat
from costlog.sources.gemini.projects import Projects, chat_files
from costlog.sources.gemini.sessions import build


def _read(
    roots: Sequence[Path], project: Path | None, since: datetime | None, warn: Warn
) -> list[Session]:
    found = list(chat_files(roots, warn))
    projects = Projects({d.parent for _p, d in found}, project)
    chats = []
    for path, project_dir in found:
        cwd = projects.root(project_dir, None)
        if not modified_since(path, since) or (cwd is not None and not cwd_inside(cwd, project)):
            continue
        chat = read_chat(ChatFile(path=path, project_dir=project_dir, cwd=cwd), warn)
        if not chat.meta and not chat.messages:
            continue  # nothing in it was a chat record (each line was warned)
        chat.cwd = chat.cwd or projects.root(project_dir, chat.meta.get("projectHash"))
        chat.cwd = chat.cwd or _first_directory(chat.meta.get("directories"))
        chats.append(chat)
    return build(chats, warn)


def _first_directory(directories: object) -> str | None:
    if isinstance(directories, list) and directories and isinstance(directories[0], str):
        return directories[0]
    return None


def _named(files: Iterable[tuple[Path, Path]], session_id: str) -> list[Path]:
    """The files that can hold `session_id`: `session-<time>-<first 8 of id>.json(l)`, its
    sub-agents in `chats/<id>/`, and for a sub-agent `<parent>/<id>.jsonl` its parent's."""
    paths = [p for p, _d in files]
    ids = {session_id}
    ids |= {p.parent.name for p in paths if p.stem == session_id and p.parent.name != "chats"}
    return [p for p in paths if any(i[:8] in p.name or p.parent.name == i for i in ids)]


class GeminiAdapter:
    name = AGENT

    def default_roots(self, env: Mapping[str, str], home: Path) -> list[Path]:
        if env.get("GEMINI_DATA_DIR"):
            return [Path(env["GEMINI_DATA_DIR"]).expanduser()]
        base = Path(env["GEMINI_CLI_HOME"]).expanduser() if env.get("GEMINI_CLI_HOME") else home
        return [base / ".gemini" / "tmp"]

    def scan(
        self,
        roots: Sequence[Path],
        *,
        project: Path | None = None,
        since: datetime | None = None,
        warn: Warn,
    ) -> Iterator[Session]:
        for session in _read(roots, project, since, warn):
            if in_scope(session, project, since):
                yield session

    def find_session(self, roots: Sequence[Path], session_id: str, *, warn: Warn) -> Session | None:
        named = _named(chat_files(roots), session_id)
        held: list[str] = []
        sessions = _read(named, None, None, held.append) if named else []
        if any(s.session_id == session_id for s in sessions):
            for message in held:
                warn(message)
        else:
            sessions = _read(roots, None, None, warn)
        for session in sessions:
            if session.session_id == session_id:
                return session
        # a sub-agent's id finds the parent it was rolled into
        for session in sessions:
            if any(Path(p).stem == session_id for p in session.paths):
                return session
        return None


ADAPTER = GeminiAdapter()
