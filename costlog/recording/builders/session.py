"""A session read from an agent's own log as a ledger entry: every request priced with
the table, the session linked to the commits and work items it produced."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from costlog.config import Config
from costlog.errors import CostlogError
from costlog.gitrepo import Repo, relative_cwd
from costlog.models import Entry, Session
from costlog.recording import attribution
from costlog.yamlfile import clean_text

if TYPE_CHECKING:
    from costlog.pricing.table import PriceTable
    from costlog.sources.claude import enrich as truth


def session_entry(
    session: Session,
    repo: Repo,
    config: Config,
    table: PriceTable,
    others: Sequence[Entry] | attribution.Claims = (),
    truth_sources: truth.Sources | None = None,
    commit_log: attribution.CommitLog | None = None,
) -> Entry:
    """Price and attribute a session. With `truth_sources`, a Claude Code session is first
    reconciled with OpenTelemetry events / `~/.claude.json` (sources.claude.enrich; its problems
    are added to `session.warnings`). `others` as a Claims index and a batched `commit_log`
    are backfill's: the same entry, without a pass over the ledger and a git call each."""
    from costlog.pricing.requests import price_requests

    _clean(session)
    if not session.requests:
        raise CostlogError(f"session {session.session_id} has no recorded model usage")
    if config.estimate_factors:  # fitted by `costlog calibrate --write`; says so in methods
        from costlog.estimate.factors import apply_factors, configured_factors

        apply_factors(session, configured_factors(config))
    if truth_sources is not None:  # after calibration: it must not rescale these numbers
        from costlog.sources.claude import enrich as truth_mod

        session = truth_mod.apply(session, truth_sources, table, session.warnings.append).session
    per_model, total, rules = price_requests(session.requests, table)
    started = session.started or min(
        (r.timestamp for r in session.requests if r.timestamp), default=session.ended
    )
    if started is None:  # every time in its log was unusable (each line warned about)
        raise CostlogError(
            f"session {session.session_id} has no usable time",
            path=session.paths[0] if session.paths else None,
        )
    commits, items = attribution.attribute(session, repo, config, others, commit_log)
    sources_used = {mu.source for mu in per_model.values()}
    source = sources_used.pop() if len(sources_used) == 1 else "mixed"
    methods = dict(session.methods)
    if rules:
        methods["pricing"] = ", ".join(rules)
    return Entry(
        id=f"{session.agent}/{session.session_id}",
        agent=session.agent,
        started=started,
        ended=session.ended,
        models=per_model,
        cost_usd=total,
        source=source,
        methods=methods,
        pricing_table=table.version,
        cwd=relative_cwd(repo, session.cwd),
        branch=session.branch,
        subagents=session.subagents,
        commits=commits,
        work_items=items,
        rate_limits=session.rate_limits,
    )


def _clean(session: Session) -> None:
    """Text from a log that UTF-8 cannot hold (a lone surrogate: half of a JSON-escaped pair)
    or that no file name or YAML reader takes (NUL) is replaced, here, before the entry,
    its file name, the summary line or COST_LOG.md see it."""
    session.session_id = clean_text(session.session_id)
    if session.cwd is not None:
        session.cwd = clean_text(session.cwd)
    if session.branch is not None:
        session.branch = clean_text(session.branch)
    for request in session.requests:
        request.model = clean_text(request.model)
