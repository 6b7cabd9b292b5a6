"""The post-commit hook finds this repo's Claude Code logs wherever Claude Code keeps them."""

from __future__ import annotations

from pathlib import Path

from costlog import gitrepo as repo_mod
from costlog.sources.claude.idle import claude_project_dirs
from costlog.sources.claude.paths import encode_cwd


def _project(base: Path, repo: Path, suffix: str = "") -> Path:
    folder = base / "projects" / (encode_cwd(str(repo)) + suffix)
    folder.mkdir(parents=True)
    return folder


def test_tilde_entries_and_a_projects_path_in_claude_config_dir(
    repo: Path, isolated_home: Path
) -> None:
    a = _project(isolated_home / "claude-a", repo)
    b = _project(isolated_home / "claude-b", repo, "-packages-api")  # a subdirectory's log
    _project(isolated_home / "claude-b", repo.parent / "other")
    env = {
        "HOME": str(isolated_home),
        "CLAUDE_CONFIG_DIR": f"~/claude-a, {isolated_home / 'claude-b' / 'projects'}",
    }
    found = claude_project_dirs(repo_mod.find(repo), env)
    assert sorted(found) == sorted([a, b])


def test_xdg_config_home_is_honoured(repo: Path, isolated_home: Path) -> None:
    xdg = isolated_home / "xdg"
    found_dir = _project(xdg / "claude", repo)
    env = {"HOME": str(isolated_home), "XDG_CONFIG_HOME": str(xdg)}
    assert claude_project_dirs(repo_mod.find(repo), env) == [found_dir]
