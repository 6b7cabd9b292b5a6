"""aider itself (PyPI aider-chat, pinned, in its own venv) against a mock OpenAI Chat
Completions API (`--openai-api-base`). aider offers the model no tools: it applies the reply's
SEARCH/REPLACE block and commits on its own, with a message from its weak model."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from agent_harness import (
    AIDER_PIN,
    AIDER_PINS,
    Mock,
    Repo,
    aider_cli,
    assert_known_types,
    assert_links,
    figures,
    note_figures,
    run_agent,
    truth_of,
)

MAIN = "gpt-4.1"
WEAK = "gpt-4.1-mini"
EDIT = "README.md\n```\n<<<<<<< SEARCH\n# demo\n=======\n# demo\nstep 1\n>>>>>>> REPLACE\n```\n"

PLAN: dict[str, Any] = {
    "max_requests": 12,
    "max_seconds": 170,
    "chat_all_main": True,
    "aux_models": [WEAK],
    "steps": [{"usage": {"input": 12345, "cache_read": 1024, "output": 67}, "text": EDIT}],
    # the weak model writes the commit message
    "aux": {"usage": {"input": 211, "output": 9}, "text": "step 1 WRK-237"},
    "final": {"usage": {"input": 19, "output": 3}, "text": "Nothing more."},
}


def aider_env(mock: Mock) -> dict[str, str]:
    env = dict(os.environ)
    for name in ("GIT_AUTHOR_DATE", "GIT_COMMITTER_DATE", "OPENAI_API_KEY", "OPENAI_API_BASE"):
        env.pop(name, None)
    env.update(HTTPS_PROXY=mock.url, HTTP_PROXY=mock.url, NO_PROXY="127.0.0.1,localhost")
    return env


def aider(binary: Path, repo: Repo, env: dict[str, str], mock: Mock, message: str) -> None:
    analytics = Path(env["HOME"]) / ".aider" / "analytics.jsonl"
    analytics.parent.mkdir(parents=True, exist_ok=True)
    run_agent(
        [
            str(binary),
            "--message",
            message,
            "--yes-always",
            "--model",
            f"openai/{MAIN}",
            "--weak-model",
            f"openai/{WEAK}",
            "--openai-api-base",
            f"{mock.url}/v1",
            "--openai-api-key",
            "sk-mock",
            "--no-check-update",
            "--no-show-model-warnings",
            "--no-gitignore",
            "--analytics-log",
            str(analytics),
            "README.md",
        ],
        repo,
        env,
    )


@pytest.mark.agent_timeout(170)
@pytest.mark.parametrize("version", AIDER_PINS)
def test_real_aider_links_its_commit_and_labels_its_estimates(
    mock_factory: Any, agent_repo: Any, version: str
) -> None:
    binary = aider_cli(version)
    repo = agent_repo(None)
    mock = mock_factory(PLAN)
    env = aider_env(mock)
    aider(binary, repo, env, mock, "add step 1")
    others = {"initial": repo.sha_of("initial"), "Set up costlog": repo.sha_of("Set up costlog")}
    others["user: next"] = repo.commit("user: next")
    repo.costlog("record", "--agent", "aider", "--no-stage")
    (entry,) = repo.entries("aider")
    assert_links(entry, {"step 1": repo.sha_of("step 1 WRK-237")}, others)
    assert_known_types("aider", [Path(os.environ["HOME"]) / ".aider" / "analytics.jsonl"])
    # with streaming, aider's logged counts are its own tokenizer's estimates ("2.5k sent"
    # against the API's 13,369 prompt tokens): an entry must not call them actual
    truth = truth_of(mock.answered())
    note_figures(entry, truth)
    if figures(entry) != truth.models:
        assert all(mu.source != "actual" for mu in entry.models.values()), (
            f"aider entry labelled actual: costlog {figures(entry)} vs truth {truth.models}"
        )


@pytest.mark.agent_timeout(170)
def test_real_aider_commit_records_itself(mock_factory: Any, agent_repo: Any) -> None:
    """After `costlog init --agent aider`, aider's own auto-commit runs the post-commit hook,
    which records the session: no `costlog record` needed."""
    binary = aider_cli(AIDER_PIN)
    repo = agent_repo("aider")
    mock = mock_factory(PLAN)
    aider(binary, repo, aider_env(mock), mock, "add step 1")
    repo.commit("user: next")
    entries = repo.entries("aider")
    assert len(entries) == 1, "no aider session recorded by the hook"
    assert [c.subject for c in entries[0].commits] == ["step 1 WRK-237"]
