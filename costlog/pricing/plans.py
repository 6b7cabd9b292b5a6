"""Subscription plans: the bundled, dated fee table and which plan a session ran on.

A session on a flat-fee plan is still priced at API list prices; that figure is its
"API-equivalent" value, not money paid. What was paid is the plan's monthly fee. Which plan
applies comes from the log when it says (Codex writes `rate_limits.plan_type`), else from
the repo config's `plans:` rules (first matching rule wins); the log wins a disagreement,
with a warning, because it is what the provider actually billed.

The table is authored in `costlog/data/plans.yaml` (every fee row carries its source) and
shipped compiled to `plans.json`; it is read only when a repo configures plans or a log
names one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

from costlog import resources
from costlog.config import CONFIG_PATH, Config, PlanRule
from costlog.errors import ConfigError, CostlogError

TABLE = "plans.yaml"
COMPILED = "plans.json"
_EVIDENCE = ("official", "third-party")


@dataclass(frozen=True, slots=True)
class Fee:
    """One dated fee of a plan."""

    monthly_usd: Decimal
    source: str
    checked: date
    evidence: str
    start: date | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class PlanInfo:
    """A plan as the table lists it."""

    key: str
    name: str
    provider: str
    agents: tuple[str, ...]
    log_names: tuple[str, ...]
    fees: tuple[Fee, ...]

    def fee_on(self, day: date | None) -> Fee:
        """The fee in force on `day`: the latest row that started by then (rows without a
        start hold from the plan's beginning; before every start, the earliest row)."""
        chosen = self.fees[0]
        for fee in self.fees:
            if fee.start is None or (day is not None and fee.start <= day):
                chosen = fee
        return chosen


@dataclass(frozen=True, slots=True)
class SubscriptionPlan:
    """The plan one session ran on, with the fee that applied that day."""

    key: str
    name: str
    provider: str
    #: USD per month: the config's `fee_usd` when set, else the table's fee that day; None
    #: for a plan a log names that the table does not list (its fee has no source)
    fee_usd: Decimal | None
    #: where the fee comes from: the table row's URL, or "config" for an override
    fee_source: str
    #: "log" when the agent's log named the plan, "config" when a `plans:` rule did
    basis: str
    #: the config line of the rule that matched (None when the log named the plan)
    rule_line: int | None = None


# ------------------------------------------------------------ the table


@cache
def table() -> dict[str, PlanInfo]:
    """The bundled plan table, from its compiled JSON (a YAML parser would cost the hook
    path tens of milliseconds), checked again on load."""
    import json

    path = resources.data(COMPILED)
    text = path.read_text(encoding="utf-8")
    return parse_table(json.loads(text), text, str(path))


def compile_text(text: str) -> str:
    """plans.yaml as the JSON costlog ships, after checking every row (with its line)."""
    import json

    from costlog import yamlfile

    where = f"costlog/data/{TABLE}"
    doc = yamlfile.load_text(text, path=where)
    parse_table(doc, text, where)
    return json.dumps(doc, indent=1) + "\n"


def main() -> int:
    """`python -m costlog.pricing.plans`: refresh plans.json after editing plans.yaml (a
    test fails while the two disagree)."""
    source, target = resources.data(TABLE), resources.data(COMPILED)
    target.write_text(compile_text(source.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"wrote {target}")
    return 0


def parse_table(doc: Any, text: str, where: str) -> dict[str, PlanInfo]:
    """The plan table from its parsed YAML; `text` gives line numbers for errors."""
    if (
        not isinstance(doc, dict)
        or doc.get("schema") != 1
        or not isinstance(doc.get("plans"), dict)
    ):
        raise CostlogError("not a plan table (schema: 1, plans: {...})", path=where, line=1)
    plans: dict[str, PlanInfo] = {}
    for key, raw in doc["plans"].items():
        line = _line(text, f"{key}:")
        if not isinstance(raw, dict):
            raise CostlogError(f"plan {key!r} must be a mapping", path=where, line=line)
        fees = raw.get("fees")
        if not isinstance(fees, list) or not fees:
            raise CostlogError(f"plan {key!r} has no `fees:`", path=where, line=line)
        plans[str(key)] = PlanInfo(
            key=str(key),
            name=_text(raw, "name", key, where, line),
            provider=_text(raw, "provider", key, where, line),
            agents=_names(raw.get("agents"), "agents", key, where, line),
            log_names=_names(raw.get("log_names", []), "log_names", key, where, line),
            fees=tuple(_fee(row, key, where, line) for row in fees),
        )
    return plans


def _line(text: str, needle: str) -> int | None:
    at = text.find(needle)
    return None if at < 0 else text.count("\n", 0, at) + 1


def _text(raw: Mapping[str, Any], name: str, key: str, where: str, line: int | None) -> str:
    value = raw.get(name)
    if not isinstance(value, str) or not value.strip():
        raise CostlogError(f"plan {key!r}: `{name}` must be text", path=where, line=line)
    return value


def _names(value: Any, name: str, key: str, where: str, line: int | None) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise CostlogError(f"plan {key!r}: `{name}` must be a list of names", path=where, line=line)
    return tuple(value)


def _fee(row: Any, key: str, where: str, line: int | None) -> Fee:
    """One fee row: a sourced, dated, non-negative amount, or an error naming the plan."""
    if not isinstance(row, dict):
        raise CostlogError(f"plan {key!r}: a fee row must be a mapping", path=where, line=line)
    source = row.get("source")
    if not isinstance(source, str) or not source.startswith("https://"):
        raise CostlogError(
            f"plan {key!r}: every fee needs its `source` (an https URL)", path=where, line=line
        )
    if row.get("evidence") not in _EVIDENCE:
        raise CostlogError(
            f"plan {key!r}: `evidence` must be one of {', '.join(_EVIDENCE)}",
            path=where,
            line=line,
        )
    try:
        amount = Decimal(str(row.get("monthly_usd")))
        checked = date.fromisoformat(str(row.get("checked")))
        start = None if row.get("from") is None else date.fromisoformat(str(row["from"]))
    except (InvalidOperation, ValueError):
        raise CostlogError(
            f"plan {key!r}: `monthly_usd` must be a number and `checked`/`from` dates",
            path=where,
            line=line,
        ) from None
    if not amount.is_finite() or amount < 0:
        raise CostlogError(f"plan {key!r}: `monthly_usd` must be >= 0", path=where, line=line)
    note = row.get("note")
    return Fee(amount, source, checked, str(row["evidence"]), start, note if note else None)


# ------------------------------------------------------------ which plan applies


def check_rules(config: Config, agents: Sequence[str] | None = None) -> None:
    """Every `plans:` rule names a plan the table knows, an agent costlog knows (one of
    `agents`, the adapters' names, when given) and an agent the plan covers: a typo, or a
    ChatGPT plan given to Claude Code, fails naming its line (silently it would label no
    session, or the wrong ones, with a fee never paid)."""
    import difflib

    known = table()
    for number, rule in enumerate(config.plans, 1):
        where = f"`plans` item {number}"
        if rule.plan not in known:
            close = difflib.get_close_matches(rule.plan, known, n=1)
            raise ConfigError(
                f"{where}: unknown plan {rule.plan!r}",
                path=CONFIG_PATH,
                line=rule.line,
                hint=f"did you mean {close[0]!r}?" if close else "known: " + ", ".join(known),
            )
        if rule.agent is None:
            continue
        if agents is not None and rule.agent not in agents:
            close = difflib.get_close_matches(rule.agent, agents, n=1)
            raise ConfigError(
                f"{where}: unknown agent {rule.agent!r}",
                path=CONFIG_PATH,
                line=rule.line,
                hint=f"did you mean {close[0]!r}?" if close else "known: " + ", ".join(agents),
            )
        info = known[rule.plan]
        if rule.agent not in info.agents:
            fits = [k for k, p in known.items() if rule.agent in p.agents]
            covers = ", ".join(info.agents) if info.agents else "no coding agent"
            raise ConfigError(
                f"{where}: {info.name} ({info.provider}) does not cover {rule.agent}; "
                f"it covers {covers}",
                path=CONFIG_PATH,
                line=rule.line,
                hint=f"plans for {rule.agent}: " + (", ".join(fits) if fits else "none listed"),
            )


def _day(when: datetime | date | None) -> date | None:
    if isinstance(when, datetime):
        return when.date()
    return when


def _matches(rule: PlanRule, agent: str, author: str | None, day: date | None) -> bool:
    if rule.agent is not None and rule.agent != agent:
        return False
    info = table().get(rule.plan)
    if info is not None and agent not in info.agents:
        return False  # a plan covers its own agents only (`check_rules` refuses the others)
    if rule.author is not None and rule.author != author:
        return False
    if day is None:
        return rule.start is None and rule.end is None
    return (rule.start is None or rule.start <= day) and (rule.end is None or day <= rule.end)


def _plan(info: PlanInfo, day: date | None, basis: str, rule: PlanRule | None) -> SubscriptionPlan:
    fee = info.fee_on(day)
    override = rule.fee_usd if rule is not None else None
    return SubscriptionPlan(
        key=info.key,
        name=info.name,
        provider=info.provider,
        fee_usd=override if override is not None else fee.monthly_usd,
        fee_source="config" if override is not None else fee.source,
        basis=basis,
        rule_line=rule.line if rule is not None else None,
    )


def configured_rule(
    config: Config, agent: str, author: str | None, when: datetime | date | None
) -> PlanRule | None:
    """The first `plans:` rule that covers this agent, author and day, if any."""
    day = _day(when)
    for rule in config.plans:
        if _matches(rule, agent, author, day):
            return rule
    return None


def plan_for(
    config: Config, agent: str, author: str | None, when: datetime | date | None
) -> SubscriptionPlan | None:
    """The plan the config says this agent ran on for this person that day, or None
    (pay-as-you-go, or nothing configured). Cheap when no plans are configured."""
    if not config.plans:
        return None
    rule = configured_rule(config, agent, author, when)
    if rule is None:
        return None
    info = table().get(rule.plan)
    if info is None:
        check_rules(config)  # raises, naming the rule's line
        return None
    return _plan(info, _day(when), "config", rule)


def from_log_name(name: str, agent: str) -> PlanInfo | None:
    """The plan a log's own name for it means (`plus` in a Codex log: ChatGPT Plus)."""
    wanted = name.strip().lower()
    for info in table().values():
        if agent in info.agents and wanted in info.log_names:
            return info
    return None


@dataclass(frozen=True, slots=True)
class Resolved:
    """What one session ran on: a plan, pay-as-you-go (`plan` None), and any warning."""

    plan: SubscriptionPlan | None
    #: True when the log says the session used an API key (Codex `plan_type: null`)
    api_key: bool = False
    warning: str | None = None


def resolve(
    config: Config,
    agent: str,
    author: str | None,
    when: datetime | date | None,
    log_plan: str | None,
    log_says: bool,
) -> Resolved:
    """The plan of one session. `log_says` is whether its log carried a plan field at all;
    `log_plan` its value (None there: an API key). The log wins over the config, and a
    disagreement is a warning naming the config line."""
    configured = plan_for(config, agent, author, when)
    if not log_says:
        return Resolved(configured)
    day = _day(when)
    line = configured.rule_line if configured else None
    where = f"{CONFIG_PATH}:{line}" if line else CONFIG_PATH
    if log_plan is None:
        warning = (
            f"{where}: the log says this {agent} session used an API key, not "
            f"{configured.name}; counted as pay-as-you-go"
            if configured
            else None
        )
        return Resolved(None, api_key=True, warning=warning)
    info = from_log_name(log_plan, agent)
    if info is None:
        warning = f"the log names plan {log_plan!r}, which the plan table does not list"
        if configured:
            return Resolved(configured, warning=f"{warning}; using {configured.name} from {where}")
        unknown = SubscriptionPlan(
            key=f"{agent}:{log_plan}",
            name=f"{agent} plan {log_plan!r}",
            provider="",
            fee_usd=None,
            fee_source="",
            basis="log",
        )
        hint = "its fee is unknown (a `plans:` rule with `fee_usd` sets it)"
        return Resolved(unknown, warning=f"{warning}: {hint}")
    rule = configured_rule(config, agent, author, when) if configured else None
    same = configured is not None and configured.key == info.key
    plan = _plan(info, day, "log", rule if same else None)
    warning = None
    if configured and not same:
        warning = (
            f"{where}: the log says this {agent} session ran on {info.name}, "
            f"not {configured.name}; the log wins"
        )
    return Resolved(plan, warning=warning)


if __name__ == "__main__":
    raise SystemExit(main())
