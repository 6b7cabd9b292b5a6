"""Generated blocks in COST_LOG.md: a marker counts only alone on its line, naming a block the
template defines, outside a code fence of the hand-written text. Everything else is the
user's and survives `record` and `render` byte for byte, CRLF line endings included."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from costlog import render
from tests_support import FIXTURES_DIR, git, run

CLASSIC = FIXTURES_DIR / "import" / "COST_LOG.classic.md"

#: hand-written text that looks like markers but is not one (each line ends in CRLF)
FAKES = "".join(
    line + "\r\n"
    for line in [
        "Our own notes, written on Windows.",
        "Generated parts sit between `<!-- costlog:begin NAME -->` and "
        "`<!-- costlog:end NAME -->`; the README says so on one line.",
        "<!-- costlog:begin sessions --> starts the session table (not alone on its line).",
        "",
        "An example of a block, fenced:",
        "",
        "```markdown",
        "<!-- costlog:begin sessions -->",
        "| an | example |",
        "<!-- costlog:end sessions -->",
        "```",
        "",
        "~~~~",
        "<!-- costlog:end monthly -->",
        "~~~~",
        "    <!-- costlog:begin monthly -->",
        "<!-- costlog:begin team-notes -->",
        "a block name the template does not define: ours",
        "<!-- costlog:end team-notes -->",
        "A copy of the summary someone pasted to compare:",
        "<!-- costlog:begin summary -->",
        "**3 sessions, $1.00 in total** (October)",
        "<!-- costlog:end summary -->",
        "trailing spaces and tabs \t ",
    ]
)


def init_repo(root: Path) -> None:
    os.chdir(root)
    run("init")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "Set up costlog")


def crlf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


def hand_parts(text: str) -> list[str]:
    return [p.text for p in render.split_blocks(text, "COST_LOG.md", BLOCKS) if p.name is None]


BLOCKS = [
    "summary",
    "guide",
    "sessions",
    "monthly",
    "plans",
    "spend",
    "work-items",
    "anomalies",
    "alerts",
    "routing",
    "methodology",
]


@pytest.mark.parametrize("whole_file", [False, True], ids=["hand-text-crlf", "all-crlf"])
def test_hand_text_with_fake_markers_and_crlf_survives_record_and_render(
    repo: Path, whole_file: bool
) -> None:
    init_repo(repo)
    path = repo / "COST_LOG.md"
    parts = render.split_blocks(path.read_text(), "COST_LOG.md")
    assert [p.name for p in parts if p.name] == BLOCKS
    after_sessions = [p.name for p in parts].index("sessions") + 1
    expected: list[str] = []
    pieces: list[str] = []
    for index, part in enumerate(parts):
        text = part.text
        if part.name is None:
            text = crlf(text)
            if index == after_sessions:
                text = FAKES + text
            expected.append(text)
        elif whole_file:
            text = crlf(text)  # an editor that rewrote every line ending, markers too
        pieces.append(text)
    path.write_bytes("".join(pieces).encode("utf-8"))

    run(
        "record",
        "--model",
        "claude-sonnet-4-6",
        "--cost",
        "0.42",
        "--notes",
        "a session",
        "--no-stage",
    )
    run("render")
    run("check")
    text = path.read_bytes().decode("utf-8")
    assert hand_parts(text) == expected  # every hand-written byte, CR included
    assert "".join(expected) == "".join(
        p.text for p in render.split_blocks(text, "x", BLOCKS) if p.name is None
    )
    assert "a session" in text.split("<!-- costlog:begin sessions -->\n")[1]
    assert "| an | example |" in text and "$1.00 in total** (October)" in text
    assert run("render") == "COST_LOG.md unchanged\n"


def test_an_unclosed_fence_or_copy_never_swallows_the_blocks_after_it(repo: Path) -> None:
    """CommonMark runs an unclosed fence to the end of the file; costlog then treats its
    opening line as text, so the blocks after it are still found (and not appended again
    on every render)."""
    init_repo(repo)
    path = repo / "COST_LOG.md"
    text = path.read_text()
    at = text.index("<!-- costlog:begin sessions -->")
    hand = "```\nnever closed\n<!-- costlog:begin summary -->\na copy that never ends\n"
    path.write_text(text[:at] + hand + text[at:])
    run(
        "record",
        "--model",
        "claude-sonnet-4-6",
        "--cost",
        "0.42",
        "--notes",
        "found it",
        "--no-stage",
    )
    assert run("render") == "COST_LOG.md unchanged\n"
    new = path.read_text()
    assert hand in new
    assert new.count("<!-- costlog:begin sessions -->") == 1
    assert "found it" in new


def test_markers_that_break_the_structure_are_named_with_their_line(repo: Path) -> None:
    init_repo(repo)
    path = repo / "COST_LOG.md"
    text = path.read_text()
    end = "<!-- costlog:end sessions -->\n"
    line = text[: text.index(end)].count("\n") + 1
    path.write_text(text.replace(end, ""))
    out = run("render", code=1)
    assert "block 'sessions' has no end marker" in out
    path.write_text(text.replace("<!-- costlog:begin monthly -->\n", ""))
    out = run("render", code=1)
    assert "end marker of block 'monthly' without its begin" in out
    path.write_text(text)
    lines = text.split("\n")
    lines[line - 2] = "| edited | by hand |"  # the last row of the sessions block
    path.write_text("\n".join(lines))
    out = run("check", code=3)
    assert f"COST_LOG.md:{line - 1}: block 'sessions' differs from the ledger" in out


def test_a_block_the_template_no_longer_defines_is_kept_as_text(repo: Path) -> None:
    init_repo(repo)
    path = repo / "COST_LOG.md"
    template = repo / "mine.j2"
    template.write_text(
        "<!-- costlog:begin summary -->\n{{ totals.sessions }} sessions\n"
        "<!-- costlog:end summary -->\n"
    )
    with open(repo / ".costlog" / "config.yaml", "a") as handle:
        handle.write("template: mine.j2\n")
    before = path.read_text()
    run("render")
    after = path.read_text()
    monthly = before[
        before.index("<!-- costlog:begin monthly -->") : before.index(
            "<!-- costlog:end monthly -->"
        )
    ]
    assert monthly in after  # not deleted: it is the user's text now
    assert "<!-- costlog:begin summary -->\n0 sessions\n<!-- costlog:end summary -->" in after


def test_import_keeps_crlf_prose_that_names_the_markers(repo: Path) -> None:
    classic = CLASSIC.read_text()
    intro_end = classic.index("---")
    note = (
        "Later, costlog's blocks will sit between `<!-- costlog:begin NAME -->` and "
        "`<!-- costlog:end NAME -->`.\n\n"
    )
    text = crlf(classic[:intro_end] + note + classic[intro_end:])
    os.chdir(repo)
    run("init")
    (repo / "COST_LOG.md").write_bytes(text.encode("utf-8"))
    out = run("import", "COST_LOG.md")
    assert out.startswith("imported 3 sessions ($0.25, marked manual)")
    new = (repo / "COST_LOG.md").read_bytes().decode("utf-8")
    at = 0
    for line in text.splitlines(keepends=True):  # every prose line, in order, CRLF kept
        # tables (and the routing tables' sub-headings) are generated blocks now
        if line.strip() and not line.startswith(("|", "### Tasks that")):
            at = new.index(line, at) + len(line)
    roi = text.index("| 2025-03 | $0.25 | Stripe connector (est. 6 hours saved)")
    assert text[roi : text.index("\r\n", roi) + 2] in new  # the ROI table is the user's
    assert "| 003 | 2025-03-15 |" not in new  # the hand table became a generated block
    assert "Stripe connector + tests" in new
    run("check")
    assert run("render") == "COST_LOG.md unchanged\n"


FRESH = (
    "<!-- costlog:begin a -->\nnew a\n<!-- costlog:end a -->\n"
    "<!-- costlog:begin b -->\nnew b\n<!-- costlog:end b -->\n"
)


@pytest.mark.parametrize(
    "hand",
    [
        "```\n<!-- costlog:begin a -->\nan example\n<!-- costlog:end a -->\n```\n",
        "~~~ md\n<!-- costlog:begin b -->\n~~~\n",
        "<!-- costlog:begin a --> and <!-- costlog:end a --> on one line\n",
        "<!-- costlog:begin a -->trailing text\n",
        " <!-- costlog:begin a -->\n",
        "<!-- costlog:begin unknown -->\nmine\n<!-- costlog:end unknown -->\n",
        "``` not `a` fence\n<!-- costlog:begin zzz -->\n",
    ],
)
def test_text_that_only_looks_like_a_block_is_kept_before_the_real_one(hand: str) -> None:
    doc = "intro\r\n" + hand + "<!-- costlog:begin a -->\nold a\n<!-- costlog:end a -->\ntail"
    assert render.splice(doc, FRESH, "COST_LOG.md") == (
        "intro\r\n" + hand + "<!-- costlog:begin a -->\nnew a\n<!-- costlog:end a -->\ntail"
        "\n\n<!-- costlog:begin b -->\nnew b\n<!-- costlog:end b -->\n"
    )


@pytest.mark.slow
def test_random_documents_split_losslessly_and_render_to_a_fixed_point() -> None:
    """Hand text made of marker-like lines, fences and copies, around real blocks: the
    parts always join back to the text, every hand-written part is kept, and the file
    reaches a fixed point (never grows by a block on every render)."""
    import random

    from costlog.errors import CostlogError

    rng = random.Random(7)
    pieces = [
        "prose\n",
        "prose\r\n",
        "\n",
        "```\n",
        "```md\n",
        "~~~\n",
        "````\n",
        "<!-- costlog:begin a -->\n",
        "<!-- costlog:end a -->\n",
        "<!-- costlog:begin b -->\r\n",
        "<!-- costlog:end b --> \n",
        "<!-- costlog:begin c -->\n",
        "x <!-- costlog:begin a --> y\n",
        "    <!-- costlog:end b -->\n",
    ]
    block_a = "<!-- costlog:begin a -->\nold\n<!-- costlog:end a -->\n"
    rendered = fixed = 0
    for _ in range(3000):
        hand = [rng.choice(pieces) for _ in range(rng.randint(0, 8))]
        hand.insert(rng.randint(0, len(hand)), block_a)
        doc = "".join(hand)
        try:
            parts = render.split_blocks(doc, "COST_LOG.md", ["a", "b"])
        except CostlogError:
            continue
        assert "".join(p.text for p in parts) == doc
        once = render.splice(doc, FRESH, "COST_LOG.md")
        at = 0
        for part in parts:  # each hand-written part, verbatim and in order
            if part.name is None:
                at = once.index(part.text, at) + len(part.text)
        twice = render.splice(once, FRESH, "COST_LOG.md")
        if twice != once:  # only when unmatched markers make a fence look different
            fixed += 1
            assert render.splice(twice, FRESH, "COST_LOG.md") == twice, doc
        rendered += 1
    assert rendered > 1000 and fixed < rendered / 100
