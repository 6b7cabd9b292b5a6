"""COST_LOG.md: the ledger rendered through a Jinja2 template.

The template marks each generated part with `<!-- costlog:begin NAME -->` and
`<!-- costlog:end NAME -->`. On regeneration only the insides of those blocks change:
everything outside them (ROI notes, team notes, any text a person wrote) is kept byte for
byte. A git conflict that lies only inside generated blocks is resolved by rendering again.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import unicodedata
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from costlog import resources, safefs
from costlog.analysis import core as analysis
from costlog.config import Config
from costlog.errors import CheckFailed, CostlogError
from costlog.gcpause import gc_paused
from costlog.gitrepo import Repo
from costlog.ledger.store import MICRO, Ledger, atomic_write
from costlog.models import Entry
from costlog.pricing.table import PriceTable
from costlog.timeutil import zone

# ---------------------------------------------------------------- context


#: anomalies listed in COST_LOG.md (all of them: `costlog anomalies`)
ANOMALY_ROWS = 20


def build_context(
    entries: Sequence[Entry],
    config: Config,
    *,
    price_table: str | None = None,
    today: date | None = None,
    table: PriceTable | None = None,
) -> dict[str, Any]:
    """The exact data the template receives (`costlog render --context` prints it).

    Only the rows the template shows: the session log is cut at `session_log_limit`,
    the anomalies at ANOMALY_ROWS; every sum is over the whole ledger.
    """
    tz = zone(config.timezone)
    shown = (
        list(reversed(entries[-config.session_log_limit :])) if config.session_log_limit > 0 else []
    )
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
        "anomalies": [
            {
                "session": session_row(a["entry"], tz),
                "cost": a["cost"],
                "ratio": a["ratio"],
                "causes": a["causes"],
            }
            for a in anomalies[:ANOMALY_ROWS]
        ],
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


def _totals(
    entries: Sequence[Entry], months: list[dict[str, Any]], typical: analysis.Typical, tz: Any
) -> dict[str, Any]:
    """The summary line: sums of the monthly rows (so they always agree), median, span."""

    def day(entry: Entry) -> str:
        return analysis.local_day(entry, tz).isoformat()

    return {
        "sessions": sum(m["sessions"] for m in months),
        "tasks": sum(m["tasks"] for m in months),
        "cost": sum((m["cost"] for m in months), analysis.ZERO),
        "unpriced_sessions": sum(m["unpriced"] for m in months),
        "median": typical.cost,
        "first": day(entries[0]) if entries else None,
        "last": day(entries[-1]) if entries else None,
    }


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
    """Plain data only (str, int, float, bool, None, lists, str-keyed dicts): nothing a
    template receives has methods worth calling, even inside the sandbox."""
    if isinstance(value, Decimal):
        return format(value.quantize(MICRO), "f")
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, Entry):
        return value.id
    if value is None or type(value) in (str, int, float, bool):
        return value
    if isinstance(value, date):  # datetime too
        return value.isoformat()
    if isinstance(value, int):  # an IntEnum, say: keep the number, drop the class
        return int(value)
    return str(value)


# ---------------------------------------------------------------- escaping


class Markdown(str):
    """Text that already is safe Markdown: escaped by `md`, or made by costlog's own filters
    from numbers. The template's output hook prints it as it is and escapes anything else."""

    __slots__ = ()


#: U+2060 WORD JOINER: invisible, and it breaks the patterns GitHub links *after* rendering
#: (mentions, issue references, bare URLs, e-mail addresses, :emoji:). A backslash escape
#: would not do: it is gone by the time those patterns run on the rendered text.
_JOINER = "\u2060"
#: bidirectional controls: they make a cell read differently from what it holds
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_SPACE = re.compile(r"\s+")
_ODD = re.compile(r"[^\x20-\x7e]")
#: printable text that needs no escaping (the common case: ids, dates, model names)
_PLAIN = re.compile(r"[A-Za-z0-9 ,.;'\"/()+=%?!-]*")
_TRICKY = re.compile(r"www\.|gh-[0-9]", re.I)
#: printed as they are by the output hook: Markdown, and markupsafe's Markup (`| safe`)
_PRINTED_AS_IS: tuple[type, ...] = (Markdown,)
#: '@name' (mention, e-mail, repo@sha), 'scheme://', ':emoji:', 'www.'
_LINKISH = re.compile(r"@(?=[a-z0-9])|:(?=//|[a-z0-9_+-]+:)|(?<![a-z0-9])www(?=\.)", re.I)
#: '#12', 'owner/repo#12', 'GH-12': issue and pull-request references
_REFS = re.compile(r"#(?=[0-9])|(?<![a-z0-9_])gh-(?=[0-9])", re.I)
_SYNTAX = re.compile(r"[\\|`\[\]&<>$]|\*+|_+|~+")
_ENTITY = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def _visible(match: re.Match[str]) -> str:
    """A character that is not plain printable ASCII, as it may appear in COST_LOG.md."""
    char = match.group()
    code = ord(char)
    if code < 0x20:  # a control picture (␀, ␛): a NUL would make git treat the file as binary
        return chr(0x2400 + code)
    if code == 0x7F:
        return "\u2421"
    if char in _BIDI:
        return "\ufffd"
    category = unicodedata.category(char)
    if category == "Cf":  # zero-width and other invisible format characters
        return ""
    if category in ("Cc", "Cs"):  # C1 controls, lone surrogates (not even valid UTF-8)
        return "\ufffd"
    return char


def _escape(match: re.Match[str]) -> str:
    token, text = match.group(), match.string
    char = token[0]
    if char in _ENTITY:
        return _ENTITY[char]
    start, end = match.start(), match.end()
    if char == "$":  # math needs a closing `$` right after a non-space character
        return "\\$" if start and not text[start - 1].isspace() else "$"
    if char in "*_~":
        before = text[start - 1] if start else " "
        after = text[end] if end < len(text) else " "
        # inert: spaces (or the cell's edge) on both sides; `_` also between two letters
        if (before.isspace() and after.isspace()) or (
            char == "_" and before.isalnum() and after.isalnum()
        ):
            return token
        return "".join("\\" + c for c in token)
    return "\\" + token


def md(value: Any, *, refs: bool = False, strip: bool = True) -> Markdown:
    """Any value as inert Markdown: it shows its characters and nothing else.

    This is the one escaping function for text from logs, the ledger or the config that
    reaches COST_LOG.md or `pr-summary`: no link, image, autolink, bare URL, e-mail link,
    @mention, issue reference, emphasis, strikethrough, code, math, HTML or entity can come
    out of it, and no table row can be broken by it (whitespace and newlines become one
    space, pipes are escaped). Control characters are shown as control pictures (␀),
    bidirectional overrides as U+FFFD, other invisible format characters are dropped.
    `refs` keeps `#12` issue references (work-item keys are meant to link); `strip=False`
    keeps one leading and trailing space (the template's own `", "` separators).
    """
    if value is None:
        return Markdown("")
    if isinstance(value, Markdown):
        return value
    text = ", ".join(map(str, value)) if isinstance(value, list | tuple) else str(value)
    text = _SPACE.sub(" ", text)
    if strip:
        text = text.strip()
    if _PLAIN.fullmatch(text) and not _TRICKY.search(text):
        return Markdown(text)
    if not text.isascii() or not text.isprintable():
        text = _SPACE.sub(" ", _ODD.sub(_visible, text))
        if strip:
            text = text.strip()
    text = _LINKISH.sub(lambda m: m.group() + _JOINER, text)
    if not refs:
        text = _REFS.sub(lambda m: m.group() + _JOINER, text)
    return Markdown(_SYNTAX.sub(_escape, text))


def code(value: Any) -> Markdown:
    """A value as a Markdown code span (shown verbatim, nothing inside it is interpreted),
    with a fence longer than any run of backticks it holds."""
    text = _SPACE.sub(" ", str(value)).strip()
    text = _SPACE.sub(" ", _ODD.sub(_visible, text)).strip()
    runs = {len(run) for run in re.findall(r"`+", text)}
    fence = "`" * next(n for n in range(1, len(runs) + 2) if n not in runs)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return Markdown(f"{fence}{pad}{text}{pad}{fence}")


# ---------------------------------------------------------------- filters


def usd(value: Any, places: int = 2) -> Markdown:
    if value is None or value == "":
        return Markdown("unpriced")
    amount = Decimal(str(value))
    if 0 < amount < Decimal("0.01") and places == 2:
        places = 4
    return Markdown(f"${amount:,.{places}f}")


def cell(value: Any) -> Markdown:
    """Text for a table cell (or anywhere else in the Markdown): see `md`."""
    return md(value)


def work_items(value: Any) -> Markdown:
    """Work-item keys: escaped like any text, but `#12` stays an issue reference."""
    return md(value, refs=True)


def tokens(value: Any) -> Markdown:
    n = int(value or 0)
    for unit, size in (("B", 1_000_000_000), ("M", 1_000_000), ("k", 1_000)):
        if n >= size:
            return Markdown(f"{n / size:.1f}{unit}")
    return Markdown(str(n))


def pct(value: Any) -> Markdown:
    return Markdown(f"{Decimal(str(value or 0)) * 100:.0f}%")


def session_cost(row: dict[str, Any]) -> Markdown:
    """A session's cost cell: "unpriced" alone, or the known part + unpriced."""
    if row["cost"] is not None:
        return usd(row["cost"])
    if Decimal(row["known_cost"]):
        return Markdown(f"{usd(row['known_cost'])} + unpriced")
    return Markdown("unpriced")


def spend_cost(row: dict[str, Any]) -> Markdown:
    """A spend row's cost: never a bare $0.00 for tokens that have no price."""
    if row["unpriced"] and not Decimal(row["cost"]):
        return Markdown("unpriced")
    extra = f" + {int(row['unpriced'])} unpriced" if row["unpriced"] else ""
    return Markdown(usd(row["cost"]) + extra)


def _finalize(value: Any) -> str:
    """Every `{{ ... }}` of the template passes here: costlog's filters' output (and what
    the template marks `| safe`) is printed as it is, any other value is escaped by `md`."""
    kind = type(value)
    if kind is Markdown or kind is int:
        return str(value)
    if kind is str and _PLAIN.fullmatch(value) and not _TRICKY.search(value):
        return str(value)
    if isinstance(value, _PRINTED_AS_IS):
        return str(value)
    return md(value, strip=False)


# ---------------------------------------------------------------- the template


@dataclass(frozen=True)
class Template:
    source: str
    #: how messages name it: the path from the config, or the bundled file
    shown: str
    #: the absolute path (Jinja's tracebacks, the bytecode cache key)
    filename: str


#: a product can never be longer than this (`"x" * 10**10` in a template)
_MAX_PRODUCT = 10_000_000
#: bumped whenever the compiled form of a template would change (sandbox, output hook)
_CACHE_SALT = "sandboxed-1"


@functools.cache
def _jinja() -> tuple[type[Any], type[Any], type[Any]]:
    """The sandbox, loader and bytecode cache classes (Jinja2 is imported on first use)."""
    global _PRINTED_AS_IS
    import jinja2
    from jinja2.exceptions import SecurityError
    from jinja2.sandbox import ImmutableSandboxedEnvironment
    from markupsafe import Markup

    _PRINTED_AS_IS = (Markdown, Markup)

    class Sandbox(ImmutableSandboxedEnvironment):
        """No attribute that reaches Python internals, no mutation, and no product that
        would eat the memory (`range` is capped by Jinja's sandbox itself)."""

        intercepted_binops = frozenset({"*", "**"})

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            if operator == "*":
                for seq, n in ((left, right), (right, left)):
                    if (
                        isinstance(seq, str | list | tuple)
                        and isinstance(n, int)
                        and len(seq) * n > _MAX_PRODUCT
                    ):
                        raise SecurityError("a product of that size is not allowed")
            elif (
                isinstance(left, int) and isinstance(right, int) and abs(left) > 1 and right > 4096
            ):
                raise SecurityError("a power of that size is not allowed")
            return super().call_binop(context, operator, left, right)

    class OneFile(jinja2.BaseLoader):
        """Serves the configured template and nothing else: `{% include %}`, `{% import %}`
        and `{% extends %}` of any other name fail, so no other file is ever read."""

        def __init__(self, name: str, template: Template) -> None:
            self.name, self.template = name, template

        def get_source(self, environment: Any, name: str) -> tuple[str, str, Any]:
            if name != self.name:
                raise jinja2.TemplateNotFound(name)
            return self.template.source, self.template.filename, lambda: True

    class Cache(jinja2.FileSystemBytecodeCache):
        """Jinja's own cache (a template whose text changed is compiled again), keyed apart
        from what a costlog without the sandbox compiled for the same file."""

        def get_cache_key(self, name: str, filename: str | None = None) -> str:
            key: str = super().get_cache_key(f"{_CACHE_SALT}/{name}", filename)
            return key

    return Sandbox, OneFile, Cache


_NAME = "COST_LOG.md.j2"


def _environment(template: Template, cache_dir: Path | None = None) -> Any:
    import jinja2

    sandbox, loader, cache = _jinja()
    bytecode_cache = None
    if cache_dir is not None:
        with contextlib.suppress(OSError):
            cache_dir.mkdir(parents=True, exist_ok=True)
            bytecode_cache = cache(str(cache_dir))
    env = sandbox(
        loader=loader(_NAME, template),
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        finalize=_finalize,
        bytecode_cache=bytecode_cache,
    )
    env.globals.pop("lipsum", None)  # lipsum(10**7) is a memory bomb and no template needs it
    env.filters.update(
        usd=usd,
        cell=cell,
        md=cell,
        work_items=work_items,
        tokens=tokens,
        pct=pct,
        session_cost=session_cost,
        spend_cost=spend_cost,
        short=lambda i: cell(analysis.short_id(str(i))),
    )
    return env


def template_path(repo: Repo, config: Config) -> Path:
    """The template: the bundled one, or `template:` from the config, a path relative to
    the repository that must stay inside it and lead through no symlink (the file is a
    repo file like any other: whoever commits it chooses what the template does)."""
    from costlog.config import CONFIG_PATH

    if not config.template:
        return resources.template()
    try:
        path = safefs.repo_path(repo.root, config.template, what="template")
        safefs.check_repo_path(repo.root, path)
    except safefs.UnsafePath as exc:
        if exc.path is not None:
            raise
        raise CostlogError(
            exc.message, path=CONFIG_PATH, hint="fix `template` in .costlog/config.yaml"
        ) from None
    if not os.path.lexists(path):
        raise CostlogError(
            "template not found",
            path=config.template,
            hint="fix `template` in .costlog/config.yaml",
        )
    return path


def load_template(repo: Repo, config: Config) -> Template:
    """The template's text, read once; a repository's through safefs (a regular file,
    no symlink on the way), the bundled one as shipped."""
    path = template_path(repo, config)
    if not config.template:
        return Template(path.read_text(encoding="utf-8"), str(path), str(path))
    source = safefs.read_repo_text(repo.root, path)
    if source is None:
        raise CostlogError(
            "template not found",
            path=config.template,
            hint="fix `template` in .costlog/config.yaml",
        )
    return Template(source, config.template, str(path))


def render_text(
    context: dict[str, Any], template: Template | Path, cache_dir: Path | None = None
) -> str:
    """Render the template in Jinja2's sandbox; `cache_dir` keeps its compiled form.

    A `Path` is a trusted file (the bundled template); a repository's comes from
    `load_template`. Whatever goes wrong inside the template (a syntax error, an attribute
    the sandbox refuses, an include, a crash) is one CostlogError naming the template.
    """
    import jinja2
    from jinja2.exceptions import SecurityError

    trusted = isinstance(template, Path)
    if isinstance(template, Path):
        template = Template(template.read_text(encoding="utf-8"), str(template), str(template))
    try:
        with _time_limit(None if trusted else TEMPLATE_SECONDS):
            text: str = _environment(template, cache_dir).get_template(_NAME).render(**context)
    except _TooSlow:
        raise CostlogError(
            f"template took over {TEMPLATE_SECONDS} s to render, stopped",
            path=template.shown,
            hint="a template may only format the data it is given",
        ) from None
    except jinja2.TemplateSyntaxError as exc:
        raise CostlogError(
            f"template error: {exc.message}", path=template.shown, line=exc.lineno
        ) from None
    except SecurityError as exc:
        raise CostlogError(
            f"template refused by the sandbox: {exc}",
            path=template.shown,
            line=_line_in(exc, template),
            hint="a template may only format the data it is given",
        ) from None
    except jinja2.TemplateNotFound as exc:
        raise CostlogError(
            f"template may not include or extend another file ({exc.name!r})",
            path=template.shown,
            line=_line_in(exc, template),
        ) from None
    except jinja2.UndefinedError as exc:
        raise CostlogError(
            f"template error: {exc.message}", path=template.shown, line=_line_in(exc, template)
        ) from None
    except (
        jinja2.TemplateError,
        ArithmeticError,
        LookupError,
        TypeError,
        ValueError,
        AttributeError,
        RecursionError,
        MemoryError,
    ) as exc:
        raise CostlogError(
            f"template error: {type(exc).__name__}: {exc}",
            path=template.shown,
            line=_line_in(exc, template),
        ) from None
    return text


#: a repository's template that runs longer than this is stopped (nested loops in a
#: committed template would otherwise hang every commit hook and CI job)
TEMPLATE_SECONDS = 20


class _TooSlow(Exception):
    pass


@contextlib.contextmanager
def _time_limit(seconds: float | None) -> Iterator[None]:
    """Raise _TooSlow in the block after `seconds` (main thread only; elsewhere no limit)."""
    import signal
    import threading

    if (
        seconds is None
        or threading.current_thread() is not threading.main_thread()
        or not hasattr(signal, "setitimer")
    ):
        yield
        return

    def expire(signum: int, frame: object) -> None:
        raise _TooSlow

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _line_in(exc: BaseException, template: Template) -> int | None:
    """The template line an error was raised at (Jinja maps its frames to template lines)."""
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == template.filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


# ---------------------------------------------------------------- blocks


@dataclass
class Part:
    name: str | None  # None: hand-written text
    text: str


#: a marker line: the marker alone, then at most spaces, tabs or a CR (CRLF files)
_MARKER = re.compile(r"<!-- costlog:(begin|end) ([\w-]+) -->[ \t\r]*\n?\Z")
_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})(.*?)\r?\n?\Z")


def lines_of(text: str) -> list[str]:
    """The lines of a text with their "\\n" kept; a CR stays part of its line."""
    lines = [line + "\n" for line in text.split("\n")]
    lines[-1] = lines[-1][:-1]
    return lines if lines[-1] else lines[:-1]


def split_blocks(text: str, where: str, names: Collection[str] | None = None) -> list[Part]:
    """Cut a document into hand-written parts and generated blocks (markers included).

    A line is a marker only when it holds the marker alone (trailing spaces or a CR
    allowed), names a block of `names` (any name when None: the template's own output),
    and is not inside a fenced code block of the hand-written text. A second block of a
    name already seen is someone's copy: hand-written text too. Everything that is not a
    generated block comes back exactly as it was, line endings included: joined, the parts
    are the text.

    A fence (or a copy) that would hide a block found nowhere else, or break the markers
    after it, is not one: CommonMark runs an unclosed fence to the end of the file, but
    costlog must still find the blocks after it (else it would append them again on every
    render), so such an opening line is read as plain text.
    """
    lines = lines_of(text)
    plain: set[int] = set()
    first: CostlogError | None = None
    done: list[Part] | None = None  # the last pass that worked
    while True:
        scan = _Scan(lines, where, names, plain)
        try:
            seen = scan.run()
        except CostlogError as exc:
            if done is not None:  # showing what the fence hid breaks the markers: keep it
                return done
            first = first or exc
            suspects = [at for at, _ in scan.hiding if exc.line is None or at < exc.line]
            if not suspects:
                raise first from None
            plain.add(suspects[-1])
            continue
        done = scan.parts
        missing = set(names or ()) - seen
        culprit = next((at for at, hidden in scan.hiding if hidden & missing), None)
        if culprit is None:
            return done
        plain.add(culprit)


class _Scan:
    """One pass of split_blocks; the lines in `plain` open no fence and no copy."""

    def __init__(
        self, lines: list[str], where: str, names: Collection[str] | None, plain: set[int]
    ) -> None:
        self.lines, self.where, self.names, self.plain = lines, where, names, plain
        self.parts: list[Part] = []
        #: fences and copies taken as such: (index of the opening line, names they hide)
        self.hiding: list[tuple[int, set[str]]] = []

    def marker(self, line: str) -> tuple[str, str] | None:
        found = _MARKER.match(line)
        if found is None or (self.names is not None and found.group(2) not in self.names):
            return None
        return found.group(1), found.group(2)

    def run(self) -> set[str]:
        """Fill `parts`; return the names of the blocks found."""
        buf: list[str] = []
        block: str | None = None  # the generated block we are in
        fence: tuple[str, int] | None = None  # a code fence of hand-written text: char, width
        copy: str | None = None  # a second copy of a block (hand-written text)
        hidden: set[str] = set()  # blocks that the current fence or copy hides
        seen: set[str] = set()
        start = opened = 0
        for index, line in enumerate(self.lines):
            buf.append(line)
            found = self.marker(line)
            if block is not None:  # only its end marker matters here
                if found == ("end", block):
                    self.parts.append(Part(block, "".join(buf)))
                    buf, block = [], None
                continue
            if fence is not None or copy is not None:
                if fence is not None and _closes(line, fence):
                    fence = None
                elif copy is not None and found == ("end", copy):
                    copy = None
                elif found is not None and found[0] == "begin":
                    hidden.add(found[1])
                continue
            if found is None:
                opening = _FENCE.match(line)
                if (
                    opening
                    and index not in self.plain
                    and not (opening.group(1)[0] == "`" and "`" in opening.group(2))
                ):
                    fence, opened, hidden = (
                        (opening.group(1)[0], len(opening.group(1))),
                        index,
                        set(),
                    )
                    self.hiding.append((index, hidden))
                continue
            kind, name = found
            if kind == "end":
                if name in seen:
                    continue  # the end of a copy whose begin is gone: text
                raise CostlogError(
                    f"end marker of block {name!r} without its begin",
                    path=self.where,
                    line=index + 1,
                    hint="restore its begin marker, or delete the line",
                )
            if name in seen:
                if index not in self.plain:
                    copy, opened, hidden = name, index, set()
                    self.hiding.append((index, hidden))
                continue
            buf.pop()
            if buf:
                self.parts.append(Part(None, "".join(buf)))
            buf, block, start = [line], name, index
            seen.add(name)
        if fence is not None or copy is not None:
            raise CostlogError(
                "a code fence or a copied block runs to the end of the file",
                path=self.where,
                line=opened + 1,
            )
        if block is not None:
            raise CostlogError(
                f"block {block!r} has no end marker",
                path=self.where,
                line=start + 1,
                hint="restore it, or delete the file and run `costlog render`",
            )
        if buf:
            self.parts.append(Part(None, "".join(buf)))
        return seen


def _closes(line: str, fence: tuple[str, int]) -> bool:
    closing = _FENCE.match(line)
    return (
        closing is not None
        and not closing.group(2).strip()
        and closing.group(1)[0] == fence[0]
        and len(closing.group(1)) >= fence[1]
    )


def has_blocks(text: str) -> bool:
    """Whether a text holds a generated block (or marker lines too broken to split)."""
    try:
        return any(part.name for part in split_blocks(text, "text"))
    except CostlogError:
        return True


def splice(existing: str, fresh: str, where: str) -> str:
    """Existing text with every generated block replaced by its fresh rendering."""
    new_blocks = {p.name: p.text for p in split_blocks(fresh, "template output") if p.name}
    out: list[str] = []
    used: set[str] = set()
    for part in split_blocks(existing, where, new_blocks):
        if part.name is None:
            out.append(part.text)
        else:
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


_CONFLICT = re.compile(r"^<<<<<<< .*?^=======\r?\n.*?^>>>>>>> [^\n]*\n", re.S | re.M)


def resolve_conflicts(text: str, where: str, names: Collection[str] | None = None) -> str:
    """Resolve a git conflict whose hunks lie only in generated blocks (they get rendered)."""
    if "\n<<<<<<< " not in "\n" + text:
        return text
    ours, theirs = _side(text, 0), _side(text, 1)
    try:
        hand_ours = [p.text for p in split_blocks(ours, where, names) if p.name is None]
        hand_theirs = [p.text for p in split_blocks(theirs, where, names) if p.name is None]
    except CostlogError:
        hand_ours, hand_theirs = [""], ["x"]
    if hand_ours != hand_theirs:
        line = text[: text.find("<<<<<<< ")].count("\n") + 1
        raise CostlogError(
            "merge conflict in hand-written text",
            path=where,
            line=line,
            hint="resolve that hunk by hand, then run `costlog render`",
        )
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


def document(
    repo: Repo, config: Config, entries: Sequence[Entry] | None = None, *, resolve: bool = True
) -> Rendered:
    """What COST_LOG.md should be: existing hand-written text + freshly rendered blocks.

    COST_LOG.md (or a directory on the way to it) that is a symlink is refused before
    anything else (UnsafePath): its target's text would land in the repo."""
    from costlog.safefs import read_repo_text

    path = config.output_path(repo.root)
    old = read_repo_text(repo.root, path)
    with gc_paused():
        if entries is None:
            entries = Ledger(repo, config.ledger_dir).load_all()
        table = PriceTable.load(config.prices_path(repo.root))
        context = build_context(entries, config, price_table=table.version, table=table)
    fresh = render_text(context, load_template(repo, config), repo.state_dir / "template-cache")
    if old is None:
        return Rendered(path, fresh, None)
    base = resolve_conflicts(old, config.output) if resolve else old
    return Rendered(path, splice(base, fresh, config.output), old)


def render(repo: Repo, config: Config, entries: Sequence[Entry] | None = None) -> Rendered:
    result = document(repo, config, entries)
    if result.changed:
        atomic_write(result.path, result.text, repo.state_dir / "tmp", root=repo.root)
    return result


def check(repo: Repo, config: Config) -> str:
    """Raise CheckFailed unless the ledger is valid and COST_LOG.md is what it renders to."""
    from costlog.errors import LedgerError
    from costlog.safefs import UnsafePath

    try:
        with gc_paused():
            entries = Ledger(repo, config.ledger_dir).verify()  # also each file's name
    except LedgerError as exc:
        raise CheckFailed(f"invalid ledger: {exc.one_line()}") from None
    _verify_costs(repo, config, entries)
    try:
        result = document(repo, config, entries, resolve=False)
    except UnsafePath:
        raise  # a symlink is an error (exit 1), not a stale file
    except CostlogError as exc:
        raise CheckFailed(exc.one_line()) from None
    if result.old is None:
        raise CheckFailed(f"{config.output} is missing", hint="run `costlog render` and commit it")
    if result.changed:
        line, block = first_difference(result.old, result.text)
        what = f"block {block!r} differs from the ledger" if block else "differs from the ledger"
        raise CheckFailed(
            f"{what} (stale, or edited inside a generated block)",
            path=config.output,
            line=line,
            hint="run `costlog render` and commit the result",
        )
    return f"ok: {config.output} matches {len(entries)} ledger sessions"


def _verify_costs(repo: Repo, config: Config, entries: Sequence[Entry]) -> None:
    """Every cost must follow from its tokens and the entry's price table (costlog.ledger.verify):
    a ledger edited by hand and rendered again is consistent, but not honest."""
    from costlog.ledger import verify
    from costlog.safefs import UnsafePath

    try:
        table = PriceTable.load(config.prices_path(repo.root))
    except UnsafePath:
        raise  # a symlink is an error (exit 1), as in document()
    except CostlogError as exc:
        raise CheckFailed(exc.one_line()) from None
    verify.check(Ledger(repo, config.ledger_dir), entries, table)


def first_difference(old: str, new: str) -> tuple[int, str | None]:
    """The first line where `old` and `new` differ, and the generated block it is in."""
    old_lines, new_lines = old.split("\n"), new.split("\n")
    line = next(
        (i for i, (a, b) in enumerate(zip(old_lines, new_lines, strict=False), 1) if a != b),
        min(len(old_lines), len(new_lines)) + 1,
    )
    names = [p.name for p in _parts_or_none(new) if p.name]
    seen = 0
    for part in _parts_or_none(old, names):
        seen += part.text.count("\n")
        if seen >= line or not part.text.endswith("\n"):
            return line, part.name
    return line, None


def _parts_or_none(text: str, names: Collection[str] | None = None) -> list[Part]:
    try:
        return split_blocks(text, "text", names)
    except CostlogError:
        return []


def context_json(repo: Repo, config: Config) -> str:
    with gc_paused():
        entries = Ledger(repo, config.ledger_dir).load_all()
        table = PriceTable.load(config.prices_path(repo.root))
        context = build_context(entries, config, price_table=table.version, table=table)
    return json.dumps(context, indent=2, ensure_ascii=False)
