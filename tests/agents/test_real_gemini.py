"""Gemini CLI itself (`gemini -p --yolo`, the pinned npm releases) against a mock Gemini API
(`streamGenerateContent` SSE), pointed there with GOOGLE_GEMINI_BASE_URL, API-key auth in its
settings and the repo in trustedFolders.json."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
from agent_harness import (
    PINS,
    SHELL_COMMIT,
    WORK_ITEM,
    Mock,
    Repo,
    assert_known_types,
    assert_links,
    assert_money,
    npm_cli,
    run_agent,
    truth_of,
)

VERSIONS = PINS["gemini"][1]
MODEL = "gemini-3.8-flash"


def commit_step(n: int, usage: dict[str, int]) -> dict[str, Any]:
    return {
        "usage": usage,
        "tool": {"name": "run_shell_command", "input": {"command": SHELL_COMMIT.format(n=n)}},
    }


PLAN: dict[str, Any] = {
    "max_requests": 20,
    "max_seconds": 170,
    "steps": [
        commit_step(1, {"input": 1377, "cache_read": 12288, "output": 53, "thoughts": 29}),
        {"usage": {"input": 1342, "cache_read": 12288, "output": 41}, "text": "Done: step 1."},
        commit_step(2, {"input": 2011, "cache_read": 12288, "output": 61, "thoughts": 13}),
        {"usage": {"input": 1905, "cache_read": 14336, "output": 37}, "text": "Done: step 2."},
    ],
    # the router's classification call (no tools): a JSON answer naming the model
    "aux": {
        "usage": {"input": 611, "output": 23},
        "text": '{"reasoning": "a simple task", "model_choice": "flash", "complexity": 10}',
    },
    "final": {"usage": {"input": 101, "cache_read": 8192, "output": 9}, "text": "Recorded."},
}


def gemini_env(mock: Mock, repo: Repo) -> dict[str, str]:
    home = Path(os.environ["HOME"])
    gem = home / ".gemini"
    gem.mkdir(parents=True, exist_ok=True)
    (gem / "settings.json").write_text(
        json.dumps({"security": {"auth": {"selectedType": "gemini-api-key"}}})
    )
    (gem / "trustedFolders.json").write_text(json.dumps({str(repo.root): "TRUST_FOLDER"}))
    env = dict(os.environ)
    for name in ("GIT_AUTHOR_DATE", "GIT_COMMITTER_DATE", "GEMINI_DATA_DIR", "GOOGLE_API_KEY"):
        env.pop(name, None)
    env.update(
        GEMINI_API_KEY="mock-gemini-key",
        GOOGLE_GEMINI_BASE_URL=mock.url,
        HTTPS_PROXY=mock.url,
        HTTP_PROXY=mock.url,
        NO_PROXY="127.0.0.1,localhost",
    )
    return env


def gemini(binary: Path, repo: Repo, env: dict[str, str], prompt: str, *extra: str) -> None:
    run_agent([str(binary), "-p", prompt, "--yolo", *extra], repo, env)


def session_ids(repo: Repo) -> list[str]:
    return [e.id.split("/", 1)[1] for e in repo.entries("gemini")]


def others_of(repo: Repo) -> dict[str, str]:
    return {"initial": repo.sha_of("initial"), "Set up costlog": repo.sha_of("Set up costlog")}


@pytest.mark.agent_timeout(170)
@pytest.mark.parametrize("version", VERSIONS)
def test_real_gemini_headless_session_end_queue(
    version: str, mock_factory: Any, agent_repo: Any
) -> None:
    binary = npm_cli("gemini", version)
    repo = agent_repo("gemini")
    mock = mock_factory(dict(PLAN, steps=PLAN["steps"][:2]))
    env = gemini_env(mock, repo)
    gemini(binary, repo, env, "do the steps", "-m", MODEL)
    others = others_of(repo)
    others["user: next"] = repo.commit("user: next")  # drains the SessionEnd queue
    (sid,) = session_ids(repo)
    entry = repo.entry("gemini", sid)
    assert_money(entry, truth_of(mock.answered()))
    assert_links(entry, {"step 1": repo.sha_of(f"step 1 {WORK_ITEM}")}, others)
    assert entry.work_items == [WORK_ITEM]
    assert_known_types(
        "gemini", (Path(os.environ["HOME"]) / ".gemini" / "tmp").rglob("session-*.json*")
    )


@pytest.mark.agent_timeout(170)
def test_real_gemini_end_session(mock_factory: Any, agent_repo: Any) -> None:
    binary = npm_cli("gemini", VERSIONS[0])
    repo = agent_repo("gemini")
    mock = mock_factory(dict(PLAN, steps=PLAN["steps"][:2]))
    env = gemini_env(mock, repo)
    gemini(binary, repo, env, "do the steps", "-m", MODEL)
    before = mock.answered()
    gemini(binary, repo, env, "/end-session", "-m", MODEL, "--resume", "latest")
    (sid,) = session_ids(repo)
    entry = repo.entry("gemini", sid)
    assert_money(entry, truth_of(before))
    assert_links(entry, {"step 1": repo.sha_of(f"step 1 {WORK_ITEM}")}, others_of(repo))


@pytest.mark.agent_timeout(170)
def test_real_gemini_resume_same_minute(mock_factory: Any, agent_repo: Any) -> None:
    binary = npm_cli("gemini", VERSIONS[0])
    repo = agent_repo("gemini")
    """Chat files are named by the minute: a resume in the same minute appends to the same
    file (a second metadata line, then copies of earlier messages without their tokens)."""
    mock = mock_factory(PLAN)
    env = gemini_env(mock, repo)
    if time.time() % 60 > 35:  # both runs must fall in one minute
        time.sleep(61 - time.time() % 60)
    gemini(binary, repo, env, "do the steps", "-m", MODEL)
    others = others_of(repo)
    others["user: unrelated"] = repo.commit("user: unrelated")
    gemini(binary, repo, env, "now step 2", "-m", MODEL, "--resume", "latest")
    others["user: after"] = repo.commit("user: after")
    chats = list((Path(os.environ["HOME"]) / ".gemini" / "tmp").rglob("session-*.json*"))
    assert len(chats) == 1, f"the resume wrote a file of its own: {chats}"
    ids = session_ids(repo)
    assert len(ids) == 1, ids
    entry = repo.entry("gemini", ids[0])
    assert_money(entry, truth_of(mock.answered()))
    assert_links(
        entry,
        {
            "step 1": repo.sha_of(f"step 1 {WORK_ITEM}"),
            "step 2": repo.sha_of(f"step 2 {WORK_ITEM}"),
        },
        others,
    )


@pytest.mark.agent_timeout(170)
def test_real_gemini_router_call_is_billed_but_not_logged(
    mock_factory: Any, agent_repo: Any
) -> None:
    """Without -m each prompt first asks a flash-lite model which model to use; that call
    is billed but Gemini CLI writes it nowhere, so costlog's figure is the logged calls."""
    binary = npm_cli("gemini", VERSIONS[0])
    repo = agent_repo("gemini")
    mock = mock_factory(dict(PLAN, steps=PLAN["steps"][:2]))
    env = gemini_env(mock, repo)
    gemini(binary, repo, env, "do the steps")
    repo.commit("user: next")
    answered = mock.answered()
    routed = [r for r in answered if not r["main"]]
    assert routed and all("flash-lite" in r["model"] for r in routed), answered
    (sid,) = session_ids(repo)
    entry = repo.entry("gemini", sid)
    assert_money(entry, truth_of([r for r in answered if r["main"]]))
    assert not [m for m in entry.models if "flash-lite" in m]
