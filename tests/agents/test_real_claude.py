"""Claude Code itself (`claude -p`, the pinned npm releases) against a mock Anthropic Messages
API: the agent commits through its Bash tool, and costlog must record exactly what the mock
served, priced at its table, with the agent's commits linked by evidence and no others."""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import shutil
import signal
import subprocess
import time
from decimal import Decimal
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
    figures,
    npm_cli,
    run_agent,
    truth_of,
)

MODEL = "claude-opus-5-5"  # Claude Code's default model: the mock answers as it
VERSIONS = PINS["claude"][1]


def commit_step(n: int, usage: dict[str, int]) -> dict[str, Any]:
    return {
        "usage": usage,
        "tool": {
            "name": "Bash",
            "input": {
                "command": SHELL_COMMIT.format(n=n),
                "description": f"commit step {n}",
            },
        },
    }


#: two prompts, each a commit through Bash and a closing reply; every cache write split 5m/1h
PLAN: dict[str, Any] = {
    "model": MODEL,
    "max_requests": 20,
    "max_seconds": 170,
    "steps": [
        commit_step(
            1,
            {
                "input": 1021,
                "cache_write_5m": 2003,
                "cache_write_1h": 3007,
                "cache_read": 0,
                "output": 51,
            },
        ),
        {
            "usage": {
                "input": 1103,
                "cache_write_5m": 101,
                "cache_write_1h": 211,
                "cache_read": 5011,
                "output": 67,
            },
            "text": "Done: step 1 committed.",
        },
        commit_step(
            2,
            {
                "input": 1217,
                "cache_write_5m": 409,
                "cache_write_1h": 811,
                "cache_read": 5323,
                "output": 73,
            },
        ),
        {
            "usage": {
                "input": 1301,
                "cache_write_5m": 13,
                "cache_write_1h": 29,
                "cache_read": 6547,
                "output": 83,
            },
            "text": "Done: step 2 committed.",
        },
    ],
    "aux": {"usage": {"input": 307, "output": 19}, "text": '{"title": "Commit steps"}'},
    "final": {"usage": {"input": 97, "cache_read": 6600, "output": 11}, "text": "Recorded."},
}


def claude_env(mock: Mock) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("GIT_AUTHOR_DATE", None)
    env.pop("GIT_COMMITTER_DATE", None)
    env.pop("CLAUDE_CONFIG_DIR", None)
    env.update(
        ANTHROPIC_BASE_URL=mock.url,
        ANTHROPIC_API_KEY="sk-ant-mock-key",
        # anything else it reaches for goes to the mock's refusing proxy
        HTTPS_PROXY=mock.url,
        HTTP_PROXY=mock.url,
        NO_PROXY="127.0.0.1,localhost",
    )
    return env


def claude(
    binary: Path, repo: Repo, env: dict[str, str], prompt: str, *extra: str
) -> dict[str, Any]:
    done = run_agent(
        [str(binary), "-p", prompt, "--allowedTools", "Bash", "--output-format", "json", *extra],
        repo,
        env,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    assert result.get("is_error") is False, result
    return result


def headless_run(
    version: str, mock_factory: Any, agent_repo: Any, tmp_path: Path
) -> tuple[Repo, Mock, str, dict[str, Any], dict[str, str]]:
    """Two prompts in one session (`--resume`), a user commit between them: the SessionEnd
    queue records the session at the user's next commit each time."""
    binary = npm_cli("claude", version)
    repo = agent_repo("claude-code")
    mock = mock_factory(PLAN)
    env = claude_env(mock)
    first = claude(binary, repo, env, "do the steps")
    sid = first["session_id"]
    (tmp_path / "result.json").write_text(json.dumps(first))
    others = {"initial": repo.sha_of("initial"), "Set up costlog": repo.sha_of("Set up costlog")}
    others["user: unrelated"] = repo.commit("user: unrelated")  # drains the SessionEnd queue
    claude(binary, repo, env, "now step 2", "--resume", sid)
    others["user: after"] = repo.commit("user: after")
    return repo, mock, sid, first, others


@pytest.mark.agent_timeout(170)
@pytest.mark.parametrize("version", VERSIONS)
def test_real_claude_headless_resume_and_session_end_queue(
    version: str, mock_factory: Any, agent_repo: Any, tmp_path: Path
) -> None:
    repo, mock, sid, _, others = headless_run(version, mock_factory, agent_repo, tmp_path)
    answered = mock.answered()
    assert len([r for r in answered if r["main"]]) == 4, answered
    truth = truth_of(answered)
    entry = repo.entry("claude-code", sid)
    assert_money(entry, truth)
    own = {
        "step 1": repo.sha_of(f"step 1 {WORK_ITEM}"),
        "step 2": repo.sha_of(f"step 2 {WORK_ITEM}"),
    }
    assert_links(entry, own, others)
    assert entry.work_items == [WORK_ITEM]
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "ledger")
    repo.costlog("check")


@pytest.mark.agent_timeout(170)
def test_real_claude_end_session_records_this_session(mock_factory: Any, agent_repo: Any) -> None:
    binary = npm_cli("claude", VERSIONS[0])
    repo = agent_repo("claude-code")
    # one commit, then `/end-session` in the same session: its turn gets the closing reply
    mock = mock_factory(dict(PLAN, steps=PLAN["steps"][:2]))
    env = claude_env(mock)
    sid = claude(binary, repo, env, "do the steps")["session_id"]
    before = mock.answered()
    claude(binary, repo, env, "/end-session", "--resume", sid)
    assert len(mock.answered()) == len(before) + 1, "the /end-session turn reached the model"
    entry = repo.entry("claude-code", sid)
    # /end-session records before its own turn reaches the model
    assert_money(entry, truth_of(before))
    assert_links(
        entry,
        {"step 1": repo.sha_of(f"step 1 {WORK_ITEM}")},
        {"initial": repo.sha_of("initial"), "Set up costlog": repo.sha_of("Set up costlog")},
    )


@pytest.mark.agent_timeout(170)
def test_real_claude_scan_matches_truth(mock_factory: Any, agent_repo: Any, tmp_path: Path) -> None:
    repo, mock, sid, _, _ = headless_run(VERSIONS[0], mock_factory, agent_repo, tmp_path)
    truth = truth_of(mock.answered())
    (transcript,) = (Path(os.environ["HOME"]) / ".claude" / "projects").rglob(f"{sid}.jsonl")
    out = json.loads(repo.costlog("scan", "--path", str(transcript), "--json"))
    totals = out["totals"]
    got = {k: int(totals[f"{k}_tokens"]) for k in truth.models[MODEL]}
    assert got == truth.models[MODEL], f"scan {got} vs truth {truth.models[MODEL]}"
    assert Decimal(totals["cost_usd"]) == truth.cost, f"scan {totals['cost_usd']} vs {truth.cost}"


@pytest.mark.agent_timeout(170)
@pytest.mark.parametrize("version", VERSIONS)
def test_real_claude_writes_only_record_types_costlog_knows(
    version: str, mock_factory: Any, agent_repo: Any, tmp_path: Path
) -> None:
    _, _, sid, _, _ = headless_run(version, mock_factory, agent_repo, tmp_path)
    projects = Path(os.environ["HOME"]) / ".claude" / "projects"
    assert_known_types("claude-code", projects.rglob(f"{sid}.jsonl"))


@pytest.mark.agent_timeout(170)
def test_real_claude_from_json_keeps_cache_split(
    mock_factory: Any, agent_repo: Any, tmp_path: Path
) -> None:
    binary = npm_cli("claude", VERSIONS[0])
    repo = agent_repo("claude-code")
    mock = mock_factory(PLAN)
    result = claude(binary, repo, claude_env(mock), "do the steps")
    (tmp_path / "result.json").write_text(json.dumps(result))
    truth = truth_of(mock.answered())
    repo.costlog("record", "--from-json", str(tmp_path / "result.json"))
    entries = repo.entries("claude-code")
    assert len(entries) == 1
    assert figures(entries[0]) == truth.models, (
        f"--from-json: costlog {figures(entries[0])} vs truth {truth.models}"
    )


# --- interactive, under tmux --------------------------------------------------------------


class Tmux:
    """One Claude Code session in a private tmux server, stopped by the server's PID."""

    def __init__(self, socket: str, cwd: Path, command: list[str], env: dict[str, str]) -> None:
        self.base = ["tmux", "-L", socket]
        argv = ["env", *[f"{k}={v}" for k, v in env.items()], *command]
        subprocess.run(
            [
                *self.base,
                "new-session",
                "-d",
                "-s",
                "cc",
                "-x",
                "200",
                "-y",
                "50",
                "-c",
                str(cwd),
                shlex.join(argv),
            ],
            check=True,
            timeout=30,
            env=env,
        )
        pid = subprocess.run(
            [*self.base, "display-message", "-p", "#{pid}"],
            check=True,
            capture_output=True,
            text=True,
            timeout=30,
            env=env,
        )
        self.pid = int(pid.stdout.strip())
        self.env = env

    def screen(self) -> str:
        done = subprocess.run(
            [*self.base, "capture-pane", "-p", "-t", "cc"],
            capture_output=True,
            text=True,
            timeout=30,
            env=self.env,
            check=False,
        )
        return done.stdout

    def type(self, text: str) -> None:
        subprocess.run(
            [*self.base, "send-keys", "-t", "cc", "-l", text], check=True, timeout=30, env=self.env
        )
        time.sleep(0.3)
        subprocess.run(
            [*self.base, "send-keys", "-t", "cc", "Enter"], check=True, timeout=30, env=self.env
        )

    def wait(self, done: Any, what: str, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while not done():
            if time.monotonic() > deadline:
                raise AssertionError(f"waited {seconds}s for {what}; screen:\n{self.screen()}")
            time.sleep(0.25)

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)


@pytest.mark.agent_timeout(170)
@pytest.mark.parametrize("version", VERSIONS)
def test_real_claude_interactive_tmux_end_session(
    version: str, mock_factory: Any, agent_repo: Any, tmp_path: Path
) -> None:
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed (apt-get install tmux)")
    binary = npm_cli("claude", version)
    repo = agent_repo("claude-code")
    mock = mock_factory(dict(PLAN, steps=PLAN["steps"][:2]))
    env = claude_env(mock)
    env["PWD"] = str(repo.root)
    key = env["ANTHROPIC_API_KEY"]
    # first-run screens answered the way a user answers them once: onboarding done, the
    # folder trusted, the API key approved
    (Path(env["HOME"]) / ".claude.json").write_text(
        json.dumps(
            {
                "hasCompletedOnboarding": True,
                "theme": "dark",
                "customApiKeyResponses": {"approved": [key[-20:]], "rejected": []},
                "projects": {str(repo.root): {"hasTrustDialogAccepted": True, "allowedTools": []}},
            }
        )
    )
    ui = Tmux(
        f"costlog-{os.getpid()}-{tmp_path.name}",
        repo.root,
        [str(binary), "--permission-mode", "default", "--allowedTools", "Bash"],
        env,
    )
    try:
        ui.wait(lambda: "❯" in ui.screen(), "the prompt")
        ui.type("do the steps")
        ui.wait(
            lambda: (
                len([r for r in mock.answered() if r["main"]]) >= 2
                and "step 1" in repo.git("log", "-1", "--format=%s")
            ),
            "the commit",
        )
        ui.wait(lambda: "Done: step 1" in ui.screen(), "the reply")
        before = mock.answered()
        ui.type("/end-session")
        folder = repo.root / ".costlog" / "sessions" / "claude-code"
        ui.wait(lambda: folder.exists() and any(folder.glob("*.yaml")), "the ledger entry")
        ui.wait(lambda: len(mock.answered()) > len(before), "the /end-session turn")
        (entry,) = repo.entries("claude-code")
        ui.type("/exit")
        ui.wait(
            lambda: (
                (repo.root / ".git" / "costlog" / "queue.jsonl").exists()
                and entry.id.split("/")[1]
                in (repo.root / ".git" / "costlog" / "queue.jsonl").read_text()
            ),
            "the SessionEnd hook",
        )
    finally:
        ui.stop()
    own = {"step 1": repo.sha_of(f"step 1 {WORK_ITEM}")}
    others = {"initial": repo.sha_of("initial"), "Set up costlog": repo.sha_of("Set up costlog")}
    # /end-session runs before its own turn, and before Claude Code writes its totals
    # (cost-state): the title call it made at the start is not in the transcript yet
    assert_money(entry, truth_of([r for r in before if r["main"]]))
    assert_links(entry, own, others)
    # the user's next commit drains the SessionEnd queue: the whole session, the title call
    # (from cost-state) and the /end-session turn included, each counted once
    others["user: next"] = repo.commit("user: next")
    (final,) = repo.entries("claude-code")
    assert_money(final, truth_of(mock.answered()))
    assert_links(final, own, others)
