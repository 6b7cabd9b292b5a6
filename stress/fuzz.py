"""Bad-input fuzzing of the log adapters and the ledger/config loaders (issue 7).

Seeds are the real-format fixtures under tests/fixtures/. Every mutated line is built to be
certainly invalid (truncated JSON, a token count the adapter reads turned into a wrong
type / negative / huge / NaN number, deep nesting, invalid UTF-8 or NUL inside a number,
a non-object line), so a file of intact lines + mutated lines must give exactly the totals
of the intact lines alone. Other mutations (type swaps on any field, invalid UTF-8 in
strings) are only checked for "no traceback, one-line warnings naming file and line".
Benign changes (BOM, CRLF, blank lines) must keep the totals exact.

    python stress/fuzz.py [--seed N] [--rounds N] [--big-mb 100] [--cli N]

Prints one summary line; exits 1 naming the first broken property. tests/test_fuzz.py
runs the same engine with small sizes.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"

#: keys holding token counts, in any adapter's format
COUNT_KEYS = frozenset(
    {
        "input_tokens",
        "output_tokens",
        "cache_read_input_tokens",
        "cache_creation_input_tokens",
        "ephemeral_5m_input_tokens",
        "ephemeral_1h_input_tokens",
        "cached_input_tokens",
        "cache_write_input_tokens",
        "reasoning_output_tokens",
        "prompt_tokens",
        "completion_tokens",
        "total_tokens",
        "cached_tokens",
        "reasoning_tokens",
        "thinking_tokens",
        "promptTokenCount",
        "candidatesTokenCount",
        "cachedContentTokenCount",
        "thoughtsTokenCount",
        "totalTokenCount",
        "toolUsePromptTokenCount",
        "input",
        "output",
        "cached",
        "thoughts",
        "tool",
        "total",
        "read",
        "write",
        "input_token_count",
        "output_token_count",
        "cache_read_token_count",
        "cache_write_token_count",
    }
)

_HOLE = "\x00HOLE\x00"
DEEP = 10_000

#: replacement values for a token count that no adapter may sum (raw JSON text)
BAD_COUNTS: list[bytes] = [
    b"-1",
    b"-123456",
    b"-9223372036854775808",
    b"18446744073709551616",
    b"1000000000000000",
    b"1e30",
    b"1.5",
    b"7.0",
    b"NaN",
    b"Infinity",
    b"-Infinity",
    b'"123"',
    b'""',
    b"[1]",
    b'{"n":1}',
    b"true",
    b"false",
    b"1000000001",
    b"20000001",
    b"-0.5",
    b"1e400",
    b"[" * DEEP + b"]" * DEEP,
    b"12\xff34",
    b"12\x0034",
    b"1\xc3",
    b"0x10",
]
#: absurd for one request, plausible for a running total (Codex's total_token_usage)
PER_CALL_ONLY = (b"1000000001", b"20000001")
#: for any field: only "no traceback" is checked (the line may stay valid)
ANY_VALUES: list[bytes] = [
    b"null",
    b"0",
    b"-1",
    b"true",
    b'"x"',
    b"[]",
    b"{}",
    b'"\xff\xfe"',
    b'"a\\u0000b"',
    b"NaN",
    b"1e308",
    b'"' + b"z" * 5000 + b'"',
    b"18446744073709551616",
    b'"2026-13-45T99:99:99Z"',
    b'"\xed\xa0\x80"',
]


# ------------------------------------------------------------------ results


def signature(sessions: list[Any]) -> tuple[Any, ...]:
    """Everything the scan counts, order-free: one row per request."""
    rows = []
    for s in sessions:
        for r in s.requests:
            cost = None if r.logged_cost_usd is None else str(r.logged_cost_usd)
            rows.append(
                (
                    s.agent,
                    s.session_id,
                    r.model,
                    tuple(r.usage.as_dict().values()),
                    cost,
                    r.estimated_output,
                )
            )
    return tuple(sorted(rows, key=repr))


@dataclass
class Stats:
    tried: int = 0
    files: int = 0
    cli_runs: int = 0
    warnings: int = 0
    failures: list[str] = field(default_factory=list)
    kinds: dict[str, int] = field(default_factory=dict)

    def fail(self, message: str) -> None:
        self.failures.append(message)

    def count(self, kind: str, n: int = 1) -> None:
        self.tried += n
        self.kinds[kind] = self.kinds.get(kind, 0) + n


def scan_adapter(agent: str, path: Path) -> tuple[list[Any], list[str], str | None]:
    """(sessions, warnings, crash) through the adapter API."""
    from costlog import sources

    warnings: list[str] = []
    try:
        found = list(sources.get(agent).scan([path], warn=warnings.append))
    except BaseException as exc:  # any escape is the finding
        if isinstance(exc, KeyboardInterrupt):
            raise
        import traceback

        tb = traceback.format_exc().strip().splitlines()
        return [], warnings, f"{type(exc).__name__}: {str(exc)[:200]} at {tb[-3:]}"
    return found, warnings, None


_WHERE = re.compile(r"^(?P<path>.+?):(?P<line>\d+|[a-z_]+:[^:]+): \S")


def check_warnings(
    warnings: list[str], path: Path, lines: int | None, stats: Stats, what: str
) -> set[int]:
    """Each warning one line naming `path:LINE:`; returns the line numbers named."""
    named: set[int] = set()
    stats.warnings += len(warnings)
    for w in warnings:
        if "\n" in w or "\r" in w:
            stats.fail(f"{what}: multi-line warning {w[:200]!r}")
            continue
        m = _WHERE.match(w)
        if m is None or m["path"] != str(path):
            stats.fail(f"{what}: warning does not name file:line: {w[:200]!r}")
            continue
        if m["line"].isdigit():
            n = int(m["line"])
            if lines is not None and not 1 <= n <= lines:
                stats.fail(f"{what}: warning names line {n} of {lines}: {w[:200]!r}")
            named.add(n)
    return named


# ------------------------------------------------------------------ line mutations


def _leaves(obj: Any, trail: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield (*trail, k), v
            yield from _leaves(v, (*trail, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield (*trail, i), v
            yield from _leaves(v, (*trail, i))


def _replace(obj: Any, trail: tuple[Any, ...], value: Any) -> Any:
    if not trail:
        return value
    copy = dict(obj) if isinstance(obj, dict) else list(obj)
    copy[trail[0]] = _replace(obj[trail[0]], trail[1:], value)
    return copy


def _dump(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def with_raw(obj: Any, trail: tuple[Any, ...], raw: bytes) -> bytes:
    """The line with the value at `trail` replaced by raw JSON text `raw`."""
    text = _dump(_replace(obj, trail, _HOLE))
    hole = _dump(_HOLE)
    assert text.count(hole) == 1
    return text.replace(hole, raw)


def count_trails(obj: Any) -> list[tuple[Any, ...]]:
    return [
        t
        for t, v in _leaves(obj)
        if isinstance(t[-1], str) and t[-1] in COUNT_KEYS and type(v) is int and v > 0
    ]


def parses(raw: bytes) -> bool:
    try:
        json.loads(raw)
    except (ValueError, RecursionError):
        return False
    return True


class Prober:
    """Which count fields an adapter really reads: changing one valid count to another
    valid count must change what a one-line file scans to."""

    def __init__(self, agent: str, tmp: Path, suffix: str) -> None:
        self.agent, self.tmp, self.suffix = agent, tmp, suffix
        self.memo: dict[tuple[bytes, tuple[Any, ...]], bool] = {}

    def reads(self, line: bytes, obj: Any, trail: tuple[Any, ...], context: bytes) -> bool:
        key = (line, trail)
        if key not in self.memo:
            path = self.tmp / f"probe{self.suffix}"
            path.write_bytes(context + line + b"\n")
            before = signature(scan_adapter(self.agent, path)[0])
            value = _replace(obj, trail, 0)
            path.write_bytes(context + _dump(value) + b"\n")
            after = signature(scan_adapter(self.agent, path)[0])
            self.memo[key] = before != after
        return self.memo[key]


def invalid_line(
    rng: random.Random, line: bytes, prober: Prober | None, context: bytes
) -> tuple[str, bytes] | None:
    """(kind, bytes) of a certainly-invalid variant of JSON `line`, or None."""
    body = line.rstrip(b"\r\n")
    try:
        obj = json.loads(body)
    except ValueError:
        return None
    choice = rng.random()
    if choice < 0.3:
        for _ in range(5):
            cut = rng.randrange(1, max(2, len(body) - 1))
            if not parses(body[:cut]):
                return "truncate", body[:cut]
        return None
    if choice < 0.4:
        leaves = list(_leaves(obj))
        if not leaves:
            return None
        trail, _ = rng.choice(leaves)
        return "deep-nesting", with_raw(obj, trail, b"[" * DEEP + b"]" * DEEP)
    if choice < 0.45:
        return "non-object", rng.choice(
            [b"null", b"[]", b"42", b'"x"', b"true", b"[{}]", b"-1e999", b'"\xff"']
        )
    trails = count_trails(obj)
    rng.shuffle(trails)
    for trail in trails[:4]:
        if prober is None or prober.reads(line, obj, trail, context):
            raw = rng.choice(BAD_COUNTS)
            if "total_token_usage" in trail and raw in PER_CALL_ONLY:
                raw = b"-1"  # a running total may pass 20M (Codex allows 10^12)
            kind = "deep-nesting" if raw.startswith(b"[[") else f"count={raw[:24]!r}"
            return kind, with_raw(obj, trail, raw)
    return None


def any_line(rng: random.Random, line: bytes) -> tuple[str, bytes]:
    """A variant of `line` that may or may not stay valid (robustness only)."""
    body = line.rstrip(b"\r\n")
    try:
        obj = json.loads(body)
    except ValueError:
        obj = None
    roll = rng.random()
    if obj is not None and roll < 0.6:
        leaves = list(_leaves(obj))
        if leaves:
            trail, _ = rng.choice(leaves)
            raw = rng.choice(ANY_VALUES + BAD_COUNTS)
            return f"swap={raw[:12]!r}", with_raw(obj, trail, raw)
    if roll < 0.7:
        at = rng.randrange(len(body) + 1)
        return "bytes", body[:at] + rng.choice(
            [b"\xff", b"\x00", b"\xc3", b"\xed\xa0\x80", b"\r", b"\xef\xbb\xbf"]
        ) + body[at:]
    if roll < 0.8:
        return "non-object", rng.choice(
            [
                b"null",
                b"[]",
                b"42",
                b'"x"',
                b"{}",
                b"NaN",
                b"[" * DEEP,
                b"{" * DEEP,
                b"\xff\xfe\x00",
            ]
        )
    data = bytearray(body)
    for _ in range(rng.randint(1, 4)):
        if data:
            data[rng.randrange(len(data))] = rng.randrange(256)
    return "flip", bytes(data).replace(b"\n", b" ")


# ------------------------------------------------------------------ line-based adapters


@dataclass(frozen=True)
class Seed:
    agent: str
    path: Path


def jsonl_seeds() -> list[Seed]:
    seeds: list[Seed] = []
    for agent, folder, pattern in [
        ("claude-code", "claude-code", "*.jsonl"),
        ("claude-code", "claude-code/real", "*.jsonl"),
        ("codex", "codex/real", "*.jsonl"),
        ("codex", "codex/home/sessions", "**/*.jsonl"),
        ("gemini", "gemini/real", "*.jsonl"),
        ("gemini", "gemini/home/.gemini/tmp", "**/*.jsonl"),
        ("api", "api", "*.jsonl"),
        ("api", "api/real", "*.jsonl"),
        ("aider", "aider", "analytics.jsonl"),
    ]:
        seeds += [Seed(agent, p) for p in sorted((FIXTURES / folder).glob(pattern))]
    return seeds


def _lines(data: bytes) -> list[bytes]:
    lines = data.splitlines(keepends=True)
    return [ln if ln.endswith(b"\n") else ln + b"\n" for ln in lines]


def fuzz_file(
    seed: Seed,
    rng: random.Random,
    tmp: Path,
    stats: Stats,
    *,
    mutations: int,
    use_prober: bool = True,
) -> Path | None:
    """One seed file: invalid lines among intact lines (exact totals), then benign changes
    (exact totals), then anything (no crash). Returns the invalid-lines file for the CLI."""
    intact = _lines(seed.path.read_bytes())
    if not intact:
        return None
    suffix = seed.path.suffix
    what = f"{seed.agent} {seed.path.relative_to(FIXTURES)}"
    base_path = _place(tmp, "intact", seed.path.name, b"".join(intact))
    base, _, crash = scan_adapter(seed.agent, base_path)
    if crash:
        stats.fail(f"{what}: intact file crashed: {crash}")
        return None
    expected = signature(base)
    prober = Prober(seed.agent, tmp, suffix) if use_prober else None

    # 1. certainly-invalid lines: exact totals, a warning per bad line where parseable
    out = list(intact)
    bad_at: list[int] = []
    kinds: list[str] = []
    for _ in range(mutations):
        source = rng.choice(intact)
        made = invalid_line(rng, source, prober, _context(seed.agent, intact, source))
        if made is None:
            continue
        kind, raw = made
        at = rng.randrange(len(out) + 1)
        out.insert(at, raw + b"\n")
        bad_at = [b + 1 if b >= at else b for b in bad_at]
        bad_at.append(at)
        kinds.append(kind)
    if kinds:
        path = _place(tmp, "bad", seed.path.name, b"".join(out))
        got, warnings, crash = scan_adapter(seed.agent, path)
        stats.count("invalid-line", len(kinds))
        for k in kinds:
            stats.kinds[k.split("=")[0]] = stats.kinds.get(k.split("=")[0], 0) + 1
        stats.files += 1
        if crash:
            stats.fail(f"{what}: invalid lines crashed the adapter: {crash}")
        else:
            named = check_warnings(warnings, path, len(out), stats, what)
            if signature(got) != expected:
                stats.fail(
                    f"{what}: totals changed by invalid lines "
                    f"{_diff(expected, signature(got))}; kinds {sorted(set(kinds))}"
                )
            missing = [
                (at + 1, k)
                for at, k in zip(bad_at, kinds, strict=True)
                if at + 1 not in named and _must_report(seed.agent, out[at])
            ]
            if missing:
                stats.fail(f"{what}: invalid lines not reported: {missing[:4]}")
        result = path
    else:
        result = None

    # 2. benign: BOM, CRLF, blank and whitespace lines keep every count
    for kind, data in _benign(rng, intact):
        path = _place(tmp, kind, seed.path.name, data)
        got, warnings, crash = scan_adapter(seed.agent, path)
        stats.count(kind)
        if crash:
            stats.fail(f"{what}: {kind} crashed the adapter: {crash}")
            continue
        check_warnings(warnings, path, None, stats, f"{what} [{kind}]")
        if signature(got) != expected:
            stats.fail(f"{what}: {kind} changed the totals {_diff(expected, signature(got))}")

    # 3. anything: no crash, well-formed warnings
    out = list(intact)
    for _ in range(mutations):
        kind, raw = any_line(rng, rng.choice(intact))
        out.insert(rng.randrange(len(out) + 1), raw + b"\n")
        stats.count("any")
    if rng.random() < 0.5:
        cut = rng.randrange(1, max(2, len(out[-1]) - 1))
        out[-1] = out[-1][:cut]  # the file ends mid-line
    path = _place(tmp, "any", seed.path.name, b"".join(out))
    got, warnings, crash = scan_adapter(seed.agent, path)
    if crash:
        stats.fail(f"{what}: random mutations crashed the adapter: {crash}")
    else:
        check_warnings(warnings, path, len(out), stats, f"{what} [any]")
        if sane(got):
            stats.fail(f"{what} [any]: negative or absurd counts summed: {sane(got)[:2]}")
    return result


def _must_report(agent: str, raw: bytes) -> bool:
    """Claude Code parses only lines holding usage (by design, for speed): a corrupt line
    without `"usage"` is skipped unread. Every other adapter parses every line."""
    return agent != "claude-code" or b'"usage"' in raw


def _place(tmp: Path, kind: str, name: str, data: bytes) -> Path:
    """Every variant of a seed under the same file name (the name is the session id)."""
    folder = tmp / kind
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    return path


def _context(agent: str, intact: list[bytes], source: bytes) -> bytes:
    """Lines a one-line probe needs before it (Codex: the session_meta / turn context)."""
    if agent != "codex":
        return b""
    head = [ln for ln in intact[:HEAD] if b'"session_meta"' in ln or b'"turn_context"' in ln]
    return b"".join(head[:2]) if source not in head else b""


HEAD = 20


def _benign(rng: random.Random, intact: list[bytes]) -> list[tuple[str, bytes]]:
    blank = list(intact)
    for _ in range(3):
        blank.insert(rng.randrange(len(blank) + 1), rng.choice([b"\n", b"   \n", b"\t\n"]))
    return [
        ("bom", b"\xef\xbb\xbf" + b"".join(intact)),
        ("crlf", b"".join(ln[:-1] + b"\r\n" for ln in intact)),
        ("blank", b"".join(blank)),
    ]


def _diff(want: tuple[Any, ...], got: tuple[Any, ...]) -> str:
    extra = [r for r in got if r not in want][:2]
    lost = [r for r in want if r not in got][:2]
    return f"(intact {len(want)} requests, got {len(got)}; extra {extra}; lost {lost})"


# ------------------------------------------------------------------ whole-file JSON

#: no adapter may sum a count above this in one request (claude-code's limit, the lowest)
ABSURD = 20_000_000


def sane(sessions: list[Any]) -> list[str]:
    """Requests carrying a negative or absurd count (must never be summed)."""
    return [
        f"{s.session_id}: {r.usage}"
        for s in sessions
        for r in s.requests
        if any(v < 0 or v > ABSURD for v in r.usage.as_dict().values())
    ]


def fuzz_whole_files(rng: random.Random, tmp: Path, stats: Stats, rounds: int) -> None:
    """Gemini's legacy `.json` chats and a runner's run dirs: one JSON document per file,
    mutated whole (truncated, deep, a count made bad, bytes): no crash, one-line warnings
    naming the file, and never a negative or absurd count summed."""
    import shutil

    cases = [
        ("gemini", FIXTURES / "gemini" / "home", ".json"),
        ("rundir", FIXTURES / "rundir", ".json"),
    ]
    for agent, source, suffix in cases:
        for r in range(rounds):
            tree = tmp / f"{agent}-{r}"
            shutil.copytree(source, tree)
            files = sorted(p for p in tree.rglob(f"*{suffix}") if p.name != "projects.json")
            target = rng.choice(files)
            data = target.read_bytes()
            try:
                obj = json.loads(data)
            except ValueError:
                obj = None
            roll = rng.random()
            if roll < 0.25 or obj is None:
                data = data[: rng.randrange(1, max(2, len(data) - 1))]
                kind = "whole-truncate"
            elif roll < 0.6 and count_trails(obj):
                data = with_raw(obj, rng.choice(count_trails(obj)), rng.choice(BAD_COUNTS))
                kind = "whole-count"
            elif roll < 0.9:
                trail, _ = rng.choice(list(_leaves(obj)) or [((), None)])
                data = with_raw(obj, trail, rng.choice(ANY_VALUES + BAD_COUNTS))
                kind = "whole-swap"
            else:
                at = rng.randrange(len(data))
                data = data[:at] + rng.choice([b"\xff", b"\x00", b"\xef\xbb\xbf"]) + data[at:]
                kind = "whole-bytes"
            target.write_bytes(data)
            root = tree / ".system" / "runs" if agent == "rundir" else tree / ".gemini"
            found, warnings, crash = scan_adapter(agent, root)
            stats.count(kind)
            what = f"{agent} {kind} {target.relative_to(tree)}"
            if crash:
                stats.fail(f"{what}: crashed: {crash}")
                continue
            stats.warnings += len(warnings)
            for w in warnings:
                if "\n" in w or not w.startswith(str(tree)):
                    stats.fail(f"{what}: warning is not one line naming a file: {w[:200]!r}")
            bad = sane(found)
            if bad:
                stats.fail(f"{what}: negative or absurd counts summed: {bad[:2]}")
            shutil.rmtree(tree)


# ------------------------------------------------------------------ aider markdown

AIDER_BAD_NUMBERS = [
    "-5",
    "-1.2k",
    "1e30",
    "999999999999",
    "NaN",
    "inf",
    "1.5.5",
    "\x00",
    "1,2,3,4,5,6,7,8,9,0,1,2,3,4,5",
    "12\ufffd",
    "",
    "9" * 400,
    "99999999999999k",
    "1.2kk",
]


def fuzz_aider_history(rng: random.Random, tmp: Path, stats: Stats, mutations: int) -> None:
    seed = FIXTURES / "aider" / "aider__tests_fixtures_chat-history.excerpt.md"
    what = "aider history"
    text = seed.read_text(encoding="utf-8")
    base_path = tmp / "intact.chat.history.md"
    base_path.write_text(text, encoding="utf-8")
    base, _, crash = scan_adapter("aider", base_path)
    if crash:
        stats.fail(f"{what}: intact crashed: {crash}")
        return
    expected = signature(base)
    lines = text.splitlines(keepends=True)
    usage = [i for i, ln in enumerate(lines) if ln.lstrip("> ").startswith("Tokens:")]
    for _ in range(mutations):
        out = list(lines)
        i = rng.choice(usage)
        numbers = list(re.finditer(r"[\d,.]+k?(?= (?:sent|received|cache))", out[i]))
        if not numbers:
            continue
        m = rng.choice(numbers)
        bad = rng.choice(AIDER_BAD_NUMBERS)
        out[i] = out[i][: m.start()] + bad + out[i][m.end() :]
        path = tmp / "bad.chat.history.md"
        path.write_bytes("".join(out).encode("utf-8", "surrogateescape"))
        got, warnings, crash = scan_adapter("aider", path)
        stats.count("aider-number")
        if crash:
            stats.fail(f"{what}: {bad!r} crashed: {crash}")
            continue
        named = check_warnings(warnings, path, len(out), stats, what)
        lost = [r for r in signature(got) if r not in expected]
        if lost:
            stats.fail(f"{what}: number {bad!r} in line {i + 1} was summed: {lost[:2]}")
        if i + 1 not in named and len(signature(got)) != len(expected):
            stats.fail(f"{what}: bad number {bad!r} in line {i + 1} dropped silently")
    # anything: bytes and truncation anywhere
    data = seed.read_bytes()
    for _ in range(mutations):
        out_b = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            at = rng.randrange(len(out_b))
            out_b[at:at] = rng.choice([b"\xff", b"\x00", b"\r", b"\n> Tokens: ", b"-", b"9"])
        path = tmp / "any.chat.history.md"
        path.write_bytes(bytes(out_b[: rng.randrange(1, len(out_b) + 1)]))
        got, warnings, crash = scan_adapter("aider", path)
        stats.count("aider-any")
        if crash:
            stats.fail(f"{what}: random bytes crashed: {crash}")
        else:
            check_warnings(warnings, path, None, stats, what)
            if sane(got):
                stats.fail(f"{what}: negative or absurd counts summed: {sane(got)[:2]}")


# ------------------------------------------------------------------ SQLite adapters

LLM_SCHEMA = FIXTURES / "llm" / "simonw-llm__docs_logging_schema_responses.sql"
OPENCODE_SCHEMA = FIXTURES / "opencode" / "schema.sql"
# (SQLite stores NaN as NULL, i.e. "not logged", and turns '12' into 12 in an INTEGER
# column: neither is certainly invalid there)
BAD_CELLS: list[Any] = [
    -1,
    -(2**63),
    2**63 - 1,
    10**15,
    1e30,
    1.5,
    float("inf"),
    float("-inf"),
    "abc",
    b"\xff\x00",
    "",
    "NaN",
    "-5",
    "1e3x",
]
BAD_JSON: list[str] = [
    "{bad",
    '{"a":',
    "[" * DEEP + "]" * DEEP,
    "null",
    "[]",
    "NaN",
    "\x00",
    '{"cached_tokens": NaN}',
    '{"x": ' + "[" * DEEP + "]" * DEEP + "}",
]


def _llm_rows(rng: random.Random, n: int, bad: bool) -> list[tuple[Any, ...]]:
    rows = []
    for i in range(n):
        inp, out = rng.randint(1, 5000), rng.randint(1, 900)
        details = json.dumps({"prompt_tokens_details": {"cached_tokens": rng.randint(0, inp)}})
        if bad:
            which = rng.randrange(2)
            cell = rng.choice(BAD_CELLS)
            inp, out = (cell, out) if which == 0 else (inp, cell)
        rows.append(
            (
                f"{'bad' if bad else 'ok'}{i}",
                "gpt-4o-mini",
                f"c{i % 3}",
                f"2025-03-0{1 + i % 9}T10:00:00+00:00",
                inp,
                out,
                details,
            )
        )
    return rows


def _llm_db(path: Path, rows: list[tuple[Any, ...]]) -> None:
    path.unlink(missing_ok=True)
    with closing(sqlite3.connect(path)) as db:
        db.executescript(LLM_SCHEMA.read_text())
        db.executemany(
            "INSERT INTO responses (id, model, conversation_id, datetime_utc, "
            "input_tokens, output_tokens, token_details) VALUES (?,?,?,?,?,?,?)",
            rows,
        )
        db.commit()


def fuzz_llm(rng: random.Random, tmp: Path, stats: Stats, rounds: int) -> None:
    what = "llm logs.db"
    good = _llm_rows(rng, 12, bad=False)
    path = tmp / "logs.db"
    _llm_db(path, good)
    base, _, crash = scan_adapter("llm", path)
    expected = signature(base)
    if crash:
        stats.fail(f"{what}: intact crashed: {crash}")
        return
    for _ in range(rounds):
        bad = _llm_rows(rng, 4, bad=True)
        odd = [
            (
                f"json{i}",
                "gpt-4o-mini",
                "c9",
                "2025-03-01T10:00:00+00:00",
                5,
                5,
                rng.choice(BAD_JSON),
            )
            for i in range(3)
        ]
        _llm_db(path, good + bad + odd)
        got, warnings, crash = scan_adapter("llm", path)
        stats.count("llm-row", len(bad) + len(odd))
        if crash:
            stats.fail(f"{what}: corrupt rows crashed: {crash}")
            continue
        check_warnings(warnings, path, None, stats, what)
        mine = tuple(r for r in signature(got) if r[1] != "c9")
        if mine != expected:
            stats.fail(f"{what}: bad counts summed {_diff(expected, mine)} from {bad}")
        reported = {m[1] for w in warnings if (m := re.search(r":responses:([^:]+): ", w))}
        silent = [r[0] for r in bad if r[0] not in reported]
        if silent:
            stats.fail(f"{what}: bad rows not reported: {silent}")


def _opencode_message(rng: random.Random, bad: Any | None) -> dict[str, Any]:
    tokens: dict[str, Any] = {
        "input": rng.randint(1, 900),
        "output": rng.randint(1, 900),
        "reasoning": 0,
        "cache": {"read": rng.randint(0, 9000), "write": rng.randint(0, 500)},
    }
    cost: Any = round(rng.random() / 10, 4)
    if bad is not None:
        where = rng.randrange(4)
        if where == 0:
            tokens["input"] = bad
        elif where == 1:
            tokens["output"] = bad
        elif where == 2:
            tokens["cache"]["read"] = bad
        elif where == 3:
            tokens["reasoning"] = bad
    return {
        "role": "assistant",
        "time": {"created": 1763629200000 + rng.randrange(10**7)},
        "modelID": "claude-sonnet-4-5",
        "providerID": "anthropic",
        "path": {"cwd": "/p", "root": "/p"},
        "cost": cost,
        "tokens": tokens,
    }


def _opencode_db(path: Path, messages: list[tuple[str, str]]) -> None:
    path.unlink(missing_ok=True)
    with closing(sqlite3.connect(path)) as db:
        db.executescript(OPENCODE_SCHEMA.read_text())
        db.execute("INSERT INTO project VALUES ('prj', '/p', 0, 0)")
        db.execute(
            "INSERT INTO session (id, project_id, parent_id, slug, directory, title, "
            "version, time_created, time_updated) VALUES ('ses_A', 'prj', NULL, 's', "
            "'/p', 't', '1', 0, 0)"
        )
        db.executemany("INSERT INTO message VALUES (?, 'ses_A', 0, 0, ?)", messages)
        db.commit()


OPENCODE_BAD = [-1, -(10**9), 10**15, 2**64, 1.5, "12", [1], {"a": 1}, True]


def fuzz_opencode(rng: random.Random, tmp: Path, stats: Stats, rounds: int) -> None:
    what = "opencode.db"
    good = [(f"msg_ok{i}", json.dumps(_opencode_message(rng, None))) for i in range(8)]
    path = tmp / "opencode.db"
    _opencode_db(path, good)
    base, _, crash = scan_adapter("opencode", path)
    if crash:
        stats.fail(f"{what}: intact crashed: {crash}")
        return
    expected = signature(base)
    for _ in range(rounds):
        bad = []
        for i in range(4):
            value = rng.choice(OPENCODE_BAD)
            text = json.dumps(_opencode_message(rng, value))
            bad.append((f"msg_bad{i}", text))
        for i, raw in enumerate(["NaN", "Infinity", "-Infinity", "1e400", "-0.01"]):
            msg = _opencode_message(rng, None)
            text = json.dumps({**msg, "cost": "HOLE"}).replace('"HOLE"', raw)
            bad.append((f"msg_nan{i}", text))
        odd = [(f"msg_json{i}", rng.choice(BAD_JSON)) for i in range(3)]
        _opencode_db(path, good + bad + odd)
        got, warnings, crash = scan_adapter("opencode", path)
        stats.count("opencode-row", len(bad) + len(odd))
        if crash:
            stats.fail(f"{what}: corrupt rows crashed: {crash}")
            continue
        check_warnings(warnings, path, None, stats, what)
        if signature(got) != expected:
            stats.fail(f"{what}: bad rows summed {_diff(expected, signature(got))}")


# ------------------------------------------------------------------ the CLI


def cli_scan(agent: str, path: Path, env: dict[str, str]) -> tuple[int, str, str]:
    proc = subprocess.run(
        [sys.executable, "-m", "costlog", "scan", "--path", str(path), "--agent", agent, "--json"],
        capture_output=True,
        env=env,
        cwd=path.parent,
        timeout=600,
    )
    return (
        proc.returncode,
        proc.stdout.decode("utf-8", "replace"),
        proc.stderr.decode("utf-8", "replace"),
    )


def check_cli(agent: str, intact: Path, mutated: Path, env: dict[str, str], stats: Stats) -> None:
    what = f"cli scan --agent {agent} {mutated.name}"
    stats.cli_runs += 2
    code0, out0, err0 = cli_scan(agent, intact, env)
    code, out, err = cli_scan(agent, mutated, env)
    for c, e, label in ((code0, err0, "intact"), (code, err, "mutated")):
        if c != 0 or "Traceback" in e or "internal error" in e:
            stats.fail(f"{what} ({label}): exit {c}, stderr {e.strip()[-300:]!r}")
            return
    for line in err.splitlines():
        if not line.startswith("costlog: warning: "):
            stats.fail(f"{what}: stray stderr line {line[:200]!r}")
        elif not line.startswith("costlog: warning: ... and ") and not line.startswith(
            f"costlog: warning: {mutated}:"
        ):
            stats.fail(f"{what}: warning without file:line {line[:200]!r}")
    if json.loads(out)["totals"] != json.loads(out0)["totals"]:
        stats.fail(
            f"{what}: totals {json.loads(out)['totals']} != intact {json.loads(out0)['totals']}"
        )


def cli_env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLAUDE_", "CODEX_"))}
    env.update(
        HOME=str(tmp / "home"),
        XDG_CACHE_HOME=str(tmp / "cache"),
        COSTLOG_CACHE_DIR=str(tmp / "cache" / "costlog"),
        COSTLOG_SKIP="1",
        XDG_CONFIG_HOME=str(tmp / "config"),
        PYTHONPATH=str(ROOT),
    )
    env.pop("COSTLOG_DEBUG", None)
    return env


# ------------------------------------------------------------------ one big line


_CHILD = """
import json, re, sys, time
sys.path.insert(0, sys.argv[3])
from fuzz import scan_adapter, signature
start = time.perf_counter()
found, warnings, crash = scan_adapter(sys.argv[1], __import__("pathlib").Path(sys.argv[2]))
print(json.dumps({"sig": repr(signature(found)), "warnings": warnings, "crash": crash,
                  "seconds": time.perf_counter() - start,
                  # VmHWM, not ru_maxrss: Linux keeps the parent's maxrss across exec
                  "kib": int(re.search(r"VmHWM:\\s*(\\d+)",
                                       open("/proc/self/status").read())[1])}))
"""


def scan_child(agent: str, path: Path) -> dict[str, Any]:
    """Scan in a fresh process: its own time and peak memory (VmHWM, KiB)."""
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, agent, str(path), str(Path(__file__).resolve().parent)],
        capture_output=True,
        timeout=900,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    if proc.returncode != 0:
        return {
            "crash": proc.stderr.decode("utf-8", "replace")[-400:],
            "sig": "",
            "warnings": [],
            "seconds": 0.0,
            "kib": 0,
        }
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def big_line(agent: str, seed: Path, tmp: Path, megabytes: int, stats: Stats) -> tuple[float, int]:
    """A `megabytes` MB single line among intact lines: exact totals; (seconds, peak MiB
    of the scanning process over a scan of the intact file alone)."""
    intact = _lines(seed.read_bytes())
    base = scan_child(agent, _place(tmp, "big-intact", seed.name, b"".join(intact)))
    filler = (
        b'{"type":"user","message":{"role":"user","content":"' + b"A" * (megabytes << 20) + b'"}}\n'
    )
    (tmp / "big").mkdir(exist_ok=True)
    path = _write(tmp / "big" / seed.name, [*intact[:1], filler, *intact[1:]])
    del filler
    got = scan_child(agent, path)
    stats.count("big-line")
    if got["crash"]:
        stats.fail(f"{agent}: {megabytes} MB line crashed: {got['crash']}")
    elif got["sig"] != base["sig"]:
        stats.fail(
            f"{agent}: {megabytes} MB line changed totals: {got['sig'][:300]} != "
            f"{base['sig'][:300]}"
        )
    check_warnings(got["warnings"], path, len(intact) + 1, stats, f"{agent} big line")
    path.unlink()
    return got["seconds"], max(0, got["kib"] - base["kib"]) >> 10


def _write(path: Path, lines: list[bytes]) -> Path:
    with path.open("wb") as fh:
        for ln in lines:
            fh.write(ln)
    return path


BIG_SEEDS = {
    "claude-code": FIXTURES / "claude-code" / "harness-recall__claude_with_tools.jsonl",
    "codex": FIXTURES / "codex" / "real" / "harness-recall__codex_simple.jsonl",
    "gemini": FIXTURES / "gemini" / "real" / "gemini-cli__sdk_test-data_agent-resume-session.jsonl",
    "api": FIXTURES / "api" / "sessions.jsonl",
}


# ------------------------------------------------------------------ ledger / config


def _costlog(repo: Path, env: dict[str, str], *args: str) -> tuple[int, str, str]:
    proc = subprocess.run(
        [sys.executable, "-m", "costlog", *args],
        cwd=repo,
        env=env,
        capture_output=True,
        timeout=600,
    )
    return (
        proc.returncode,
        proc.stdout.decode("utf-8", "replace"),
        proc.stderr.decode("utf-8", "replace"),
    )


def make_repo(tmp: Path, env: dict[str, str]) -> Path:
    repo = tmp / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, check=True, env=env)
    code, _, err = _costlog(repo, env, "init")
    assert code == 0, err
    for i, (model, inp, out_t) in enumerate(
        [("claude-sonnet-4-5", 1200, 340), ("gpt-5", 5000, 800)]
    ):
        code, _, err = _costlog(
            repo,
            env,
            "record",
            "--model",
            model,
            "--agent",
            "manual",
            "--session",
            f"s{i}",
            "--input-tokens",
            str(inp),
            "--output-tokens",
            str(out_t),
            "--started",
            f"2026-11-0{i + 1}T10:00:00+00:00",
            "--no-stage",
        )
        assert code == 0, err
    return repo


Mutation = Callable[[str, random.Random], "str | bytes"]

#: config lines with a bad value (appended to the commented-out default config)
CONFIG_BAD = [
    "timezone: Mars/Olympus_Mons",
    "anomaly_factor: .nan",
    "anomaly_factor: -3",
    "session_log_limit: -5",
    "session_log_limit: 1e999",
    "idle_minutes: [1]",
    "budget: {monthly_usd: .inf}",
    "budget: {monthly_usd: -1}",
    "budget: 7",
    "work_item_patterns: ['(unclosed']",
    "ledger_dir: 42",
    "output: [a, b]",
    "reconcile_threshold_pct: NaN",
    "correction_factors: {claude: -1}",
    "estimate_factors: {x: .nan}",
    "rundir: {constitution_tokens: -1}",
    "diff_estimate: {cache_share: 7}",
    "guide_min_sessions: true",
    "unknown_key: 1",
    "budget: {opus_share_max: 2}",
]


def _yaml_mutations() -> list[tuple[str, Mutation]]:
    def truncate(t: str, rng: random.Random) -> str:
        return t[: rng.randrange(1, max(2, len(t) - 1))]

    def sub_value(pattern: str, values: list[str]) -> Mutation:
        def f(t: str, rng: random.Random) -> str:
            hits = list(re.finditer(pattern, t, re.M))
            if not hits:
                return t + rng.choice(CONFIG_BAD) + "\n"
            m = rng.choice(hits)
            return t[: m.start(1)] + rng.choice(values) + t[m.end(1) :]

        return f

    def dup_key(t: str, rng: random.Random) -> str:
        keys = [ln for ln in t.splitlines() if re.match(r"^[a-z_]+:", ln)]
        if not keys:
            return t + "timezone: UTC\ntimezone: Europe/Paris\n"
        return t + rng.choice(keys) + "\n"

    def tab(t: str, rng: random.Random) -> str:
        lines = t.splitlines(keepends=True)
        i = rng.randrange(len(lines))
        lines[i] = "\t" + lines[i]
        return "".join(lines)

    def deep(t: str, rng: random.Random) -> str:
        return t + "zz_deep: " + "[" * DEEP + "]" * DEEP + "\n"

    def deep_map(t: str, rng: random.Random) -> str:
        return t + "zz_deep: " + "{a: " * 3000 + "1" + "}" * 3000 + "\n"

    def deep_block(t: str, rng: random.Random) -> str:
        return t + "zz_deep:\n" + "".join(" " * i + "- \n" for i in range(0, 4000, 2))

    def bad_utf8(t: str, rng: random.Random) -> bytes:
        data = t.encode()
        at = rng.randrange(len(data))
        return data[:at] + b"\xff\xfe" + data[at:]

    def nul(t: str, rng: random.Random) -> bytes:
        data = t.encode()
        at = rng.randrange(len(data))
        return data[:at] + b"\x00" + data[at:]

    def long_line(t: str, rng: random.Random) -> str:
        return t + "zz_long: " + "x" * (5 << 20) + "\n"

    def alias_bomb(t: str, rng: random.Random) -> str:
        lines = ['a0: &a0 ["x","x","x","x","x","x","x","x","x"]']
        for i in range(1, 9):
            lines.append(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]")
        return t + "\n".join(lines) + "\n"

    turn = iter(range(10**9))

    def config_value(t: str, rng: random.Random) -> str:
        return t + CONFIG_BAD[next(turn) % len(CONFIG_BAD)] + "\n"  # each in turn

    nums = r"\b(?:input|output|cache_read|cache_write_5m|cache_write_1h|reasoning|requests)"
    return [
        ("truncate", truncate),
        (
            "bad-number",
            sub_value(
                rf"{nums}: ([^,}}\s]+)",
                [
                    "-5",
                    "1e30",
                    ".nan",
                    "NaN",
                    "abc",
                    "[1]",
                    "{a: 1}",
                    "true",
                    "99999999999999999999999",
                    "1.5",
                    "~",
                    "-.inf",
                    "0x10",
                    '"12"',
                ],
            ),
        ),
        (
            "bad-cost",
            sub_value(
                r"\bcost_usd: (\"[^\"]*\"|[^,}\s]+)",
                [
                    '"NaN"',
                    ".nan",
                    "-1",
                    '"-0.5"',
                    "abc",
                    '"Infinity"',
                    ".inf",
                    "[1]",
                    '"1e999999"',
                    '"1e-999999"',
                    '"sNaN"',
                    "1e400",
                ],
            ),
        ),
        (
            "bad-date",
            sub_value(
                r"^(?:started|ended): (.+)$",
                [
                    '"2026-13-45"',
                    "'not a date'",
                    '"2026-02-30T10:00:00Z"',
                    "99999",
                    "[]",
                    '"2026-11-01T25:61:00+00:00"',
                    "0000-00-00",
                    '"+275760-09-13T00:00:00Z"',
                    "~",
                    "2026-11-01",
                ],
            ),
        ),
        ("dup-key", dup_key),
        ("tab", tab),
        ("deep", deep),
        ("deep-map", deep_map),
        ("deep-block", deep_block),
        ("bad-utf8", bad_utf8),
        ("nul", nul),
        ("long-line", long_line),
        ("alias-bomb", alias_bomb),
        ("config-value", config_value),
        (
            "not-a-map",
            lambda t, rng: rng.choice(
                ["- 1\n- 2\n", "just text\n", "42\n", "~\n", "[1, 2\n", "{a: 1\n"]
            ),
        ),
    ]


def _costlog_inproc(repo: Path, env: dict[str, str], *args: str) -> tuple[int, str, str]:
    """The CLI in this process (fast, for tests): an exception escaping click is reported
    as a traceback, as the real entry point would print one."""
    import traceback

    from click.testing import CliRunner

    from costlog.cli import cli

    here = os.getcwd()
    os.chdir(repo)
    try:
        result = CliRunner().invoke(cli, list(args), env=env)
    finally:
        os.chdir(here)
    err = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        exc = result.exception
        err += "Traceback\n" + "".join(traceback.format_exception(exc))[-600:]
    return result.exit_code, result.stdout, err


def fuzz_loaders(
    tmp: Path,
    rng: random.Random,
    stats: Stats,
    rounds: int,
    *,
    inproc: bool = False,
    only: list[str] | None = None,
    targets: str = "both",
) -> None:
    """Mutated ledger and config files: check/report/render exit 3/1/1 with one
    `costlog: error: PATH:LINE: ...` line, no traceback, nothing overwritten."""
    env = cli_env(tmp)
    (tmp / "home").mkdir(exist_ok=True)
    for key, value in (
        ("GIT_AUTHOR_NAME", "Fuzz"),
        ("GIT_AUTHOR_EMAIL", "f@example.com"),
        ("GIT_COMMITTER_NAME", "Fuzz"),
        ("GIT_COMMITTER_EMAIL", "f@example.com"),
        ("GIT_CONFIG_NOSYSTEM", "1"),
    ):
        env[key] = value
    repo = make_repo(tmp, env)
    run_cli = _costlog_inproc if inproc else _costlog
    ledger_files = sorted((repo / ".costlog" / "sessions").rglob("*.yaml"))
    config = repo / ".costlog" / "config.yaml"
    files = {"both": [*ledger_files[:1], config], "config": [config], "ledger": ledger_files[:1]}[
        targets
    ]
    mutations = [m for m in _yaml_mutations() if only is None or m[0] in only]
    for i in range(rounds):
        target = files[i % len(files)] if only else rng.choice(files)
        name, mutate = (
            mutations[(i // len(files)) % len(mutations)] if only else rng.choice(mutations)
        )
        original = target.read_bytes()
        mutated = mutate(original.decode(), rng)
        target.write_bytes(mutated if isinstance(mutated, bytes) else mutated.encode())
        snapshot = {p: p.read_bytes() for p in [*ledger_files, repo / "COST_LOG.md"] if p != target}
        rel = target.relative_to(repo)
        valid = False
        for command in (["render"], ["check"], ["report", "--json"]):
            code, _, err = run_cli(repo, env, *command)
            stats.count(f"loader-{name}")
            stats.cli_runs += 1
            what = f"{' '.join(command)} with {name} {rel}"
            lines = err.splitlines()
            if "Traceback" in err or "internal error" in err:
                stats.fail(f"{what}: {err.strip()[-600:]!r}")
            elif command == ["render"] and code == 0:
                valid = True  # the mutation left a valid file (a tab inside a comment...)
                (repo / "COST_LOG.md").write_bytes(snapshot[repo / "COST_LOG.md"])
            elif valid and code in (0, 3):
                pass  # valid but different: check may call COST_LOG.md stale
            elif code != (3 if command == ["check"] and target != config else 1):
                # check: 3 for an invalid ledger; a broken config is an error (1) everywhere
                stats.fail(f"{what}: exit {code}: {err.strip()[-300:]!r}")
            elif len(lines) != 1 or not lines[0].startswith("costlog: error: "):
                stats.fail(f"{what}: stderr is not one error line: {err[:300]!r}")
            elif not re.search(rf"{re.escape(str(rel))}(:\d+)?: ", lines[0]):
                stats.fail(f"{what}: error does not name the file: {lines[0][:300]!r}")
            for p, before in snapshot.items():
                if p.read_bytes() != before:
                    stats.fail(f"{what}: {p.relative_to(repo)} was overwritten")
                    p.write_bytes(before)
        target.write_bytes(original)


# ------------------------------------------------------------------ main


def run(
    seed: int,
    rounds: int,
    *,
    mutations: int = 12,
    big_mb: int = 0,
    cli: int = 0,
    loaders: int = 0,
    tmp: Path | None = None,
    seeds: list[Seed] | None = None,
) -> Stats:
    rng = random.Random(seed)
    stats = Stats()
    with tempfile.TemporaryDirectory(prefix="costlog-fuzz-") as scratch:
        base = tmp or Path(scratch)
        os.environ.setdefault("COSTLOG_CACHE_DIR", str(base / "cache"))
        pool = seeds if seeds is not None else jsonl_seeds()
        cli_pairs: list[tuple[str, Path, Path]] = []
        for r in range(rounds):
            for s in pool:
                work = base / f"r{r}" / s.agent / str(pool.index(s))
                work.mkdir(parents=True, exist_ok=True)
                made = fuzz_file(s, rng, work, stats, mutations=mutations)
                if made is not None:
                    cli_pairs.append((s.agent, made.parent.parent / "intact" / made.name, made))
        fuzz_aider_history(rng, base, stats, mutations * rounds)
        fuzz_whole_files(rng, base, stats, mutations * rounds)
        fuzz_llm(rng, base, stats, rounds * 3)
        fuzz_opencode(rng, base, stats, rounds * 3)
        if cli:
            env = cli_env(base)
            by_agent: dict[str, list[tuple[str, Path, Path]]] = {}
            for pair in cli_pairs:
                by_agent.setdefault(pair[0], []).append(pair)
            for pairs in by_agent.values():
                for agent, intact, mutated in rng.sample(pairs, min(cli, len(pairs))):
                    check_cli(agent, intact, mutated, env, stats)
        if big_mb:
            for agent, path in BIG_SEEDS.items():
                took, peak = big_line(agent, path, base, big_mb, stats)
                stats.kinds[f"big-{agent}-s"] = round(took, 1)  # type: ignore[assignment]
                stats.kinds[f"big-{agent}-MiB"] = peak
        if loaders:
            loader_tmp = base / "loaders"
            loader_tmp.mkdir()
            fuzz_loaders(loader_tmp, rng, stats, loaders)
    return stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=20, help="passes over every seed file")
    parser.add_argument("--mutations", type=int, default=25, help="bad lines per file")
    parser.add_argument("--big-mb", type=int, default=100, help="size of the single line")
    parser.add_argument("--cli", type=int, default=6, help="CLI runs per adapter")
    parser.add_argument("--loaders", type=int, default=120, help="ledger/config mutations")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    start = time.perf_counter()
    stats = run(
        args.seed,
        args.rounds,
        mutations=args.mutations,
        big_mb=args.big_mb,
        cli=args.cli,
        loaders=args.loaders,
    )
    took = time.perf_counter() - start
    if stats.failures:
        for failure in sorted(set(stats.failures))[:40]:
            print(failure, file=sys.stderr)
        sys.exit(
            f"FAIL: {len(stats.failures)} broken properties in {stats.tried:,} mutations "
            f"({took:.0f}s, seed {args.seed})"
        )
    print(
        f"ok: {stats.tried:,} mutations over {stats.files} files, {stats.cli_runs} CLI runs, "
        f"{stats.warnings:,} warnings, 0 tracebacks ({took:.0f}s, seed {args.seed}); "
        f"{json.dumps(stats.kinds, sort_keys=True)}"
    )


if __name__ == "__main__":
    main()
