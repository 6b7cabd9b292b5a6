"""`costlog check` re-derives the money of every ledger entry, so a forged cost fails.

A ledger file is plain text in the repo: anyone can lower a `cost_usd` and re-render
COST_LOG.md, which then matches the ledger again. So check also verifies each entry:

1. Its total is the sum of its per-model costs. Each is stored rounded to the micro-dollar,
   so they may differ by that rounding only. A total beside an unpriced model includes
   what that model cost, so it must be at least the priced models' sum.
2. A model priced from its tokens costs those tokens at the prices of the table the entry
   names (`pricing.table`), in force on the session's dates, to the micro-dollar. Tables
   only add dated prices, so the current table cut at that date is what the older table
   knew; the current table itself (which includes the repo's `.costlog/prices.yaml`) is
   accepted too. costlog prices a recorded log per request and tokens typed by hand or
   estimated from diffs as one request; both results are accepted.
3. Where the ledger cannot show how a cost arose, a bound is checked, never a guess:
   - the long-context rate and fast/priority multipliers apply per request, and the ledger
     keeps per-model totals only. When the entry's `methods.pricing` says such a rule was
     applied, the cost must lie between its tokens at base rates and at the highest tier
     times the largest multiplier;
   - a session whose days span a price change must lie between its tokens at the lowest
     and at the highest of the rates in force.
4. Costs that did not come from tokens are checked as far as that means anything: a cost
   typed by hand, imported from a hand-kept log or logged by the agent by its sum only;
   a cost from the estimation guide against the guide (costlog.ledger.guide_check). What
   `methods` says is itself checked first (costlog.ledger.methods): only the exact strings
   costlog writes, on entries of the source and agent it writes them for, change how an
   entry is verified. A cost with tokens of zero and no such method, or for a model the
   table does not know, fails: it cannot be verified.

Prices are looked up once per (model, table) and per session dates, so this stays cheap
on a ledger of 100,000 sessions; the commonest check (one model, its cost its tokens at
its first day's rates) is integer arithmetic on rates scaled once (`_Usual`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from costlog.ledger import methods as known
from costlog.ledger.format import MICRO
from costlog.ledger.guide_check import GuideProblem, GuideSource, check_guide, check_no_row
from costlog.ledger.methods import usd as _usd
from costlog.models import Entry, ModelUsage, Usage
from costlog.pricing.rates import MILLION, RATE_FIELDS, ModelPrices, Rates, Tier, token_cost
from costlog.pricing.table import PriceTable

_TIER_NOTE = "long-context rate"
_SPEED_NOTE = " mode x"
#: a request's date is its own timestamp's; the entry keeps UTC start and end times
_DAY = timedelta(days=1)
#: one micro-dollar as a factor: an int of micro-dollars times it is exact
_MICRO_STEP = Decimal("1E-6")
#: integer sums below this have at most 26 digits, so the Decimal arithmetic of
#: `token_cost` (28 significant digits) would have been exact too: the same result
_EXACT_BELOW = 10**26


@dataclass(frozen=True, slots=True)
class Mismatch:
    entry: Entry
    #: the model whose cost is wrong; None for the entry's total
    model: str | None
    message: str
    #: the `methods` key at fault instead (its line is named), e.g. "cost"
    key: str | None = None
    #: shown by `check` but not a failure: what the ledger cannot prove either way
    note: bool = False


@dataclass(slots=True)
class _Window:
    """The rates a session's requests can have been priced at."""

    #: in force on one of the session's days (more than one: a price change fell inside)
    rows: tuple[Rates, ...]
    #: the newest rates, used for requests a log gave no timestamp
    latest: tuple[Rates, ...]


@dataclass(slots=True)
class _View:
    """One model as the current table and as the entry's (older) table knew it."""

    now: ModelPrices
    then: ModelPrices | None
    windows: dict[tuple[date, date], _Window] = field(default_factory=dict)

    def window(self, first: date, last: date) -> _Window:
        found = self.windows.get((first, last))
        if found is None:
            rows = list(self.now.between(first, last))
            latest = [self.now.prices[-1]]
            if self.then is not None and self.then is not self.now:
                rows += self.then.between(first, last)
                latest.append(self.then.prices[-1])
            unique = tuple({id(r): r for r in rows}.values())
            extra = tuple(r for r in {id(r): r for r in latest}.values() if r not in unique)
            found = self.windows[(first, last)] = _Window(unique, extra)
        return found


@dataclass(frozen=True, slots=True)
class _Usual:
    """The rates most requests of a session were priced at, also as integers.

    A rate is USD per million tokens, so tokens x rate is micro-dollars: with each rate
    scaled by `unit` (a power of ten) to an int, a line's exact cost in micro-dollars is
    an integer sum divided by `unit`, rounded half to even as `Decimal.quantize` rounds.
    That is what `check` does 100,000 times; `scaled` is None for rates that are not
    plain non-negative decimals, which take the Decimal way."""

    rates: Rates
    scaled: tuple[int, int, int, int, int] | None
    unit: int

    @classmethod
    def of(cls, rates: Rates) -> _Usual:
        values = [getattr(rates, kind) for kind in RATE_FIELDS]
        exponents = [v.as_tuple().exponent for v in values]
        if not all(v.is_finite() and v >= 0 for v in values) or not all(
            isinstance(e, int) and e >= -18 for e in exponents
        ):
            return cls(rates, None, 1)
        shift = max(0, *(-int(e) for e in exponents))
        a, b, c, d, e = (int(v.scaleb(shift)) for v in values)
        return cls(rates, (a, b, c, d, e), 10**shift)

    def near(self, usage: Usage, cost: Decimal) -> bool:
        """`cost` is `usage` at these rates, to the micro-dollar (`_near`, same answer)."""
        scaled = self.scaled
        if scaled is not None:
            a, b, c, d, e = scaled
            n = (
                usage.input * a
                + usage.output * b
                + usage.cache_read * c
                + usage.cache_write_5m * d
                + usage.cache_write_1h * e
            )
            if 0 <= n < _EXACT_BELOW:
                unit = self.unit
                micros, rest = divmod(n, unit)
                if rest * 2 > unit or (rest * 2 == unit and micros & 1):
                    micros += 1
                return abs(cost - micros * _MICRO_STEP) <= MICRO
        return _near(cost, token_cost(usage, self.rates))


class Verifier:
    """Checks entries against one price table, caching lookups across entries."""

    def __init__(
        self,
        table: PriceTable,
        bundled: PriceTable | None = None,
        guides: GuideSource | None = None,
    ) -> None:
        #: the table as it is now (the repo's overrides included) and the bundled one,
        #: which an entry priced before the repo had overrides names (no `+` in its table)
        self.table = table
        self.bundled = bundled
        #: the estimation guides a manual entry may have been priced with; without them
        #: a guide estimate cannot be verified
        self.guides = guides
        self._adapters: frozenset[str] | None = None
        self._views: dict[tuple[str, str | None], _View | None] = {}
        #: (model, table, start day) -> the rates most requests were priced at
        self._usual: dict[tuple[str, str | None, date], _Usual | None] = {}
        #: each set of rates in its integer form
        self._scaled: dict[Rates, _Usual] = {}

    def plain(self, entry: Entry) -> bool:
        """True for an entry of the commonest shape whose cost checks out: one model, no
        `methods` that change how it is verified, its cost the total and its tokens at
        its first day's rates. `entry()` finds nothing wrong with it; any other entry
        goes there. (`entry`'s own first test.)"""
        models = entry.models
        if len(models) != 1:
            return False
        methods = entry.methods
        if methods and ("cost" in methods or "pricing" in methods):
            return False
        for name, mu in models.items():
            return mu.cost_usd == entry.cost_usd and self._usual_price(entry, name, mu)
        return False

    def entry(self, entry: Entry) -> list[Mismatch]:
        if self.plain(entry):  # the commonest shape, first and fast
            return []
        methods = entry.methods
        problem = known.problem(entry, self._installed(entry))
        if problem is not None:
            return [Mismatch(entry, None, problem.message, problem.key)]
        method = methods.get("cost", "")
        pricing = methods.get("pricing", "")
        found = self._total(entry)
        if (
            method in (known.HAND, known.HEADLESS)
            or known.is_imported(method)
            or known.logged_requests(pricing)
        ):
            return found
        if method == known.GUIDE_NO_ROW:
            return found + self._guide_problem(entry, check_no_row(entry, self.guides))
        parts = known.guide_parts(method)
        if parts is not None:
            return found + self._guide_problem(entry, check_guide(entry, parts, self.guides))
        for name, mu in entry.models.items():
            if self._usual_price(entry, name, mu):
                continue
            problem_text = self._line(entry, name, mu, pricing)
            if problem_text is not None:
                found.append(Mismatch(entry, name, problem_text))
        return found

    def _installed(self, entry: Entry) -> bool | None:
        """Whether the entry's agent is an installed adapter of another package (asked
        only for an agent costlog does not know that claims logged costs)."""
        if not known.needs_adapter_lookup(entry):
            return None
        if self._adapters is None:
            from costlog import sources

            self._adapters = frozenset(sources.names())
        return entry.agent in self._adapters

    @staticmethod
    def _guide_problem(entry: Entry, problem: GuideProblem | None) -> list[Mismatch]:
        if problem is None:
            return []
        return [
            Mismatch(
                entry, None, problem.message, "cost" if problem.in_method else None, problem.note
            )
        ]

    def _usual_price(self, entry: Entry, name: str, mu: ModelUsage) -> bool:
        """The common case, fast: the line costs its tokens at the rates of its first day."""
        cost = mu.cost_usd
        if cost is None:
            return True
        key = (name, entry.pricing_table, entry.started.date())
        try:
            usual = self._usual[key]
        except KeyError:
            usual = self._usual_rates(key)
        return usual is not None and usual.near(mu.usage, cost)

    def _usual_rates(self, key: tuple[str, str | None, date]) -> _Usual | None:
        """The rates in force on the first day a session starting on `key`'s day can have
        a request dated (`_days`): the first of its `_View.window` rows, which depend on
        that day alone. Scaled once per set of rates (`_Usual`), not per day."""
        name, table_name, day = key
        view = self._view(name, table_name)
        usual = None
        if view is not None:
            rates = view.now.at(day - _DAY if day > date.min else day)
            usual = self._scaled.get(rates)
            if usual is None:
                usual = self._scaled[rates] = _Usual.of(rates)
        self._usual[key] = usual
        return usual

    # ------------------------------------------------------------ the total

    def _total(self, entry: Entry) -> list[Mismatch]:
        total = entry.cost_usd
        if total is None:
            return []
        if len(entry.models) == 1:
            for mu in entry.models.values():
                if mu.cost_usd == total:
                    return []
        priced = [mu.cost_usd for mu in entry.models.values() if mu.cost_usd is not None]
        known = sum(priced, Decimal(0))
        slack = MICRO * (len(priced) + 1) / 2
        if not entry.models:
            if total == 0:
                return []
            message = f"cost_usd {_usd(total)} but the entry lists no model"
        elif len(priced) == len(entry.models):
            if abs(total - known) <= slack:
                return []
            message = f"cost_usd {_usd(total)} is not the sum of its models' costs ({_usd(known)})"
        else:
            if total >= known - slack:
                return []
            message = (
                f"cost_usd {_usd(total)} is less than its priced models' costs ({_usd(known)})"
            )
        return [Mismatch(entry, None, message)]

    # ------------------------------------------------------------ a model priced from tokens

    def _view(self, name: str, table_name: str | None) -> _View | None:
        key = (name, table_name)
        if key in self._views:
            return self._views[key]
        table = self.table
        if self.bundled is not None and table_name and "+" not in table_name:
            table = self.bundled
        now = table.model(name)
        view = None
        if now is not None:
            day = _table_day(table_name)
            view = _View(now, now.as_of(day) if day is not None else now)
        self._views[key] = view
        return view

    def _line(self, entry: Entry, name: str, mu: ModelUsage, pricing: str) -> str | None:
        cost = mu.cost_usd
        if cost is None:  # unpriced: nothing claimed, COST_LOG.md says so
            return None
        usage = mu.usage
        if usage.total == 0:
            if cost == 0:
                return None
            return (
                f"{name} costs {_usd(cost)} with no tokens, and methods.cost does not "
                "say where the cost came from"
            )
        view = self._view(name, entry.pricing_table)
        if view is None:
            return (
                f"{name} costs {_usd(cost)} but price table "
                f"{entry.pricing_table or self.table.version} has no price for it, so the "
                "cost cannot be verified"
            )
        window = view.window(*_days(entry))
        for rates in (*window.rows, *window.latest):
            if _near(cost, _cost(rates, usage)):
                return None
            chosen = rates.for_prompt(usage.prompt_tokens)
            if chosen is not rates and _near(cost, _cost(chosen, usage)):
                return None  # the whole line priced as one request (tokens typed, diffs)
        low, high = self._bounds(view, window.rows, usage, pricing)
        if low is not None and high is not None and low - MICRO <= cost <= high + MICRO:
            return None
        what = (
            f"{_usd(_cost(window.rows[0], usage))}"
            if low is None or high is None
            else f"between {_usd(low)} and {_usd(high)}"
        )
        table = entry.pricing_table or self.table.version
        note = (
            "" if table == self.table.version else f" (the table here is now {self.table.version})"
        )
        return (
            f"{name} costs {_usd(cost)}, but its tokens cost {what} at the prices of "
            f"table {table}{note}"
        )

    @staticmethod
    def _bounds(
        view: _View, rows: Sequence[Rates], usage: Usage, pricing: str
    ) -> tuple[Decimal | None, Decimal | None]:
        """(low, high) when the ledger cannot show the exact cost; (None, None) otherwise."""
        tiers = _TIER_NOTE in pricing and any(
            usage.prompt_tokens > t.above for r in rows for t in r.tiers
        )
        factors = list(view.now.multipliers.values()) if _SPEED_NOTE in pricing else []
        if len(rows) < 2 and not tiers and not factors:
            return None, None
        lows: list[Decimal] = []
        highs: list[Decimal] = []
        for kind in RATE_FIELDS:
            prices = [getattr(r, kind) for r in rows]
            top = [getattr(t, kind) for r in rows for t in r.tiers] if tiers else []
            lows.append(min(prices))
            highs.append(max(prices + top))
        low = _dot(lows, usage) * min([Decimal(1), *factors])
        high = _dot(highs, usage) * max([Decimal(1), *factors])
        return low, high


def _days(entry: Entry) -> tuple[date, date]:
    """The first and last day the session's requests can be dated (a day of slack each
    way: a request is priced on its own timestamp's date, in whatever zone the log uses)."""
    first, last = entry.started.date(), (entry.ended or entry.started).date()
    return (first - _DAY if first > date.min else first, last + _DAY if last < date.max else last)


def _dot(rates: Sequence[Decimal], usage: Usage) -> Decimal:
    return (
        sum((getattr(usage, k) * r for k, r in zip(RATE_FIELDS, rates, strict=True)), Decimal(0))
        / MILLION
    )


def _cost(rates: Rates | Tier, usage: Usage) -> Decimal:
    """Tokens x one set of rates, the arithmetic of pricing.Plan.cost (factor 1)."""
    return (
        usage.input * rates.input
        + usage.output * rates.output
        + usage.cache_read * rates.cache_read
        + usage.cache_write_5m * rates.cache_write_5m
        + usage.cache_write_1h * rates.cache_write_1h
    ) / MILLION


def _near(stored: Decimal, exact: Decimal) -> bool:
    """Equal to the micro-dollar: the ledger stores `exact` rounded to it."""
    return abs(stored - exact.quantize(MICRO)) <= MICRO


def _table_day(name: str | None) -> date | None:
    """The date of a table version: `2026-11-22`, or `2026-11-22+repo` with an override."""
    if not name:
        return None
    try:
        return date.fromisoformat(name.split("+", 1)[0])
    except ValueError:
        return None


# ---------------------------------------------------------------- for `costlog check`


def mismatches(
    entries: Iterable[Entry],
    table: PriceTable,
    bundled: PriceTable | None = None,
    guides: GuideSource | None = None,
) -> list[Mismatch]:
    verifier = Verifier(table, bundled, guides)
    found: list[Mismatch] = []
    plain = verifier.plain
    for entry in entries:
        if not plain(entry):
            found += verifier.entry(entry)
    return found
