"""Linking a session to the commits it made and the work items it served.

Evidence, strongest first:
1. `tool-output`: the commit's sha (or its subject) appears in the session's own tool
   output, i.e. the agent ran `git commit` itself;
2. `files`: the commit changed files the session edited;
3. `time-window`: only the time overlap. Used only when the session has no stronger
   evidence for any commit and a known end, and then never for a commit made before the
   session started (the set-up commit, the user's own earlier work, the parent of a fork),
   for costlog's own commits (the one that set costlog up, ledger-only commits) or for a
   commit another recorded session already holds: parallel sessions in one repo do not
   credit each other's commits. Each such commit says `time-window` in the ledger.

One commit belongs to at most one session, the one with the strongest evidence: a session
takes a commit by evidence only when no other recorded session holds it by evidence as
strong or stronger (the first recorded of two equals keeps it).

Work items come from the branch name, commit subjects, bodies and trailers (`Refs:`,
`Closes #12`), by the configured patterns. The session's first prompt (in memory only) is
searched too, but a key found there is kept only when it starts with one of the configured
`work_item_prefixes` (none by default): a prompt is free text ("pin HUNTER-9999", a pasted
log), and anything kept from it would reach the ledger, COST_LOG.md and the parse cache.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from costlog import gitrepo
from costlog.config import CONFIG_PATH, Config
from costlog.errors import CostlogError
from costlog.gitrepo import Repo
from costlog.models import Commit, Entry, Session

SLACK = timedelta(minutes=5)
#: how far after its start a session without an end may have made a commit it names
OPEN_END = timedelta(days=1)
#: how recent a session without a logged branch must be to take the repo's current one
RECENT = timedelta(hours=1)
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
    #: the files this commit created (`git log --summary`): the set-up commit creates the config
    created: list[str] = field(default_factory=list)

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
    """Non-merge commits on any branch committed in [start, end] (5 minutes of slack each
    side), with diff sizes and the files each created."""
    try:
        out = gitrepo.log(
            repo.root,
            "--all",
            "--no-merges",
            "--numstat",
            "--summary",
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
            if line.startswith(" create mode "):
                commit.created.append(line.split(" ", 4)[-1])
                continue
            parts = line.split("\t", 2)
            if len(parts) == 3:
                commit.files.append(parts[2])
                commit.added += int(parts[0]) if parts[0].isdigit() else 0
                commit.removed += int(parts[1]) if parts[1].isdigit() else 0
        commits.append(commit)
    return sorted(commits, key=lambda c: c.when)


def named_by_sha(commit: GitCommit, session: Session) -> bool:
    return any(len(r) >= 7 and commit.sha.startswith(r.lower()) for r in session.tool_output_refs)


def evidence_for(
    commit: GitCommit, session: Session, edited: set[str], taken: frozenset[str] = frozenset()
) -> str | None:
    """How the session shows it made this commit. Its subject alone counts (a sha the log
    printed may have been rewritten since, by an amend or a rebase) unless `taken` holds it:
    the subject of a commit the log names by sha, so another commit that merely has the
    same subject ("Fix tests") is not the session's."""
    refs = session.tool_output_refs
    if named_by_sha(commit, session) or (
        commit.subject and commit.subject in refs and commit.subject not in taken
    ):
        return "tool-output"
    if edited and edited.intersection(commit.files):
        return "files"
    return None


def link_commits(
    session: Session,
    candidates: Sequence[GitCommit],
    repo: Repo,
    claimed: dict[str, str],
    own: Callable[[GitCommit], bool] = lambda _c: False,
) -> list[Commit]:
    """The commits this session made. `claimed` maps sha -> evidence held by other sessions;
    `own` tells costlog's own commits, which no session made."""
    edited = {_repo_relative(p, repo) for p in session.edited_files}
    # git keeps whole seconds; a session without a start has no window at all
    start = session.started.replace(microsecond=0) if session.started else None
    taken = frozenset(c.subject for c in candidates if named_by_sha(c, session))
    strong = []
    evidence = False
    for commit in candidates:
        if own(commit):
            continue
        kind = evidence_for(commit, session, edited, taken)
        if kind == "files" and (start is None or commit.when < start):
            continue  # an earlier commit touching a file the session edits later
        evidence = evidence or kind == "tool-output"
        if kind and _RANK[kind] > _RANK.get(claimed.get(commit.sha[:12], ""), 0):
            strong.append(commit.as_commit(kind))
    # a log that names its commits is never guessed at: when another session holds them,
    # this one made none of the rest either
    if strong or evidence or start is None or session.ended is None:
        return strong  # no end known (aider's history): no window to match blindly
    return [
        c.as_commit("time-window")
        for c in candidates
        if c.when >= start and c.sha[:12] not in claimed and not own(c)
    ]


def own_commit(config: Config) -> Callable[[GitCommit], bool]:
    """Tells costlog's own commits: the one that created its config (`costlog init` then
    `git commit`), and those touching only the ledger, `.costlog/` and the output
    (`record --commit`, a ledger update)."""
    prefixes = tuple(
        p.strip("/") + "/" for p in dict.fromkeys([".costlog", config.ledger_dir]) if p.strip("/")
    )
    output = config.output.strip("/")

    def own(commit: GitCommit) -> bool:
        if CONFIG_PATH in commit.created:
            return True
        return bool(commit.files) and all(
            f == output or f.startswith(prefixes) for f in commit.files
        )

    return own


def claimed_commits(entries: Iterable[Entry], exclude_id: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for entry in entries:
        if entry.id == exclude_id:
            continue
        for commit in entry.commits:
            if _RANK.get(commit.evidence, 0) > _RANK.get(out.get(commit.sha, ""), 0):
                out[commit.sha] = commit.evidence
    return out


def released(entries: Iterable[Entry], entry: Entry) -> list[tuple[Entry, list[str]]]:
    """Other entries that hold one of `entry`'s commits by weaker evidence (a time window,
    where `entry` has the sha in its tool output), each as it is without those commits,
    with one line per commit moved: a commit belongs to one session, the strongest."""
    strong = {c.sha: _RANK.get(c.evidence, 0) for c in entry.commits}
    out = []
    for other in entries:
        if other.id == entry.id:
            continue
        keep = [c for c in other.commits if _RANK.get(c.evidence, 0) >= strong.get(c.sha, 0)]
        if len(keep) == len(other.commits):
            continue
        moved = [
            f"commit {c.sha[:7]} now belongs to {entry.id} ({_evidence(entry, c.sha)}), "
            f"no longer to {other.id} ({c.evidence})"
            for c in other.commits
            if c not in keep
        ]
        out.append((replace(other, commits=keep), moved))
    return out


def _evidence(entry: Entry, sha: str) -> str:
    return next(c.evidence for c in entry.commits if c.sha == sha)


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
    # without a known end (aider's history), evidence (a sha it printed) may name a later
    # commit: look up to a day on (a bound, so a backfill of years stays one short git log each)
    end = session.ended or max(
        min(datetime.now(session.started.tzinfo), session.started + OPEN_END), session.started
    )
    candidates = commits_between(repo, session.started, end)
    entry_id = f"{session.agent}/{session.session_id}"
    claimed = claimed_commits(others, entry_id)
    commits = link_commits(session, candidates, repo, claimed, own_commit(config))
    linked = {c.sha for c in commits}
    used = [c for c in candidates if c.sha[:12] in linked]
    if session.branch is None:  # Gemini, aider and OpenCode logs name no branch
        session.branch = branch_now(session, repo, used)
    return commits, WorkItems(config).for_session(session, used)


def branch_now(session: Session, repo: Repo, used: Sequence[GitCommit]) -> str | None:
    """The repo's current branch, for a session recorded while it is still fresh (the
    post-commit hook, `/end-session`, `record` right after): its last sign of life (its
    end, else its newest commit) is at most RECENT ago. An older session may have run on
    any branch, so it gets none rather than a guess."""
    last = session.ended or max((c.when for c in used), default=None) or session.started
    if last is None or datetime.now(last.tzinfo) - last > RECENT:
        return None
    try:
        return gitrepo.current_branch(repo.root)
    except (OSError, CostlogError):
        return None
