"""Nothing outside the repo, no symlinks (issue 10): a committed config, COST_LOG.md,
ledger or agent settings file can make costlog neither read nor write outside the work tree.

Every attack runs through the real CLI (or a real `git commit` and its hook) in a real repo,
and checks what a victim would notice: the file outside is unchanged, no file in the repo
holds its text, nothing is staged, and the command said which path it refused.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from costlog.integration import agentsetup
from tests_support import git, run

SECRET = "SECRET-7f3a9c: the user's private text"
SID = "5f0c2a9e-2222-4c3b-9a55-0123456789ab"


def outside_secret(tmp_path: Path) -> Path:
    path = tmp_path / "outside" / "secret.txt"
    path.parent.mkdir(exist_ok=True)
    path.write_text(SECRET + "\n")
    return path


def files_holding(root: Path, text: str) -> list[str]:
    """Regular files under `root` (links not followed) whose bytes contain `text`."""
    found = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(folder, d))]
        for name in names:
            path = os.path.join(folder, name)
            if not os.path.islink(path) and text.encode() in Path(path).read_bytes():
                found.append(os.path.relpath(path, root))
    return found


def staged(root: Path) -> list[str]:
    return git(root, "diff", "--cached", "--name-only").stdout.split()


def error_line(output: str) -> str:
    lines = [x for x in output.splitlines() if x.startswith("costlog: error:")]
    assert len(lines) == 1, output
    return lines[0]


def record_by_hand(code: int = 0) -> str:
    return run(
        "record", "--model", "claude-sonnet-4-6", "--session", "s1", "--cost", "0.25", code=code
    )


# ---------------------------------------------------------------- config paths


@pytest.mark.parametrize(
    ("setting", "key", "line"),
    [
        ("output: {outside}/COST_LOG.md", "output", 3),
        ("output: ../outside/COST_LOG.md", "output", 3),
        ("ledger_dir: {outside}/sessions", "ledger_dir", 3),
        ("ledger_dir: docs/../../outside/sessions", "ledger_dir", 3),
        ("template: {outside}/secret.txt", "template", 3),
        ("template: ../outside/secret.txt", "template", 3),
        ("prices_file: ~/prices.yaml", "prices_file", 3),
        ("claude_otel_file: {outside}/otel.jsonl", "claude_otel_file", 3),
        ("rundir:\n  runs_dir: ../outside", "runs_dir", 4),
        ("rundir:\n  work_orders: ['../outside/{{wo}}.md']", "work_orders", 4),
    ],
)
def test_config_paths_must_stay_inside_the_repo(
    repo: Path, tmp_path: Path, setting: str, key: str, line: int
) -> None:
    secret = outside_secret(tmp_path)
    config = repo / ".costlog" / "config.yaml"
    config.parent.mkdir()
    config.write_text(f"timezone: UTC\n# a comment\n{setting.format(outside=secret.parent)}\n")
    for command in (["render"], ["record", "--model", "claude-sonnet-4-6", "--cost", "1"]):
        error = error_line(run(*command, code=1))
        assert f".costlog/config.yaml:{line}: `" in error and key in error
    assert sorted(os.listdir(secret.parent)) == ["secret.txt"]
    assert secret.read_text() == SECRET + "\n"
    assert files_holding(repo, "SECRET-7f3a9c") == []
    assert not (repo / "COST_LOG.md").exists() and staged(repo) == []


@pytest.mark.parametrize(
    "setting",
    [
        "output: .git/costlog/ledger-cache.pickle",
        "output: .GIT/config",
        "ledger_dir: .git/costlog/sessions",
        "template: .git/config",
        "template: vendor/lib/.git/config",
        "prices_file: .git/info/prices.yaml",
    ],
)
def test_config_paths_may_not_reach_the_git_directory(repo: Path, setting: str) -> None:
    """The git dir holds hooks, git's config (with CI tokens) and costlog's own pickled
    cache: a committed config that could write there runs code on a fresh clone, and one
    that could read it as a template commits the token."""
    git(repo, "config", "http.extraheader", "AUTHORIZATION: basic SECRET-7f3a9c")
    run("init")
    cache = repo / ".git" / "costlog" / "ledger-cache.pickle"
    before = {p: p.read_bytes() for p in (repo / ".git").rglob("*") if p.is_file()}
    config = repo / ".costlog" / "config.yaml"
    config.write_text(config.read_text() + setting + "\n")
    for command in (["render"], ["record", "--model", "claude-sonnet-4-6", "--cost", "1"]):
        error = error_line(run(*command, code=1))
        assert "may not point into a git directory" in error, error
        assert ".costlog/config.yaml:" in error
    after = {p: p.read_bytes() for p in (repo / ".git").rglob("*") if p.is_file()}
    changed = [str(p) for p in after if before.get(p) != after[p] and p != cache]
    assert [c for c in changed if "/costlog/" not in c or c.endswith("config")] == []
    assert [f for f in files_holding(repo, "SECRET-7f3a9c") if not f.startswith(".git/")] == []


def test_paths_inside_the_repo_still_work(repo: Path) -> None:
    config = repo / ".costlog" / "config.yaml"
    config.parent.mkdir()
    config.write_text(
        "output: docs/COSTS.md\nledger_dir: ./data/sessions\n"
        "claude_otel_file: ~/otel/events.jsonl\n"
    )
    record_by_hand()
    assert (repo / "data" / "sessions" / "manual" / "s1.yaml").is_file()
    assert "$0.25" in (repo / "docs" / "COSTS.md").read_text()
    assert sorted(staged(repo)) == ["data/sessions/manual/s1.yaml", "docs/COSTS.md"]
    assert run("check").startswith("ok:")


# ---------------------------------------------------------------- the ledger


def test_symlinked_sessions_dir_writes_nothing_outside(repo: Path, tmp_path: Path) -> None:
    run("init", "--agent", "claude-code")
    sessions = repo / ".costlog" / "sessions"
    (sessions / ".gitkeep").unlink()
    sessions.rmdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    sessions.symlink_to(elsewhere)
    out = record_by_hand(code=1)
    assert ".costlog/sessions: is a symbolic link" in error_line(out)
    assert "recorded" not in out
    assert list(elsewhere.iterdir()) == []
    assert staged(repo) == []
    assert ".costlog/sessions" in error_line(run("render", code=1))


def test_symlinked_costlog_dir_and_config_are_refused(repo: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "config.yaml").write_text("output: NOT_HERE.md\n")
    (repo / ".costlog").symlink_to(elsewhere)
    assert ".costlog: is a symbolic link" in error_line(run("render", code=1))
    (repo / ".costlog").unlink()
    (repo / ".costlog").mkdir()
    (repo / ".costlog" / "config.yaml").symlink_to(elsewhere / "config.yaml")
    assert ".costlog/config.yaml: is a symbolic link" in error_line(record_by_hand(code=1))
    assert not (repo / "NOT_HERE.md").exists() and not (repo / "COST_LOG.md").exists()
    assert sorted(os.listdir(elsewhere)) == ["config.yaml"]


def test_symlinked_ledger_file_is_never_read(repo: Path, tmp_path: Path) -> None:
    """A link to a FIFO would hang a reader; a link to a file would be parsed (and its text
    could surface in an error). Both fail at load naming the link, without opening it."""
    record_by_hand()
    target = tmp_path / "outside" / "pipe.yaml"
    target.parent.mkdir()
    os.mkfifo(target)
    link = repo / ".costlog" / "sessions" / "manual" / "evil.yaml"
    link.symlink_to(target)
    for command in ("render", "check"):
        done = subprocess.run(
            [sys.executable, "-m", "costlog", command],
            cwd=repo,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 1, done.stderr
        assert ".costlog/sessions/manual/evil.yaml: is a symbolic link" in done.stderr
    link.unlink()
    marked = tmp_path / "outside" / "marked.yaml"
    marked.write_text(f"schema: 1\nid: manual/x\nagent: manual\nstarted: {SECRET}\n")
    (repo / ".costlog" / "sessions" / "linked").symlink_to(marked.parent)
    before = (repo / "COST_LOG.md").read_text()
    for args in (["render"], ["report"], ["check"]):
        out = run(*args, code=1)
        assert ".costlog/sessions/linked: is a symbolic link" in error_line(out)
        assert "SECRET" not in out
    assert (repo / "COST_LOG.md").read_text() == before
    assert files_holding(repo, "SECRET-7f3a9c") == []


def test_a_fifo_in_the_ledger_fails_instead_of_hanging(repo: Path) -> None:
    record_by_hand()
    os.mkfifo(repo / ".costlog" / "sessions" / "manual" / "pipe.yaml")
    done = subprocess.run(
        [sys.executable, "-m", "costlog", "render"],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert ".costlog/sessions/manual/pipe.yaml: is not a regular file" in done.stderr


# ---------------------------------------------------------------- COST_LOG.md


def link_cost_log(repo: Path, tmp_path: Path) -> Path:
    secret = outside_secret(tmp_path)
    (repo / "COST_LOG.md").symlink_to(secret)
    git(repo, "add", "COST_LOG.md")
    git(repo, "commit", "-q", "-m", "Add the cost log")
    return secret


def assert_untouched(repo: Path, secret: Path) -> None:
    assert secret.read_text() == SECRET + "\n"
    assert os.path.islink(repo / "COST_LOG.md")
    assert files_holding(repo, "SECRET-7f3a9c") == []
    assert staged(repo) == []


def test_cost_log_symlink_record_and_render(repo: Path, tmp_path: Path) -> None:
    secret = link_cost_log(repo, tmp_path)
    out = record_by_hand(code=1)
    assert "COST_LOG.md: is a symbolic link" in error_line(out)
    assert "recorded" not in out
    assert not (repo / ".costlog" / "sessions").exists()  # no entry left half-published
    for args in (["render"], ["check"], ["record", "--model", "x", "--cost", "1", "--no-render"]):
        assert "COST_LOG.md: is a symbolic link" in error_line(run(*args, code=1))
    assert_untouched(repo, secret)


def test_cost_log_symlink_under_the_post_commit_hook(
    repo: Path, tmp_path: Path, isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run("init", "--agent", "claude-code")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Set up costlog")
    (repo / "COST_LOG.md").unlink()
    secret = link_cost_log(repo, tmp_path)
    claude = isolated_home / "claude-config"
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(claude))
    transcript = (
        claude / "projects" / str(repo).replace("/", "-").replace("_", "-") / f"{SID}.jsonl"
    )
    transcript.parent.mkdir(parents=True)
    base = {
        "isSidechain": False,
        "userType": "external",
        "cwd": str(repo),
        "sessionId": SID,
        "version": "2.1.119",
        "gitBranch": "main",
    }
    lines = [
        {
            **base,
            "type": "user",
            "uuid": "u1",
            "parentUuid": None,
            "timestamp": "2026-11-20T08:00:00.000Z",
            "message": {"role": "user", "content": "hello"},
        },
        {
            **base,
            "type": "assistant",
            "uuid": "a1",
            "parentUuid": "u1",
            "requestId": "req_1",
            "timestamp": "2026-11-20T08:01:00.000Z",
            "message": {
                "model": "claude-sonnet-4-6",
                "id": "msg_1",
                "type": "message",
                "role": "assistant",
                "content": [{"type": "text", "text": "hi"}],
                "stop_reason": "end_turn",
                "stop_sequence": None,
                "usage": {
                    "input_tokens": 10,
                    "cache_creation_input_tokens": 0,
                    "cache_read_input_tokens": 0,
                    "output_tokens": 5,
                },
            },
        },
    ]
    transcript.write_text("".join(json.dumps(x) + "\n" for x in lines))
    payload = {
        "session_id": SID,
        "transcript_path": str(transcript),
        "cwd": str(repo),
        "hook_event_name": "SessionEnd",
        "reason": "other",
    }
    subprocess.run(
        [sys.executable, "-m", "costlog", "hook", "session-end", "--agent", "claude-code"],
        input=json.dumps(payload),
        text=True,
        check=True,
        cwd=repo,
    )
    (repo / "a.txt").write_text("x\n")
    git(repo, "add", "a.txt")
    done = subprocess.run(
        ["git", "commit", "-q", "-m", "change"], cwd=repo, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "recorded" not in done.stderr and "staged" not in done.stderr
    assert list((repo / ".costlog" / "sessions").rglob("*.yaml")) == []
    assert_untouched(repo, secret)
    # fixed: the queued session was kept, and the next commit records it
    (repo / "COST_LOG.md").unlink()
    git(repo, "rm", "-q", "--cached", "COST_LOG.md")
    git(repo, "commit", "-q", "-m", "Drop the link")
    assert (repo / ".costlog" / "sessions" / "claude-code" / f"{SID}.yaml").is_file()
    assert "claude-sonnet-4-6" in (repo / "COST_LOG.md").read_text()


def test_import_refuses_a_linked_cost_log(repo: Path, tmp_path: Path) -> None:
    secret = link_cost_log(repo, tmp_path)
    classic = tmp_path / "classic.md"
    classic.write_text(
        "# Cost log\n\n## Session log\n\n| Date | Agent | Model | Cost |\n"
        "|---|---|---|---|\n| 2026-11-01 | claude-code | sonnet | $0.10 |\n"
    )
    out = run("import", str(classic), code=1)
    assert "COST_LOG.md: is a symbolic link" in error_line(out)
    assert not (repo / ".costlog").exists()
    assert_untouched(repo, secret)


# ---------------------------------------------------------------- init and uninstall


def snapshot(root: Path) -> dict[str, bytes]:
    out = {}
    for folder, dirs, names in os.walk(root):
        for name in [*names, *dirs]:
            path = Path(folder, name)
            rel = str(path.relative_to(root))
            if rel.startswith(".git/objects"):
                continue
            out[rel] = (
                os.readlink(path).encode()
                if path.is_symlink()
                else path.read_bytes()
                if path.is_file()
                else b"<dir>"
            )
    return out


@pytest.mark.parametrize(
    "name",
    [
        ".gitattributes",
        ".claude/settings.json",
        ".claude/commands/end-session.md",
        ".gemini/settings.json",
        ".gemini/commands/end-session.toml",
        ".claude",
    ],
)
def test_init_refuses_a_linked_file_and_writes_nothing(
    repo: Path, tmp_path: Path, name: str
) -> None:
    secret = outside_secret(tmp_path)
    link = repo / name
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(secret if name != ".claude" else secret.parent)
    before = snapshot(repo)
    out = run("init", "--agent", "claude-code", "--agent", "gemini", code=1)
    assert f"{name}: is a symbolic link" in error_line(out)
    assert snapshot(repo) == before
    assert sorted(os.listdir(secret.parent)) == ["secret.txt"]
    assert secret.read_text() == SECRET + "\n"
    assert (
        run("init", "--dry-run", "--agent", "claude-code", "--agent", "gemini", code=1).count(
            "is a symbolic link"
        )
        == 1
    )
    assert snapshot(repo) == before


def test_init_refuses_a_hooks_dir_linked_out_of_the_repo(repo: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere-hooks"
    elsewhere.mkdir()
    (repo / ".githooks").symlink_to(elsewhere)
    git(repo, "config", "core.hooksPath", ".githooks")
    out = run("init", "--agent", "claude-code", code=1)
    assert ".githooks: is a symbolic link" in error_line(out)
    assert list(elsewhere.iterdir()) == []
    assert not (repo / ".costlog").exists()


def test_a_planted_temp_file_link_is_not_written_through(repo: Path, tmp_path: Path) -> None:
    secret = outside_secret(tmp_path)
    (repo / ".claude").mkdir()
    (repo / ".claude" / ".settings.json.costlog-tmp").symlink_to(secret)
    run("init", "--agent", "claude-code")
    assert secret.read_text() == SECRET + "\n"
    assert json.loads((repo / ".claude" / "settings.json").read_text())["hooks"]["SessionEnd"]
    assert files_holding(repo, "SECRET-7f3a9c") == []


def test_codex_prompt_is_not_written_through_a_link(
    repo: Path, tmp_path: Path, isolated_home: Path
) -> None:
    secret = outside_secret(tmp_path)
    prompts = isolated_home / ".codex" / "prompts"
    prompts.mkdir(parents=True)
    (prompts / "end-session.md").symlink_to(secret)
    out = run("init", "--agent", "codex", code=1)
    assert f"{prompts / 'end-session.md'}: is a symbolic link" in error_line(out)
    (prompts / "end-session.md").unlink()
    prompts.rmdir()
    (isolated_home / ".codex").rmdir()
    (isolated_home / ".codex").symlink_to(secret.parent)
    out = run("init", "--agent", "codex", code=1)
    assert f"{isolated_home / '.codex'}: is a symbolic link" in error_line(out)
    assert sorted(os.listdir(secret.parent)) == ["secret.txt"]
    assert not (repo / ".costlog").exists()
    # uninstall, in a repo whose init never wrote there, leaves the linked dir alone, even
    # a prompt of ours that another machine put there
    theirs = secret.parent / "prompts" / "end-session.md"
    theirs.parent.mkdir()
    theirs.write_text(agentsetup.CODEX_PROMPT)
    run("init", "--agent", "claude-code")
    out = run("uninstall")
    assert f"left {isolated_home / '.codex' / 'prompts' / 'end-session.md'} alone" in out
    assert theirs.read_text() == agentsetup.CODEX_PROMPT
    assert not (repo / ".claude").exists() and not (repo / ".costlog").exists()


def test_uninstall_still_restores_everything(repo: Path, isolated_home: Path) -> None:
    (repo / ".gitattributes").write_text("*.png binary\n")
    git(repo, "add", ".gitattributes")
    git(repo, "commit", "-q", "-m", "attributes")
    before = snapshot(repo)
    run("init", "--agent", "claude-code", "--agent", "codex", "--agent", "gemini")
    assert (isolated_home / ".codex" / "prompts" / "end-session.md").is_file()
    assert "merge=costlog" in (repo / ".gitattributes").read_text()
    out = run("uninstall")
    assert "restore .gitattributes" in out
    after = snapshot(repo)
    assert {k: v for k, v in after.items() if not k.startswith(".git/")} == {
        k: v for k, v in before.items() if not k.startswith(".git/")
    }
    assert not (isolated_home / ".codex" / "prompts" / "end-session.md").exists()


def test_uninstall_refuses_a_file_linked_after_init(repo: Path, tmp_path: Path) -> None:
    secret = outside_secret(tmp_path)
    run("init", "--agent", "claude-code")
    (repo / ".gitattributes").unlink()
    (repo / ".gitattributes").symlink_to(secret)
    settings = (repo / ".claude" / "settings.json").read_text()
    out = run("uninstall", code=1)
    assert ".gitattributes: is a symbolic link" in error_line(out)
    assert secret.read_text() == SECRET + "\n"
    assert (repo / ".claude" / "settings.json").read_text() == settings  # nothing half done
