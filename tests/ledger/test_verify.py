"""`costlog check` verifies the money (issue 10): a cost lowered by hand in a ledger file
and rendered again is caught, naming the file and the line of the cost; absurd token counts
are refused at load; and every kind of entry costlog itself writes passes.

Prices used (bundled table, $/MTok): claude-opus-4-6 input 5, output 25, cache read 0.5,
5-minute write 6.25 (>200k tier: 10 / 37.5 / 1 / 12.5); claude-sonnet-4-5 input 3,
output 15, cache read 0.3, 5-minute write 3.75 (>200k tier: 6 / 22.5 / 0.6 / 7.5);
gpt-5.6-sol 5 / 30 from 2026-07-09, cut to 4 / 20 on 2026-08-21.
"""

from __future__ import annotations

import json
import re
import shutil
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from agent_logs import SESSION, transcript

from costlog import config as config_mod
from costlog import gitrepo as repo_mod
from costlog.ledger.methods import AGENT_LOGGED
from costlog.ledger.store import Ledger
from costlog.models import Entry, ModelUsage, Usage
from costlog.pricing.table import PriceTable
from tests_support import FIXTURES_DIR, git, run

FIXTURES = FIXTURES_DIR
LEDGER_FILE = f".costlog/sessions/claude-code/{SESSION}.yaml"


def record_transcript(
    repo: Path, tmp_path: Path, model: str, prompts: list[int], **kwargs: object
) -> str:
    path = tmp_path / f"{kwargs.get('session', SESSION)}.jsonl"
    path.write_text(transcript(repo, model, prompts, **kwargs))  # type: ignore[arg-type]
    return run("record", "--transcript", str(path))


def line_of(path: Path, pattern: str) -> int:
    lines = path.read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if re.search(pattern, line))


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, text
    path.write_text(text.replace(old, new))


def stored_cost(path: Path, model: str | None = None) -> str:
    text = path.read_text()
    if model is None:
        found = re.search(r'^cost_usd: "([0-9.]+)"', text, re.MULTILINE)
    else:
        found = re.search(rf'^  {re.escape(model)}: .*cost_usd: "([0-9.]+)"', text, re.MULTILINE)
    assert found, text
    return found.group(1)


# ---------------------------------------------------------------- forged costs


def test_a_total_lowered_by_hand_fails_check_at_its_line(repo: Path, tmp_path: Path) -> None:
    record_transcript(repo, tmp_path, "claude-opus-4-6", [150_000] * 12)
    entry = repo / LEDGER_FILE
    assert run("check").startswith("ok:")
    total = stored_cost(entry)
    assert Decimal(total) > 10  # 12 x (100 x 5 + 20k x 6.25 + 150k x 0.5 + 40k x 25) / 1M

    edit(entry, f'\ncost_usd: "{total}"', '\ncost_usd: "0.010000"')  # the total only
    run("render")  # COST_LOG.md now agrees with the forged ledger ...
    out = run("check", code=3)  # ... and check still refuses it
    line = line_of(entry, r"^cost_usd:")
    assert (
        f"{LEDGER_FILE}:{line}: cost_usd $0.010000 is not the sum of its models' costs "
        f"(${total})" in out
    )


def test_a_model_cost_lowered_with_its_total_fails_at_the_model_line(
    repo: Path, tmp_path: Path
) -> None:
    record_transcript(repo, tmp_path, "claude-opus-4-6", [150_000] * 12)
    entry = repo / LEDGER_FILE
    cost = stored_cost(entry, "claude-opus-4-6")
    edit(entry, f'cost_usd: "{cost}"', 'cost_usd: "0.010000"')  # the model line and the total
    assert stored_cost(entry) == "0.010000"
    run("render")
    out = run("check", code=3)
    line = line_of(entry, r"^  claude-opus-4-6:")
    assert (
        f"{LEDGER_FILE}:{line}: claude-opus-4-6 costs $0.010000, but its tokens cost "
        f"${cost} at the prices of table {PriceTable.load().version}" in out
    )


def test_tokens_raised_under_a_kept_cost_fail_too(repo: Path, tmp_path: Path) -> None:
    """The cost is pinned to the tokens both ways: inflating usage is caught as well."""
    record_transcript(repo, tmp_path, "claude-opus-4-6", [150_000] * 12)
    entry = repo / LEDGER_FILE
    edit(entry, "output: 480000", "output: 4800000")
    run("render")
    assert "claude-opus-4-6 costs" in run("check", code=3)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (10**71, "`output` is absurdly large (1e+71; at most 1e+12 per entry)"),
        (-5, "`output` must be a whole number >= 0, not -5"),
    ],
)
def test_absurd_token_counts_are_refused_at_load(
    repo: Path, tmp_path: Path, value: int, message: str
) -> None:
    record_transcript(repo, tmp_path, "claude-opus-4-6", [150_000] * 12)
    entry = repo / LEDGER_FILE
    edit(entry, "output: 480000", f"output: {value}")
    line = line_of(entry, r"^  claude-opus-4-6:")
    where = f"{LEDGER_FILE}:{line}: field `claude-opus-4-6`: {message}"
    assert where in run("render", code=1)
    assert where in run("check", code=3)


def test_a_guide_estimate_is_checked_against_its_rates(repo: Path) -> None:
    run("record", "--model", "claude-sonnet-4-6", "--task-types", "2 docs", "--notes", "x")
    (entry,) = (repo / ".costlog/sessions/manual").iterdir()
    assert "estimation guide: 2 x docs @ $" in entry.read_text()
    assert run("check").startswith("ok:")
    edit(entry, f'cost_usd: "{stored_cost(entry)}"', 'cost_usd: "0.000100"')
    run("render")
    assert "is not what its estimation-guide rates give" in run("check", code=3)


# ---------------------------------------------------------------- forged methods (F4)
# A genuine Claude Code session (the real transcript format), its cost lowered to about
# nothing, COST_LOG.md rendered again: what `methods` says must not excuse it.


def genuine_entry(repo: Path, tmp_path: Path) -> Path:
    """claude-sonnet-4-6, one request: 100 x 3 + 1,200 x 15 + 2,000 x 0.3 + 20,000 x 3.75
    per million = $0.093900."""
    record_transcript(repo, tmp_path, "claude-sonnet-4-6", [2000], output=1200)
    entry = repo / LEDGER_FILE
    assert stored_cost(entry) == "0.093900"
    assert "methods" not in entry.read_text()
    assert run("check").startswith("ok:")
    return entry


def forge(entry: Path, methods: str, cost: str = "0.000001", source: str = "actual") -> None:
    """The model's cost and the total lowered to `cost`, `methods` added, `source` set."""
    edit(entry, f'cost_usd: "{stored_cost(entry)}"', f'cost_usd: "{cost}"')
    edit(entry, "\nsource: actual\n", f"\nsource: {source}\nmethods: {methods}\n")
    edit(entry, "source: actual}", f"source: {source}}}")
    run("render")


@pytest.mark.parametrize(
    ("methods", "at"),
    [
        ('{cost: "entered by hand"}', r"^methods:"),
        ("\n  cost: entered by hand", r"^  cost: entered by hand"),  # a block, edited by hand
    ],
)
def test_forgery_a_a_hand_cost_on_a_session_read_from_its_log_fails(
    repo: Path, tmp_path: Path, methods: str, at: str
) -> None:
    entry = genuine_entry(repo, tmp_path)
    forge(entry, methods)
    out = run("check", code=3)
    assert (
        f"{LEDGER_FILE}:{line_of(entry, at)}: methods.cost 'entered by hand' is what costlog "
        "writes for a cost typed by hand (source manual), not for an entry of agent "
        "claude-code with source actual" in out
    )


def test_forgery_b_guide_rates_are_taken_from_the_guide_never_from_the_method(
    repo: Path, tmp_path: Path
) -> None:
    entry = genuine_entry(repo, tmp_path)
    text = entry.read_text()
    forge(entry, '{cost: "estimation guide: 1 x code @ $0.000001"}')
    out = run("check", code=3)
    assert f"{LEDGER_FILE}:{line_of(entry, r'^methods:')}: methods.cost 'estimation guide: " in out
    assert "an estimate from the estimation guide (source manual), not for an entry" in out

    # relabelled manual too, with a rate in the method's own format: not the guide's rate
    # for claude-sonnet-4-6 (its seed row `*` is $0.01-0.03 per task: $0.0200). An honest
    # entry's measured rate can stop matching once older sessions are recorded again, so
    # this is a note naming the line, shown on every check, not a failure
    entry.write_text(text)
    forge(entry, '{cost: "estimation guide: 1 x * @ $0.0001"}', "0.000100", "manual")
    out = run("check")
    assert (
        f"note: {LEDGER_FILE}:{line_of(entry, r'^methods:')}: methods.cost 'estimation guide: "
        "1 x * @ $0.0001': these are not the estimation guide's rates for "
        "claude-sonnet-4-6" in out
    )
    # the guide's own rate, but for tasks the entry does not record
    entry.write_text(text)
    forge(entry, '{cost: "estimation guide: 1 x docs @ $0.0075"}', "0.007500", "manual")
    out = run("check", code=3)
    assert (
        f"{LEDGER_FILE}:{line_of(entry, r'^methods:')}: methods.cost prices 1 x docs, but "
        "the entry records 1 x *" in out
    )
    # the guide's rate for what it records: what `record --model M` would have written
    entry.write_text(text)
    forge(entry, '{cost: "estimation guide: 1 x * @ $0.0200"}', "0.020000", "manual")
    assert run("check").startswith("ok:")


@pytest.mark.parametrize(
    ("pricing", "message"),
    [
        (
            "x cost as logged by the agent",
            "methods.pricing 'x cost as logged by the agent' is not what costlog writes",
        ),
        (
            "long-context rate (prompt > 200,000 tokens): 1 request, cost as logged by the "
            "agent and more: 1 request",
            "methods.pricing 'long-context rate (prompt > 200,000 tokens): 1 request, cost as "
            "logged by the agent and more: 1 request' is not what costlog writes",
        ),
        (
            "cost as logged by the agent: 2 requests",
            "methods.pricing says 2 requests' costs were logged by the agent, but the entry has 1",
        ),
    ],
)
def test_forgery_c_logged_costs_only_as_costlog_writes_them(
    repo: Path, tmp_path: Path, pricing: str, message: str
) -> None:
    entry = genuine_entry(repo, tmp_path)
    forge(entry, f'{{pricing: "{pricing}"}}')
    out = run("check", code=3)
    assert f"{LEDGER_FILE}:{line_of(entry, r'^methods:')}: {message}" in out


def test_forgery_c_logged_costs_never_on_a_hand_entry(repo: Path, tmp_path: Path) -> None:
    """costlog writes the rule only for sessions read from the logs of an agent that logs
    costs (Claude Code's OTel events or old transcripts, aider, OpenCode)."""
    entry = genuine_entry(repo, tmp_path)
    forge(entry, '{pricing: "cost as logged by the agent: 1 request"}', source="manual")
    message = (
        "methods.pricing says costs were logged by the agent, which costlog reads from its "
        "logs, but the entry's source is manual"
    )
    out = run("check", code=3)
    assert f"{LEDGER_FILE}:{line_of(entry, r'^methods:')}: {message}" in out


def test_a_logged_cost_claimed_for_an_agent_without_cost_logs_fails(repo: Path) -> None:
    entry = _sol_entry("2026-08-01", "0.000001")
    entry.methods = {"pricing": "cost as logged by the agent: 3 requests"}
    _write(repo, entry)
    out = run("check", code=3)
    path = repo / ".costlog/sessions/codex/sol-1.yaml"
    assert (
        f".costlog/sessions/codex/sol-1.yaml:{line_of(path, r'^methods:')}: methods.pricing "
        "says costs were logged by the agent, but codex does not log costs"
    ) in out


def test_forgery_d_a_repo_price_override_is_named_on_every_check(
    repo: Path, tmp_path: Path
) -> None:
    """Prices of the repo's own file are committed content, visible in review: an entry
    priced from them passes, and check says how many are and which models there cost less
    than in the bundled table (on success, and when the check fails for another reason)."""
    entry = genuine_entry(repo, tmp_path)
    (repo / ".costlog" / "prices.yaml").write_text(
        "models:\n  claude-sonnet-4-6:\n    provider: anthropic\n    prices:\n"
        "      - {from: 2026-01-01, input: 0, output: 0, cache_read: 0, cache_write_5m: 0,"
        " cache_write_1h: 0}\n"
    )
    version = PriceTable.load().version
    edit(entry, f'cost_usd: "{stored_cost(entry)}"', 'cost_usd: "0.000000"')
    edit(entry, f'table: "{version}"', f'table: "{version}+repo"')
    run("render")
    out = run("check")
    assert out.startswith("ok:")
    note = (
        "note: 1 entry priced from .costlog/prices.yaml (claude-sonnet-4-6 below the bundled price)"
    )
    assert note in out.splitlines()
    (repo / "COST_LOG.md").write_text((repo / "COST_LOG.md").read_text() + "\n<!-- x -->\n")
    edit(repo / "COST_LOG.md", "claude-sonnet-4-6", "claude-sonnet-4-7")
    out = run("check", code=3)
    assert note in out.splitlines() and "differs from the ledger" in out
    # without the `+repo` table name the entry is checked against the bundled prices
    edit(entry, f'table: "{version}+repo"', f'table: "{version}"')
    run("render")
    out = run("check", code=3)
    assert "claude-sonnet-4-6 costs $0.000000, but its tokens cost $0.093900" in out
    assert "note:" not in out


def test_a_guide_estimate_at_the_rate_measured_from_the_ledger_passes(
    repo: Path, tmp_path: Path
) -> None:
    """With 5 sessions of a model and task type the guide is measured from the ledger,
    and a manual entry priced from it is checked against that measurement."""
    for n in range(5):
        session = f"8c2d3e4f-0000-4000-8000-00000000001{n}"
        path = tmp_path / f"{session}.jsonl"
        path.write_text(transcript(repo, "claude-sonnet-4-6", [2000 * (n + 1)], session=session))
        run("record", "--transcript", str(path), "--task-types", "2 docs")
    run("record", "--model", "claude-sonnet-4-6", "--task-types", "1 docs", "--notes", "x")
    (entry,) = (repo / ".costlog/sessions/manual").iterdir()
    rate = re.search(r"1 x docs @ \$([0-9.]+)", entry.read_text())
    assert rate and rate.group(1) != "0.0075"  # measured, not the seed row
    assert run("check").startswith("ok:")
    edit(entry, f"@ ${rate.group(1)}", "@ $0.0075")  # the seed's rate, at the measured cost
    run("render")
    assert "is not what its estimation-guide rates give" in run("check", code=3)


# ---------------------------------------------------------------- bounds and tables


def test_long_context_requests_are_checked_within_a_bound(repo: Path, tmp_path: Path) -> None:
    """Per-model totals cannot show which requests crossed 200k: the bound is base rates
    (the least those tokens can cost) to the tier's rates (the most)."""
    record_transcript(repo, tmp_path, "claude-sonnet-4-5", [150_000, 250_000, 150_000])
    entry = repo / LEDGER_FILE
    assert "long-context rate (prompt > 200,000 tokens): 1 request" in entry.read_text()
    assert run("check").startswith("ok:")
    usage = Usage(input=300, output=120_000, cache_read=550_000, cache_write_5m=60_000)
    base = (
        usage.input * 3
        + usage.output * 15
        + usage.cache_read * Decimal("0.3")
        + usage.cache_write_5m * Decimal("3.75")
    ) / 1_000_000
    top = (
        usage.input * 6
        + usage.output * Decimal("22.5")
        + usage.cache_read * Decimal("0.6")
        + usage.cache_write_5m * Decimal("7.5")
    ) / 1_000_000
    stored = Decimal(stored_cost(entry))
    assert base < stored < top

    for forged, code in ((base, 0), (base - Decimal("0.01"), 3), (top + Decimal("0.01"), 3)):
        text = entry.read_text()
        entry.write_text(text.replace(f'"{stored_cost(entry)}"', f'"{forged:.6f}"'))
        run("render")
        out = run("check", code=code)
        if code:
            assert f"between ${base:.6f} and ${top:.6f}" in out


def _write(repo: Path, entry: Entry) -> None:
    ledger = Ledger(repo_mod.find(repo), config_mod.Config().ledger_dir)
    with ledger.lock():
        ledger.write(entry)
    run("render")


def _sol_entry(table: str, cost: str) -> Entry:
    usage = Usage(input=100_000, output=10_000)
    return Entry(
        id="codex/sol-1",
        agent="codex",
        started=datetime(2026, 9, 1, 9, tzinfo=UTC),
        ended=datetime(2026, 9, 1, 10, tzinfo=UTC),
        source="actual",
        models={"gpt-5.6-sol": ModelUsage(3, usage, Decimal(cost))},
        cost_usd=Decimal(cost),
        pricing_table=table,
    )


def test_a_cost_is_checked_at_the_prices_its_table_knew(repo: Path) -> None:
    """gpt-5.6-sol was cut on 2026-08-21: a session of 2026-09-01 recorded with a table of
    2026-08-01 was priced before the cut (0.1M x 5 + 10k x 30 = $0.80), and that is right;
    the same cost claimed under the current table is not (0.1M x 4 + 10k x 20 = $0.60)."""
    _write(repo, _sol_entry("2026-08-01", "0.800000"))
    assert run("check").startswith("ok:")
    _write(repo, _sol_entry(PriceTable.load().version, "0.800000"))
    out = run("check", code=3)
    assert "gpt-5.6-sol costs $0.800000, but its tokens cost $0.600000" in out
    _write(repo, _sol_entry(PriceTable.load().version, "0.600000"))
    assert run("check").startswith("ok:")


def test_repo_price_overrides_are_honoured_by_table(repo: Path, tmp_path: Path) -> None:
    """An entry priced with the repo's .costlog/prices.yaml says so (`+repo`) and is
    checked against it; one priced before the override existed against the bundled table;
    an override edited afterwards makes check fail until `costlog reprice`."""
    record_transcript(repo, tmp_path, "claude-opus-4-6", [150_000] * 3)
    overrides = repo / ".costlog" / "prices.yaml"
    overrides.write_text(
        "models:\n  claude-opus-4-6:\n    provider: anthropic\n    prices:\n"
        "      - {from: 2026-01-01, input: 6, output: 30}\n"
    )
    run("render")  # COST_LOG.md names the table
    assert run("check").startswith("ok:")  # the first entry names the bundled table
    other = "8c2d3e4f-0000-4000-8000-000000000002"
    record_transcript(repo, tmp_path, "claude-opus-4-6", [150_000] * 3, session=other)
    second = repo / f".costlog/sessions/claude-code/{other}.yaml"
    assert f'table: "{PriceTable.load().version}+repo"' in second.read_text()
    assert run("check").startswith("ok:")

    overrides.write_text(overrides.read_text().replace("output: 30", "output: 31"))
    run("render")
    out = run("check", code=3)
    assert f".costlog/sessions/claude-code/{other}.yaml:" in out
    assert f"at the prices of table {PriceTable.load().version}+repo" in out
    assert "changed 2 of 2 sessions" in run("reprice")  # both now at the repo's prices
    assert run("check").startswith("ok:")


# ---------------------------------------------------------------- everything costlog writes


CLAUDE_P_RESULT = {
    "type": "result",
    "subtype": "success",
    "duration_ms": 95000,
    "num_turns": 6,
    "result": "Done.",
    "session_id": "c1a2b3c4-0000-4000-8000-000000000001",
    "total_cost_usd": 0.4172,
    "modelUsage": {
        "claude-sonnet-4-6": {
            "inputTokens": 20,
            "outputTokens": 900,
            "cacheReadInputTokens": 23048,
            "cacheCreationInputTokens": 13507,
            "costUSD": 0.4012,
        },
        "claude-haiku-4-5": {
            "inputTokens": 3000,
            "outputTokens": 100,
            "cacheReadInputTokens": 0,
            "cacheCreationInputTokens": 0,
            "costUSD": 0.016,
        },
    },
}


def test_every_way_costlog_records_passes_check(repo: Path, tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "import" / "COST_LOG.classic.md", repo / "COST_LOG.md")
    run("import", "COST_LOG.md")  # hand-kept costs, imported
    record_transcript(repo, tmp_path, "claude-sonnet-4-5", [150_000, 250_000])  # autorecord
    run("record", "--model", "claude-sonnet-4-6", "--cost", "1.25")  # cost by hand
    run(
        "record",
        "--model",
        "claude-sonnet-4-5",
        "--input-tokens",
        "150000",
        "--cache-read-tokens",
        "100000",
        "--output-tokens",
        "5000",
    )  # one request above 200k
    run("record", "--model", "claude-sonnet-4-6", "--task-types", "2 docs")  # the guide
    (repo / "feature.py").write_text("def export():\n    return 'invoice'\n" * 40)
    git(repo, "add", "feature.py")
    git(repo, "commit", "-q", "-m", "Add export (WRK-1)")
    run("record", "--agent", "cursor", "--model", "gpt-5", "--since", "HEAD~1")  # diffs
    result = tmp_path / "claude-result.json"
    result.write_text(json.dumps(CLAUDE_P_RESULT))
    run("record", "--from-json", str(result))  # a headless run's own numbers
    shutil.copytree(FIXTURES / "rundir", repo, dirs_exist_ok=True)
    git(repo, "add", "work_orders")
    git(repo, "commit", "-q", "-m", "Add work orders")
    run("backfill", "--agent", "rundir")  # run directories, estimated
    shutil.copy(FIXTURES / "aider" / "modern.chat.history.md", repo / ".aider.chat.history.md")
    run("backfill", "--agent", "aider")  # its history (parsed), priced from the table
    otel = FIXTURES / "claude-otel"
    path = tmp_path / "sess-otel-1.jsonl"
    path.write_text(
        (otel / "projects" / "-work-app" / "sess-otel-1.jsonl")
        .read_text()
        .replace('"cwd":"/work/app"', f'"cwd":{json.dumps(str(repo))}')
    )
    run("record", "--transcript", str(path), "--otel", str(otel / "otlp.jsonl"))  # OTel
    assert run("check").startswith("ok:")

    entries = Ledger(repo_mod.find(repo), ".costlog/sessions").load_all()
    assert {e.agent for e in entries} == {"manual", "claude-code", "cursor", "rundir", "aider"}
    assert len(entries) == 3 + 1 + 3 + 1 + 1 + 2 + 2 + 1
    methods = {(e.agent, k, v) for e in entries for k, v in e.methods.items()}
    assert {k for _, k, _ in methods} >= {"cost", "pricing", "otel", "tokens"}
    logged = {a for a, k, v in methods if k == "pricing" and AGENT_LOGGED in v}
    assert logged == {"claude-code"}  # aider's rounded figure is only a cross-check (#15.6)
    assert ("aider", "logged_cost") in {(a, k) for a, k, _ in methods}

    (repo / ".costlog" / "prices.yaml").write_text(
        "models:\n  claude-sonnet-4-6:\n    provider: anthropic\n    prices:\n"
        "      - {from: 2026-01-01, input: 4, output: 20}\n"
    )
    out = run("reprice")
    assert re.search(r"changed [1-9]\d* of 14 sessions", out), out
    repriced = [
        e
        for e in Ledger(repo_mod.find(repo), ".costlog/sessions").load_all()
        if "repriced" in e.methods
    ]
    assert repriced and all(
        e.pricing_table == f"{PriceTable.load().version}+repo" for e in repriced
    )
    assert run("check").startswith("ok:")


def test_reprice_of_one_model_never_leaves_an_entry_misnaming_its_table(
    repo: Path, tmp_path: Path
) -> None:
    """An entry names one price table. `reprice --model A` on an entry whose model B's
    price changed too would store B's old cost under the new table: it is kept and
    flagged instead, and a full reprice then fixes both, and check agrees."""
    two = Entry(
        id="claude-code/two-models",
        agent="claude-code",
        started=datetime(2026, 11, 20, 9, tzinfo=UTC),
        source="actual",
        pricing_table=PriceTable.load().version,
        models={
            "claude-opus-4-6": ModelUsage(2, Usage(input=1_000_000), Decimal("5.000000")),
            "claude-haiku-4-5": ModelUsage(2, Usage(input=1_000_000), Decimal("1.000000")),
        },
        cost_usd=Decimal("6.000000"),
    )
    _write(repo, two)
    assert run("check").startswith("ok:")
    (repo / ".costlog" / "prices.yaml").write_text(
        "models:\n"
        "  claude-opus-4-6: {provider: anthropic, prices: [{from: 2026-01-01, input: 6, "
        "output: 30}]}\n"
        "  claude-haiku-4-5: {provider: anthropic, prices: [{from: 2026-01-01, input: 2, "
        "output: 10}]}\n"
    )
    out = run("reprice", "--model", "claude-opus-4-6")
    assert "claude-haiku-4-5 would change too" in out and "changed 0 of 1" in out
    run("render")
    assert run("check").startswith("ok:")  # still the bundled table's costs, as it says
    assert "changed 1 of 1" in run("reprice")
    entry = repo / ".costlog/sessions/claude-code/two-models.yaml"
    assert stored_cost(entry) == "8.000000"
    assert run("check").startswith("ok:")
