"""Linking a session to the commits it made and the work items it served.

Evidence, strongest first:
1. `tool-output`: the commit's sha (or its subject) appears in the session's own tool
   output, i.e. the agent ran `git commit` itself;
2. `files`: the commit changed files the session edited;
3. `time-window`: only the time overlap. Used only when the session has no stronger
   evidence for any commit, and never for a commit another recorded session holds by
   stronger evidence, so parallel sessions in one repo do not credit each other's commits.

Work items come from the branch name, commit subjects, bodies and trailers (`Refs:`,
`Closes #12`), by the configured patterns. The session's first prompt (in memory only) is
searched too, but a key found there is kept only when it starts with one of the configured
`work_item_prefixes` (none by default): a prompt is free text ("pin HUNTER-9999", a pasted
log), and anything kept from it would reach the ledger, COST_LOG.md and the parse cache.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from costlog import gitrepo
from costlog.config import Config
from costlog.errors import CostlogError
from costlog.gitrepo import Repo
from costlog.models import Commit, Entry, Session

SLACK = timedelta(minutes=5)
_RANK = {"tool-output": 3, "files": 2, "time-window": 1, "manual": 3}


@dataclass
class GitCommit:
    sha: str
    when: datetime
    subject: str
    body: str
    files: list[str] = field(default_factory=list)
    added: int = 0
    removed: int = 0

    def as_commit(self, evidence: str) -> Commit:
        return Commit(
            sha=self.sha[:12],
            subject=self.subject,
            files=len(self.files),
            added=self.added,
            removed=self.removed,
            evidence=evidence,
        )


def commits_between(repo: Repo, start: datetime, end: datetime) -> list[GitCommit]:
    """Non-merge commits on any branch committed in [start, end], with diff sizes."""
    try:
        out = gitrepo.log(
            repo.root,
            "--all",
            "--no-merges",
            "--numstat",
            f"--since={int((start - SLACK).timestamp())}",
            f"--until={int((end + SLACK).timestamp())}",
            "--format=%x1e%H%x1f%ct%x1f%s%x1f%b%x1f",
        )
    except (OSError, CostlogError):
        return []
    commits = []
    for record in out.split("\x1e")[1:]:
        sha, ct, subject, body, numstat = record.split("\x1f", 4)
        commit = GitCommit(sha, datetime.fromtimestamp(int(ct)).astimezone(), subject, body)
        for line in numstat.strip().splitlines():
            parts = line.split("\t", 2)
            if len(parts) == 3:
                commit.files.append(parts[2])
                commit.added += int(parts[0]) if parts[0].isdigit() else 0
                commit.removed += int(parts[1]) if parts[1].isdigit() else 0
        commits.append(commit)
    return sorted(commits, key=lambda c: c.when)


def evidence_for(commit: GitCommit, session: Session, edited: set[str]) -> str | None:
    refs = session.tool_output_refs
    if any(len(r) >= 7 and commit.sha.startswith(r.lower()) for r in refs) or (
        commit.subject and commit.subject in refs
    ):
        return "tool-output"
    if edited and edited.intersection(commit.files):
        return "files"
    return None


def link_commits(
    session: Session, candidates: Sequence[GitCommit], repo: Repo, claimed: dict[str, str]
) -> list[Commit]:
    """The commits this session made. `claimed` maps sha -> evidence held by other sessions."""
    edited = {_repo_relative(p, repo) for p in session.edited_files}
    strong = []
    for commit in candidates:
        kind = evidence_for(commit, session, edited)
        if kind:
            strong.append(commit.as_commit(kind))
    if strong:
        return strong
    return [
        c.as_commit("time-window")
        for c in candidates
        if _RANK.get(claimed.get(c.sha[:12], ""), 0) < _RANK["files"]
    ]


def claimed_commits(entries: Iterable[Entry], exclude_id: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for entry in entries:
        if entry.id == exclude_id:
            continue
        for commit in entry.commits:
            if _RANK.get(commit.evidence, 0) > _RANK.get(out.get(commit.sha, ""), 0):
                out[commit.sha] = commit.evidence
    return out


def _repo_relative(path: str, repo: Repo) -> str:
    root = str(repo.root) + "/"
    return path[len(root) :] if path.startswith(root) else path


# ---------------------------------------------------------------- work items


#: what any work-item key may look like, whatever a configured pattern matched: the
#: patterns are repository content, so they must not be able to lift free text
KEY_SHAPE = re.compile(r"[#A-Za-z0-9][A-Za-z0-9._/#-]{0,63}")
#: how much of one branch name, commit message or prompt the patterns search
MAX_SCANNED = 4000
#: a key taken from a prompt must look like a tracker key: PREFIX-123, WO-2026-110, #41
PROMPT_KEY_SHAPE = re.compile(r"(?:[A-Za-z][A-Za-z0-9]{0,19}-\d{1,10}(?:-\d{1,10})?|#\d{1,10})")


class WorkItems:
    def __init__(self, config: Config) -> None:
        self.patterns = [re.compile(p) for p in config.work_item_patterns]
        self.ignore = {s.upper() for s in config.work_item_ignore}
        self.prompt_prefixes = tuple(
            str(p).upper() for p in config.work_item_prefixes if str(p).strip()
        )

    def from_prompt(self, key: str) -> bool:
        """May a key found in prompt text be kept? Only when it has a tracker key's shape
        and a configured prefix, as a whole: `WRK` keeps WRK-12, not WRKX-12; `#` keeps #41."""
        if not PROMPT_KEY_SHAPE.fullmatch(key):
            return False
        upper = key.upper()
        for prefix in self.prompt_prefixes:
            if upper.startswith(prefix) and (
                len(upper) == len(prefix)
                or not prefix[-1].isalnum()
                or not upper[len(prefix)].isalnum()
            ):
                return True
        return False

    def find(self, text: str | None) -> list[str]:
        if not text:
            return []
        found: list[str] = []
        text = text[:MAX_SCANNED]  # the patterns come from the repo: bound their work
        for pattern in self.patterns:
            for match in pattern.finditer(text):
                key = match.group(0)
                if not KEY_SHAPE.fullmatch(key):
                    continue
                if key.upper() not in self.ignore and key not in found:
                    found.append(key)
        return found

    def for_session(self, session: Session, commits: Sequence[GitCommit]) -> list[str]:
        keys: list[str] = []
        texts = [session.branch or ""]
        texts += [f"{c.subject}\n{c.body}" for c in commits]
        for text in texts:
            for key in self.find(text):
                if key not in keys:
                    keys.append(key)
        if self.prompt_prefixes:
            for key in self.find((session.first_prompt or "")[:2000]):
                if key not in keys and self.from_prompt(key):
                    keys.append(key)
        return keys


def attribute(
    session: Session, repo: Repo, config: Config, others: Iterable[Entry] = ()
) -> tuple[list[Commit], list[str]]:
    """(commits, work items) for one session."""
    if session.started is None:
        return [], WorkItems(config).find(session.branch)
    end = session.ended or session.started
    candidates = commits_between(repo, session.started, end)
    entry_id = f"{session.agent}/{session.session_id}"
    commits = link_commits(session, candidates, repo, claimed_commits(others, entry_id))
    linked = {c.sha for c in commits}
    used = [c for c in candidates if c.sha[:12] in linked]
    return commits, WorkItems(config).for_session(session, used)
