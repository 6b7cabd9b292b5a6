"""Work items without prompt text (issue 10): a key in a session's first prompt reaches no
file costlog writes unless its prefix is configured in `work_item_prefixes`.

The transcript is in Claude Code's real line format; its first prompt says "pin
HUNTER-9999" while the session's branch is feature/WRK-1-x.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from agent_logs import SESSION, transcript

from tests_support import git, run

PROMPT = "pin HUNTER-9999 before the release, then fix the login page"


def _files_with(text: str, *roots: Path) -> list[str]:
    """Every file under `roots` whose bytes contain `text` (ledger, log, caches, queue)."""
    found = []
    for root in roots:
        for folder, _dirs, names in os.walk(root):
            for name in names:
                path = Path(folder) / name
                if text.encode() in path.read_bytes():
                    found.append(str(path))
    return found


@pytest.fixture
def claude_log(repo: Path, isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The session where Claude Code keeps it, so `record` and `backfill` both find it."""
    git(repo, "checkout", "-q", "-b", "feature/WRK-1-x")
    config = isolated_home / "claude"
    project = config / "projects" / "".join(c if c.isalnum() else "-" for c in str(repo))
    project.mkdir(parents=True)
    path = project / f"{SESSION}.jsonl"
    path.write_text(
        transcript(repo, "claude-sonnet-4-6", [30_000, 40_000], prompt=PROMPT, output=800)
    )
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(config))
    return path


def _everything(repo: Path, home: Path) -> tuple[Path, ...]:
    return (repo / ".costlog", repo / "COST_LOG.md", repo / ".git" / "costlog", home / ".cache")


def test_a_prompt_key_is_not_kept_by_default(
    repo: Path, claude_log: Path, isolated_home: Path
) -> None:
    out = run("record", "--transcript", str(claude_log))
    assert "(WRK-1)" in out and "HUNTER" not in out
    run("render")
    assert run("check").startswith("ok:")
    entry = (repo / f".costlog/sessions/claude-code/{SESSION}.yaml").read_text()
    assert "work_items: [WRK-1]" in entry  # the branch's key is kept
    assert "WRK-1" in (repo / "COST_LOG.md").read_text()
    assert (repo / ".git" / "costlog" / "ledger-cache.pickle").is_file()
    assert _files_with("HUNTER-9999", *_everything(repo, isolated_home)) == []
    assert _files_with("HUNTER", *_everything(repo, isolated_home)) == []


def test_backfill_keeps_no_prompt_key_either(
    repo: Path, claude_log: Path, isolated_home: Path
) -> None:
    assert "recorded 1 new session" in run("backfill", "--agent", "claude-code")
    entry = (repo / f".costlog/sessions/claude-code/{SESSION}.yaml").read_text()
    assert "work_items: [WRK-1]" in entry
    assert _files_with("HUNTER-9999", *_everything(repo, isolated_home)) == []


def test_a_configured_prefix_is_taken_from_the_prompt(repo: Path, claude_log: Path) -> None:
    (repo / ".costlog").mkdir()
    (repo / ".costlog" / "config.yaml").write_text("work_item_prefixes: [HUNTER]\n")
    out = run("record", "--transcript", str(claude_log))
    assert "(WRK-1, HUNTER-9999)" in out
    entry = (repo / f".costlog/sessions/claude-code/{SESSION}.yaml").read_text()
    assert "work_items: [WRK-1, HUNTER-9999]" in entry
    assert "| HUNTER-9999 |" in (repo / "COST_LOG.md").read_text()  # cost per work item
    assert "release" not in entry and "login" not in entry  # no other prompt text


def test_a_prefix_matches_whole_keys_only(repo: Path, claude_log: Path) -> None:
    (repo / ".costlog").mkdir()
    (repo / ".costlog" / "config.yaml").write_text("work_item_prefixes: [HUNT, '#']\n")
    run("record", "--transcript", str(claude_log))
    entry = (repo / f".costlog/sessions/claude-code/{SESSION}.yaml").read_text()
    assert "work_items: [WRK-1]" in entry  # HUNT is not HUNTER


def test_a_hostile_pattern_cannot_lift_prompt_text(
    repo: Path, claude_log: Path, isolated_home: Path
) -> None:
    """The patterns and prefixes are repository content: a pull request that sets a
    pattern matching anything and every letter as a prefix still gets only keys with a
    tracker key's shape, never a run of prompt text."""
    secret = "deploy with key sk-ant-SECRETKEY123 and password hunter2-SECRET"
    claude_log.write_text(
        transcript(repo, "claude-sonnet-4-6", [30_000], prompt=secret, output=800)
    )
    prefixes = ", ".join([*"ABCDEFGHIJKLMNOPQRSTUVWXYZ", *(f"'{d}'" for d in "0123456789")])
    config = repo / ".costlog" / "config.yaml"
    config.parent.mkdir(exist_ok=True)
    config.write_text(
        f"work_item_patterns: ['(?s)\\w(?=\\W).*', '[a-z]+']\nwork_item_prefixes: [{prefixes}]\n"
    )
    out = run("record", "--transcript", str(claude_log))
    assert "SECRET" not in out and "password" not in out
    for needle in ("SECRETKEY123", "hunter2", "password", "deploy"):
        assert _files_with(needle, *_everything(repo, isolated_home)) == [], needle
