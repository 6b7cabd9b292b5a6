"""COST_LOG.md: the ledger rendered through a Jinja2 template.

The template marks each generated part with `<!-- costlog:begin NAME -->` and
`<!-- costlog:end NAME -->`. On regeneration only the insides of those blocks change:
everything outside them (ROI notes, team notes, any text a person wrote) is kept byte for
byte. A git conflict that lies only inside generated blocks is resolved by rendering again.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from costlog import analysis, resources
from costlog.config import Config
from costlog.errors import CheckFailed, CostlogError
from costlog.gcpause import gc_paused
from costlog.ledger import MICRO, Ledger, atomic_write
from costlog.models import Entry
from costlog.pricing import PriceTable
from costlog.repo import Repo
from costlog.timeutil import zone

_BEGIN = re.compile(r"<!-- costlog:begin ([\w-]+) -->")
_END = re.compile(r"<!-- costlog:end ([\w-]+) -->")


# ---------------------------------------------------------------- context


#: anomalies listed in COST_LOG.md (all of them: `costlog anomalies`)
ANOMALY_ROWS = 20


def build_context(entries: Sequence[Entry], config: Config, *,
                  price_table: str | None = None, today: date | None = None,
                  table: PriceTable | None = None) -> dict[str, Any]:
    """The exact data the template receives (`costlog render --context` prints it).

    Only the rows the template shows: the session log is cut at `session_log_limit`,
    the anomalies at ANOMALY_ROWS; every sum is over the whole ledger.
    """
    tz = zone(config.timezone)
    shown = list(reversed(entries[-config.session_log_limit:])) \
        if config.session_log_limit > 0 else []
    months = analysis.months(entries, tz)
    typical = analysis.Typical.of(entries)
    anomalies = analysis.anomalies(entries, config, typical, explain=ANOMALY_ROWS)
    spend = analysis.spend_tables(entries)
    context = {
        "timezone": config.timezone,
        "price_table": price_table,
        "totals": _totals(entries, months, typical, tz),
        "sessions": [session_row(e, tz) for e in shown],
        "sessions_omitted": len(entries) - len(shown),
        "months": months,
        "providers": spend["provider"],
        "families": spend["family"],
        "models": spend["model"],
        "trend": analysis.trend(entries, tz),
        "family_trend": analysis.family_trend(entries),
        "work_items": analysis.work_items(entries),
        "unlinked": analysis.unlinked(entries),
        "directories": analysis.directories(entries, config.cost_directories),
        "anomalies": [{"session": session_row(a["entry"], tz), "cost": a["cost"],
                       "ratio": a["ratio"], "causes": a["causes"]}
                      for a in anomalies[:ANOMALY_ROWS]],
        "anomalies_total": len(anomalies),
        "anomaly_factor": config.anomaly_factor,
        "alerts": analysis.alerts(entries, config, tz, today),
        "routing": analysis.routing(entries, config, table, typical),
        "risky_task_types": config.risky_task_types,
        "guide": analysis.guide(entries, config),
        "guide_min_sessions": config.guide_min_sessions,
        "methodology": analysis.methodology(entries),
    }
    jsonable: dict[str, Any] = _jsonable(context)
    return jsonable


def _totals(entries: Sequence[Entry], months: list[dict[str, Any]],
            typical: analysis.Typical, tz: Any) -> dict[str, Any]:
    """The summary line: sums of the monthly rows (so they always agree), median, span."""
    def day(entry: Entry) -> str:
        return analysis.local_day(entry, tz).isoformat()

    return {"sessions": sum(m["sessions"] for m in months),
            "tasks": sum(m["tasks"] for m in months),
            "cost": sum((m["cost"] for m in months), analysis.ZERO),
            "unpriced_sessions": sum(m["unpriced"] for m in months),
            "median": typical.cost,
            "first": day(entries[0]) if entries else None,
            "last": day(entries[-1]) if entries else None}


def session_row(entry: Entry, tz: Any) -> dict[str, Any]:
    return {
        "id": entry.id,
        "short_id": analysis.short_id(entry.id),
        "date": entry.started.astimezone(tz).date().isoformat(),
        "agent": entry.agent,
        "models": sorted(entry.models, key=lambda m: (-(entry.models[m].cost_usd or 0), m)),
        "tasks": entry.tasks_completed,
        "task_types": analysis.task_types_text(entry.task_types),
        "tokens": entry.tokens.total,
        "cost": entry.cost_usd,
        "known_cost": analysis.cost(entry),
        "unpriced": entry.unpriced_models,
        "source": entry.source,
        "work_items": entry.work_items,
        "commits": len(entry.commits),
        "notes": entry.notes or "",
    }


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value.quantize(MICRO), "f")
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, Entry):
        return value.id
    return value


# ---------------------------------------------------------------- filters


def usd(value: Any, places: int = 2) -> str:
    if value is None or value == "":
        return "unpriced"
    amount = Decimal(str(value))
    if 0 < amount < Decimal("0.01") and places == 2:
        places = 4
    return f"${amount:,.{places}f}"


def cell(value: Any) -> str:
    """Make any text safe inside a GFM table cell: no pipe, newline or HTML can break it."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        value = ", ".join(str(v) for v in value)
    text = " ".join(str(value).split())
    text = text.replace("\\", "\\\\").replace("|", "\\|")
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("`", "\\`")


def tokens(value: Any) -> str:
    n = int(value or 0)
    for unit, size in (("B", 1_000_000_000), ("M", 1_000_000), ("k", 1_000)):
        if n >= size:
            return f"{n / size:.1f}{unit}"
    return str(n)


def pct(value: Any) -> str:
    return f"{Decimal(str(value or 0)) * 100:.0f}%"


def session_cost(row: dict[str, Any]) -> str:
    """A session's cost cell: "unpriced" alone, or the known part + unpriced."""
    if row["cost"] is not None:
        return usd(row["cost"])
    if Decimal(row["known_cost"]):
        return f"{usd(row['known_cost'])} + unpriced"
    return "unpriced"


def spend_cost(row: dict[str, Any]) -> str:
    """A spend row's cost: never a bare $0.00 for tokens that have no price."""
    if row["unpriced"] and not Decimal(row["cost"]):
        return "unpriced"
    extra = f" + {row['unpriced']} unpriced" if row["unpriced"] else ""
    return usd(row["cost"]) + extra


def _environment(template_dir: Path, cache_dir: Path | None = None) -> Any:
    import jinja2

    bytecode_cache = None
    if cache_dir is not None:
        with contextlib.suppress(OSError):
            cache_dir.mkdir(parents=True, exist_ok=True)
            bytecode_cache = jinja2.FileSystemBytecodeCache(str(cache_dir))
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(template_dir)),
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        bytecode_cache=bytecode_cache,
    )
    env.filters.update(usd=usd, cell=cell, tokens=tokens, pct=pct, session_cost=session_cost,
                       spend_cost=spend_cost, short=lambda i: cell(analysis.short_id(i)))
    return env


def template_path(repo: Repo, config: Config) -> Path:
    if not config.template:
        return resources.template()
    path = repo.root / config.template
    if not path.is_file():
        raise CostlogError("template not found", path=config.template,
                           hint="fix `template` in .costlog/config.yaml")
    return path


def render_text(context: dict[str, Any], template: Path, cache_dir: Path | None = None) -> str:
    """Render the template; `cache_dir` keeps its compiled form (keyed by its source)."""
    import jinja2

    env = _environment(template.parent, cache_dir)
    try:
        text: str = env.get_template(template.name).render(**context)
    except jinja2.TemplateSyntaxError as exc:
        raise CostlogError(f"template error: {exc.message}", path=template,
                           line=exc.lineno) from None
    except jinja2.UndefinedError as exc:
        raise CostlogError(f"template error: {exc.message}", path=template) from None
    return text


# ---------------------------------------------------------------- blocks


@dataclass
class Part:
    name: str | None  # None: hand-written text
    text: str


def split_blocks(text: str, where: str) -> list[Part]:
    """Cut a document into hand-written parts and generated blocks (markers included)."""
    parts: list[Part] = []
    buf: list[str] = []
    block: str | None = None
    start_line = 0
    for number, line in enumerate(text.splitlines(keepends=True), 1):
        begin, end = _BEGIN.search(line), _END.search(line)
        if begin and block is None:
            if buf:
                parts.append(Part(None, "".join(buf)))
            buf, block, start_line = [line], begin.group(1), number
        elif begin:
            raise CostlogError(f"block {begin.group(1)!r} starts inside block {block!r}",
                               path=where, line=number, hint="restore the markers, or delete "
                               "the file and run `costlog render`")
        elif end and block is not None:
            if end.group(1) != block:
                raise CostlogError(f"block {block!r} ends with the marker of {end.group(1)!r}",
                                   path=where, line=number)
            buf.append(line)
            parts.append(Part(block, "".join(buf)))
            buf, block = [], None
        elif end:
            raise CostlogError(f"end marker of block {end.group(1)!r} without its begin",
                               path=where, line=number)
        else:
            buf.append(line)
    if block is not None:
        raise CostlogError(f"block {block!r} has no end marker", path=where, line=start_line,
                           hint="restore it, or delete the file and run `costlog render`")
    if buf:
        parts.append(Part(None, "".join(buf)))
    return parts


def splice(existing: str, fresh: str, where: str) -> str:
    """Existing text with every generated block replaced by its fresh rendering."""
    new_blocks = {p.name: p.text for p in split_blocks(fresh, "template output") if p.name}
    out: list[str] = []
    used: set[str] = set()
    for part in split_blocks(existing, where):
        if part.name is None:
            out.append(part.text)
        elif part.name in new_blocks and part.name not in used:
            block = new_blocks[part.name]
            if not part.text.endswith("\n"):
                block = block.rstrip("\n")
            out.append(block)
            used.add(part.name)
    missing = [text for name, text in new_blocks.items() if name not in used]
    if missing:
        joined = "".join(out)
        if joined and not joined.endswith("\n"):
            out.append("\n")
        out.append("\n" + "\n".join(missing))
    return "".join(out)


_CONFLICT = re.compile(r"^<<<<<<< .*?^=======\n.*?^>>>>>>> [^\n]*\n", re.S | re.M)


def resolve_conflicts(text: str, where: str) -> str:
    """Resolve a git conflict whose hunks lie only in generated blocks (they get rendered)."""
    if "\n<<<<<<< " not in "\n" + text:
        return text
    ours, theirs = _side(text, 0), _side(text, 1)
    try:
        hand_ours = [p.text for p in split_blocks(ours, where) if p.name is None]
        hand_theirs = [p.text for p in split_blocks(theirs, where) if p.name is None]
    except CostlogError:
        hand_ours, hand_theirs = [""], ["x"]
    if hand_ours != hand_theirs:
        line = text[: text.find("<<<<<<< ")].count("\n") + 1
        raise CostlogError("merge conflict in hand-written text", path=where, line=line,
                           hint="resolve that hunk by hand, then run `costlog render`")
    return ours


def _side(text: str, which: int) -> str:
    def pick(match: re.Match[str]) -> str:
        lines = match.group(0).splitlines(keepends=True)
        sep = next(i for i, line in enumerate(lines) if line.startswith("======="))
        base = next((i for i, line in enumerate(lines[:sep]) if line.startswith("|||||||")), sep)
        return "".join(lines[1:base] if which == 0 else lines[sep + 1 : -1])

    return _CONFLICT.sub(pick, text)


# ---------------------------------------------------------------- render and check


@dataclass
class Rendered:
    path: Path
    text: str
    old: str | None

    @property
    def changed(self) -> bool:
        return self.text != self.old


def document(repo: Repo, config: Config, entries: Sequence[Entry] | None = None,
             *, resolve: bool = True) -> Rendered:
    """What COST_LOG.md should be: existing hand-written text + freshly rendered blocks."""
    with gc_paused():
        if entries is None:
            entries = Ledger(repo, config.ledger_dir).load_all()
        table = PriceTable.load(config.prices_path(repo.root))
        context = build_context(entries, config, price_table=table.version, table=table)
    path = config.output_path(repo.root)
    fresh = render_text(context, template_path(repo, config), repo.state_dir / "template-cache")
    try:
        old = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Rendered(path, fresh, None)
    except (OSError, UnicodeDecodeError) as exc:
        raise CostlogError(f"cannot read: {exc}", path=config.output) from None
    base = resolve_conflicts(old, config.output) if resolve else old
    return Rendered(path, splice(base, fresh, config.output), old)


def render(repo: Repo, config: Config, entries: Sequence[Entry] | None = None) -> Rendered:
    result = document(repo, config, entries)
    if result.changed:
        atomic_write(result.path, result.text, repo.state_dir / "tmp")
    return result


def check(repo: Repo, config: Config) -> str:
    """Raise CheckFailed unless the ledger is valid and COST_LOG.md is what it renders to."""
    from costlog.errors import LedgerError

    try:
        with gc_paused():
            entries = Ledger(repo, config.ledger_dir).load_all()
    except LedgerError as exc:
        raise CheckFailed(f"invalid ledger: {exc.one_line()}") from None
    try:
        result = document(repo, config, entries, resolve=False)
    except CostlogError as exc:
        raise CheckFailed(exc.one_line()) from None
    if result.old is None:
        raise CheckFailed(f"{config.output} is missing", hint="run `costlog render` and commit it")
    if result.changed:
        line, block = first_difference(result.old, result.text)
        what = f"block {block!r} differs from the ledger" if block else "differs from the ledger"
        raise CheckFailed(f"{what} (stale, or edited inside a generated block)",
                          path=config.output, line=line,
                          hint="run `costlog render` and commit the result")
    return f"ok: {config.output} matches {len(entries)} ledger sessions"


def first_difference(old: str, new: str) -> tuple[int, str | None]:
    old_lines, new_lines = old.splitlines(), new.splitlines()
    line = next((i for i, (a, b) in enumerate(zip(old_lines, new_lines, strict=False), 1)
                 if a != b), min(len(old_lines), len(new_lines)) + 1)
    block = None
    for text in old_lines[:line]:
        if m := _BEGIN.search(text):
            block = m.group(1)
        elif _END.search(text):
            block = None
    return line, block


def context_json(repo: Repo, config: Config) -> str:
    with gc_paused():
        entries = Ledger(repo, config.ledger_dir).load_all()
        table = PriceTable.load(config.prices_path(repo.root))
        context = build_context(entries, config, price_table=table.version, table=table)
    return json.dumps(context, indent=2, ensure_ascii=False)
