"""Estimating a session that left no usable log (Cursor, Copilot in the IDE, a chat window)
from the commits it produced: `costlog record --agent cursor --model M [--since REF]`.

Which commits: `REF..HEAD` with `--since REF`, else the commits on HEAD made after the
previous recorded session ended (every commit on HEAD when the ledger is empty). Merge
commits are left out.

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
from costlog.config import Config, DiffEstimate
from costlog.gitrepo import Repo
from costlog.ledger.format import now
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


def _range(repo: Repo, config: Config, since: str | None) -> list[str]:
    if since is not None:
        return [f"{since}..HEAD"]
    entries = Ledger(repo, config.ledger_dir).load_all()
    if not entries:
        return ["HEAD"]
    last = max((e.ended or e.started) for e in entries)
    return ["HEAD", f"--since={int(last.timestamp()) + 1}"]  # git's --since is inclusive


def commits(repo: Repo, config: Config, since: str | None) -> list[DiffCommit]:
    shas = gitrepo.rev_list(repo.root, "--no-merges", "--reverse", *_range(repo, config, since))
    return [_commit(repo, sha) for sha in shas]


def _commit(repo: Repo, sha: str) -> DiffCommit:
    head = gitrepo.show(repo.root, "-s", "--format=%ct%x1f%s%x1f%b", sha)
    ct, subject, body = head.split("\x1f", 2)
    diff = gitrepo.show(repo.root, "--format=", "--unified=0", "--no-color", "--no-ext-diff", sha)
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
    turns = max(len(found), 1) * model.turns_per_commit
    context = turns * model.context_tokens
    cached = int(context * model.cache_share)
    method = (
        f"estimated from {len(found)} commit(s): output = {written:,} tokens of added "
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
    warnings = [] if found else ["no commits found to estimate from: recorded with zero tokens"]
    usage, turns, method = usage_for(found, diff_model or config.diff_estimate)
    table = PriceTable.load(config.prices_path(repo.root))
    name = table.canonical(model) or model
    started = found[0].when if found else now()
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
        ended=found[-1].when if found else None,
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
