"""`costlog init` sets a repo up without clobbering anything; `uninstall` takes it back."""

from __future__ import annotations

import json
import os
import shutil
import tomllib
from pathlib import Path

import pytest

from costlog import gitrepo as repo_mod
from costlog.errors import CostlogError
from costlog.integration import agentsetup, setup
from tests_support import git, invoke, run

#: what the committed commands run: the committed runner, which finds this clone's launcher
#: (the interpreter that installed costlog here), so every clone runs its own costlog
COSTLOG = "sh .costlog/bin/costlog"

USER_SETTINGS = """{
    "permissions": {"allow": ["Bash(npm test)"]},
    "hooks": {
        "SessionEnd": [{"hooks": [{"type": "command", "command": "~/bin/notify.sh"}]}],
        "PostToolUse": [{"matcher": "Write", "hooks": [{"type": "command", "command": "fmt"}]}]
    }
}"""


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every file of the work tree, plus .git/config and .git/hooks: content and mode."""
    out = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        inside_git = rel.startswith(".git/")
        if inside_git and not (rel == ".git/config" or rel.startswith(".git/hooks/")):
            continue
        if path.is_file():
            out[rel] = (path.read_bytes(), path.stat().st_mode & 0o777)
        elif path.is_dir() and rel != ".git":
            out[rel + "/"] = (b"", 0)
    return out


def test_dry_run_lists_every_file_and_changes_nothing(repo: Path) -> None:
    before = snapshot(repo)
    result = invoke(["init", "--dry-run", "--agent", "claude-code"])
    assert result.exit_code == 0
    for name in (
        ".costlog/config.yaml",
        ".git/hooks/post-commit",
        ".git/hooks/post-rewrite",
        ".gitattributes",
        ".claude/commands/end-session.md",
        ".claude/settings.json",
        "merge.costlog.driver",
        "COST_LOG.md",
    ):
        assert name in result.output, name
    assert snapshot(repo) == before


def test_init_is_idempotent(repo: Path) -> None:
    first = setup.init(repo_mod.find(repo), agents=["claude-code", "gemini"])
    assert any("post-commit" in line for line in first)
    after_first = snapshot(repo)
    again = setup.init(repo_mod.find(repo), agents=["claude-code", "gemini"])
    assert again[0] == "already set up: nothing to change"
    assert snapshot(repo) == after_first


def test_uninstall_leaves_the_repo_byte_identical(repo: Path) -> None:
    hooks = repo / ".git" / "hooks"
    hooks.mkdir(exist_ok=True)
    (hooks / "post-merge").write_text("#!/bin/sh\necho merged\n")
    (hooks / "post-merge").chmod(0o700)
    (repo / ".gitattributes").write_text("*.png binary")  # no final newline
    (repo / ".claude").mkdir()
    (repo / ".claude" / "settings.json").write_text(USER_SETTINGS)
    (repo / ".gemini").mkdir()
    git(repo, "config", "user.signingkey", "ABC")
    before = snapshot(repo)
    lines = setup.init(repo_mod.find(repo), agents=["claude-code", "codex", "gemini"])
    assert len(lines) > 8 and snapshot(repo) != before
    undone = setup.uninstall(repo_mod.find(repo))
    assert any("post-commit" in line for line in undone)
    assert snapshot(repo) == before
    assert not (repo / ".git" / "costlog").exists()
    assert setup.uninstall(repo_mod.find(repo)) == ["nothing of costlog's to remove"]


def test_uninstall_keeps_recorded_sessions(repo: Path) -> None:
    setup.init(repo_mod.find(repo), agents=["claude-code"])
    result = invoke(
        [
            "record",
            "--model",
            "claude-sonnet-4-6",
            "--cost",
            "0.50",
            "--session",
            "s1",
            "--no-stage",
        ],
    )
    assert result.exit_code == 0, result.output
    setup.uninstall(repo_mod.find(repo))
    assert (repo / ".costlog" / "sessions" / "manual" / "s1.yaml").exists()
    assert "0.50" in (repo / "COST_LOG.md").read_text()
    assert not (repo / ".git" / "hooks" / "post-commit").exists()
    assert (
        "merge=costlog" not in (repo / ".gitattributes").read_text()
        if (repo / ".gitattributes").exists()
        else True
    )


def test_settings_are_merged_never_clobbered(repo: Path) -> None:
    (repo / ".claude").mkdir()
    (repo / ".claude" / "settings.json").write_text(USER_SETTINGS)
    setup.init(repo_mod.find(repo), agents=["claude-code"])
    data = json.loads((repo / ".claude" / "settings.json").read_text())
    assert data["permissions"] == {"allow": ["Bash(npm test)"]}
    assert data["hooks"]["PostToolUse"][0]["matcher"] == "Write"
    session_end = [h for g in data["hooks"]["SessionEnd"] for h in g["hooks"]]
    assert session_end[0]["command"] == "~/bin/notify.sh"
    assert session_end[1] == {
        "type": "command",
        "timeout": 10,
        "command": agentsetup.hook_command("claude-code"),
    }
    # the user edits the file afterwards: uninstall removes only our handler
    data["env"] = {"FOO": "1"}
    (repo / ".claude" / "settings.json").write_text(json.dumps(data))
    setup.uninstall(repo_mod.find(repo))
    left = json.loads((repo / ".claude" / "settings.json").read_text())
    assert left["env"] == {"FOO": "1"}
    assert [h["command"] for g in left["hooks"]["SessionEnd"] for h in g["hooks"]] == [
        "~/bin/notify.sh"
    ]


def test_local_flag_uses_settings_local_json(repo: Path) -> None:
    result = invoke(["init", "--local", "--agent", "claude-code"])
    assert result.exit_code == 0
    assert (repo / ".claude" / "settings.local.json").exists()
    assert not (repo / ".claude" / "settings.json").exists()
    setup.uninstall(repo_mod.find(repo))
    assert not (repo / ".claude").exists()


def test_invalid_settings_are_an_error_and_nothing_is_written(repo: Path) -> None:
    (repo / ".claude").mkdir()
    (repo / ".claude" / "settings.json").write_text("{ not json")
    with pytest.raises(CostlogError, match=r"settings\.json: not valid JSON"):
        setup.init(repo_mod.find(repo), agents=["claude-code"])
    assert not (repo / ".costlog").exists()
    assert not (repo / ".claude" / "commands").exists()


def frontmatter(text: str) -> dict[str, str]:
    head = text.split("---\n")[1]
    return dict(line.split(": ", 1) for line in head.strip().splitlines())


def test_claude_end_session_command(repo: Path) -> None:
    setup.init(repo_mod.find(repo), agents=["claude-code"])
    text = (repo / ".claude" / "commands" / "end-session.md").read_text()
    meta = frontmatter(text)
    assert meta["disable-model-invocation"] == "true"
    assert f"Bash({COSTLOG} record *)" in meta["allowed-tools"]
    lines = text.splitlines()
    assert (
        f'!`{COSTLOG} record --agent claude-code --session "${{CLAUDE_SESSION_ID}}" $ARGUMENTS`'
        in lines
    )  # injection only at the start of a line


def test_codex_prompt_and_gemini_command(repo: Path, isolated_home: Path) -> None:
    codex_home = isolated_home / "codex"
    os.environ["CODEX_HOME"] = str(codex_home)
    try:
        setup.init(repo_mod.find(repo), agents=["codex", "gemini"])
    finally:
        del os.environ["CODEX_HOME"]
    prompt = (codex_home / "prompts" / "end-session.md").read_text()
    assert f"    {COSTLOG} record --agent codex $ARGUMENTS" in prompt.splitlines()
    assert "description" in frontmatter(prompt)
    toml = tomllib.loads((repo / ".gemini" / "commands" / "end-session.toml").read_text())
    assert f"!{{{COSTLOG} record --agent gemini {{{{args}}}}}}" in toml["prompt"]
    assert toml["description"]
    gemini = json.loads((repo / ".gemini" / "settings.json").read_text())
    assert gemini["hooks"]["SessionEnd"][0]["hooks"][0]["timeout"] == 5000
    codex = json.loads((repo / ".codex" / "hooks.json").read_text())
    assert codex["hooks"]["SessionEnd"][0]["hooks"][0]["command"] == (
        agentsetup.hook_command("codex")
    )


def test_agents_are_detected_from_their_data_dirs(repo: Path, isolated_home: Path) -> None:
    found = repo_mod.find(repo)
    env = {"HOME": str(isolated_home), "PATH": ""}
    assert agentsetup.detect(found, env) == []
    (isolated_home / ".claude").mkdir()
    (repo / ".gemini").mkdir()
    assert agentsetup.detect(found, env) == ["claude-code", "gemini"]


def test_user_command_of_the_same_name_is_kept(repo: Path) -> None:
    own = repo / ".claude" / "commands" / "end-session.md"
    own.parent.mkdir(parents=True)
    own.write_text("my own command\n")
    lines = setup.init(repo_mod.find(repo), agents=["claude-code"])
    assert own.read_text() == "my own command\n"
    assert any("kept your own" in line for line in lines)
    setup.uninstall(repo_mod.find(repo))
    assert own.read_text() == "my own command\n"


OLD_HANDLER = {"type": "command", "command": "costlog hook session-end --agent claude-code"}


def test_init_replaces_a_bare_costlog_hook_and_uninstall_removes_one(repo: Path) -> None:
    # as an older `costlog init` wrote it: bare `costlog`, found only through PATH
    (repo / ".claude").mkdir()
    settings = repo / ".claude" / "settings.json"
    old = {"theme": "dark", "hooks": {"SessionEnd": [{"hooks": [OLD_HANDLER]}]}}
    settings.write_text(json.dumps(old))
    setup.init(repo_mod.find(repo), agents=["claude-code"])
    data = json.loads(settings.read_text())
    assert data["theme"] == "dark"
    assert [h["command"] for g in data["hooks"]["SessionEnd"] for h in g["hooks"]] == [
        agentsetup.hook_command("claude-code")
    ]
    settings.write_text(json.dumps(old))  # a bare one left by an older version
    setup.uninstall(repo_mod.find(repo))
    assert json.loads(settings.read_text()) == {"theme": "dark"}


def test_the_hook_command_runs_costlog_without_it_on_path(repo: Path) -> None:
    import subprocess

    setup.init(repo_mod.find(repo), agents=["claude-code"])
    data = json.loads((repo / ".claude" / "settings.json").read_text())
    command = data["hooks"]["SessionEnd"][0]["hooks"][0]["command"]
    version = command.replace("hook session-end --agent claude-code", "--version")
    git_only = str(Path(shutil.which("git") or "/usr/bin/git").parent)  # git, no costlog
    done = subprocess.run(
        ["/bin/sh", "-c", version], env={"PATH": git_only}, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "costlog" in done.stdout.lower() and "not set up" not in done.stdout


def _second_repo(tmp_path: Path, name: str) -> Path:
    root = tmp_path / name
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "README.md").write_text(f"# {name}\n")
    git(root, "add", "README.md")
    git(root, "commit", "-q", "-m", "Initial commit")
    return root


def test_the_user_wide_codex_prompt_stays_while_another_repo_uses_it(
    repo: Path, tmp_path: Path, isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prompt = isolated_home / ".codex" / "prompts" / "end-session.md"
    other = _second_repo(tmp_path, "other")
    for root in (repo, other):
        monkeypatch.chdir(root)
        run("init", "--agent", "codex")
    assert prompt.is_file()
    monkeypatch.chdir(repo)
    out = run("uninstall")
    assert f"left {prompt} alone: still used by 1 other repo(s), e.g. {other}" in out
    assert prompt.is_file() and not (repo / ".codex").exists()
    monkeypatch.chdir(other)
    assert run("uninstall", "--dry-run").count("would remove") >= 1 and prompt.is_file()
    out = run("uninstall")
    assert f"remove {prompt}" in out
    # the folders stay: the first repo's init made them, not this one's
    assert not prompt.exists() and not list(prompt.parent.iterdir())


def test_a_repo_deleted_from_disk_does_not_keep_the_codex_prompt(
    repo: Path, tmp_path: Path, isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prompt = isolated_home / ".codex" / "prompts" / "end-session.md"
    gone = _second_repo(tmp_path, "gone")
    for root in (gone, repo):
        monkeypatch.chdir(root)
        run("init", "--agent", "codex")
    shutil.rmtree(gone)
    monkeypatch.chdir(repo)
    run("uninstall")
    assert not prompt.exists()


def test_a_garbled_codex_prompt_registry_is_no_error(repo: Path, isolated_home: Path) -> None:
    run("init", "--agent", "codex")
    registry = isolated_home / ".codex" / "prompts" / agentsetup.USERS_NAME
    assert json.loads(registry.read_text())["repos"] == [str(repo)]
    registry.write_text('{"repos": [3, null, "", {"x": 1}]')
    run("init", "--agent", "codex")
    assert json.loads(registry.read_text())["repos"] == [str(repo)]
    registry.write_text('["not", "an object"]')
    run("uninstall")
    assert not (isolated_home / ".codex").exists()
