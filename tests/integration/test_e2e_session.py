"""End to end: `costlog init`, a Claude Code session that commits on a feature branch, its
SessionEnd hook, then a commit: the post-commit hook records the session with its commits
and work item, COST_LOG.md shows it, and `costlog check` passes."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests_support import git, invoke

SID = "5f0c2a9e-1111-4c3b-9a55-0123456789ab"
BRANCH = "feature/WRK-237-x"


@pytest.fixture
def claude_dir(isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = isolated_home / "claude-config"
    path.mkdir()
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(path))
    # the SessionEnd command in .claude/settings.json runs `costlog` from PATH
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    yield path


def commit_at(root: Path, name: str, text: str, message: str, when: str) -> str:
    (root / name).write_text(text)
    git(root, "add", name)
    env = {**os.environ, "GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when}
    done = subprocess.run(
        ["git", "commit", "-q", "-m", message], cwd=root, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return git(root, "rev-parse", "HEAD").stdout.strip()


class Transcript:
    """Lines in Claude Code's own shape (2.1.x), as it writes them while the session runs."""

    def __init__(self, cwd: Path) -> None:
        self.cwd = str(cwd)
        self.lines: list[dict[str, object]] = []
        self.parent: str | None = None
        self.n = 0

    def _base(self, kind: str, ts: str) -> dict[str, object]:
        self.n += 1
        uuid = f"00000000-0000-4000-8000-{self.n:012d}"
        base: dict[str, object] = {
            "parentUuid": self.parent,
            "isSidechain": False,
            "userType": "external",
            "cwd": self.cwd,
            "sessionId": SID,
            "version": "2.1.119",
            "gitBranch": BRANCH,
            "type": kind,
            "uuid": uuid,
            "timestamp": ts,
        }
        self.parent = uuid
        return base

    def user(self, ts: str, content: object) -> None:
        self.lines.append(
            {**self._base("user", ts), "message": {"role": "user", "content": content}}
        )

    def assistant(self, ts: str, content: list[dict[str, object]], out: int) -> None:
        self.lines.append(
            {
                **self._base("assistant", ts),
                "requestId": f"req_{self.n:04d}",
                "message": {
                    "model": "claude-sonnet-4-6",
                    "id": f"msg_{self.n:04d}",
                    "type": "message",
                    "role": "assistant",
                    "content": content,
                    "stop_reason": "tool_use",
                    "stop_sequence": None,
                    "usage": {
                        "input_tokens": 12,
                        "cache_creation_input_tokens": 2000,
                        "cache_read_input_tokens": 18000,
                        "output_tokens": out,
                        "service_tier": "standard",
                    },
                },
            }
        )

    def tool_run(self, ts: str, tool_id: str, command: str, output: str) -> None:
        self.assistant(
            ts,
            [{"type": "tool_use", "id": tool_id, "name": "Bash", "input": {"command": command}}],
            120,
        )
        self.user(
            ts,
            [{"tool_use_id": tool_id, "type": "tool_result", "content": output, "is_error": False}],
        )

    def write(self, config_dir: Path) -> Path:
        slug = re.sub(r"[^A-Za-z0-9]", "-", self.cwd)
        path = config_dir / "projects" / slug / f"{SID}.jsonl"
        path.parent.mkdir(parents=True)
        path.write_text("".join(json.dumps(line) + "\n" for line in self.lines))
        return path


def run_session_end_hook(root: Path, transcript: Path) -> None:
    """Run the SessionEnd command from .claude/settings.json, as Claude Code does."""
    settings = json.loads((root / ".claude" / "settings.json").read_text())
    [handler] = [h for g in settings["hooks"]["SessionEnd"] for h in g["hooks"]]
    payload = {
        "session_id": SID,
        "transcript_path": str(transcript),
        "cwd": str(root),
        "hook_event_name": "SessionEnd",
        "reason": "prompt_input_exit",
    }
    done = subprocess.run(
        ["sh", "-c", handler["command"]],
        input=json.dumps(payload),
        cwd=root,
        capture_output=True,
        text=True,
        timeout=handler["timeout"],
    )
    assert done.returncode == 0, done.stderr


def test_session_end_to_ledger_through_the_commit_hook(repo: Path, claude_dir: Path) -> None:
    result = invoke(["init"])
    assert result.exit_code == 0, result.output
    assert ".claude/commands/end-session.md" in result.output
    git(repo, "add", "-A")
    commit_at(
        repo,
        ".gitattributes",
        (repo / ".gitattributes").read_text(),
        "Set up costlog",
        "2026-11-20T11:00:00+00:00",
    )
    git(repo, "checkout", "-q", "-b", BRANCH)

    t = Transcript(repo)
    t.user("2026-11-20T12:00:00.000Z", "Add a cost table for WRK-237")
    t.assistant(
        "2026-11-20T12:01:00.000Z",
        [
            {
                "type": "tool_use",
                "id": "toolu_01",
                "name": "Write",
                "input": {"file_path": str(repo / "cost.py"), "content": "TABLE = {}\n"},
            }
        ],
        300,
    )
    first = commit_at(
        repo, "cost.py", "TABLE = {}\n", "Add cost table", "2026-11-20T12:10:00+00:00"
    )
    t.tool_run(
        "2026-11-20T12:10:05.000Z",
        "toolu_02",
        "git add cost.py && git commit -m 'Add cost table'",
        f"[{BRANCH} {first[:7]}] Add cost table\n 1 file changed, "
        "1 insertion(+)\n create mode 100644 cost.py",
    )
    second = commit_at(
        repo, "test_cost.py", "def test(): pass\n", "Test cost table", "2026-11-20T12:20:00+00:00"
    )
    t.tool_run(
        "2026-11-20T12:20:05.000Z",
        "toolu_03",
        "git commit -am 'Test cost table'",
        f"[{BRANCH} {second[:7]}] Test cost table\n 1 file changed, 1 insertion(+)",
    )
    t.assistant("2026-11-20T12:25:00.000Z", [{"type": "text", "text": "Done."}], 40)
    transcript = t.write(claude_dir)

    run_session_end_hook(repo, transcript)
    assert (repo / ".git" / "costlog" / "queue.jsonl").exists()
    # a later commit by the user, outside the session: its post-commit hook records it
    commit_at(
        repo, "README.md", "# demo project\n\nMore.\n", "Update README", "2026-11-20T13:00:00+00:00"
    )

    entry_path = repo / ".costlog" / "sessions" / "claude-code" / f"{SID}.yaml"
    text = entry_path.read_text()
    assert first[:12] in text and second[:12] in text
    assert "Update README" not in text
    assert "WRK-237" in text and "evidence: tool-output" in text
    cost_log = (repo / "COST_LOG.md").read_text()
    assert "WRK-237" in cost_log and "claude-code" in cost_log
    staged = git(repo, "diff", "--cached", "--name-only").stdout.split()
    assert f".costlog/sessions/claude-code/{SID}.yaml" in staged and "COST_LOG.md" in staged
    check = invoke(["check"])
    assert check.exit_code == 0, check.output
    assert not (repo / ".git" / "costlog" / "queue.jsonl").exists()  # drained


def test_two_overlapping_sessions_each_get_their_own_commits(repo: Path, claude_dir: Path) -> None:
    """Two sessions in one repo at the same time, each running its own `git commit`, both
    ending (SessionEnd) before the user's next commit: each entry has exactly its commits."""
    from costlog.gitrepo import find
    from costlog.ledger.store import Ledger

    invoke(["init", "--agent", "claude-code"])
    sessions: dict[str, list[tuple[str, str, int]]] = {}
    for n, (tail, name, minute) in enumerate(
        [("aaaa", "a.py", 10), ("bbbb", "b.py", 15), ("aaaa", "a2.py", 30), ("bbbb", "b2.py", 40)]
    ):
        sha = commit_at(repo, name, f"{n}\n", f"Change {name}", f"2026-11-20T12:{minute}:00+00:00")
        sessions.setdefault(tail, []).append((name, sha, minute))
    for tail, made in sessions.items():
        sid = f"5f0c2a9e-1111-4c3b-9a55-01234567{tail}"
        t = Transcript(repo)
        t.user("2026-11-20T12:00:00.000Z", "work")
        for name, sha, minute in made:
            t.tool_run(
                f"2026-11-20T12:{minute}:05.000Z",
                f"toolu_{name}",
                "git commit",
                f"[main {sha[:7]}] Change {name}\n 1 file changed",
            )
        t.assistant("2026-11-20T12:50:00.000Z", [{"type": "text", "text": "ok"}], 10)
        for line in t.lines:
            line["sessionId"] = sid
        path = claude_dir / "projects" / f"p{tail}" / f"{sid}.jsonl"
        path.parent.mkdir(parents=True)
        path.write_text("".join(json.dumps(x) + "\n" for x in t.lines))
        payload = {
            "session_id": sid,
            "transcript_path": str(path),
            "cwd": str(repo),
            "hook_event_name": "SessionEnd",
            "reason": "other",
        }
        subprocess.run(
            [sys.executable, "-m", "costlog", "hook", "session-end", "--agent", "claude-code"],
            input=json.dumps(payload),
            text=True,
            check=True,
        )
    commit_at(repo, "notes.txt", "n\n", "Notes", "2026-11-20T12:55:00+00:00")
    ledger = Ledger(find(repo), ".costlog/sessions")
    for tail, made in sessions.items():
        entry = ledger.get(f"claude-code/5f0c2a9e-1111-4c3b-9a55-01234567{tail}")
        assert entry is not None
        assert [(c.sha, c.evidence) for c in entry.commits] == [
            (sha[:12], "tool-output") for _, sha, _ in made
        ]


def test_an_agent_without_logs_is_estimated_from_its_commits(repo: Path) -> None:
    """Cursor leaves no usable log: the session is estimated from the diffs it committed."""
    git(repo, "checkout", "-q", "-b", "feature/WRK-41-cursor")
    body = "".join(
        f"def handler_{n}(request):\n    return respond(request, {n})\n\n" for n in range(40)
    )
    first = commit_at(repo, "handlers.py", body, "Add handlers", "2026-11-20T14:00:00+00:00")
    second = commit_at(
        repo, "more.py", body, "More handlers\n\nRefs: PROJ-12", "2026-11-20T14:30:00+00:00"
    )
    result = invoke(
        [
            "record",
            "--agent",
            "cursor",
            "--model",
            "claude-sonnet-4-6",
            "--since",
            "main",
            "--session",
            "c1",
            "--no-stage",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "cursor c1: claude-sonnet-4-6, 2 commits (WRK-41, PROJ-12)" in result.output
    assert "(estimated)" in result.output
    text = (repo / ".costlog" / "sessions" / "cursor" / "c1.yaml").read_text()
    assert "estimated from 2 commits" in text and first[:12] in text and second[:12] in text
    # without --since: only the commits after the previous recorded session
    commit_at(repo, "late.py", "x = 1\n", "Late fix", "2026-11-20T16:00:00+00:00")
    again = invoke(
        [
            "record",
            "--agent",
            "cursor",
            "--model",
            "claude-sonnet-4-6",
            "--session",
            "c2",
            "--no-stage",
        ],
    )
    assert "cursor c2: claude-sonnet-4-6, 1 commit" in again.output, again.output


def test_the_diff_estimate_uses_the_configured_context_per_turn(repo: Path) -> None:
    from costlog.gitrepo import find
    from costlog.ledger.store import Ledger

    (repo / ".costlog").mkdir()
    (repo / ".costlog" / "config.yaml").write_text(
        "diff_estimate:\n  turns_per_commit: 2\n  context_tokens: 10000\n  cache_share: 0.5\n"
    )
    commit_at(repo, "a.py", "x = 1\n", "Add a", "2026-11-20T14:00:00+00:00")
    result = invoke(
        [
            "record",
            "--agent",
            "cursor",
            "--model",
            "claude-sonnet-4-6",
            "--since",
            "HEAD~1",
            "--session",
            "k",
            "--no-stage",
        ],
    )
    assert result.exit_code == 0, result.output
    entry = Ledger(find(repo), ".costlog/sessions").get("cursor/k")
    assert entry is not None
    usage = entry.models["claude-sonnet-4-6"].usage
    # 1 commit x 2 turns x 10,000 context tokens, half of them cache reads
    assert (usage.input, usage.cache_read) == (10_000, 10_000)
    assert "2 turns (2/commit) x 10,000 context tokens" in " ".join(entry.methods.values())


def test_a_session_that_went_idle_is_recorded_by_the_next_commit(
    repo: Path, claude_dir: Path
) -> None:
    """No /end-session, no SessionEnd hook (e.g. Ctrl+C twice): the log going idle is enough."""
    invoke(["init", "--agent", "claude-code"])
    sha = commit_at(repo, "x.py", "x = 1\n", "Add x", "2026-11-20T12:10:00+00:00")
    t = Transcript(repo)
    t.user("2026-11-20T12:00:00.000Z", "add x")
    t.tool_run(
        "2026-11-20T12:10:05.000Z",
        "toolu_1",
        "git commit -m 'Add x'",
        f"[{BRANCH} {sha[:7]}] Add x\n 1 file changed",
    )
    path = t.write(claude_dir)
    # still being written: the next commit leaves it alone
    commit_at(repo, "y.py", "y = 1\n", "Add y", "2026-11-20T12:20:00+00:00")
    entry = repo / ".costlog" / "sessions" / "claude-code" / f"{SID}.yaml"
    assert not entry.exists()
    idle_since = time.time() - 31 * 60
    os.utime(path, (idle_since, idle_since))
    commit_at(repo, "z.py", "z = 1\n", "Add z", "2026-11-20T13:20:00+00:00")
    assert entry.exists() and sha[:12] in entry.read_text()
    # recorded once: touching nothing, the next commit records nothing again
    entry.unlink()
    commit_at(repo, "w.py", "w = 1\n", "Add w", "2026-11-20T13:30:00+00:00")
    assert not entry.exists()


def test_quick_idle_minutes_reads_the_config_without_yaml(tmp_path: Path) -> None:
    from costlog import config as config_mod
    from costlog.sources.claude import idle

    assert config_mod.Config().idle_minutes == idle.DEFAULT_IDLE_MINUTES
    cfg = tmp_path / ".costlog" / "config.yaml"
    cfg.parent.mkdir()
    cfg.write_text(config_mod.DEFAULT_TEXT)
    assert idle.quick_idle_minutes(tmp_path) == 30
    cfg.write_text("idle_minutes: 5   # sooner\n")
    assert idle.quick_idle_minutes(tmp_path) == 5
    cfg.write_text("{idle_minutes: 5}\n")
    assert idle.quick_idle_minutes(tmp_path) == 0  # not a plain line: check every log
