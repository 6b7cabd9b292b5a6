"""Bad-input fuzzing (issue 7), the fast seeded version; `stress/fuzz.py` runs the long one.

The engine lives in stress/fuzz.py. Seeds are the real-format fixtures; each mutated line is
certainly invalid (truncated, a count the adapter reads made negative / huge / NaN / a
string / deep nesting, invalid UTF-8 or NUL in a number), so intact + mutated lines must scan
to exactly the intact lines' totals, with one `file:line:` warning per bad usage line and no
traceback. The ledger and config loaders get truncation, bad numbers, dates and costs,
duplicate keys, tabs, deep nesting, alias bombs, invalid UTF-8 and a 5 MB line.
"""

from __future__ import annotations

import importlib.util
import json
import random
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from costlog.sources import _lines, _usage, api_jsonl
from tests_support import REPO_ROOT

pytestmark = pytest.mark.slow

ROOT = REPO_ROOT
SEED = 7


def _engine() -> ModuleType:
    spec = importlib.util.spec_from_file_location("costlog_fuzz", ROOT / "stress" / "fuzz.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["costlog_fuzz"] = module
    spec.loader.exec_module(module)
    return module


fuzz = _engine()
#: seed files per adapter in the fast run (the stress run takes them all, many times)
PER_AGENT = {"claude-code": 8, "codex": 8, "gemini": 4, "api": 9, "aider": 1}


def _seeds(agent: str) -> list[Any]:
    pool = [s for s in fuzz.jsonl_seeds() if s.agent == agent]
    assert pool, f"no fixtures for {agent}"
    return random.Random(SEED).sample(pool, min(PER_AGENT[agent], len(pool)))


def _ok(stats: Any) -> None:
    assert not stats.failures, "\n".join(sorted(set(stats.failures))[:10])
    assert stats.tried > 0


@pytest.fixture()
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("COSTLOG_CACHE_DIR", str(tmp_path / "cache"))
    yield tmp_path


@pytest.mark.parametrize("agent", sorted(PER_AGENT))
def test_invalid_lines_leave_the_intact_totals_exact(agent: str, work: Path) -> None:
    stats = fuzz.Stats()
    rng = random.Random(f"{SEED}-{agent}")
    for i, seed in enumerate(_seeds(agent)):
        fuzz.fuzz_file(seed, rng, work / str(i), stats, mutations=20)
    _ok(stats)
    assert stats.kinds.get("invalid-line", 0) >= 10  # the mutations really happened
    assert stats.warnings > 0


def test_aider_history_numbers(work: Path) -> None:
    stats = fuzz.Stats()
    fuzz.fuzz_aider_history(random.Random(SEED), work, stats, 40)
    _ok(stats)


def test_sqlite_rows_llm_and_opencode(work: Path) -> None:
    stats = fuzz.Stats()
    rng = random.Random(SEED)
    fuzz.fuzz_llm(rng, work, stats, 6)
    fuzz.fuzz_opencode(rng, work, stats, 6)
    _ok(stats)


def test_cli_scan_one_mutated_file_per_adapter(work: Path) -> None:
    """Through `python -m costlog scan --json`: exit 0, only one-line `file:line:` warnings
    on stderr, the intact file's totals."""
    stats = fuzz.Stats()
    rng = random.Random(SEED)
    env = fuzz.cli_env(work)
    for agent in sorted(PER_AGENT):
        seed = _seeds(agent)[0]
        made = fuzz.fuzz_file(seed, rng, work / agent, stats, mutations=25)
        assert made is not None
        fuzz.check_cli(agent, made.parent.parent / "intact" / made.name, made, env, stats)
    _ok(stats)
    assert stats.cli_runs == 2 * len(PER_AGENT)


@pytest.mark.parametrize("agent", sorted(fuzz.BIG_SEEDS))
def test_a_2mb_single_line(agent: str, work: Path) -> None:
    stats = fuzz.Stats()
    seconds, _ = fuzz.big_line(agent, fuzz.BIG_SEEDS[agent], work, 2, stats)
    _ok(stats)
    assert seconds < 10


@pytest.mark.parametrize("agent", sorted(fuzz.BIG_SEEDS))
def test_line_limit_bounds_memory(agent: str, work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A line past the adapter's MAX_LINE is skipped unread (memory stays at about one
    MAX_LINE whatever the line's size) with one warning naming it; counts stay exact."""
    monkeypatch.setattr(_lines, "MAX_LINE", 1 << 20)
    seed = fuzz.BIG_SEEDS[agent]
    intact = fuzz._lines(seed.read_bytes())
    base, _, _ = fuzz.scan_adapter(agent, fuzz._place(work, "a", seed.name, b"".join(intact)))
    filler = b'{"type":"user","message":{"content":"' + b"A" * (2 << 20) + b'"}}\n'
    path = fuzz._place(work, "b", seed.name, b"".join([intact[0], filler, *intact[1:]]))
    got, warnings, crash = fuzz.scan_adapter(agent, path)
    assert crash is None
    assert fuzz.signature(got) == fuzz.signature(base)
    assert [w for w in warnings if "too long" in w] == [
        f"{path}:2: line of {len(filler):,} bytes is too long to hold usage, skipped"
    ]


def test_ledger_and_config_loaders(work: Path) -> None:
    """Every mutation kind on a ledger file and on the config, through render, check and
    report --json (in process): one `costlog: error: PATH[:LINE]: ...` line, exit 1 (check
    3 for the ledger), no traceback, no other file overwritten."""
    stats = fuzz.Stats()
    kinds = [name for name, _ in fuzz._yaml_mutations()]
    fuzz.fuzz_loaders(work, random.Random(SEED), stats, 2 * len(kinds), inproc=True, only=kinds)
    _ok(stats)
    assert stats.cli_runs == 3 * 2 * len(kinds)


def test_every_bad_config_value(work: Path) -> None:
    stats = fuzz.Stats()
    rounds = len(fuzz.CONFIG_BAD)
    fuzz.fuzz_loaders(
        work,
        random.Random(SEED),
        stats,
        rounds,
        inproc=True,
        only=["config-value"],
        targets="config",
    )
    _ok(stats)
    assert stats.cli_runs == 3 * rounds


# ---------------------------------------------------------------- the checks can fail


def test_a_config_error_not_naming_the_file_is_caught(
    work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from costlog import config

    monkeypatch.setattr(config, "_check_zone", lambda name: None)  # as before the fix
    monkeypatch.setattr(fuzz, "CONFIG_BAD", ["timezone: Mars/Olympus_Mons"])
    stats = fuzz.Stats()
    fuzz.fuzz_loaders(
        work, random.Random(SEED), stats, 1, inproc=True, only=["config-value"], targets="config"
    )
    assert any("does not name the file" in f for f in stats.failures)


def test_an_adapter_summing_absurd_counts_is_caught(
    work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_usage, "MAX_TOKENS", 10**40)
    monkeypatch.setattr(fuzz, "BAD_COUNTS", [b"18446744073709551616"])
    stats = fuzz.Stats()
    seed = next(s for s in fuzz.jsonl_seeds() if s.path.name == "openai_chat.jsonl")
    fuzz.fuzz_file(seed, random.Random(SEED), work, stats, mutations=20)
    assert any("totals changed by invalid lines" in f for f in stats.failures)


def test_a_crash_on_deep_nesting_is_caught(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    class Deep(Exception):  # stands for the RecursionError api_jsonl used to let through
        pass

    class Shim:
        JSONDecodeError = json.JSONDecodeError

        @staticmethod
        def loads(text: str | bytes) -> Any:
            if "[[[[[[[[" in (text if isinstance(text, str) else text.decode("utf-8", "replace")):
                raise Deep("maximum recursion depth exceeded")
            return json.loads(text)

    monkeypatch.setattr(_lines, "json", Shim)
    stats = fuzz.Stats()
    seed = next(s for s in fuzz.jsonl_seeds() if s.path.name == "openai_chat.jsonl")
    fuzz.fuzz_file(seed, random.Random(SEED), work, stats, mutations=30)
    assert any("crashed the adapter: Deep" in f for f in stats.failures)


def test_a_silently_dropped_bad_line_is_caught(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = api_jsonl.read_file

    def quiet(path: Path, warn: Any) -> Any:
        return real(path, lambda _: None)

    monkeypatch.setattr(api_jsonl, "read_file", quiet)
    stats = fuzz.Stats()
    seed = next(s for s in fuzz.jsonl_seeds() if s.path.name == "openai_chat.jsonl")
    fuzz.fuzz_file(seed, random.Random(SEED), work, stats, mutations=10)
    assert any("invalid lines not reported" in f for f in stats.failures)


def test_one_absurd_limit_for_every_adapter() -> None:
    """20M tokens in one request is a corrupt number in every format (it was 20M, 50M and
    100M), defined once in `costlog.sources._usage`; the fuzzing throws 20,000,001 at each
    count field."""
    assert _usage.MAX_TOKENS == fuzz.ABSURD == 20_000_000
    assert b"20000001" in fuzz.BAD_COUNTS


# ---------------------------------------------------------------- what the fuzzing found
# One example per bug fixed, so each stays fixed even where the random run misses it.

DEEP = b"[" * 10_000 + b"]" * 10_000


def _scan(agent: str, path: Path) -> tuple[list[Any], list[str]]:
    found, warnings, crash = fuzz.scan_adapter(agent, path)
    assert crash is None, crash
    return found, warnings


def _requests(found: list[Any]) -> list[tuple[str, tuple[int, ...], Any]]:
    return [
        (r.model, tuple(r.usage.as_dict().values()), r.logged_cost_usd)
        for s in found
        for r in s.requests
    ]


def _claude_line(usage: str, mid: str = "msg_1", extra: str = "") -> bytes:
    return (
        f'{{"type":"assistant","sessionId":"S","requestId":"req_{mid}",'
        f'"timestamp":"2026-01-01T00:00:00Z"{extra},"message":{{"id":"{mid}",'
        f'"model":"claude-sonnet-4-5","stop_reason":"end_turn",'
        f'"content":[{{"type":"text","text":"hi"}}],"usage":{usage}}}}}\n'
    ).encode()


def test_found_claude_code(work: Path) -> None:
    ok = _claude_line('{"input_tokens":10,"output_tokens":5}')
    path = work / "S.jsonl"
    path.write_bytes(
        ok
        + _claude_line('{"input_tokens":' + DEEP.decode() + "}", "msg_2")
        + _claude_line('{"input_tokens":1,"output_tokens":2}', "msg_3", ',"costUSD":Infinity')
        + _claude_line(
            '{"input_tokens":1,"output_tokens":2,"cache_read_input_tokens":false}', "msg_4"
        )
        + ok.replace(b'"text":"hi"', b'"text":1.5')
        + ok.replace(
            b'{"type":"text","text":"hi"}', b'{"type":"tool_use","name":{"a":1},"input":{}}'
        )
    )
    found, warnings = _scan("claude-code", path)
    assert _requests(found) == [
        ("claude-sonnet-4-5", (10, 5, 0, 0, 0, 0), None),
        ("claude-sonnet-4-5", (1, 2, 0, 0, 0, 0), None),
    ]  # not inf
    assert [w.split(": ", 1)[0] for w in warnings] == [f"{path}:2", f"{path}:4"]


def test_found_api_jsonl(work: Path) -> None:
    path = work / "s.jsonl"
    start = b'{"input_tokens":17,"output_tokens":1,"service_tier":"standard"}\n'
    path.write_bytes(
        b"\xef\xbb\xbf" + b'{"id":"a","model":"gpt-4o","usage":{"prompt_tokens":3,'
        b'"completion_tokens":1}}\n'
        + b'{"x":"a\rb"}\n'
        + DEEP
        + b"\n"
        + start
        + b'{"input_tokens":17,"output_tokens":-1}\n'
        + b'{"input_tokens":17,"output_tokens":10}\n'
        + b'{"type":"message_start","message":{"id":"m","model":"claude-haiku-4-5",'
        b'"usage":{"input_tokens":5,"output_tokens":1}}}\n'
        + b'{"type":"message_delta","usage":{"output_tokens":"9"}}\n'
        + b'{"type":"message_delta","usage":{"output_tokens":7}}\n'
    )
    found, warnings = _scan("api", path)
    assert sorted(_requests(found)) == [
        ("claude-haiku-4-5", (5, 7, 0, 0, 0, 0), None),
        ("gpt-4o", (3, 1, 0, 0, 0, 0), None),
        ("unknown", (17, 10, 0, 0, 0, 0), None),
    ]
    # the BOM is no line 1 problem; the CR inside line 2 ends no line
    assert [w.split(": ", 1)[0] for w in warnings] == [f"{path}:{n}" for n in (2, 3, 5, 8)]


def test_found_codex(work: Path) -> None:
    seed = (
        ROOT / "tests/fixtures/codex/home/archived_sessions/2026/03/05/"
        "rollout-2026-03-05T09-00-00-019a0001-aaaa-7aaa-8aaa-aaaaaaaaaaaa.jsonl"
    )
    intact = seed.read_bytes()
    base, _ = _scan("codex", fuzz._place(work, "a", seed.name, intact))
    bad = intact.replace(b'"name":"apply_patch"', b'"name":["apply_patch"]')
    found, warnings = _scan("codex", fuzz._place(work, "b", seed.name, b"null\n" + bad))
    assert _requests(found) == _requests(base) and _requests(found)
    assert warnings[0].endswith(":1: not a JSON object, skipped")


def test_found_codex_running_totals(work: Path) -> None:
    """Rows with only running totals: an implausible jump is not counted and does not
    become the base of the next step (which then looked like a restart: all re-counted)."""

    def event(inp: int, out: int) -> str:
        usage = json.dumps({"input_tokens": inp, "output_tokens": out})
        return (
            '{"timestamp":"2026-03-05T09:00:01Z","type":"event_msg","payload":{"type":'
            '"token_count","info":{"total_token_usage":' + usage + "}}}\n"
        )

    path = work / "rollout-2026-03-05T09-00-00-019a0009-aaaa-7aaa-8aaa-aaaaaaaaaaaa.jsonl"
    path.write_text(
        '{"timestamp":"2026-03-05T09:00:00Z","type":"session_meta","payload":{'
        '"id":"019a0009-aaaa-7aaa-8aaa-aaaaaaaaaaaa","cwd":"/w"}}\n'
        '{"timestamp":"2026-03-05T09:00:00Z","type":"turn_context","payload":{'
        '"model":"gpt-5"}}\n'
        + event(100, 10)
        + event(1_000_000_000, 20)
        + event(300, 30)
        + event(5, 1)
        + event(25_000_000, 2)
    )
    found, warnings = _scan("codex", path)
    assert _requests(found) == [
        ("gpt-5", (100, 10, 0, 0, 0, 0), None),
        ("gpt-5", (200, 20, 0, 0, 0, 0), None),
        ("gpt-5", (5, 1, 0, 0, 0, 0), None),
    ]  # a restart
    assert [w.split(": ", 1)[0] for w in warnings] == [f"{path}:4", f"{path}:7"]


def test_found_gemini(work: Path) -> None:
    seed = (
        ROOT / "tests/fixtures/gemini/home/.gemini/tmp/proj/chats/"
        "session-2026-08-21T10-00-aaaa1111.jsonl"
    )
    lines = fuzz._lines(seed.read_bytes())
    base, _ = _scan("gemini", fuzz._place(work, "a", seed.name, b"".join(lines)))
    m3 = next(ln for ln in lines if b'"id":"m3"' in ln)
    corrupt = m3.replace(b'"input":12000', b'"input":-1').replace(b'"write_file"', b"[1]")
    found, warnings = _scan(
        "gemini", fuzz._place(work, "b", seed.name, b"".join([*lines, corrupt]))
    )
    assert _requests(found) == _requests(base)  # the corrupt update did not erase m3
    assert any(
        w.startswith(f"{work}/b/{seed.name}:{len(lines) + 1}: invalid tokens.input")
        for w in warnings
    )


def test_found_aider(work: Path) -> None:
    history = work / ".aider.chat.history.md"
    history.write_text(
        "# aider chat started at 2025-01-01 10:00:95\n\n> Tokens: 1,000 sent, 50 received.\n"
    )
    found, warnings = _scan("aider", history)
    assert _requests(found) == [("unknown", (1000, 50, 0, 0, 0, 0), None)]
    assert warnings == [
        f"{history}:1: not a real time in the session header (2025-01-01 10:00:95), session undated"
    ]
    analytics = work / "analytics.jsonl"
    analytics.write_text(
        '{"event":"message_send","time":1e300,"properties":{"main_model":'
        '"gpt-4o","prompt_tokens":5,"completion_tokens":1,"cost":0.1}}\n'
    )
    _scan("aider", analytics)


def test_found_llm_and_opencode(work: Path) -> None:
    db = work / "logs.db"
    fuzz._llm_db(db, [("r1", "gpt-4o", "c", "2025-01-01T00:00:00", 5, 1, "[" * 5000 + "]" * 5000)])
    found, warnings = _scan("llm", db)
    assert _requests(found) == [("gpt-4o", (5, 1, 0, 0, 0, 0), None)]
    assert warnings == [f"{db}:responses:r1: bad token_details JSON; counted without a cache split"]
    oc = work / "opencode.db"
    message = fuzz._opencode_message(random.Random(1), None)
    fuzz._opencode_db(
        oc,
        [
            (f"msg_{i}", json.dumps({**message, "cost": "HOLE"}).replace('"HOLE"', raw))
            for i, raw in enumerate(["NaN", "Infinity", "1e400"])
        ],
    )
    found, warnings = _scan("opencode", oc)
    assert _requests(found) == []
    assert len(warnings) == 3 and all("cost is not a finite number" in w for w in warnings)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            'a: &a ["x","x","x","x","x","x","x","x","x"]\n'
            + "".join(
                f"b{i}: &b{i} [{', '.join([f'*b{i - 1}' if i else '*a'] * 9)}]\n" for i in range(9)
            ),
            "F: not a ledger or config file: aliases expand to more than 1,000,000 values",
        ),
        ("a: 1\nb: " + "[" * 5000 + "]" * 5000 + "\n", "F:2: not valid YAML: nested too deep"),
        ("a: 1\nb: 0000-00-00\n", "F:2: not a valid date (year 0 is out of range)"),
        ("a: [1]\nb: 2026-02-30\n", "F:2: not a valid date (day is out of range for month)"),
    ],
)
def test_found_yaml_reader(text: str, message: str) -> None:
    from costlog import yamlfile
    from costlog.errors import LedgerError

    with pytest.raises(LedgerError) as caught:
        yamlfile.load_text(text, path="F")
    assert caught.value.one_line() == message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (b"timezone: Mars\n", ".costlog/config.yaml:1: `timezone`: unknown time zone 'Mars'"),
        (b"# zone\ntimezone:\n", ".costlog/config.yaml:2: `timezone` has no value"),
        (b"a: 1\n\xff\n", ".costlog/config.yaml:2: not UTF-8 text (invalid start byte at byte 5)"),
        (
            b"# x\nwork_item_patterns: ['(']\n",
            ".costlog/config.yaml:2: `work_item_patterns`: not a valid regular expression '('",
        ),
        (
            b"guide_min_sessions: true\n",
            ".costlog/config.yaml:1: `guide_min_sessions` must be a whole number >= 0, not True",
        ),
        (
            b"\nsession_log_limit: -5\n",
            ".costlog/config.yaml:2: `session_log_limit` must be a whole number >= 0, not -5",
        ),
        (
            b"budget: {monthly_usd: .inf}\n",
            ".costlog/config.yaml:1: `budget.monthly_usd` must be a number >= 0, not 'inf'",
        ),
    ],
)
def test_found_config_loader(tmp_path: Path, text: bytes, message: str) -> None:
    from costlog import config
    from costlog.errors import ConfigError

    (tmp_path / ".costlog").mkdir()
    (tmp_path / ".costlog" / "config.yaml").write_bytes(text)
    with pytest.raises(ConfigError) as caught:
        config.load(tmp_path)
    assert caught.value.one_line().startswith(message)
