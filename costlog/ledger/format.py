"""A ledger file's format: an Entry as the YAML mapping it is stored as, and back.

Writing keeps only what a ledger may hold (counts, names, ids, times, subjects, keys).
Reading validates every field, since a ledger file is plain text anyone can edit: the
first bad one is named with its file and line. Amounts are stored exact to the
micro-dollar, times in UTC to the second.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from costlog import yamlfile
from costlog.errors import LedgerError
from costlog.models import (
    SOURCES,
    TOKEN_FIELDS,
    Commit,
    Entry,
    LimitWindow,
    ModelUsage,
    RateLimits,
    Usage,
)
from costlog.timeutil import FIRST_YEAR, LAST_YEAR, in_range

SCHEMA = 1
MICRO = Decimal("0.000001")
#: no session costs a billion dollars; a larger amount is a typo or an attack (and beyond
#: it sums and the micro-dollar rounding would overflow Decimal's precision)
MAX_COST = Decimal(10**9)
#: the largest count (tokens of one kind, requests, lines) an entry may hold
MAX_COUNT = 10**12
#: `source` of an entry and of each model (`mixed`: one model's numbers combine kinds)
SOURCE_NAMES: tuple[str, ...] = (*SOURCES, "mixed")
#: an adapter's name (claude-code, codex, ...), `manual`, or the `--agent NAME` of a record
#: by hand (cursor, copilot): a plain name, like the ledger folder it is kept in
AGENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
#: `author`: a person's git name or e-mail, or a hash of it; one line, of bounded length
AUTHOR_MAX = 200
#: characters no author may hold: controls, line breaks, bidirectional overrides
AUTHOR_BAD = re.compile(
    r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
#: `machine`: a 12-hex hash of the machine id, or a host name (when so configured)
MACHINE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,252}")

# ---------------------------------------------------------------- money and time


def money(value: Decimal) -> str:
    """A stored amount: exact to the micro-dollar, no exponent."""
    return format(value.quantize(MICRO), "f")


def stamp(value: datetime) -> str:
    """A stored time: UTC, whole seconds, always a 4-digit year (strftime's `%Y` writes
    year 1 as `1` on glibc, which no ISO 8601 reader takes back)."""
    v = value.astimezone(UTC)
    return f"{v.year:04d}-{v.month:02d}-{v.day:02d}T{v.hour:02d}:{v.minute:02d}:{v.second:02d}Z"


def parse_stamp(text: str) -> datetime:
    """A stored time as aware UTC; ValueError unless it is ISO 8601 in FIRST_YEAR..LAST_YEAR
    (year 1 or 9999 would overflow as soon as it is shifted into a time zone)."""
    if len(text) == 20 and text[-1] == "Z":  # the canonical form costlog writes
        value = datetime.fromisoformat(text)
    else:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        if in_range(value):  # checked first: out of range, the shift itself overflows
            value = value.astimezone(UTC)
    if not in_range(value):
        raise ValueError(f"year {value.year} is outside {FIRST_YEAR}-{LAST_YEAR}")
    return value


def now() -> datetime:
    """Now, as the ledger stores times: UTC, whole seconds."""
    return datetime.now(UTC).replace(microsecond=0)


# ---------------------------------------------------------------- entry <-> dict


def entry_to_dict(entry: Entry) -> dict[str, Any]:
    """Only these fields are ever written: counts, names, ids, times, subjects, keys."""
    doc: dict[str, Any] = {
        "schema": SCHEMA,
        "id": entry.id,
        "agent": entry.agent,
        "started": stamp(entry.started),
    }
    if entry.ended is not None:
        doc["ended"] = stamp(entry.ended)
    _put(doc, "cwd", entry.cwd)
    _put(doc, "branch", entry.branch)
    _put(doc, "author", entry.author)
    _put(doc, "machine", entry.machine)
    doc["source"] = entry.source
    if entry.methods:
        doc["methods"] = dict(sorted(entry.methods.items()))
    if entry.pricing_table:
        doc["pricing"] = {"table": entry.pricing_table}
    if entry.models:
        doc["models"] = {name: _model_dict(mu) for name, mu in sorted(entry.models.items())}
    doc["cost_usd"] = None if entry.cost_usd is None else money(entry.cost_usd)
    if entry.subagents:
        doc["subagents"] = entry.subagents
    if entry.rate_limits is not None:
        doc["rate_limits"] = limits_to_dict(entry.rate_limits)
    if entry.commits:
        doc["commits"] = [_commit_dict(c) for c in entry.commits]
    if entry.work_items:
        doc["work_items"] = list(entry.work_items)
    if entry.tasks_completed is not None or entry.task_types:
        tasks: dict[str, Any] = {}
        if entry.tasks_completed is not None:
            tasks["completed"] = entry.tasks_completed
        if entry.task_types:
            tasks["types"] = dict(entry.task_types)
        doc["tasks"] = tasks
    _put(doc, "notes", entry.notes)
    return doc


#: a plan name as an agent's log writes it (Codex `plan_type`: plus, pro, ...)
PLAN_NAME = re.compile(r"[A-Za-z0-9_.-]{1,40}")


def limits_to_dict(limits: RateLimits) -> dict[str, Any]:
    """The rate-limit figures as stored: peaks as text (exact), times as stamps."""
    out: dict[str, Any] = {}
    if limits.plan_stated:
        out["plan_type"] = limits.plan_type
    for name in ("primary", "secondary"):
        window: LimitWindow | None = getattr(limits, name)
        if window is None:
            continue
        item: dict[str, Any] = {"peak_pct": str(window.peak_pct)}
        if window.window_minutes is not None:
            item["window_minutes"] = window.window_minutes
        if window.resets_at is not None:
            item["resets_at"] = stamp(window.resets_at)
        out[name] = item
    out["reached"] = limits.reached
    return out


def _put(doc: dict[str, Any], key: str, value: Any) -> None:
    if value is not None and value != "":
        doc[key] = value


def _model_dict(mu: ModelUsage) -> dict[str, Any]:
    out: dict[str, Any] = {"requests": mu.requests, **mu.usage.as_dict()}
    out["cost_usd"] = None if mu.cost_usd is None else money(mu.cost_usd)
    out["source"] = mu.source
    return out


def _commit_dict(c: Commit) -> dict[str, Any]:
    return {
        "sha": c.sha,
        "subject": c.subject,
        "files": c.files,
        "added": c.added,
        "removed": c.removed,
        "evidence": c.evidence,
    }


class _Reader:
    """Turns a parsed file into an Entry, naming file and line of the first bad field."""

    def __init__(self, path: str, text: str) -> None:
        self.path = path
        self.text = text

    def fail(self, key: str, message: str) -> LedgerError:
        return LedgerError(
            f"field `{key}`: {message}",
            path=self.path,
            line=self.line_of(key),
            hint="fix or restore the file: git checkout -- FILE",
        )

    def line_of(self, key: str) -> int | None:
        match = re.search(rf"^ *\"?{re.escape(key)}\"?:", self.text, re.MULTILINE)
        return self.text.count("\n", 0, match.start()) + 1 if match else None

    def str_(self, doc: dict[str, Any], key: str, *, required: bool = False) -> str | None:
        value = doc.get(key)
        if value is None:
            if required:
                raise self.fail(key, "is missing")
            return None
        if not isinstance(value, str):
            raise self.fail(key, f"expected text, found {value!r}")
        return value

    def int_(self, doc: dict[str, Any], key: str, where: str = "") -> int:
        value = doc.get(key, 0)
        if value is None:
            return 0
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise self.fail(where or key, f"`{key}` must be a whole number >= 0, not {value!r}")
        if value > MAX_COUNT:  # no session logs 10^12 of anything: a typo or a forgery
            raise self.fail(
                where or key,
                f"`{key}` is absurdly large ({value:.3g}; at most {MAX_COUNT:.0e} per entry)",
            )
        return value

    def money_(self, doc: dict[str, Any], key: str, where: str = "") -> Decimal | None:
        value = doc.get(key)
        if value is None:
            return None
        try:
            amount = Decimal(str(value))
        except InvalidOperation:
            amount = Decimal("NaN")
        if not amount.is_finite() or amount < 0 or amount > MAX_COST:
            raise self.fail(
                where or key,
                f"`{key}` must be an amount from 0 to {MAX_COST:,} dollars, not {value!r}",
            )
        return amount

    def time_(self, doc: dict[str, Any], key: str, *, required: bool = False) -> datetime | None:
        text = self.str_(doc, key, required=required)
        if text is None:
            return None
        try:
            return parse_stamp(text)
        except ValueError as exc:
            reason = str(exc) if str(exc).startswith("year ") else "not an ISO 8601 time"
            raise self.fail(key, f"{reason}: {text!r}") from None

    def entry(self, doc: dict[str, Any]) -> Entry:
        schema = doc.get("schema")
        if schema != SCHEMA:
            if isinstance(schema, int) and schema > SCHEMA:
                raise self.fail(
                    "schema",
                    f"version {schema} is newer than this costlog understands; upgrade costlog",
                )
            if schema is None:
                raise self.fail("schema", f"no `schema: {SCHEMA}` line: not a ledger entry")
            raise self.fail("schema", f"expected {SCHEMA}, found {schema!r}")
        started = self.time_(doc, "started", required=True)
        assert started is not None
        entry = Entry(
            id=self.str_(doc, "id", required=True) or "",
            agent=self.str_(doc, "agent", required=True) or "",
            started=started,
            ended=self.time_(doc, "ended"),
            cost_usd=self.money_(doc, "cost_usd"),
            source=self.str_(doc, "source") or "manual",
            cwd=self.str_(doc, "cwd"),
            branch=self.str_(doc, "branch"),
            author=self.str_(doc, "author"),
            machine=self.str_(doc, "machine"),
            subagents=self.int_(doc, "subagents"),
            notes=self.str_(doc, "notes"),
        )
        entry.methods = self._str_map(doc, "methods")
        pricing = doc.get("pricing")
        if isinstance(pricing, dict):
            entry.pricing_table = self.str_(pricing, "table")
        entry.models = self._models(doc.get("models") or {})
        entry.commits = self._commits(doc.get("commits") or [])
        entry.work_items = self._str_list(doc, "work_items")
        tasks = doc.get("tasks") or {}
        if not isinstance(tasks, dict):
            raise self.fail("tasks", "expected a mapping")
        if "completed" in tasks:
            entry.tasks_completed = self.int_(tasks, "completed", "tasks")
        types = tasks.get("types") or {}
        if not isinstance(types, dict):
            raise self.fail("tasks", "`types` must be a mapping of type: count")
        entry.task_types = {str(k): self.int_(types, k, "tasks") for k in types}
        if doc.get("rate_limits") is not None:
            entry.rate_limits = self._limits(doc["rate_limits"])
        if entry.cost_usd is None and not entry.unpriced_models and entry.models:
            raise self.fail("cost_usd", "is missing although every model is priced")
        self._check_names(entry)
        return entry

    def _limits(self, raw: Any) -> RateLimits:
        """`rate_limits:` (optional; older entries have none): counts, times, a plan name."""
        if not isinstance(raw, dict):
            raise self.fail("rate_limits", "expected a mapping")
        out = RateLimits(reached=self.int_(raw, "reached", "rate_limits"))
        if "plan_type" in raw:
            plan = raw["plan_type"]
            if plan is not None and not (isinstance(plan, str) and PLAN_NAME.fullmatch(plan)):
                raise self.fail("rate_limits", f"`plan_type` is not a plan name: {plan!r}")
            out.plan_stated, out.plan_type = True, plan
        for name in ("primary", "secondary"):
            window = raw.get(name)
            if window is None:
                continue
            if not isinstance(window, dict):
                raise self.fail("rate_limits", f"`{name}` must be a mapping")
            try:
                peak = Decimal(str(window.get("peak_pct")))
            except InvalidOperation:
                peak = Decimal("NaN")
            if not peak.is_finite() or not 0 <= peak <= 1000:
                raise self.fail("rate_limits", f"`{name}.peak_pct` must be a percentage")
            resets = window.get("resets_at")
            setattr(
                out,
                name,
                LimitWindow(
                    peak,
                    self.int_(window, "window_minutes", "rate_limits")
                    if window.get("window_minutes") is not None
                    else None,
                    self._window_time(name, resets),
                ),
            )
        return out

    def _window_time(self, name: str, value: Any) -> datetime | None:
        """A window's `resets_at`, or an error at the window's own line (the windows are
        written in flow style, so the key never starts a line of its own)."""
        if value is None:
            return None
        try:
            if not isinstance(value, str):
                raise ValueError
            return parse_stamp(value)
        except ValueError:
            raise self.fail(
                name, f"`rate_limits.{name}.resets_at` is not an ISO 8601 time: {value!r}"
            ) from None

    def _check_names(self, entry: Entry) -> None:
        """`source` and `agent` are names from short lists, not free text: a hand-edited
        file must not slip table columns or HTML into COST_LOG.md through them."""
        known = ", ".join(SOURCE_NAMES)
        if entry.source not in SOURCE_NAMES:
            raise self.fail("source", f"must be one of {known}, not {entry.source!r}")
        for name, mu in entry.models.items():
            if mu.source not in SOURCE_NAMES:
                raise self.fail(name, f"`source` must be one of {known}, not {mu.source!r}")
        if not AGENT_NAME.fullmatch(entry.agent):
            raise self.fail(
                "agent",
                "must be an agent name such as claude-code, manual or "
                f"cursor (letters, digits, '.', '_', '-'), not {entry.agent!r}",
            )
        self._check_identity(entry)

    def _check_identity(self, entry: Entry) -> None:
        """`author` and `machine` are optional (older entries have neither), but when
        present they are one plain line each: a person's name in a table cell, never a
        second line, a bidi trick or a page of text."""
        author = entry.author
        if author is not None and (
            not author.strip() or len(author) > AUTHOR_MAX or AUTHOR_BAD.search(author)
        ):
            raise self.fail(
                "author",
                f"must be a name or e-mail on one line (at most {AUTHOR_MAX} characters, "
                f"no control characters), not {author[:60]!r}",
            )
        if entry.machine is not None and not MACHINE_NAME.fullmatch(entry.machine):
            raise self.fail(
                "machine",
                "must be a machine hash or host name (letters, digits, '.', '_', '-'), "
                f"not {entry.machine[:60]!r}",
            )

    def _models(self, raw: Any) -> dict[str, ModelUsage]:
        if not isinstance(raw, dict):
            raise self.fail("models", "expected a mapping of model: usage")
        out: dict[str, ModelUsage] = {}
        for name, item in raw.items():
            if not isinstance(item, dict):
                raise self.fail(str(name), "expected a mapping of token counts")
            usage = Usage(**{f: self.int_(item, f, str(name)) for f in TOKEN_FIELDS})
            out[str(name)] = ModelUsage(
                requests=self.int_(item, "requests", str(name)),
                usage=usage,
                cost_usd=self.money_(item, "cost_usd", str(name)),
                source=str(item.get("source") or "actual"),
            )
        return out

    def _commits(self, raw: Any) -> list[Commit]:
        if not isinstance(raw, list) or not all(isinstance(c, dict) for c in raw):
            raise self.fail("commits", "expected a list of {sha, subject, ...}")
        return [
            Commit(
                sha=str(c.get("sha", "")),
                subject=str(c.get("subject", "")),
                files=self.int_(c, "files", "commits"),
                added=self.int_(c, "added", "commits"),
                removed=self.int_(c, "removed", "commits"),
                evidence=str(c.get("evidence") or "time-window"),
            )
            for c in raw
        ]

    def _str_list(self, doc: dict[str, Any], key: str) -> list[str]:
        value = doc.get(key) or []
        if not isinstance(value, list):
            raise self.fail(key, "expected a list")
        bad = next((v for v in value if not isinstance(v, str | int) or isinstance(v, bool)), None)
        if bad is not None or None in value:
            raise self.fail(key, f"expected a list of names, not {bad!r}")
        return [str(v) for v in value]

    def _str_map(self, doc: dict[str, Any], key: str) -> dict[str, str]:
        value = doc.get(key) or {}
        if not isinstance(value, dict):
            raise self.fail(key, "expected a mapping")
        bad = next((v for v in value.values() if isinstance(v, list | dict) or v is None), 0)
        if bad != 0:
            raise self.fail(key, f"expected a mapping of names to text, not {bad!r}")
        return {str(k): str(v) for k, v in value.items()}


#: a line git writes into a file it could not merge (diff3 style adds `|||||||`)
_CONFLICT = re.compile(r"^(?:<{7}|={7}|>{7}|\|{7})(?: |$)", re.M)


def parse_entry(text: str, path: str) -> Entry:
    # named before YAML sees them: "mapping values are not allowed" would hide the cause
    conflict = _CONFLICT.search(text)
    if conflict is not None:
        raise LedgerError(
            f"unresolved merge conflict: a `{conflict.group(0).strip()}` marker line",
            path=path,
            line=text.count("\n", 0, conflict.start()) + 1,
            hint="keep one side of the conflict and delete the marker lines, or "
            "`git checkout --theirs FILE`; then `costlog check`",
        )
    if not text.strip():
        raise LedgerError("the file is empty: no ledger entry in it", path=path, line=1)
    return _Reader(path, text).entry(yamlfile.load_text(text, path=path))
