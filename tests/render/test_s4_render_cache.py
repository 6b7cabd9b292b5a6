"""The bundled (trusted) template's output is kept in the template cache and reused only
for exactly the same context, template and code (issue 12, session 4): an unchanged
ledger's `check` or `render` then neither imports Jinja2 nor runs the template."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from costlog.codestamp import stat_sources
from costlog.render import template as tpl
from costlog.render.escape import Markdown
from tests_support import REPO_ROOT, git, run


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many times a template really rendered."""
    calls: list[int] = []
    real = tpl._render_here

    def render_here(*args: Any) -> str:
        calls.append(1)
        return real(*args)

    monkeypatch.setattr(tpl, "_render_here", render_here)
    return calls


def _trusted(tmp_path: Path, source: str) -> Path:
    path = tmp_path / "trusted.md.j2"
    path.write_text(source, encoding="utf-8")
    return path


def test_the_same_context_is_rendered_once(tmp_path: Path, counted: list[int]) -> None:
    path, cache = _trusted(tmp_path, "{{ n }} sessions, {{ cost | usd }}\n"), tmp_path / "c"
    first = tpl.render_text({"n": 3, "cost": "1.5"}, path, cache)
    again = tpl.render_text({"n": 3, "cost": "1.5"}, path, cache)
    assert first == again == "3 sessions, $1.50\n"
    assert len(counted) == 1
    assert tpl.render_text({"n": 4, "cost": "1.5"}, path, cache) == "4 sessions, $1.50\n"
    assert len(counted) == 2


def test_text_and_markdown_of_the_same_characters_render_apart(tmp_path: Path) -> None:
    path, cache = _trusted(tmp_path, "{{ x }}\n"), tmp_path / "c"
    plain = tpl.render_text({"x": "a*b|c"}, path, cache)
    marked = tpl.render_text({"x": Markdown("a*b|c")}, path, cache)
    assert marked == "a*b|c\n"
    assert plain != marked
    assert plain == tpl.render_text({"x": "a*b|c"}, path, None)  # as without a cache


def test_a_changed_template_or_code_renders_again(
    tmp_path: Path, counted: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, cache = _trusted(tmp_path, "one {{ n }}\n"), tmp_path / "c"
    assert tpl.render_text({"n": 1}, path, cache) == "one 1\n"
    path.write_text("two {{ n }}\n", encoding="utf-8")
    assert tpl.render_text({"n": 1}, path, cache) == "two 1\n"
    assert len(counted) == 2
    stamp = tpl._code_stamp()
    monkeypatch.setattr(tpl, "_code_stamp", lambda: (*stamp, "a filter changed"))
    assert tpl.render_text({"n": 1}, path, cache) == "two 1\n"
    assert len(counted) == 3


def test_the_code_stamp_follows_a_source_file(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    (package / "__pycache__").mkdir(parents=True)
    (package / "filters.py").write_text("X = 1\n")
    (package / "__pycache__" / "filters.cpython-311.pyc").write_bytes(b"ignored")
    before: list[tuple[str, int, int]] = []
    stat_sources(str(package), before)
    assert [Path(p).name for p, _, _ in before] == ["filters.py"]
    (package / "filters.py").write_text("X = 22\n")
    after: list[tuple[str, int, int]] = []
    stat_sources(str(package), after)
    assert after != before


@pytest.mark.parametrize(
    "junk", [b"", b"costlog rendered 1\n", b"costlog rendered 1\nxx\n", b"\xff"]
)
def test_a_cut_or_foreign_cache_file_is_ignored_and_replaced(
    tmp_path: Path, counted: list[int], junk: bytes
) -> None:
    path, cache = _trusted(tmp_path, "{{ n }}\n"), tmp_path / "c"
    cache.mkdir()
    (cache / tpl._RENDERED).write_bytes(junk)
    assert tpl.render_text({"n": 7}, path, cache) == "7\n"
    assert tpl.render_text({"n": 7}, path, cache) == "7\n"
    assert len(counted) == 1
    text = (cache / tpl._RENDERED).read_bytes()
    (cache / tpl._RENDERED).write_bytes(text[:-1])  # its output cut short: another key
    assert tpl.render_text({"n": 7}, path, cache) == "7\n"


def test_a_repository_template_is_not_cached(repo: Path) -> None:
    run("init")  # rendered with the bundled template: kept
    kept = repo / ".git" / "costlog" / "template-cache" / tpl._RENDERED
    kept.unlink()
    block = "<!-- costlog:begin summary -->\n{{ sessions | length }} sessions\n"
    (repo / "mine.md.j2").write_text(block + "<!-- costlog:end summary -->\n")
    config = repo / ".costlog" / "config.yaml"
    config.write_text(config.read_text() + "template: mine.md.j2\n")
    run("render")
    assert "-->\n0 sessions\n<!--" in (repo / "COST_LOG.md").read_text()
    assert not kept.exists()


def _program(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`costlog ARGS` in a process that says at its end whether Jinja2 was imported."""
    probe = (
        "import atexit, sys\n"
        "atexit.register(lambda: sys.stderr.write(f'JINJA {\"jinja2\" in sys.modules}\\n'))\n"
        "from costlog.cli import main\n"
        f"sys.argv = ['costlog', *{list(args)!r}]\n"
        "main()\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.run(
        [sys.executable, "-c", probe], cwd=repo, capture_output=True, text=True, env=env
    )


def test_an_unchanged_ledger_is_checked_without_jinja(repo: Path) -> None:
    run("init")
    run("record", "--model", "claude-sonnet-4-6", "--input-tokens", "1200", "--session", "s1")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "one session")
    first = _program(repo, "check")
    assert first.returncode == 0, first.stderr
    second = _program(repo, "check")
    assert (second.returncode, second.stdout) == (first.returncode, first.stdout)
    assert second.stderr.splitlines()[-1] == "JINJA False"
    log = (repo / "COST_LOG.md").read_text()
    run("record", "--model", "claude-sonnet-4-6", "--input-tokens", "9", "--session", "s2")
    assert (repo / "COST_LOG.md").read_text() != log
    third = _program(repo, "check")
    assert third.returncode == 0, third.stderr
    assert "matches 2 ledger sessions" in third.stdout


def test_equal_contexts_share_an_output_however_their_strings_are_shared(
    tmp_path: Path, counted: list[int]
) -> None:
    """A ledger read from its cache shares equal strings that one parsed afresh does not:
    the key follows from the values alone."""
    path, cache = (
        _trusted(tmp_path, "{% for s in rows %}{{ s.source }} {% endfor %}\n"),
        tmp_path / "c",
    )
    word = "manual"
    shared = {"rows": [{"source": word}, {"source": word}]}
    apart = {"rows": [{"source": "".join(["man", "ual"])}, {"source": "".join(["manu", "al"])}]}
    assert tpl.render_text(shared, path, cache) == tpl.render_text(apart, path, cache)
    assert len(counted) == 1


def test_a_context_that_holds_itself_renders_without_the_cache(
    tmp_path: Path, counted: list[int]
) -> None:
    path, cache = _trusted(tmp_path, "{{ n }}\n"), tmp_path / "c"
    context: dict[str, Any] = {"n": 5}
    context["me"] = context
    assert tpl.render_text(context, path, cache) == "5\n"
    assert tpl.render_text(context, path, cache) == "5\n"
    assert len(counted) == 2
    assert not (cache / tpl._RENDERED).exists()
