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

import bisect
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
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
    found = _git_commits(repo, *_bounds(start, end))
    return [] if found is None else found


def _bounds(start: datetime, end: datetime) -> tuple[int, int]:
    """The whole seconds `git log --since/--until` gets for a session's window."""
    return int((start - SLACK).timestamp()), int((end + SLACK).timestamp())


def _git_commits(repo: Repo, since: int, until: int) -> list[GitCommit] | None:
    """`git log` of [since, until] (Unix seconds) as GitCommits sorted by time; None when
    git cannot say."""
    try:
        out = gitrepo.log(
            repo.root,
            "--all",
            "--no-merges",
            "--numstat",
            "--summary",
            f"--since={since}",
            f"--until={until}",
            "--format=%x1e%H%x1f%ct%x1f%s%x1f%b%x1f",
        )
    except (OSError, CostlogError):
        return None
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


class CommitLog:
    """The commits of many sessions' windows from a few `git log` runs instead of one per
    session (backfill): windows within `GAP` of each other are read as one span, and each
    session's commits are cut from it by the same whole-second bounds its own `git log`
    would get. A window outside every span read is asked of git on its own.

    A cut by time alone is not enough: `git log --since` does not list every commit dated
    after the bound, it stops at a commit dated before it and does not walk on to that
    commit's parents. So with dates that go backwards (clock skew, rebases keeping author
    dates as commit dates) a session's own `git log` misses commits dated inside its window
    that lie behind an older one, where the wider span lists them. To cut exactly what git
    would list, the graph of the commits since the earliest window is read too (parents and
    commit times, merges included: one cheap `git log` without diffs, plus the refs it
    starts from), and `reach` keeps for each commit the latest bound git can walk to it
    with. Two commits of a window at the same second would come in git's walk order, which
    a cut cannot tell: that window is asked of git on its own."""

    GAP = timedelta(days=1)

    def __init__(self, repo: Repo) -> None:
        self.repo = repo
        #: (since, until, the commits in it with their commit times), by since
        self.spans: list[tuple[int, int, list[tuple[int, GitCommit]]]] = []
        #: sha -> the latest `--since` with which `git log --all` still lists it (None: unknown)
        self.reach: dict[str, int] | None = None

    def prefetch(self, windows: Iterable[tuple[datetime, datetime]]) -> None:
        merged: list[list[int]] = []
        for lo, hi in sorted(_bounds(start, end) for start, end in windows):
            if merged and lo <= merged[-1][1] + self.GAP.total_seconds():
                merged[-1][1] = max(merged[-1][1], hi)
            else:
                merged.append([lo, hi])
        if not merged:
            return
        self.reach = _reach(self.repo, merged[0][0])
        if self.reach is None:
            return  # every window is asked of git on its own
        for lo, hi in merged:
            found = _git_commits(self.repo, lo, hi)
            if found is not None:
                self.spans.append((lo, hi, [(int(c.when.timestamp()), c) for c in found]))

    def between(self, start: datetime, end: datetime) -> list[GitCommit]:
        """What `commits_between(repo, start, end)` returns."""
        lo, hi = _bounds(start, end)
        reach = self.reach
        for since, until, commits in self.spans:
            if reach is not None and since <= lo and hi <= until:
                cut = [(when, c) for when, c in commits if lo <= when <= hi]
                if any(c.sha not in reach for _when, c in cut):
                    break  # made after the graph was read: ask git
                cut = [(when, c) for when, c in cut if reach[c.sha] >= lo]
                times = [when for when, _c in cut]
                if len(set(times)) == len(times):
                    return [c for _when, c in cut]
                break
        return commits_between(self.repo, start, end)


def _reach(repo: Repo, since: int) -> dict[str, int] | None:
    """For each commit `git log --all --since=SINCE` lists (merges too), the latest bound
    B >= SINCE with which `git log --all --since=B` still lists it; None when git cannot say.

    git's walk (by date, without --topo-order or negative refs) starts from every ref and
    HEAD; a commit dated before the bound is neither listed nor walked past, any other is
    listed and its parents queued. So a commit is listed for bound B exactly when some path
    from a starting ref down to it has no commit dated before B: B is the best, over such
    paths, of the oldest date on the path, whatever order the walk takes."""
    try:
        graph = gitrepo.log(repo.root, "--all", f"--since={since}", "--format=%H %ct %P")
        starts = set(gitrepo.log(repo.root, "--all", "--no-walk", "--format=%H").split())
    except (OSError, CostlogError):
        return None
    when: dict[str, int] = {}
    parents: dict[str, list[str]] = {}
    for line in graph.splitlines():
        sha, _, rest = line.partition(" ")
        ct, _, ps = rest.partition(" ")
        if not ct.lstrip("-").isdigit():
            return None
        when[sha], parents[sha] = int(ct), ps.split()
    children = dict.fromkeys(when, 0)
    for sha in when:
        for parent in parents[sha]:
            if parent in children:
                children[parent] += 1
    best = {sha: (when[sha] if sha in starts else None) for sha in when}
    ready = [sha for sha, n in children.items() if n == 0]
    reach: dict[str, int] = {}
    while ready:  # children before parents (Kahn), so each commit's value is final
        sha = ready.pop()
        mine = best[sha]
        reach[sha] = since - 1 if mine is None else mine
        for parent in parents[sha]:
            if parent not in children:
                continue
            if mine is not None:
                via = min(mine, when[parent])
                old = best[parent]
                best[parent] = via if old is None else max(old, via)
            children[parent] -= 1
            if children[parent] == 0:
                ready.append(parent)
    return reach if len(reach) == len(when) else None


class CommitTimes:
    """When this repo's commits since `since` were made (one `git log` of times only), to
    tell, before a log is read, whether a session of a given span can have made any
    (backfill reads a log's prompt and tool text only where a commit could use them). On
    the safe side: True when git cannot say, or for a span starting before `since`."""

    def __init__(self, repo: Repo, since: datetime) -> None:
        self.since = int(since.timestamp())
        try:
            out = gitrepo.log(
                repo.root, "--all", "--no-merges", f"--since={self.since}", "--format=%ct"
            )
            self.times: list[int] | None = sorted(int(t) for t in out.split() if t.isdigit())
        except (OSError, CostlogError):
            self.times = None

    def any_between(self, start: datetime, end: datetime) -> bool:
        """Whether a commit lies in the window `commits_between(start, end)` looks at (a
        second of slack more each side)."""
        lo, hi = _bounds(start, end)
        if self.times is None or lo - 1 < self.since:
            return True
        at = bisect.bisect_left(self.times, lo - 1)
        return at < len(self.times) and self.times[at] <= hi + 1


def window(session: Session) -> tuple[datetime, datetime] | None:
    """The time span whose commits a session may have made; None without a start.
    Without a known end (aider's history), evidence (a sha it printed) may name a later
    commit: up to a day on (a bound, so a backfill of years stays short git logs)."""
    if session.started is None:
        return None
    end = session.ended or max(
        min(datetime.now(session.started.tzinfo), session.started + OPEN_END), session.started
    )
    return session.started, end


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
    claimed: Mapping[str, str],
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


class Claims:
    """Which entries hold which commits, kept as entries are recorded one after another
    (backfill): each session then looks up only the commits it meets, where
    `claimed_commits` and `released` pass over every entry of the ledger for each one.

    `known` (id -> entry) is kept up to date by `put`; its order is the order `released`
    reports in."""

    def __init__(self, known: dict[str, Entry]) -> None:
        self.known = known
        #: sha -> ids of the entries holding it, in no particular order
        self.holders: dict[str, set[str]] = {}
        #: id -> place in `known`
        self.place: dict[str, int] = {}
        for entry in known.values():
            self._index(entry)

    def _index(self, entry: Entry) -> None:
        self.place.setdefault(entry.id, len(self.place))
        for commit in entry.commits:
            self.holders.setdefault(commit.sha, set()).add(entry.id)

    def put(self, entry: Entry) -> None:
        old = self.known.get(entry.id)
        if old is not None:
            for commit in old.commits:
                self.holders.get(commit.sha, set()).discard(entry.id)
        self.known[entry.id] = entry
        self._index(entry)

    def claimed(self, exclude_id: str) -> Mapping[str, str]:
        """`claimed_commits(known.values(), exclude_id)`, asked per sha: the same shas at
        the same ranks (of two equally strong kinds, either may be named)."""
        return _Claimed(self, exclude_id)

    def released(self, entry: Entry) -> list[tuple[Entry, list[str]]]:
        """What `released(known.values(), entry)` returns."""
        ids = {i for c in entry.commits for i in self.holders.get(c.sha, ())}
        return released([self.known[i] for i in sorted(ids, key=self.place.__getitem__)], entry)


class _Claimed(Mapping[str, str]):
    """sha -> the strongest evidence by which an entry other than `exclude_id` holds it."""

    def __init__(self, claims: Claims, exclude_id: str) -> None:
        self.claims, self.exclude_id = claims, exclude_id

    def __getitem__(self, sha: str) -> str:
        best = ""
        for entry_id in self.claims.holders.get(sha, ()):
            if entry_id == self.exclude_id:
                continue
            for commit in self.claims.known[entry_id].commits:
                if commit.sha == sha and _RANK.get(commit.evidence, 0) > _RANK.get(best, 0):
                    best = commit.evidence
        if not best:
            raise KeyError(sha)
        return best

    def __iter__(self) -> Iterator[str]:
        return (sha for sha in self.claims.holders if sha in self)

    def __len__(self) -> int:
        return sum(1 for _ in self)


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
    session: Session,
    repo: Repo,
    config: Config,
    others: Iterable[Entry] | Claims = (),
    commit_log: CommitLog | None = None,
) -> tuple[list[Commit], list[str]]:
    """(commits, work items) for one session. `others` may be a Claims index and
    `commit_log` a batched git log (backfill); the result is the same."""
    span = window(session)
    if span is None:
        return [], WorkItems(config).find(session.branch)
    start, end = span
    candidates = commit_log.between(start, end) if commit_log else commits_between(repo, start, end)
    entry_id = f"{session.agent}/{session.session_id}"
    claimed = (
        others.claimed(entry_id)
        if isinstance(others, Claims)
        else claimed_commits(others, entry_id)
    )
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
