"""`costlog calibrate` on a hand-made Claude Code transcript with known usage.

tests/fixtures/calibrate/session.jsonl (main thread):
  user "hello world"           heuristic 2 tokens (2 words .312 + 10 letters 1.28 + 1 space .385)
  msg_a sonnet-4-6: one text block of 1000 chars, final output 400; prompt 10+5000+1000 = 6010
        output estimate 0.269 x 1000 + 54 = 323; input estimate = text so far = 2
        its text: 1000 letters, one word -> 128 tokens (running 130)
  user "again please"          2 tokens (running 132)
  msg_b: 2000 chars, streamed twice (placeholder 5, then final 700); prompt 20+6000+500 = 6520
        output estimate 0.269 x 2000 + 54 = 592; input estimate 132
  a sidechain response, a `<synthetic>` error and a truncated line are not samples.
Output: actual 1100, estimated 915 -> factor 1.202, bias 915/1100 - 1 = -16.8 %;
  error per response (77/400 + 108/700) / 2 = 17.3 %, after the factor 2.3 %.
Input: actual 12530, estimated 134 -> factor 93.507 (the system prompt is not in the log).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from costlog import config as config_mod
from costlog.errors import ConfigError
from costlog.estimate import calibration as calibrate
from costlog.estimate import factors
from costlog.models import Request, Session, Usage
from tests_support import FIXTURES_DIR, invoke

FIXTURE = FIXTURES_DIR / "calibrate" / "session.jsonl"


def test_true_error_per_family_and_component() -> None:
    warnings: list[str] = []
    samples = calibrate.transcript_samples(FIXTURE, warnings.append)
    assert warnings == [f"{FIXTURE}:4: not JSON, skipped"]
    fits = {f.component: f for f in calibrate.fit(samples)}
    out = fits["output"]
    assert (out.family, out.samples, out.actual, out.estimated) == ("claude-sonnet", 2, 1100, 915)
    assert out.factor == Decimal("1.202")
    assert out.bias_pct == Decimal("-16.8")
    assert (out.mae_pct, out.mae_after_pct) == (Decimal("17.3"), Decimal("2.3"))
    inp = fits["input"]
    assert (inp.actual, inp.estimated, inp.factor) == (12530, 134, Decimal("93.507"))


def test_cli_reports_and_writes_factors(repo: Path) -> None:
    out = invoke(["calibrate", "--path", str(FIXTURE)])
    assert out.exit_code == 0, out.output
    assert "claude-sonnet" in out.output and "-16.8%" in out.output and "1.202" in out.output
    assert not (repo / ".costlog" / "config.yaml").exists()
    out = invoke(["calibrate", "--path", str(FIXTURE), "--write"])
    assert out.exit_code == 0, out.output
    assert "wrote estimate factors for 1 family to .costlog/config.yaml" in out.output
    config = config_mod.load(repo)
    assert config.estimate_factors == {"claude-sonnet": {"input": "93.507", "output": "1.202"}}
    assert factors.configured_factors(config)["claude-sonnet"]["output"] == Decimal("1.202")


def test_later_estimates_use_the_factors_and_say_so() -> None:
    # output 500 of which 300 estimated (logged placeholder 200): 500 x 1.2 = 600
    estimated = Request("claude-sonnet-4-6", Usage(input=10, output=500), estimated_output=300)
    actual = Request("claude-sonnet-4-6", Usage(input=10, output=500))
    session = Session("claude-code", "s1", requests=[estimated, actual])
    changed = factors.apply_factors(session, {"claude-sonnet": {"output": Decimal("1.2")}})
    assert changed == 1
    assert (estimated.usage.output, estimated.estimated_output) == (600, 400)
    assert actual.usage.output == 500  # actual numbers are never touched
    assert (
        session.methods["calibration"]
        == "estimates x calibrated factors (costlog calibrate): claude-sonnet output x1.2"
    )


def test_bad_factor_in_config_is_an_error() -> None:
    config = config_mod.Config(estimate_factors={"claude-sonnet": {"output": "fast"}})
    with pytest.raises(ConfigError, match=r"estimate_factors\.claude-sonnet\.output"):
        factors.configured_factors(config)


def test_no_usable_transcripts(repo: Path, tmp_path: Path) -> None:
    (tmp_path / "empty.jsonl").write_text("")
    out = invoke(["calibrate", "--path", str(tmp_path / "empty.jsonl"), "--write"])
    assert out.exit_code == 1
    assert "no response with real usage" in out.output
