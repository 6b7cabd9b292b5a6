"""Estimating a session that left no usable log (Cursor, Copilot in the IDE, a chat window)
from the commits it produced: `costlog record --agent cursor --model M [--since REF]`.

Which commits: `REF..HEAD` with `--since REF`, else the commits on HEAD made after the
previous recorded session ended and after the commit that set costlog up (the one that added
`.costlog/config.yaml`): work from before costlog was there belongs to no session it can
know of. Never counted: merge commits, costlog's own files (the ledger, `.costlog/`, the
configured output), and so costlog's own commits (the set-up commit, ledger-only commits
such as `record --commit`'s), which touch nothing else once those files are left out.
No commit left means nothing to estimate from: the record is refused rather than stored
with a made-up number of turns.

How many tokens (the method is written into the entry, which is marked `estimated`):
- output: the tokens of the text the commits add (`costlog.estimate.tokens.count_tokens`, the
  offline o200k-fitted heuristic) x `output_factor`, for the explanation and the drafts
  that never reached a commit;
- input: `turns_per_commit` model turns per commit, each reading `context_tokens` of
  context, of which `cache_share` comes from the prompt cache (cache reads).
The defaults are deliberately plain and shown in the entry; they are the `diff_estimate:`
settings of `.costlog/config.yaml`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from costlog import gitrepo
from costlog.config import CONFIG_PATH, Config, DiffEstimate
from costlog.errors import CostlogError
from costlog.gitrepo import Repo
from costlog.ledger.store import Ledger
from costlog.models import Commit, Entry, ModelUsage, Usage
from costlog.recording.attribution import WorkItems
from costlog.recording.builders.ids import new_id

#: the knobs of the estimate: the `diff_estimate:` settings
DiffModel = DiffEstimate


@dataclass
class DiffCommit:
    sha: str
    when: datetime
    subject: str
    body: str
    added_text: str
    files: int
    added: int
    removed: int


def count_tokens(text: str) -> int:
    from costlog.estimate.tokens import count_tokens as count

    return count(text)


def _range(repo: Repo, config: Config, since: str | None, setup: str | None) -> list[str]:
    if since is not None:
        return [f"{since}..HEAD"]
    bounds = ["HEAD"] if setup is None else ["HEAD", f"^{setup}"]
    entries = Ledger(repo, config.ledger_dir).load_all()
    if entries:
        last = max((e.ended or e.started) for e in entries)
        bounds.append(f"--since={int(last.timestamp()) + 1}")  # git's --since is inclusive
    return bounds


def _setup_commit(repo: Repo) -> str | None:
    """The newest commit on HEAD that added costlog's config: `git add -A && git commit`
    right after `costlog init` (README's quickstart); None when it was never committed."""
    found = gitrepo.log(
        repo.root, "--no-merges", "--diff-filter=A", "--format=%H", "HEAD", "--", CONFIG_PATH
    ).split()
    return found[0] if found else None


def own_paths(config: Config) -> list[str]:
    """git pathspecs leaving out the files costlog writes: its output is not agent work."""
    paths = dict.fromkeys([".costlog", config.ledger_dir.strip("/"), config.output.strip("/")])
    return [".", *(f":(top,exclude){p}" for p in paths if p)]


def commits(repo: Repo, config: Config, since: str | None) -> list[DiffCommit]:
    setup = _setup_commit(repo)
    spec = own_paths(config)
    shas = gitrepo.rev_list(
        repo.root,
        "--no-merges",
        "--full-history",  # every commit touching those paths, not git's simplified history
        "--reverse",
        *_range(repo, config, since, setup),
        "--",
        *spec,
    )
    return [_commit(repo, sha, spec) for sha in shas if sha != setup]


def _commit(repo: Repo, sha: str, spec: list[str]) -> DiffCommit:
    head = gitrepo.show(repo.root, "-s", "--format=%ct%x1f%s%x1f%b", sha)
    ct, subject, body = head.split("\x1f", 2)
    diff = gitrepo.show(
        repo.root, "--format=", "--unified=0", "--no-color", "--no-ext-diff", sha, "--", *spec
    )
    added = [
        line[1:]
        for line in diff.splitlines()
        if line.startswith("+") and not line.startswith("+++")
    ]
    removed = sum(
        1 for line in diff.splitlines() if line.startswith("-") and not line.startswith("---")
    )
    files = sum(1 for line in diff.splitlines() if line.startswith("diff --git "))
    return DiffCommit(
        sha,
        datetime.fromtimestamp(int(ct)).astimezone(),
        subject,
        body.strip(),
        "\n".join(added),
        files,
        len(added),
        removed,
    )


def usage_for(found: list[DiffCommit], model: DiffModel) -> tuple[Usage, int, str]:
    """(tokens, model turns, the method in words)."""
    written = sum(count_tokens(c.added_text) for c in found)
    output = int(written * model.output_factor)
    turns = len(found) * model.turns_per_commit
    context = turns * model.context_tokens
    cached = int(context * model.cache_share)
    commits = f"{len(found)} commit{'' if len(found) == 1 else 's'}"
    method = (
        f"estimated from {commits}: output = {written:,} tokens of added "
        f"text x {model.output_factor}; input = {turns} turns ({model.turns_per_commit}"
        f"/commit) x {model.context_tokens:,} context tokens, {model.cache_share:.0%} "
        "cache reads"
    )
    return Usage(input=context - cached, output=output, cache_read=cached), turns, method


def estimate_entry(
    repo: Repo,
    config: Config,
    *,
    agent: str,
    model: str,
    since: str | None = None,
    session_id: str | None = None,
    diff_model: DiffModel | None = None,
) -> tuple[Entry, list[str]]:
    from costlog.pricing.table import PriceTable

    found = commits(repo, config, since)
    if not found:
        where = (
            f"in {since}..HEAD"
            if since is not None
            else "since the last recorded session and costlog's set-up"
        )
        raise CostlogError(
            f"no commits {where} to estimate from; costlog's own files and commits do not count",
            hint="pass --since REF, or give --tasks/--task-types or token counts",
        )
    warnings: list[str] = []
    usage, turns, method = usage_for(found, diff_model or config.diff_estimate)
    table = PriceTable.load(config.prices_path(repo.root))
    name = table.canonical(model) or model
    started = found[0].when
    cost = table.request_cost(name, usage, started.date())
    if cost is None:
        warnings.append(f"no price for model {model!r}: tokens kept, cost marked unpriced")
    items = WorkItems(config)
    branch = gitrepo.current_branch(repo.root)
    keys: list[str] = []
    for text in [branch or "", *(f"{c.subject}\n{c.body}" for c in found)]:
        keys += [k for k in items.find(text) if k not in keys]
    entry = Entry(
        id=f"{agent}/{session_id or new_id(started)}",
        agent=agent,
        started=started,
        ended=found[-1].when,
        models={name: ModelUsage(requests=turns, usage=usage, cost_usd=cost, source="estimated")},
        cost_usd=cost,
        source="estimated",
        methods={"tokens": method},
        pricing_table=table.version,
        branch=branch,
        commits=[
            Commit(c.sha[:12], c.subject, c.files, c.added, c.removed, "manual") for c in found
        ],
        work_items=keys,
    )
    return entry, warnings
