"""A repository's template, ledger and logs are someone else's: the template runs in Jinja2's
sandbox and reads no other file, and every value that reaches COST_LOG.md or `pr-summary`
renders as plain text (no link, image, mention, formatting, HTML or broken table)."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from costlog import render
from costlog.render import escape, template
from tests_support import FIXTURES_DIR, git, run

FIXTURES = FIXTURES_DIR
#: what a hostile template would run; the tests assert the file it writes never appears
EVIL = '{{{{ cycler.__init__.__globals__.os.popen("id > {marker}").read() }}}}\n'


def init_repo(root: Path) -> None:
    """`costlog init` through the CLI, then commit, as a user would."""
    os.chdir(root)
    run("init")
    git(root, "add", "-A")
    if git(root, "status", "--porcelain").stdout:  # a clone of a set-up repo: nothing new
        git(root, "commit", "-q", "-m", "Set up costlog")


def use_template(root: Path, name: str, text: str) -> None:
    (root / name).write_text(text)
    with open(root / ".costlog" / "config.yaml", "a") as handle:
        handle.write(f"template: {name}\n")


# ---------------------------------------------------------------- the sandbox


def test_evil_template_runs_nothing_through_render_check_or_record(
    repo: Path, tmp_path: Path
) -> None:
    init_repo(repo)
    marker = tmp_path / "pwned"
    use_template(repo, "evil.j2", "# ok\n\n" + EVIL.format(marker=marker))
    before = (repo / "COST_LOG.md").read_bytes()

    out = run("render", code=1)
    assert out.startswith("costlog: error: evil.j2:3: template refused by the sandbox")
    assert len(out.strip().splitlines()) == 1
    out = run("check", code=3)
    assert "evil.j2:3: template refused by the sandbox" in out
    out = run("record", "--model", "claude-sonnet-4-6", "--cost", "0.10", "--no-stage", code=1)
    assert "evil.j2:3: template refused by the sandbox" in out

    assert not marker.exists()
    assert (repo / "COST_LOG.md").read_bytes() == before  # nothing written


@pytest.mark.parametrize("merge", [False, True], ids=["fast-forward", "merge-commit"])
def test_git_pull_of_an_evil_template_runs_nothing(tmp_path: Path, merge: bool) -> None:
    """The post-merge hook `costlog init` installs renders after a pull that brings ledger
    files: with the attacker's template committed upstream, it must refuse it."""
    upstream, clone = tmp_path / "upstream", tmp_path / "clone"
    upstream.mkdir()
    git(upstream, "init", "-q", "-b", "main")
    (upstream / "README.md").write_text("# project\n")
    init_repo(upstream)
    git(tmp_path, "clone", "-q", str(upstream), str(clone))
    init_repo(clone)  # its hooks and merge driver
    if merge:
        (clone / "local.txt").write_text("mine\n")
        git(clone, "add", "local.txt")
        git(clone, "commit", "-q", "-m", "Local work")

    marker = tmp_path / "pwned"
    os.chdir(upstream)
    run("record", "--model", "claude-sonnet-4-6", "--cost", "0.25", "--no-stage")
    use_template(upstream, "evil.j2", EVIL.format(marker=marker))
    git(upstream, "add", "-A")
    git(upstream, "commit", "-q", "-m", "A session, and a nicer template")

    os.chdir(clone)
    done = subprocess.run(
        ["git", "pull", "-q", "--no-rebase", "--no-edit"], cwd=clone, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert not marker.exists()
    assert "post-merge hook skipped" in done.stderr
    assert "evil.j2:1: template refused by the sandbox" in done.stderr
    assert (clone / "evil.j2").exists()  # the pull itself went through


def test_fork_pr_check_fails_without_running_the_template(tmp_path: Path) -> None:
    """CI checks out a pull request whose committed config names its own template and runs
    `costlog check` with the job's token in the environment."""
    fork = tmp_path / "fork"
    fork.mkdir()
    git(fork, "init", "-q", "-b", "main")
    (fork / "README.md").write_text("# project\n")
    init_repo(fork)
    marker = tmp_path / "pwned"
    use_template(fork, "evil.j2", EVIL.format(marker=marker))
    git(fork, "add", "-A")
    git(fork, "commit", "-q", "-m", "Improve the template")
    checkout = tmp_path / "ci"
    git(tmp_path, "clone", "-q", str(fork), str(checkout))
    os.chdir(checkout)

    out = run("check", code=3)
    assert "evil.j2:1: template refused by the sandbox" in out
    assert not marker.exists()


@pytest.mark.parametrize(
    "body, message",
    [
        ('{% include "other.j2" %}', "may not include or extend another file ('other.j2')"),
        ('{% extends "other.j2" %}', "may not include or extend another file ('other.j2')"),
        ('{% import "/etc/passwd" as x %}', "may not include or extend another file"),
        ("{{ ''.__class__.__mro__ }}", "template refused by the sandbox"),
        ("{{ lipsum(100000) }}", "template error"),
        ('{{ "x" * 100000000000 }}', "template refused by the sandbox: a product of that size"),
        ("{{ 7 ** 123456789 }}", "template refused by the sandbox: a power of that size"),
        ("{{ 1 / 0 }}", "template error: ZeroDivisionError"),
        ("{{ sessions.append(1) }}", "template refused by the sandbox"),
        ("{% for x in %}", "template error"),
    ],
)
def test_template_tricks_are_one_line_errors_naming_the_template(
    repo: Path, body: str, message: str
) -> None:
    init_repo(repo)
    (repo / "other.j2").write_text("SECRET from another file\n")
    use_template(repo, "custom.j2", "fine line\n" + body + "\n")
    out = run("render", code=1)
    assert out.startswith("costlog: error: custom.j2:"), out
    assert message in out
    assert len(out.strip().splitlines()) == 1
    assert "SECRET" not in (repo / "COST_LOG.md").read_text()


def test_a_runaway_template_is_stopped_with_a_one_line_error(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nested loops pass the sandbox; the time bound stops them instead of hanging hooks."""
    init_repo(repo)
    monkeypatch.setattr(template, "TEMPLATE_SECONDS", 0.5)
    before = (repo / "COST_LOG.md").read_bytes()
    use_template(
        repo,
        "slow.j2",
        "{% for a in range(99999) %}{% for b in range(99999) %}{{ a }}{% endfor %}{% endfor %}\n",
    )
    out = run("render", code=1)
    assert out.startswith("costlog: error: slow.j2: template took over 0.5 s"), out
    assert (repo / "COST_LOG.md").read_bytes() == before


def test_template_through_a_symlink_or_outside_the_repo_is_refused(
    repo: Path, tmp_path: Path
) -> None:
    init_repo(repo)
    outside = tmp_path / "outside.j2"
    outside.write_text("{{ totals.sessions }} stolen\n")
    (repo / "templates").mkdir()
    (repo / "templates" / "log.j2").symlink_to(outside)
    with open(repo / ".costlog" / "config.yaml", "a") as handle:
        handle.write("template: templates/log.j2\n")
    out = run("render", code=1)
    assert "templates/log.j2: is a symbolic link" in out

    linked_dir = repo / "via"
    linked_dir.symlink_to(tmp_path)
    config = (repo / ".costlog" / "config.yaml").read_text()
    (repo / ".costlog" / "config.yaml").write_text(
        config.replace("template: templates/log.j2", "template: via/outside.j2")
    )
    out = run("render", code=1)
    assert "via: is a symbolic link" in out

    (repo / ".costlog" / "config.yaml").write_text(
        config.replace("template: templates/log.j2", "template: ../outside.j2")
    )
    out = run("render", code=1)
    assert "template" in out and "outside.j2" in out
    assert "stolen" not in (repo / "COST_LOG.md").read_text()


def test_a_changed_template_is_compiled_again(repo: Path) -> None:
    """The compiled template is cached in .git/costlog, keyed by the template's text."""
    init_repo(repo)
    use_template(
        repo,
        "mine.j2",
        "<!-- costlog:begin summary -->\nfirst {{ totals.sessions }}"
        "\n<!-- costlog:end summary -->\n",
    )
    run("render")
    assert "first 0" in (repo / "COST_LOG.md").read_text()
    assert list((repo / ".git" / "costlog" / "template-cache").iterdir())
    (repo / "mine.j2").write_text(
        "<!-- costlog:begin summary -->\nsecond {{ totals.sessions }}"
        "\n<!-- costlog:end summary -->\n"
    )
    run("render")
    text = (repo / "COST_LOG.md").read_text()
    assert "second 0" in text and "first 0" not in text


# ---------------------------------------------------------------- escaping

#: what someone could put into a model name, a note, a work item or a hand-edited ledger
HOSTILE = [
    "[click](https://evil.example/a)",
    "![img](https://evil.example/i.png)",
    "<https://evil.example/auto>",
    "bare https://evil.example/b and www.evil.example",
    "mail bob@evil.example",
    "*em* _em_ **strong** __strong__ ~~del~~ ~del~",
    "a*b*c a_b_c a~b~c",
    "@octocat and @org/team",
    "fixes #123, owner/repo#4, GH-5",
    "<b>bold</b><img src=x onerror=alert(1)>",
    "&lt;b&gt; &#x3C;i&#x3E; &copy;",
    "`code` ``more``",
    "pipe | and \\| and \\",
    "$x^2$ and $$y$$",
    ":shipit: :+1:",
    "<!-- costlog:end sessions -->",
    "[^1] footnote",
    "line\nbreak\r\nand\ttab",
    "bidi \u202egnp.exe\u202c \u2066iso\u2069",
    "nul\x00 esc\x1b bell\x07 del\x7f",
    "zero\u200bwidth\ufeff",
]
_FORBIDDEN = (
    "link_open",
    "image",
    "em_open",
    "strong_open",
    "s_open",
    "html_inline",
    "code_inline",
    "footnote_ref",
)


def _inline_tokens(text: str) -> list[tuple[str, str]]:
    parser = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    out: list[tuple[str, str]] = []
    for token in parser.parse(text):
        for child in token.children or []:
            out.append((child.type, child.content))
    return out


def _shown(text: str) -> str:
    """The visible text markdown-it makes of one inline Markdown text (no joiners)."""
    parser = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    tokens = parser.parseInline(text)[0].children or []
    return "".join(t.content for t in tokens if t.type in ("text", "text_special")).replace(
        "\u2060", ""
    )


@pytest.mark.parametrize("value", HOSTILE)
def test_md_renders_exactly_the_characters_and_nothing_else(value: str) -> None:
    row = f"| x | {render.md(value)} | y |"
    table = f"| a | b | c |\n|---|---|---|\n{row}\n"
    kinds = {kind for kind, _ in _inline_tokens(table)}
    assert not kinds & set(_FORBIDDEN), kinds
    assert len(re.split(r"(?<!\\)\|", row.strip()[1:-1])) == 3
    shown = _shown(render.md(value))
    plain = " ".join(value.split())
    if plain.isprintable():
        assert shown == plain
    for char in "\u202e\u202c\u2066\u2069\u200b\ufeff\x00\x1b\x07\x7f":
        assert char not in shown


@pytest.mark.slow
def test_md_escapes_random_markdown_soup() -> None:
    """Thousands of strings made of Markdown's active characters: none renders as markup."""
    import random

    rng = random.Random(10)
    alphabet = [*"*_~`[]()!<>&#@:/\\|$ ax1.", "https://", "www.", "\n", "**", "]("]
    parser = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    for _ in range(3000):
        value = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 14)))
        escaped = render.md(value)
        children = parser.parseInline(f"x {escaped} y")[0].children or []
        assert not {c.type for c in children} & set(_FORBIDDEN), (value, escaped)
        shown = " ".join(_shown(f"x {escaped} y").split())
        assert shown == " ".join(f"x {value} y".split()), (value, escaped)
        assert not re.search(r"@[A-Za-z0-9]|#[0-9]|https?://|(?<![a-z0-9])www\.", escaped)


def _hostile_transcript(tmp_path: Path, model: str) -> Path:
    """A real Claude Code log (tests/fixtures) whose model name someone chose."""
    lines = (FIXTURES / "claude-code" / "ccusage__project-alpha_chat.jsonl").read_text()
    rows = [json.loads(line) for line in lines.splitlines()]
    for row in rows:
        if row["message"]["model"] == "claude-opus-4-20250514":
            row["message"]["model"] = model
    path = tmp_path / "session-alpha.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


HOSTILE_MODEL = (
    "[m](https://evil.example/m) *x* @octocat #7 <b>y</b> | z \u202eab ~~s~~ `c` www.evil.example"
)
HAND_EDITED = """schema: 1
id: manual/hand-edited
agent: manual
started: "2026-11-19T09:00:00Z"
source: manual
methods: {cost: entered by hand}
models:
  "![i](https://evil.example/i.png) @admin": {requests: 1, input: 0, output: 0, cache_read: 0, cache_write_5m: 0, cache_write_1h: 0, reasoning: 0, cost_usd: "0.500000", source: manual}
cost_usd: "0.500000"
work_items: ["[k](https://evil.example/k)", "@team"]
tasks:
  completed: 1
  types: {"<i>code</i>": 1}
notes: "nul\\0 esc\\e \\u202eevil \\u200bhidden **bold** <script>x</script>"
"""  # noqa: E501


def _record_hostile_sessions(repo: Path, tmp_path: Path) -> None:
    git(repo, "checkout", "-q", "-b", "wi/@octocat-<b>x</b>-_y_-#12")
    run("record", "--transcript", str(_hostile_transcript(tmp_path, HOSTILE_MODEL)), "--no-stage")
    for n, value in enumerate(HOSTILE):
        run(
            "record",
            "--model",
            "claude-sonnet-4-6",
            "--cost",
            "0.0" + str(n + 1),
            "--notes",
            value,
            "--task-types",
            "1 code",
            "--work-item",
            "WRK-9",
            "--started",
            f"2026-11-19T10:{n:02d}:00Z",
            "--no-stage",
        )
    path = repo / ".costlog" / "sessions" / "manual" / "hand-edited.yaml"
    path.write_text(HAND_EDITED)


def _assert_inert(text: str, links: set[str], strong: str) -> None:
    """No markup came from the values: checked with markdown-it and, when installed,
    GitHub's own renderer with its autolink extension."""
    assert "\x00" not in text and not re.search(r"[\x01-\x08\x0b-\x1f\x7f]", text)
    assert not set(text) & set(escape._BIDI) and "\u200b" not in text
    rendered = MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(text)
    assert not re.search(r"<(img|em|del|s|script|b|i)\b", rendered), rendered
    assert set(re.findall(r'<a href="([^"]*)"', rendered)) <= links
    for bold in re.findall(r"<strong>(.*?)</strong>", rendered):
        assert re.fullmatch(strong, bold), bold
    visible = html.unescape(re.sub(r"<[^>]+>", "", rendered))
    # `#12` is a real work item, shown as a key: the one the hostile branch's name
    # carries, which a record by hand takes as every other record does (issue 15, item 9)
    refs = r"@[A-Za-z0-9]|(?<!WRK-)#(?!12\b)[0-9]|https?://evil|www\.evil|:shipit:"
    assert not re.search(refs, visible)
    assert "evil.example" in visible and "octocat" in visible  # shown, as text
    for table in _tables(text):
        widths = {len(re.split(r"(?<!\\)\|", row.strip()[1:-1])) for row in table}
        assert len(widths) == 1, table
    if shutil.which("cmark-gfm"):
        gfm = subprocess.run(
            [
                "cmark-gfm",
                "-e",
                "table",
                "-e",
                "autolink",
                "-e",
                "strikethrough",
                "-e",
                "tagfilter",
            ],
            input=text,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert set(re.findall(r'<a href="([^"]*)"', gfm)) <= links
        assert not re.search(r"<(img|em|del|script|b|i)\b", gfm)


def _tables(text: str) -> list[list[str]]:
    tables, current = [], []
    for line in text.splitlines():
        if line.startswith("|"):
            current.append(line)
        elif current:
            tables.append(current)
            current = []
    return [*tables, current] if current else tables


def test_hostile_values_end_up_inert_in_cost_log(repo: Path, tmp_path: Path) -> None:
    init_repo(repo)
    _record_hostile_sessions(repo, tmp_path)
    run("render")
    run("check")
    data = (repo / "COST_LOG.md").read_bytes()
    git(repo, "add", "COST_LOG.md")
    numstat = git(repo, "diff", "--cached", "--numstat", "--", "COST_LOG.md").stdout
    assert not numstat.startswith("-\t-\t")  # git still sees text, not a binary file
    text = data.decode("utf-8")
    template_bold = (
        r"warning|\d+ sessions, \$[\d.,]+ in total"
        r"|Velocity (baseline \(pre-AI\)|current):"
    )
    _assert_inert(text, {"https://pypi.org/project/costlog/"}, template_bold)
    assert "␀" in text  # the NUL of the hand-edited note, made visible
    assert "gnp.exe" in text and "\ufffd" in text  # the override, made visible


def test_hostile_values_end_up_inert_in_pr_summary(repo: Path, tmp_path: Path) -> None:
    init_repo(repo)
    _record_hostile_sessions(repo, tmp_path)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Sessions")
    text = run("pr-summary", "--base", "main")
    assert "evil.example" in text
    _assert_inert(
        text.replace("<details><summary>Sessions</summary>", "")
        .replace("</details>", "")
        .replace("<sub>", "")
        .replace("</sub>", ""),
        set(),
        r"\d+ sessions, \$[\d.,]+(; .*)?",
    )


def test_raw_values_of_an_old_custom_template_are_escaped_too(repo: Path) -> None:
    """A template that prints a value without `| cell` (an older copy of the bundled one)
    still gets it escaped: every `{{ }}` passes through the same function."""
    init_repo(repo)
    run(
        "record",
        "--model",
        "claude-sonnet-4-6",
        "--cost",
        "0.5",
        "--no-stage",
        "--notes",
        "[x](https://evil.example) <b>b</b> @octocat",
    )
    use_template(
        repo,
        "old.j2",
        "<!-- costlog:begin sessions -->\n"
        "{% for s in sessions %}- {{ s.notes }} ({{ s.source }}){{ ', ' }}|\n"
        "{% endfor %}<!-- costlog:end sessions -->\n",
    )
    run("render")
    text = (repo / "COST_LOG.md").read_text()
    assert (
        "- \\[x\\](https:\u2060//evil.example) &lt;b&gt;b&lt;/b&gt; @\u2060octocat (manual), |"
        in text
    )


# ---------------------------------------------------------------- enum fields


@pytest.mark.parametrize(
    "field, value, line, message",
    [
        ("source: manual", "source: 'actual | <b>x</b>'", 5, "field `source`: must be one of"),
        ("agent: manual", "agent: 'manual | x'", 3, "field `agent`: must be an agent name"),
        (
            'cost_usd: "0.500000", source: manual}',
            'cost_usd: "0.500000", source: <i>m</i>}',
            8,
            "field `![i](https://evil.example/i.png) @admin`: `source` must be one of",
        ),
    ],
)
def test_enum_fields_are_validated_on_load(
    repo: Path, field: str, value: str, line: int, message: str
) -> None:
    init_repo(repo)
    path = repo / ".costlog" / "sessions" / "manual" / "hand-edited.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    assert field in HAND_EDITED
    path.write_text(HAND_EDITED.replace(field, value, 1))
    before = (repo / "COST_LOG.md").read_bytes()
    out = run("render", code=1)
    assert out.startswith(
        f"costlog: error: .costlog/sessions/manual/hand-edited.yaml:{line}: {message}"
    ), out
    assert (repo / "COST_LOG.md").read_bytes() == before


def test_record_refuses_an_agent_name_the_ledger_would_refuse(repo: Path) -> None:
    init_repo(repo)
    out = run("record", "--agent", "My Tool | <b>", "--model", "gpt-5", "--cost", "1", code=2)
    assert "'My Tool | <b>' is not a usable agent name" in out
    assert not list((repo / ".costlog" / "sessions").rglob("*.yaml"))
    run("record", "--agent", "cursor", "--model", "gpt-5", "--cost", "1", "--no-stage")
    assert "| cursor |" in (repo / "COST_LOG.md").read_text()
