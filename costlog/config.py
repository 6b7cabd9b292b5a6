"""The repo's costlog config: a dataclass whose field defaults are the defaults.

The file is `.costlog/config.yaml`; `costlog init` writes it with every default commented.
Unknown keys are errors with a "did you mean" hint, so a typo never silently does nothing.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, field, fields
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from costlog.errors import ConfigError

CONFIG_PATH = ".costlog/config.yaml"


def _default_guide() -> list[dict[str, Any]]:
    """Seeded cost-per-task ranges (USD), from the classic hand-kept COST_LOG.md."""
    rows = [
        ("claude-opus", "architecture", "0.08", "0.15"),
        ("claude-opus", "debugging", "0.10", "0.20"),
        ("claude-opus", "*", "0.08", "0.20"),
        ("claude-sonnet", "code", "0.01", "0.03"),
        ("claude-sonnet", "review", "0.005", "0.01"),
        ("claude-sonnet", "docs", "0.005", "0.01"),
        ("claude-sonnet", "*", "0.01", "0.03"),
        ("claude-haiku", "*", "0.001", "0.003"),
        ("gpt-5", "*", "0.01", "0.03"),
        ("gemini", "*", "0.005", "0.02"),
        ("*", "*", "0.01", "0.03"),
    ]
    return [{"model": m, "task_type": t, "low": lo, "high": hi} for m, t, lo, hi in rows]


@dataclass
class Budget:
    session_spike_usd: Decimal = Decimal("0.50")
    monthly_usd: Decimal | None = None
    rolling_7d_usd: Decimal | None = None
    opus_share_max: Decimal = Decimal("0.30")
    haiku_min_sessions: int = 1
    #: which figure the money alerts watch where sessions ran on a subscription plan:
    #: api_equivalent (list prices, as before) or paid (plan fees + pay-as-you-go)
    watch: str = "api_equivalent"
    #: the in-agent guard (`costlog init --guard`): warn once / block past these per session
    session_soft_usd: Decimal | None = None
    session_hard_usd: Decimal | None = None


@dataclass
class DiffEstimate:
    """`costlog record --agent NAME --model M` for an agent with no usable log."""

    #: output = tokens of the text the commits add x this (drafts, explanations)
    output_factor: Decimal = Decimal("1.5")
    #: model turns per commit, each reading `context_tokens` of context
    turns_per_commit: int = 8
    context_tokens: int = 30_000
    #: share of that context read from the prompt cache
    cache_share: Decimal = Decimal("0.9")


@dataclass
class RunDir:
    """Run directories of a home-grown agent runner (see costlog.sources.rundir)."""

    #: one sub-directory per run (relative to the repo root)
    runs_dir: str = ".system/runs"
    #: inside a run: the runner's log (model names, iteration markers, timestamps)
    run_log: str = "run.log"
    #: inside a run: one result per builder iteration (glob; `iter-N` gives N)
    builder_results: str = "builder/iter-*/result.json"
    #: inside a run: one directory per reviewer iteration (glob)
    reviewer_dirs: str = "reviewer/iter-*"
    #: where the work order is, when run.log names no existing .md path ({wo} = its id)
    work_orders: list[str] = field(
        default_factory=lambda: ["work_orders/{wo}.md", "work_orders/{wo}-*.md"]
    )
    #: the work-order id (Python regex); it becomes the session's work item
    work_order_id: str = r"\bWO-\d+(?:-\d+)*\b"
    #: models when run.log names none (empty: the entry stays unpriced)
    builder_model: str = ""
    reviewer_model: str = ""
    #: fixed context sizes (tokens) sent with every call of a role
    constitution_tokens: int = 1793
    builder_system_tokens: int = 2000
    reviewer_system_tokens: int = 2000
    #: added to a builder's input per iteration after the first
    test_output_tokens: int = 1000
    reviewer_feedback_tokens: int = 500
    #: output = (summary + changes tokens) x this (a result.json summary is ~10% of output)
    output_multiplier: Decimal = Decimal("10")
    #: reviewer output = tokens of its recorded verdict/feedback x this
    reviewer_output_multiplier: Decimal = Decimal("1")


@dataclass
class Config:
    #: where one YAML file per session lives (relative to the repo root)
    ledger_dir: str = ".costlog/sessions"
    #: the generated log (relative to the repo root)
    output: str = "COST_LOG.md"
    #: a Jinja2 template path; empty means the bundled templates/COST_LOG.md.j2
    template: str = ""
    #: repo price overrides (same schema as the bundled table); wins over it
    prices_file: str = ".costlog/prices.yaml"
    #: time zone for dates in COST_LOG.md and reports (IANA name)
    timezone: str = "UTC"
    #: most recent sessions listed in the session log (older ones stay in the ledger)
    session_log_limit: int = 200
    #: a session is an anomaly when it costs more than this many times the median
    anomaly_factor: Decimal = Decimal("2")
    #: sessions of a model/task type before the guide uses data instead of seeds
    guide_min_sessions: int = 5
    estimation_guide: list[dict[str, Any]] = field(default_factory=_default_guide)
    #: task types that deserve a large model (flagged when done on a small one)
    risky_task_types: list[str] = field(default_factory=lambda: ["architecture", "adr", "security"])
    #: work-item key patterns (Python regex) and look-alikes to ignore
    work_item_patterns: list[str] = field(
        default_factory=lambda: [r"\b[A-Z][A-Z0-9]+-\d+(?:-\d+)?\b", r"(?<![\w&])#\d+\b"]
    )
    work_item_ignore: list[str] = field(
        default_factory=lambda: [
            "UTF-8",
            "UTF-16",
            "SHA-1",
            "SHA-256",
            "SHA-512",
            "ISO-8601",
            "RFC-2119",
            "X-86",
            "GPT-4",
            "GPT-5",
        ]
    )
    #: key prefixes (e.g. [WRK, PROJ]) whose keys may also be taken from a session's first
    #: prompt; by default none: work items come from the branch and commits only
    work_item_prefixes: list[str] = field(default_factory=list)
    #: repo directories (e.g. packages/api) that get a row of their own in the cost table
    cost_directories: list[str] = field(default_factory=list)
    #: minutes a session log must be idle before the post-commit hook records it
    idle_minutes: int = 30
    #: Claude Code's OpenTelemetry events exported to a file (JSONL; relative to the repo
    #: root, `~/` = home; any other place: COSTLOG_OTEL_FILE): `record` takes exact
    #: per-request tokens and cost from it
    claude_otel_file: str = ""
    #: `costlog reconcile` flags a day/model whose estimate and bill differ by more (%)
    reconcile_threshold_pct: Decimal = Decimal("10")
    #: billed / estimated per model, from `costlog reconcile --write-factors` (text numbers)
    correction_factors: dict[str, str] = field(default_factory=dict)
    #: true / estimated tokens per model family and component (input, output), from
    #: `costlog calibrate --write`; token estimates are multiplied by them and say so
    estimate_factors: dict[str, dict[str, str]] = field(default_factory=dict)
    #: who recorded an entry, as its `author`: name | email | hash (of the e-mail) | none
    people: str = "name"
    #: where it was recorded, as its `machine`: hash (of a local random id) | hostname | none
    machine: str = "hash"
    #: a cost-per-person table in COST_LOG.md (off: people's spend can be sensitive)
    people_table: bool = False
    #: which subscription plan sessions ran on (see docs/plans.md): rules, first match wins
    plans: list[PlanRule] = field(default_factory=list)
    budget: Budget = field(default_factory=Budget)
    rundir: RunDir = field(default_factory=RunDir)
    diff_estimate: DiffEstimate = field(default_factory=DiffEstimate)

    def ledger_path(self, root: Path) -> Path:
        return _inside(root, "ledger_dir", self.ledger_dir)

    def output_path(self, root: Path) -> Path:
        return _inside(root, "output", self.output)

    def prices_path(self, root: Path) -> Path | None:
        """The repo's price overrides, if present; a symlink there is an error, not read."""
        from costlog.safefs import check_repo_path

        if not self.prices_file:
            return None
        path = _inside(root, "prices_file", self.prices_file)
        check_repo_path(root, path)
        return path if path.is_file() else None


def _inside(root: Path, name: str, value: str) -> Path:
    """A config path made absolute; one that leaves the repo is a config error."""
    from costlog.safefs import UnsafePath, repo_path

    try:
        return repo_path(root, value, what="path")
    except UnsafePath as exc:
        raise ConfigError(
            f"`{name}`: {exc.message}",
            path=CONFIG_PATH,
            hint="write it relative to the repository root, without '..'",
        ) from None


def load(root: Path) -> Config:
    from costlog.errors import CostlogError
    from costlog.safefs import UnsafePath, read_repo_bytes

    try:  # never through a symlink: the config is the repo's, not the user's
        data_bytes = read_repo_bytes(root, root / CONFIG_PATH)
    except UnsafePath:
        raise
    except CostlogError as exc:
        raise ConfigError(exc.message, path=CONFIG_PATH) from None
    if data_bytes is None:
        return Config()
    try:
        text = data_bytes.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"not UTF-8 text ({exc.reason} at byte {exc.start})",
            path=CONFIG_PATH,
            line=data_bytes.count(b"\n", 0, exc.start) + 1,
        ) from None
    from costlog import yamlfile
    from costlog.errors import LedgerError

    try:
        # the fast reader takes the common shapes; anything else goes to ruamel.yaml
        data = yamlfile.load_text(text, path=CONFIG_PATH)
    except LedgerError as exc:  # the reader's error type: re-raise as a config error
        raise ConfigError(exc.message, path=CONFIG_PATH, line=exc.line) from None
    if not data:
        return Config()
    try:
        config = from_dict(data)
    except ConfigError as exc:  # name the line of the setting, where it can be found
        if exc.line is None:
            exc.line = _plan_line(text, exc.message) or _line_of(text, exc.message)
        raise
    for rule, line in zip(config.plans, plan_item_lines(text), strict=False):
        rule.line = line
    return config


def _line_of(text: str, message: str) -> int | None:
    """The line of the first `setting` a message names (`budget.monthly_usd` -> its key)."""
    import re

    named = re.search(r"`([\w.]+)`", message)
    if named is None:
        return None
    key = named.group(1).rsplit(".", 1)[-1]
    found = re.search(
        rf"^[ \t]*{re.escape(key)}[ \t]*:|[{{,][ \t]*{re.escape(key)}[ \t]*:", text, re.MULTILINE
    )
    return text.count("\n", 0, found.start()) + 1 if found else None


_SECTIONS = ("budget", "rundir", "diff_estimate")


def from_dict(data: dict[str, Any]) -> Config:
    config = Config()
    sections = {name: data.pop(name, None) for name in _SECTIONS} if isinstance(data, dict) else {}
    _apply(config, data, "")
    for name, section in sections.items():
        if section is None:
            continue
        if not isinstance(section, dict):
            raise ConfigError(f"`{name}` must be a mapping", path=CONFIG_PATH)
        _apply(getattr(config, name), section, f"{name}.")
    _check_zone(config.timezone)
    _check_patterns(config)
    _check_paths(config)
    _check_identity(config)
    config.plans = [_plan_rule(n, item) for n, item in enumerate(config.plans, 1)]
    if config.budget.watch not in WATCH:
        raise ConfigError(
            f"`budget.watch` must be one of {', '.join(WATCH)}, not {config.budget.watch!r}",
            path=CONFIG_PATH,
        )
    return config


@dataclass
class PlanRule:
    """One `plans:` row: sessions of `agent` (any when unset) by `author` (anyone) between
    `start` and `end` (inclusive; open when unset) ran on `plan`, at `fee_usd` a month
    when set (else the plan table's fee)."""

    plan: str
    agent: str | None = None
    author: str | None = None
    start: date | None = None
    end: date | None = None
    fee_usd: Decimal | None = None
    #: where the row is in the config, for messages
    line: int | None = None


WATCH = ("api_equivalent", "paid")
_PLAN_KEYS = ("plan", "agent", "author", "from", "until", "fee_usd")


def _plan_rule(number: int, item: Any) -> PlanRule:
    """A `plans:` item checked: a typo or a bad date must fail here, naming its line."""
    where = f"`plans` item {number}"
    if isinstance(item, PlanRule):
        return item
    if not isinstance(item, dict):
        raise ConfigError(f"{where} must be a mapping with `plan:`", path=CONFIG_PATH)
    for key in item:
        if key not in _PLAN_KEYS:
            close = difflib.get_close_matches(str(key), _PLAN_KEYS, n=1)
            hint = f"did you mean `{close[0]}`?" if close else None
            raise ConfigError(f"{where}: unknown key `{key}`", path=CONFIG_PATH, hint=hint)
    texts: dict[str, str | None] = {}
    for key in ("plan", "agent", "author"):
        value = item.get(key)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise ConfigError(f"{where}: `{key}` must be text, not {value!r}", path=CONFIG_PATH)
        texts[key] = value
    if not texts["plan"]:
        raise ConfigError(f"{where} has no `plan:`", path=CONFIG_PATH)
    days: dict[str, date | None] = {}
    for key in ("from", "until"):
        value = item.get(key)
        try:
            days[key] = None if value is None else date.fromisoformat(str(value))
        except ValueError:
            raise ConfigError(
                f"{where}: `{key}` must be a date (YYYY-MM-DD), not {value!r}", path=CONFIG_PATH
            ) from None
    start, end = days["from"], days["until"]
    if start and end and end < start:
        raise ConfigError(f"{where}: `until` {end} is before `from` {start}", path=CONFIG_PATH)
    fee = item.get("fee_usd")
    if fee is not None:
        try:
            fee = _coerce("fee_usd", fee, Decimal(0))
        except ConfigError as exc:
            raise ConfigError(f"{where}: {exc.message}", path=CONFIG_PATH) from None
    return PlanRule(
        plan=str(texts["plan"]),
        agent=texts["agent"],
        author=texts["author"],
        start=start,
        end=end,
        fee_usd=fee,
    )


def _plan_line(text: str, message: str) -> int | None:
    """The line of the `plans` item a message names (`plans` item 2: ...)."""
    import re

    named = re.match(r"`plans` item (\d+)", message)
    lines = plan_item_lines(text) if named else []
    index = int(named.group(1)) - 1 if named else -1
    return lines[index] if 0 <= index < len(lines) else None


def plan_item_lines(text: str) -> list[int]:
    """The line of each item of the top-level `plans:` list (1-based), in order."""
    import re

    lines: list[int] = []
    inside = False
    for number, line in enumerate(text.splitlines(), 1):
        if re.match(r"plans[ \t]*:", line):
            inside = True
        elif inside and re.match(r"[^\s#]", line):
            break
        elif inside and re.match(r"[ \t]*- ", line):
            lines.append(number)
    return lines


PEOPLE = ("name", "email", "hash", "none")
MACHINE = ("hash", "hostname", "none")


def _check_identity(config: Config) -> None:
    """The privacy settings take only their listed values: a typo must not store more."""
    for name, value, allowed in (
        ("people", config.people, PEOPLE),
        ("machine", config.machine, MACHINE),
    ):
        if value not in allowed:
            raise ConfigError(
                f"`{name}` must be one of {', '.join(allowed)}, not {value!r}", path=CONFIG_PATH
            )
    if not isinstance(config.people_table, bool):
        raise ConfigError(
            f"`people_table` must be true or false, not {config.people_table!r}", path=CONFIG_PATH
        )


#: settings that name a file or directory of the repo ("" allowed where it means "none")
_REPO_PATHS = ("ledger_dir", "output", "template", "prices_file", "rundir.runs_dir")
#: settings that name paths inside one run directory (globs)
_RUN_PATHS = ("rundir.run_log", "rundir.builder_results", "rundir.reviewer_dirs")


def _check_paths(config: Config) -> None:
    """Every path in the config stays inside the repository: the config is committed, so
    whoever wrote it must not make costlog read or write `~/.ssh` or `/etc`."""
    named: list[tuple[str, str]] = []
    for name in (*_REPO_PATHS, *_RUN_PATHS):
        section, _, key = name.rpartition(".")
        value = getattr(getattr(config, section) if section else config, key)
        if value or name in ("ledger_dir", "output", "rundir.runs_dir"):  # "" = none/default
            named.append((name, value))
    named += [("rundir.work_orders", item) for item in config.rundir.work_orders]
    otel = config.claude_otel_file
    if otel:  # an agent's own export: the one setting that may name a file in the home dir
        named.append(("claude_otel_file", otel[2:] if otel.startswith("~/") else otel))
    for name, value in named:
        if not isinstance(value, str):
            raise ConfigError(f"`{name}` must be text, not {value!r}", path=CONFIG_PATH)
        _inside(Path(os.sep), name, value)


def _check_patterns(config: Config) -> None:
    """A regex that does not compile fails at load, not as a crash in a later `record`."""
    import re

    named = [("work_item_patterns", p) for p in config.work_item_patterns] + [
        ("rundir.work_order_id", config.rundir.work_order_id)
    ]
    for name, pattern in named:
        try:
            re.compile(pattern)
        except (re.error, TypeError) as exc:
            raise ConfigError(
                f"`{name}`: not a valid regular expression {pattern!r} ({exc})", path=CONFIG_PATH
            ) from None


def _check_zone(name: Any) -> None:
    """An unknown `timezone` fails here, naming the config file, not later in a report."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if name is None or name == "":
        raise ConfigError(
            "`timezone` has no value",
            path=CONFIG_PATH,
            hint="give an IANA name such as Europe/Berlin or UTC, or delete the line",
        )
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ConfigError(
            f"`timezone`: unknown time zone {name!r}",
            path=CONFIG_PATH,
            hint="use an IANA name such as Europe/Berlin or UTC",
        ) from None


def _apply(target: Any, data: dict[str, Any], prefix: str) -> None:
    known = {f.name: f for f in fields(target)}
    for key, value in data.items():
        if key not in known:
            close = difflib.get_close_matches(str(key), known, n=1)
            hint = f"did you mean `{prefix}{close[0]}`?" if close else None
            raise ConfigError(f"unknown setting `{prefix}{key}`", path=CONFIG_PATH, hint=hint)
        default = getattr(target, key)
        setattr(target, key, _coerce(f"{prefix}{key}", value, default))


def _coerce(name: str, value: Any, default: Any) -> Any:
    if value is None:
        return None
    if isinstance(default, Decimal) or (default is None and name.endswith("_usd")):
        try:
            amount = Decimal(str(value))
        except InvalidOperation:
            amount = Decimal("NaN")
        if isinstance(value, bool) or not amount.is_finite() or amount < 0:  # .nan, .inf, -1
            raise ConfigError(
                f"`{name}` must be a number >= 0, not {value!r}", path=CONFIG_PATH
            ) from None
        return amount
    if isinstance(default, bool) or not isinstance(default, int | str | list):
        return value
    if isinstance(default, int) and (
        not isinstance(value, int) or isinstance(value, bool) or value < 0
    ):  # true, -5: no count setting means that
        raise ConfigError(f"`{name}` must be a whole number >= 0, not {value!r}", path=CONFIG_PATH)
    if isinstance(default, str) and not isinstance(value, str):
        raise ConfigError(f"`{name}` must be text, not {value!r}", path=CONFIG_PATH)
    if isinstance(default, list) and not isinstance(value, list):
        raise ConfigError(f"`{name}` must be a list", path=CONFIG_PATH)
    return value


DEFAULT_TEXT = """\
# costlog settings. Each commented line shows a default, except the lines marked
# "off when unset", whose values are only examples. Uncomment a line to change it.
# Docs: costlog --help, and the README.

# ledger_dir: .costlog/sessions     # one YAML file per session (committed)
# output: COST_LOG.md               # the generated log
# template: ""                      # your own Jinja2 template; empty = bundled one
# prices_file: .costlog/prices.yaml # repo price overrides, win over the bundled table
# timezone: UTC                     # dates in COST_LOG.md and reports
# session_log_limit: 200            # newest sessions listed in the session log
# anomaly_factor: 2                 # anomaly = cost above this many x the median
# guide_min_sessions: 5             # sessions before the guide trusts the data
# cost_directories: []              # e.g. [packages/api, packages/web]: cost per directory
# idle_minutes: 30                  # post-commit records sessions idle this long
# claude_otel_file: ""              # Claude Code OTel events file (exact tokens and cost)
# reconcile_threshold_pct: 10       # reconcile flags estimate/bill gaps above this %
# correction_factors: {}            # written by `costlog reconcile --write-factors`
# estimate_factors: {}              # written by `costlog calibrate --write`
# risky_task_types: [architecture, adr, security]
# work_item_patterns: ['\\b[A-Z][A-Z0-9]+-\\d+(?:-\\d+)?\\b', '(?<![\\w&])#\\d+\\b']
# work_item_ignore: [UTF-8, UTF-16, SHA-1, SHA-256, SHA-512, ISO-8601, RFC-2119, X-86, GPT-4, GPT-5]
# work_item_prefixes: []            # e.g. [WRK, PROJ]: such keys also from the first prompt
# people: name                      # each entry's author: name | email | hash | none
# machine: hash                     # each entry's machine: hash | hostname | none
# people_table: false               # a cost-per-person table in COST_LOG.md
# plans: []                        # subscription plans, e.g. (docs/plans.md):
#   - {plan: claude-max-5x, agent: claude-code, from: 2026-01-01}
# budget:
#   session_spike_usd: 0.50         # any one session above this
#   monthly_usd: 100                # calendar-month total above this (off when unset)
#   rolling_7d_usd: 30              # last 7 days above this (off when unset)
#   opus_share_max: 0.30            # share of a month's sessions on Opus
#   haiku_min_sessions: 1           # fewer small-model sessions in a month warns
#   watch: api_equivalent           # on plans: api_equivalent | paid (fees + pay-as-you-go)
#   session_soft_usd: 5             # guard: one warning in the agent past this (off when unset)
#   session_hard_usd: 20            # guard: blocks the next prompt or tool call past this
# rundir:                           # run directories of a home-grown agent runner
#   runs_dir: .system/runs          # one sub-directory per run (`costlog backfill`)
#   run_log: run.log                # model names, iteration markers, timestamps
#   builder_results: builder/iter-*/result.json
#   reviewer_dirs: reviewer/iter-*
#   work_orders: ['work_orders/{wo}.md', 'work_orders/{wo}-*.md']
#   work_order_id: '\\bWO-\\d+(?:-\\d+)*\\b'
#   builder_model: ""               # when run.log names no model
#   reviewer_model: ""
#   constitution_tokens: 1793       # estimates where result.json has no usage:
#   builder_system_tokens: 2000     #   see `costlog backfill --help` and the README
#   reviewer_system_tokens: 2000
#   test_output_tokens: 1000        # per builder iteration after the first
#   reviewer_feedback_tokens: 500   # per builder iteration after the first
#   output_multiplier: 10           # output = (summary + changes) x this
#   reviewer_output_multiplier: 1   # reviewer output = its feedback x this
# diff_estimate:                    # `record --agent NAME --model M`, no usable log
#   output_factor: 1.5              # output = tokens of the added text x this
#   turns_per_commit: 8             # model turns per commit ...
#   context_tokens: 30000           # ... each reading this much context
#   cache_share: 0.9                # ... of which this share from the prompt cache
# estimation_guide:                 # cost per task (USD) for `costlog record` by hand
#   - {model: claude-sonnet, task_type: code, low: 0.01, high: 0.03}
"""
