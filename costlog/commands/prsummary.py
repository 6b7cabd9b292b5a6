"""`costlog pr-summary --base origin/main`: Markdown for a pull-request comment.

Every value from the ledger goes through `render.md`, as in COST_LOG.md: a CI job posts this
text as the job's bot, so a model name, agent or key must never turn into a link, a
mention or markup there.

A branch's sessions are the ledger files it adds or changes against the merge base
(`git diff --name-only --diff-filter=AM BASE...HEAD -- <ledger dir>`), read as committed at
HEAD. Because they are found by file, not by commit sha, the attribution survives squash
and rebase merges. A session the branch re-recorded (a changed file) counts only by what it
added: its numbers minus the version at the merge base.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection
from dataclasses import replace
from decimal import Decimal
from typing import Any

from costlog import analysis, gitrepo
from costlog.analysis.shortids import ShortIds, ledger_ids
from costlog.config import Config
from costlog.errors import CostlogError
from costlog.gitrepo import Repo
from costlog.ledger.store import Ledger, changed_at, entries_at
from costlog.models import Entry, ModelUsage, Usage
from costlog.render import code, md, tokens, usd, work_items

ZERO = Decimal(0)

#: the summary's first line: hidden on GitHub, it is how the comment workflow finds the one
#: comment it posted before and updates it instead of adding another (written as is, never
#: through `md`, which would escape it into visible text)
MARKER = "<!-- costlog:pr-summary -->"


#: a base git cannot find was, in practice, not fetched (a shallow CI checkout)
FETCH_HINT = (
    "fetch the base first, e.g. `git fetch origin main`; in CI, check out with "
    "actions/checkout and fetch-depth: 0"
)


def branch_entries(repo: Repo, config: Config, base: str) -> tuple[list[Entry], int]:
    """(what each session of this branch added, how many of them are re-recordings)."""
    try:
        merge_base = gitrepo.merge_base(repo.root, base, "HEAD")
    except CostlogError as exc:
        raise CostlogError(exc.message, hint=FETCH_HINT) from None
    added = changed_at(repo.root, config.ledger_dir, merge_base, "HEAD", "A")
    changed = changed_at(repo.root, config.ledger_dir, merge_base, "HEAD", "M")
    out = entries_at(repo.root, "HEAD", added)
    now, before = entries_at(repo.root, "HEAD", changed), entries_at(repo.root, merge_base, changed)
    out += [minus(new, old) for new, old in zip(now, before, strict=True)]
    out.sort(key=lambda e: (e.started, e.id))
    return out, len(changed)


def minus(new: Entry, old: Entry) -> Entry:
    """What a re-recording added: per-model tokens, requests and cost, new minus old."""
    models = {}
    for name, mu in new.models.items():
        before = old.models.get(name, ModelUsage())
        usage = Usage(
            *(
                getattr(mu.usage, f) - getattr(before.usage, f)
                for f in (
                    "input",
                    "output",
                    "cache_read",
                    "cache_write_5m",
                    "cache_write_1h",
                    "reasoning",
                )
            )
        )
        cost = None if mu.cost_usd is None else mu.cost_usd - (before.cost_usd or ZERO)
        models[name] = ModelUsage(mu.requests - before.requests, usage, cost, mu.source)
    total = None if new.cost_usd is None else new.cost_usd - (old.cost_usd or ZERO)
    known = {c.sha for c in old.commits}
    return replace(
        new, models=models, cost_usd=total, commits=[c for c in new.commits if c.sha not in known]
    )


def markdown(
    entries: list[Entry],
    updated: int,
    base: str,
    short: Callable[[str], str] | None = None,
    on_plan: Collection[str] = frozenset(),
) -> str:
    """The comment; `short` gives each session's short id in the whole ledger (default:
    among the branch's sessions); `on_plan`, the ids of the sessions on a subscription plan
    (their cost reads "API-eq.": list prices, not money paid)."""
    short = short or ShortIds(e.id for e in entries).of
    total = sum((analysis.cost(e) for e in entries), ZERO)
    unpriced = [e for e in entries if e.cost_usd is None]
    lines = [MARKER, "### Agent cost on this branch (costlog)", ""]
    if not entries:
        return "\n".join(
            [*lines, f"No agent sessions recorded on this branch since {code(base)}.", ""]
        )
    head = f"**{len(entries)} session{'s' if len(entries) != 1 else ''}, {usd(total)}**"
    if updated:
        head += f" ({updated} re-recorded: counted by what they added)"
    if unpriced:
        head += f"; {len(unpriced)} with an unpriced model (not in the total)"
    if on_plan:  # list prices, not what a flat-fee plan cost
        head += f"; {len(on_plan)} on a subscription plan: API-equivalent, not money paid"
    lines += [
        head,
        "",
        *_by_model(entries),
        "",
        *_by_work_item(entries),
        "",
        *_sessions(entries, short, on_plan),
        "",
        f"<sub>From the ledger files this branch adds vs {code(base)}; sources: "
        f"{_sources(entries)}.</sub>",
        "",
    ]
    return "\n".join(lines)


def _by_model(entries: list[Entry]) -> list[str]:
    rows = ["| Model | Sessions | Tokens | Cost |", "|---|---:|---:|---:|"]
    for row in analysis.spend_by(entries, "model"):
        cost = _model_cost(row)
        rows.append(
            f"| {md(row['model'])} | {row['sessions']} | {tokens(row['tokens'])} | {cost} |"
        )
    return rows


def _model_cost(row: dict[str, Any]) -> str:
    """A model's cost as `report --by model` writes it: what is priced, then how many of
    its sessions are not (`$0.04 (+1 unpriced)`); `unpriced` alone when none is priced."""
    unpriced = int(row["unpriced"])
    if not unpriced:
        return usd(row["cost"])
    if unpriced == row["sessions"] and not row["cost"]:
        return "unpriced"
    return f"{usd(row['cost'])} (+{unpriced} unpriced)"


def _by_work_item(entries: list[Entry]) -> list[str]:
    rows = ["| Work item | Sessions | Cost |", "|---|---:|---:|"]
    for row in analysis.work_items(entries):
        rows.append(f"| {work_items(row['work_item'])} | {row['sessions']} | {usd(row['cost'])} |")
    none = analysis.unlinked(entries)
    if none["sessions"]:
        rows.append(f"| (none) | {none['sessions']} | {usd(none['cost'])} |")
    return rows


def _sessions(
    entries: list[Entry], short: Callable[[str], str], on_plan: Collection[str] = ()
) -> list[str]:
    rows = [
        "<details><summary>Sessions</summary>",
        "",
        "| Date | Agent | Session | Model | Commits | Work items | Cost | Source |",
        "|---|---|---|---|---:|---|---:|---|",
    ]
    for e in entries:
        rows.append(
            f"| {e.started.date().isoformat()} | {md(e.agent)} | "
            f"{md(short(e.id))} | {md(analysis.primary(e) or '-')} | "
            f"{len(e.commits)} | {work_items(e.work_items)} | {usd(e.cost_usd)}"
            f"{' API-eq.' if e.id in on_plan else ''} | "
            f"{md(e.source)} |"
        )
    return [*rows, "", "</details>"]


def _sources(entries: list[Entry]) -> str:
    counts: dict[str, int] = defaultdict(int)
    for e in entries:
        counts[e.source] += 1
    return ", ".join(f"{n} {md(s)}" for s, n in sorted(counts.items()))


def summary(repo: Repo, config: Config, base: str) -> str:
    entries, updated = branch_entries(repo, config, base)
    # short ids as COST_LOG.md shows them: unique among all the ledger's sessions
    ids = [*ledger_ids(Ledger(repo, config.ledger_dir)), *(e.id for e in entries)]
    from costlog.analysis import plans as plan_analysis

    on_plan = {i for i, r in plan_analysis.view(entries, config).by_id.items() if r.plan}
    return markdown(entries, updated, base, ShortIds(ids).of, on_plan)
