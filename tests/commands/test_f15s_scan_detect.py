"""Issue 15 item 20 after review: `scan --path FILE` without `--agent` hands the file to the
adapter that recognises it, reads only what was named, and warns only from that adapter."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from costlog import sources
from tests_support import invoke

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
CODEX_HOME = FIXTURES / "codex" / "home"
ROLLOUT = FIXTURES / "codex" / "real-0.171.0" / "exec_command-mode.rollout.jsonl"
SUBAGENT = next((CODEX_HOME / "sessions" / "2026" / "03" / "05").glob("*cccc*.jsonl"))


def _scan(*args: str) -> tuple[dict[str, object], str]:
    result = invoke(["scan", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout), result.stderr


@pytest.mark.parametrize(
    ("path", "agent"),
    [
        (ROLLOUT, "codex"),
        (
            FIXTURES
            / "claude-code"
            / "real-2.1.332"
            / "74bd4e93-bcd3-44cf-9b4c-8e2113b8c318.jsonl",
            "claude-code",
        ),
        (FIXTURES / "gemini" / "real-0.61.0" / "session.jsonl", "gemini"),
        (FIXTURES / "aider" / "real-0.86.2" / "aider.chat.history.md", "aider"),
        (FIXTURES / "api" / "openai_chat.jsonl", "api"),
    ],
)
def test_each_real_client_file_is_recognised_by_its_own_adapter(path: Path, agent: str) -> None:
    assert sources.recognise(path) == [agent]


def test_a_valid_codex_rollout_without_agent_scans_with_no_warnings(tmp_path: Path) -> None:
    copy = tmp_path / "one-codex-rollout.jsonl"
    shutil.copyfile(ROLLOUT, copy)
    auto, said = _scan("--path", str(copy))
    assert "Gemini" not in said and "OpenCode" not in said
    assert said == ""
    named, _ = _scan("--agent", "codex", "--path", str(copy))
    assert auto["totals"] == named["totals"]
    totals = auto["totals"]
    assert isinstance(totals, dict) and totals["requests"] > 0


def test_a_file_in_a_codex_home_warns_only_about_itself(tmp_path: Path) -> None:
    home = tmp_path / "codex"
    shutil.copytree(CODEX_HOME, home)
    named = home / SUBAGENT.relative_to(CODEX_HOME)
    _, said = _scan("--path", str(named))
    siblings = [p.name for p in named.parent.iterdir() if p != named]
    assert not any(name in said for name in siblings), said


def test_the_gemini_reader_names_another_agents_file_once(tmp_path: Path) -> None:
    copy = tmp_path / "rollout.jsonl"
    shutil.copyfile(ROLLOUT, copy)
    _, said = _scan("--agent", "gemini", "--path", str(copy))
    lines = [line for line in said.splitlines() if "Gemini" in line]
    assert len(lines) == 1, said
    assert "not a Gemini CLI chat file" in lines[0] and str(copy) in lines[0]


def test_a_file_no_reader_is_sure_of_is_still_tried_by_every_reader(tmp_path: Path) -> None:
    # a first record none recognises (a format costlog has not seen yet): every adapter
    # still tries it, as before, so a new variant is never skipped in silence
    junk = tmp_path / "notes.jsonl"
    junk.write_text('{"hello": "world"}\n')
    assert sources.recognise(junk) == []
    _, said = _scan("--path", str(junk))
    assert "not a Codex rollout" in said and "not a Gemini CLI chat file" in said, said
