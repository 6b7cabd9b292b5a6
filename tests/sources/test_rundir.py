"""The run-directory adapter: a home-grown runner's `.system/runs/<run-id>/` layout.

The fixture (tests/fixtures/rundir) is one repo's worth of runner output: run-0042 (two
builder + two reviewer iterations, no usage recorded: every number estimated) and
run-0043 (usage recorded in result.json / review.json: actual). The estimates are
checked by hand below, with the arithmetic in the comments.
"""

from __future__ import annotations

import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from costlog import config
from costlog.commands import backfill
from costlog.estimate.tokens import count_tokens
from costlog.gitrepo import find
from costlog.ledger.store import Ledger
from costlog.models import Session
from costlog.sources import get
from costlog.sources.rundir import runlog, workorders
from tests_support import FIXTURES_DIR, git

FIXTURE = FIXTURES_DIR / "rundir"
RUN = ".system/runs/run-0042"


@pytest.fixture
def runs(repo: Path) -> Path:
    shutil.copytree(FIXTURE, repo, dirs_exist_ok=True)
    git(repo, "add", "work_orders")
    git(repo, "commit", "-q", "-m", "Add work orders")
    return repo


def scan(root: Path) -> dict[str, Session]:
    warnings: list[str] = []
    adapter = get("rundir")
    found = {s.session_id: s for s in adapter.scan([root / ".system/runs"], warn=warnings.append)}
    assert warnings == []
    return found


def tokens_of(path: Path, *keys: str) -> list[int]:
    data = json.loads(path.read_text())
    return [
        count_tokens(v if isinstance(v, str) else json.dumps(v)) for v in (data[k] for k in keys)
    ]


def test_estimates_without_usage_checked_by_hand(runs: Path) -> None:
    session = scan(runs)["run-0042"]
    # the texts, counted with the fitted character heuristic
    wo = count_tokens((runs / "work_orders/WO-2026-110.md").read_text())
    assert wo == 113
    assert sum(tokens_of(runs / RUN / "builder/iter-1/result.json", "summary", "changes")) == 93
    assert sum(tokens_of(runs / RUN / "builder/iter-2/result.json", "summary", "changes")) == 39
    assert count_tokens((runs / RUN / "reviewer/iter-1/diff.patch").read_text()) == 142
    by_key = {r.request_id: r for r in session.requests}
    b1, r1, b2, r2 = (by_key[k] for k in ("builder-1", "reviewer-1", "builder-2", "reviewer-2"))

    # builder 1: WO 113 + constitution 1793 + system 2000 + (1 - 1) x 1500 = 3906
    assert (b1.usage.input, b1.usage.output) == (3906, 930)  # output: 93 x 10
    # builder 2: 113 + 1793 + 2000 + (2 - 1) x (test 1000 + feedback 500) = 5406
    assert (b2.usage.input, b2.usage.output) == (5406, 390)  # output: 39 x 10
    # reviewer 1: WO 113 + diff.patch 142 + constitution 1793 + system 2000 = 4048
    assert r1.usage.input == 4048
    # reviewer 2: no patch file and no commit in builder 2's window: diff 0
    assert r2.usage.input == 113 + 0 + 1793 + 2000
    # reviewer output: its verdict.json (minus usage/model) counted, x 1
    assert r1.usage.output == count_tokens(
        json.dumps(
            {
                "verdict": "changes_requested",
                "feedback": "Prices are per 1K tokens, not per token. Add the summary report.",
            }
        )
    )

    assert {r.source for r in session.requests} == {"estimated"}
    assert [r.model for r in session.requests] == [
        "gpt-5.2-codex",
        "claude-3-5-sonnet-20241022",
        "gpt-5.2-codex",
        "claude-3-5-sonnet-20241022",
    ]
    assert session.methods["builder-2"] == (
        "input: WO 113 + constitution 1793 + system 2000 + "
        "1 x feedback 1500 = 5406; output: "
        "(summary+changes 39) x 10 = 390"
    )
    assert "work_orders/WO-2026-110.md" in session.methods["tokens"]
    assert str(session.started) == "2026-11-18 10:00:00+00:00"
    assert str(session.ended) == "2026-11-18 10:13:11+00:00"
    assert session.cwd == str(runs)


def test_backfilled_run_entry_is_priced_and_keyed_by_work_order(runs: Path) -> None:
    repo = find(runs)
    result = backfill.run(repo, config.load(runs), backfill.Options(agents=["rundir"]))
    assert len(result.recorded) == 2
    entry = Ledger(repo, ".costlog/sessions").get("rundir/run-0042")
    assert entry is not None
    assert entry.source == "estimated"
    assert entry.work_items == ["WO-2026-110"]
    codex = entry.models["gpt-5.2-codex"]
    # builders: input 3906 + 5406 = 9312, output 930 + 390 = 1320
    assert (codex.usage.input, codex.usage.output) == (9312, 1320)
    # $1.75/M input, $14/M output: 9312 x 1.75 + 1320 x 14 = 16296 + 18480 = 34776 micro-$
    assert codex.cost_usd == Decimal("0.034776")
    # reviewers (claude-3-5-sonnet, $3/M in, $15/M out): 7954 x 3 + 49 x 15 = 24597 micro-$
    assert entry.models["claude-3-5-sonnet"].cost_usd == Decimal("0.024597")
    assert entry.cost_usd == Decimal("0.059373")


def test_usage_in_result_json_is_actual(runs: Path) -> None:
    repo = find(runs)
    backfill.run(repo, config.load(runs), backfill.Options(agents=["rundir"]))
    entry = Ledger(repo, ".costlog/sessions").get("rundir/run-0043")
    assert entry is not None
    assert entry.source == "actual" and "builder-1" not in entry.methods
    assert entry.work_items == ["WO-2026-111"]  # from run.log; WO file found by the glob
    codex = entry.models["gpt-5.2-codex"].usage
    # Codex shape: input 52000 includes cached 40000 -> input 12000, cache_read 40000
    assert (codex.input, codex.cache_read, codex.output) == (12000, 40000, 2100)
    # 12000 x 1.75 + 40000 x 0.175 + 2100 x 14 = 21000 + 7000 + 29400 = 57400 micro-$
    assert entry.models["gpt-5.2-codex"].cost_usd == Decimal("0.0574")
    # Anthropic shape (model from review.json): 9000 x 3 + 3000 x 0.3 + 700 x 15 = 38400
    assert entry.models["claude-sonnet-4-6"].cost_usd == Decimal("0.0384")


def test_diff_from_git_when_no_patch_file(runs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (runs / "backfill.ts").write_text("export const PER_1K = 1000;\n" * 20)
    git(runs, "add", "backfill.ts")
    # committed inside builder iteration 2 (10:08:05 - 10:12:30)
    monkeypatch.setenv("GIT_COMMITTER_DATE", "2026-11-18T10:10:00+00:00")
    git(runs, "commit", "-q", "-m", "Fix pricing")
    diff = git(runs, "log", "-1", "-p", "--format=").stdout
    assert "PER_1K" in diff
    session = scan(runs)["run-0042"]
    reviewer_2 = next(r for r in session.requests if r.request_id == "reviewer-2")
    # WO 113 + tokens of that commit's diff + constitution 1793 + system 2000
    assert reviewer_2.usage.input == 113 + count_tokens(diff) + 1793 + 2000
    assert count_tokens(diff) > 100


def test_settings_from_config(runs: Path) -> None:
    run = runs / "runs/r1"
    (run / "builder/iter-1").mkdir(parents=True)
    (run / "run.log").write_text("2026-11-18T09:00:00Z Builder iteration 1 for WO-7\n")
    (run / "builder/iter-1/result.json").write_text(json.dumps({"summary": "done"}))
    (runs / "orders").mkdir()
    (runs / "orders/WO-7 spec.md").write_text("Do the thing.\n")
    (runs / ".costlog").mkdir()
    (runs / ".costlog/config.yaml").write_text(
        "rundir:\n  runs_dir: runs\n  work_orders: ['orders/{wo} *.md']\n"
        "  builder_model: gpt-5\n  constitution_tokens: 0\n  builder_system_tokens: 100\n"
        "  output_multiplier: 2.5\n"
    )
    session = scan_root(runs / "runs")["r1"]
    (request,) = session.requests
    wo = count_tokens("Do the thing.\n")
    # input: WO + constitution 0 + system 100; output: tokens("done") 1 x 2.5 = 2.5 -> 3
    assert (request.usage.input, request.usage.output) == (wo + 100, 3)
    assert request.model == "gpt-5"
    assert workorders.work_item(session, config.load(runs).rundir) == "WO-7"


def scan_root(root: Path) -> dict[str, Session]:
    return {s.session_id: s for s in get("rundir").scan([root], warn=lambda _m: None)}


def test_no_model_anywhere_is_unpriced_not_zero(runs: Path) -> None:
    run = runs / ".system/runs/r2"
    (run / "builder/iter-1").mkdir(parents=True)
    (run / "run.log").write_text("2026-11-18T09:00:00Z Builder iteration 1\n")
    (run / "builder/iter-1/result.json").write_text("{not json")
    warnings: list[str] = []
    (session,) = [s for s in get("rundir").scan([run], warn=warnings.append)]
    assert session.requests[0].model == "unknown"
    assert any("result.json" in w for w in warnings)  # named, and the run still counts
    repo = find(runs)
    backfill.run(repo, config.load(runs), backfill.Options(agents=["rundir"]))
    entry = Ledger(repo, ".costlog/sessions").get("rundir/r2")
    assert entry is not None and entry.cost_usd is None and entry.unpriced_models == ["unknown"]


def test_run_log_parsing() -> None:
    reader = runlog.LogReader(config.RunDir())
    for line in [
        "2026-01-20 10:00:00 model: gpt-5.2-codex",
        "[2026-01-20T10:00:05.120+01:00] Builder iteration 3 started",
        "Builder iteration 3 finished",
        "reviewer using --model claude-opus-4-1",
        "Reviewer iteration",
        "work order docs/plan.md (WO-2026-7)",
        "changed README.md",
    ]:
        reader.line(line)
    log = reader.log
    assert sorted(log.iterations) == [("builder", 3), ("reviewer", 1)]
    assert str(log.iterations[("builder", 3)].when) == "2026-01-20 09:00:05.120000+00:00"
    assert log.role_models == {"*": "gpt-5.2-codex", "reviewer": "claude-opus-4-1"}
    assert (log.md_paths, log.wo_id) == (["docs/plan.md"], "WO-2026-7")


def test_ledger_holds_no_work_order_or_result_text(runs: Path) -> None:
    repo = find(runs)
    backfill.run(repo, config.load(runs), backfill.Options(agents=["rundir"]))
    stored = "".join(p.read_text() for p in (runs / ".costlog/sessions").rglob("*.yaml"))
    for secret in (
        "Estimate and backfill",
        "scripts/backfill_costs.ts",
        "per 1K tokens",
        "Looks right",
        "insertCostRecord",
    ):
        assert secret not in stored


def test_other_layouts_and_no_run_log(runs: Path) -> None:
    (runs / ".costlog").mkdir()
    (runs / ".costlog/config.yaml").write_text(
        "rundir:\n  runs_dir: agent-runs\n  builder_results: out/builder-*.json\n"
        "  reviewer_dirs: out/review-*\n  builder_model: gpt-5\n  reviewer_model: gpt-5\n"
    )
    run = runs / "agent-runs/WO-2026-110-attempt"
    (run / "out/review-1").mkdir(parents=True)
    for n in (1, 2):
        (run / f"out/builder-{n}.json").write_text(json.dumps({"summary": "ok"}))
    (run / "out/review-1/verdict.json").write_text(json.dumps({"verdict": "approved"}))
    (session,) = scan_root(runs / "agent-runs").values()
    assert [r.request_id for r in session.requests] == ["builder-1", "reviewer-1", "builder-2"]
    assert session.started is not None  # no run.log: the files' times
    # no run.log: the id comes from the run's name, the file from the default glob
    assert workorders.work_item(session, config.load(runs).rundir) == "WO-2026-110"
    assert session.methods["builder-2"].startswith("input: WO 113 + constitution 1793")


def test_calibrated_factors_scale_the_estimates(runs: Path) -> None:
    (runs / ".costlog").mkdir()
    (runs / ".costlog/config.yaml").write_text(
        "estimate_factors: {codex: {input: '0.5', output: '2'}}\n"
    )
    repo = find(runs)
    backfill.run(repo, config.load(runs), backfill.Options(agents=["rundir"]))
    entry = Ledger(repo, ".costlog/sessions").get("rundir/run-0042")
    assert entry is not None
    codex = entry.models["gpt-5.2-codex"].usage
    # builders: input (3906 + 5406) x 0.5 = 1953 + 2703; output (930 + 390) x 2
    assert (codex.input, codex.output) == (1953 + 2703, 2640)
    assert "codex input x0.5" in entry.methods["calibration"]
    actual = Ledger(repo, ".costlog/sessions").get("rundir/run-0043")
    assert actual is not None  # actual usage is never scaled
    assert actual.models["gpt-5.2-codex"].usage.input == 12000
