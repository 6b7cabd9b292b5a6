"""Codex itself (`codex exec`, the pinned npm releases) against a mock OpenAI Responses API,
in both tool modes: the plain `exec_command` function (gpt-5.3-codex) and code mode, one
custom `exec` tool running JavaScript (gpt-5.6-sol, a model in Codex's built-in list). Codex
reaches for outside hosts on start, so HTTPS_PROXY points at the mock, which refuses them."""

from __future__ import annotations

import json
import os
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

VERSIONS = PINS["codex"][1]
#: tool mode -> the model configured; "default" configures none, so Codex picks its own
#: default (code mode too), and the table must price it
MODES: dict[str, str | None] = {
    "exec_command": "gpt-5.3-codex",
    "code": "gpt-5.6-sol",
    "default": None,
}


def commit_step(mode: str, n: int, usage: dict[str, int]) -> dict[str, Any]:
    cmd = SHELL_COMMIT.format(n=n)
    if mode in ("code", "default"):
        script = (
            f"const r = await tools.exec_command({{cmd: {json.dumps(cmd)}}});\n"
            "text(typeof r === 'string' ? r : (r.output ?? JSON.stringify(r)));\n"
        )
        return {"usage": usage, "tool": {"kind": "custom", "name": "exec", "input": script}}
    return {"usage": usage, "tool": {"name": "exec_command", "input": {"cmd": cmd}}}


def plan(mode: str) -> dict[str, Any]:
    """Turn 1 commits step 1, the resume commits step 2, the fork commits step 3."""
    return {
        "max_requests": 30,
        "max_seconds": 170,
        "steps": [
            commit_step(
                mode,
                1,
                {
                    "input": 6201,
                    "cache_read": 4096,
                    "cache_write": 2048,
                    "output": 678,
                    "reasoning": 256,
                },
            ),
            {
                "usage": {"input": 3321, "cache_read": 11264, "output": 95, "reasoning": 17},
                "text": "Done: step 1.",
            },
            commit_step(
                mode,
                2,
                {
                    "input": 2939,
                    "cache_read": 13312,
                    "cache_write": 1024,
                    "output": 311,
                    "reasoning": 64,
                },
            ),
            {"usage": {"input": 3587, "cache_read": 15360, "output": 88}, "text": "Done: step 2."},
            commit_step(
                mode, 3, {"input": 4111, "cache_read": 14336, "output": 205, "reasoning": 33}
            ),
            {"usage": {"input": 1203, "cache_read": 18432, "output": 41}, "text": "Done: step 3."},
        ],
        "final": {"usage": {"input": 17, "output": 5}, "text": "Nothing more."},
    }


def codex_env(mock: Mock, model: str | None) -> dict[str, str]:
    home = Path(os.environ["HOME"])
    codex_home = home / ".codex"
    codex_home.mkdir(parents=True, exist_ok=True)
    (codex_home / "config.toml").write_text(
        (f'model = "{model}"\n' if model else "") + 'model_provider = "mock"\n'
        "[model_providers.mock]\n"
        'name = "mock"\n'
        f'base_url = "{mock.url}/v1"\n'
        'wire_api = "responses"\n'
        'env_key = "MOCK_OPENAI_KEY"\n'
    )
    env = dict(os.environ)
    for name in ("GIT_AUTHOR_DATE", "GIT_COMMITTER_DATE", "CODEX_HOME", "OPENAI_API_KEY"):
        env.pop(name, None)
    env.update(
        MOCK_OPENAI_KEY="sk-mock",
        HTTPS_PROXY=mock.url,
        HTTP_PROXY=mock.url,
        ALL_PROXY=mock.url,
        NO_PROXY="127.0.0.1,localhost",
    )
    return env


def codex(binary: Path, repo: Repo, env: dict[str, str], *args: str) -> None:
    run_agent([str(binary), *args], repo, env)


def rollouts() -> list[Path]:
    root = Path(os.environ["HOME"]) / ".codex" / "sessions"
    return sorted(root.rglob("rollout-*.jsonl"), key=lambda p: p.stat().st_mtime_ns)


def session_id(rollout: Path) -> str:
    first = json.loads(rollout.read_text().splitlines()[0])
    return str(first["payload"]["id"])


def scenario(mode: str, version: str, mock_factory: Any, agent_repo: Any) -> dict[str, Any]:
    """`exec` commits step 1; the user commits; `exec resume --last` commits step 2; `exec fork`
    of the first session commits step 3; the user commits again. Both sessions recorded."""
    binary = npm_cli("codex", version)
    repo = agent_repo(None)
    mock = mock_factory(plan(mode))
    env = codex_env(mock, MODES[mode])
    bypass = "--dangerously-bypass-approvals-and-sandbox"

    codex(binary, repo, env, "exec", bypass, "Make the commit for step 1")
    parent = session_id(rollouts()[-1])
    others = {"initial": repo.sha_of("initial"), "Set up costlog": repo.sha_of("Set up costlog")}
    others["user: unrelated"] = repo.commit("user: unrelated")
    codex(binary, repo, env, "exec", bypass, "resume", "--last", "Now make step 2")
    parent_calls = mock.answered()
    codex(binary, repo, env, "exec", bypass, "fork", parent, "Now make step 3")
    fork_calls = mock.answered()[len(parent_calls) :]
    others["user: after"] = repo.commit("user: after")
    assert len(parent_calls) == 4 and len(fork_calls) == 2, mock.served()
    files = rollouts()
    assert len(files) == 2, files
    fork = session_id(files[-1])
    assert fork != parent
    assert not [h for h in mock.refused() if "127.0.0.1" in h]
    step = {n: repo.sha_of(f"step {n} {WORK_ITEM}") for n in (1, 2, 3)}
    return {
        "repo": repo,
        "parent": parent,
        "fork": fork,
        "parent_calls": parent_calls,
        "fork_calls": fork_calls,
        "others": others,
        "step": step,
    }


@pytest.mark.agent_timeout(170)
@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("mode", list(MODES))
def test_real_codex_exec_and_resume(
    mode: str, version: str, mock_factory: Any, agent_repo: Any
) -> None:
    run = scenario(mode, version, mock_factory, agent_repo)
    repo: Repo = run["repo"]
    step = run["step"]
    repo.costlog("record", "--agent", "codex", "--session", run["parent"], "--no-stage")
    entry = repo.entry("codex", run["parent"])
    assert_money(entry, truth_of(run["parent_calls"]))
    assert_links(
        entry, {"step 1": step[1], "step 2": step[2]}, {**run["others"], "step 3": step[3]}
    )
    assert entry.work_items == [WORK_ITEM]
    assert_known_types("codex", rollouts())


@pytest.mark.agent_timeout(170)
@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("mode", list(MODES))
def test_real_codex_fork_counts_only_its_own_calls(
    mode: str, version: str, mock_factory: Any, agent_repo: Any
) -> None:
    run = scenario(mode, version, mock_factory, agent_repo)
    repo: Repo = run["repo"]
    step = run["step"]
    repo.costlog("record", "--agent", "codex", "--session", run["parent"], "--no-stage")
    repo.costlog("record", "--agent", "codex", "--session", run["fork"], "--no-stage")
    forked = repo.entry("codex", run["fork"])
    # a fork's running total starts from its parent's: only its own calls are its cost
    assert_money(forked, truth_of(run["fork_calls"]))
    assert_links(
        forked, {"step 3": step[3]}, {**run["others"], "step 1": step[1], "step 2": step[2]}
    )
    parent = repo.entry("codex", run["parent"])
    assert not [c for c in parent.commits if step[3].startswith(c.sha)]
