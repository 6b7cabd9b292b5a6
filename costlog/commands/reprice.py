"""`costlog reprice`: recompute stored costs with the current price table, only when asked.

Cost is a persisted value: a price-table update never changes a recorded session by
itself. `reprice` shows, per entry and in total, what the current table says the
sessions cost, and writes the new numbers (under the ledger lock) unless `dry_run`.

The rule, and its honest limit:

* The ledger stores per-model token *totals* of a session, not its requests. Each model
  line is repriced as tokens x the **base** rates in force on the session's (UTC) start
  date, exactly like `price_requests` does for a request below every long-context tier.
* The long-context tier (every token of a request whose prompt exceeds 200k/272k is
  charged at the premium) and fast/priority multipliers are judged *per request*, and
  the totals cannot tell which requests crossed the threshold. So when a model line's
  stored cost is above its base-rate cost and premium rates could explain it (the model
  has a tier or a multiplier on that date, or the entry's pricing notes name one), that
  line is **kept as stored and flagged**: re-record the session from its logs to reprice
  it exactly. A cost is never lowered on a guess.
* An unpriced line (cost null) is priced as soon as the table knows its model.
* Never changed: entries whose cost was typed by hand or imported from a hand-kept log
  (`methods.cost` "entered by hand" / "imported ..."), lines without token counts (e.g.
  task-based guide estimates), and entries whose cost the agent itself logged.
* A changed entry records what was done: `methods.repriced: "repriced 2026-11-23 with
  table 2026-11-22"`, and `pricing.table` becomes the table used. An entry names one
  table, which `costlog check` verifies every line against, so with `--model` an entry
  whose other models' prices changed too is kept and flagged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal

from costlog.config import Config
from costlog.gitrepo import Repo
from costlog.ledger.format import MICRO, now
from costlog.ledger.store import Ledger
from costlog.models import Entry, ModelUsage, Usage
from costlog.pricing.rates import MILLION, RATE_FIELDS
from costlog.pricing.table import PriceTable

_HAND_COST = ("entered by hand", "imported")
_PREMIUM_NOTES = ("long-context", " mode x")


@dataclass
class LineChange:
    model: str
    before: Decimal | None
    after: Decimal | None
    note: str | None = None


@dataclass
class EntryChange:
    entry: Entry
    before: Decimal | None
    after: Decimal | None
    lines: list[LineChange] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    skipped: str | None = None

    @property
    def changed(self) -> bool:
        return _q(self.before) != _q(self.after) or any(
            _q(line.before) != _q(line.after) for line in self.lines
        )


@dataclass
class Result:
    table: str
    changes: list[EntryChange]
    written: int = 0

    @property
    def changed(self) -> list[EntryChange]:
        return [c for c in self.changes if c.changed]

    @property
    def flagged(self) -> list[EntryChange]:
        return [c for c in self.changes if c.flags]

    def totals(self) -> tuple[Decimal, Decimal]:
        """Known cost before and after, over the changed entries only."""
        before = sum((c.before or Decimal(0) for c in self.changed), Decimal(0))
        after = sum((c.after or Decimal(0) for c in self.changed), Decimal(0))
        return before, after


def _q(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(MICRO)


def base_cost(table: PriceTable, model: str, usage: Usage, day: date) -> Decimal | None:
    """Tokens x the model's base rates on `day`: no tier, no multiplier (see module doc)."""
    rates = table.rates(model, day)
    if rates is None:
        return None
    total = sum((getattr(usage, name) * getattr(rates, name) for name in RATE_FIELDS), Decimal(0))
    return total / MILLION


def _premium_possible(table: PriceTable, model: str, day: date, entry: Entry) -> bool:
    prices = table.model(model)
    if prices is None:
        return False
    if prices.at(day).tiers or prices.multipliers:
        return True
    note = entry.methods.get("pricing", "")
    return any(word in note for word in _PREMIUM_NOTES)


def _skip_reason(entry: Entry) -> str | None:
    method = entry.methods.get("cost", "")
    if method.startswith(_HAND_COST):
        return f"cost {method.split(' (')[0]}: never repriced"
    if "as logged by the agent" in entry.methods.get("pricing", ""):
        return "cost logged by the agent: kept"
    return None


def reprice_entry(entry: Entry, table: PriceTable, model: str | None = None) -> EntryChange:
    """What the current table makes of one entry (the entry itself is not modified)."""
    change = EntryChange(entry=entry, before=entry.cost_usd, after=entry.cost_usd)
    change.skipped = _skip_reason(entry)
    if change.skipped:
        return change
    wanted = None if model is None else (table.canonical(model) or model)
    day = entry.started.date()
    models: dict[str, ModelUsage] = {}
    others: list[str] = []
    for name, mu in entry.models.items():
        new_cost, note = _reprice_line(table, name, mu, day, entry)
        if wanted is not None and (table.canonical(name) or name) != wanted:
            if note is None and mu.cost_usd is not None and _q(new_cost) != _q(mu.cost_usd):
                others.append(name)
            new_cost, note = mu.cost_usd, None
        models[name] = replace(mu, usage=replace(mu.usage), cost_usd=new_cost)
        change.lines.append(LineChange(name, mu.cost_usd, new_cost, note))
        if note:
            change.flags.append(f"{name}: {note}")
    total: Decimal | None = Decimal(0)
    for mu in models.values():
        total = None if total is None or mu.cost_usd is None else total + mu.cost_usd
    change.after = total if models else entry.cost_usd
    change.entry = replace(entry, models=models, cost_usd=change.after, methods=dict(entry.methods))
    if others and change.changed:
        # an entry names one price table (`costlog check` verifies every line against it):
        # repricing one model while others' prices changed too would misstate it
        change.flags.append(
            f"{', '.join(others)} would change too with table "
            f"{table.version}: kept (reprice without --model)"
        )
        change.lines, change.after, change.entry = [], entry.cost_usd, entry
    return change


def _reprice_line(
    table: PriceTable, name: str, mu: ModelUsage, day: date, entry: Entry
) -> tuple[Decimal | None, str | None]:
    if mu.usage.total == 0:
        return mu.cost_usd, None
    cost = base_cost(table, name, mu.usage, day)
    if cost is None:
        note = None if mu.cost_usd is None else "not in the current price table: cost kept"
        return mu.cost_usd, note
    if (
        mu.cost_usd is not None
        and mu.cost_usd.quantize(MICRO) > cost.quantize(MICRO)
        and _premium_possible(table, name, day, entry)
    ):
        return mu.cost_usd, (
            f"stored ${mu.cost_usd:.6f} is above the base-rate "
            f"${cost:.6f}; long-context or fast/priority rates are judged "
            "per request, which the ledger's totals cannot show: kept "
            "(re-record the session from its logs to reprice it)"
        )
    return cost, None


def reprice(
    entries: Sequence[Entry],
    table: PriceTable,
    *,
    model: str | None = None,
    today: date | None = None,
) -> Result:
    """Reprice `entries` in memory; changed entries carry the `methods.repriced` note."""
    stamp = (today or now().date()).isoformat()
    result = Result(table=table.version, changes=[])
    for entry in entries:
        change = reprice_entry(entry, table, model)
        if change.changed:
            change.entry.methods["repriced"] = f"repriced {stamp} with table {table.version}"
            change.entry.pricing_table = table.version
        result.changes.append(change)
    return result


def run(
    repo: Repo,
    config: Config,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    model: str | None = None,
    dry_run: bool = False,
) -> Result:
    """Load, reprice and (unless `dry_run`) write the changed entries, all under the lock."""
    from costlog import render as renderer

    table = PriceTable.load(config.prices_path(repo.root))
    ledger = Ledger(repo, config.ledger_dir)
    with ledger.lock():
        entries = [
            e
            for e in ledger.load_all()
            if (since is None or e.started >= since) and (until is None or e.started < until)
        ]
        result = reprice(entries, table, model=model)
        if dry_run:
            return result
        for change in result.changed:
            ledger.write(change.entry)
            result.written += 1
        if result.written:
            renderer.render(repo, config)
    return result


def _usd(value: Decimal | None) -> str:
    return "unpriced" if value is None else f"${value:,.4f}"


def to_text(result: Result, *, dry_run: bool) -> str:
    """Before/after per changed entry, flags, and the total."""
    lines = []
    for change in result.changed:
        e = change.entry
        delta = ""
        if change.before is not None and change.after is not None:
            delta = f" ({change.after - change.before:+,.4f})"
        lines.append(
            f"{e.started.date()} {e.id}: {_usd(change.before)} -> {_usd(change.after)}{delta}"
        )
    for change in result.flagged:
        for flag in change.flags:
            lines.append(f"flag {change.entry.id}: {flag}")
    before, after = result.totals()
    n = len(result.changed)
    verb = "would change" if dry_run else "changed"
    lines.append(
        f"{verb} {n} of {len(result.changes)} sessions with table {result.table}: "
        f"${before:,.4f} -> ${after:,.4f} ({after - before:+,.4f})"
        + (" (dry run: nothing written)" if dry_run else "")
    )
    skipped = sum(1 for c in result.changes if c.skipped)
    if skipped:
        lines.append(
            f"{skipped} session{'' if skipped == 1 else 's'} left as they are: cost entered "
            "by hand, imported or logged by the agent"
        )
    return "\n".join(lines)
