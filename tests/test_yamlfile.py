"""The ledger's canonical YAML: fast reader must agree with a real YAML parser."""

from __future__ import annotations

import random
import re
import string
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from costlog import yamlfile
from costlog.errors import LedgerError
from tests_support import run

AWKWARD = [
    "yes",
    "No",
    "null",
    "~",
    "true",
    "1.5",
    "0x1F",
    "#41",
    "a: b",
    "- item",
    "{x}",
    "[y]",
    "WRK-237",
    "claude-sonnet-4-6",
    "héllo wörld",
    "tab\there",
    "line\nbreak",
    'quote " and \\ backslash',
    "",
    " lead",
    "trail ",
    "2026-11-20T09:00:00Z",
    "@at",
    "`tick`",
    "%pct",
    "*star",
    "&amp",
    "!bang",
    "|pipe",
    ">gt",
    "'single'",
    "0",
    "-1",
]


def _random_doc(rng: random.Random) -> dict[str, object]:
    def text() -> str:
        if rng.random() < 0.5:
            return rng.choice(AWKWARD)
        return "".join(rng.choice(string.printable + "éü中") for _ in range(rng.randint(0, 12)))

    return {
        "schema": 1,
        "id": f"claude-code/{text()}",
        "notes": text(),
        "models": {text() or "m": {"requests": rng.randint(0, 10**9), "cost_usd": text()}},
        "commits": [{"sha": text(), "subject": text(), "files": rng.randint(0, 99)}],
        "work_items": [text() for _ in range(rng.randint(0, 3))],
        "tasks": {"completed": 3, "types": {text() or "t": 2}},
        "empty_map": {},
        "nothing": None,
        "flag": rng.random() < 0.5,
    }


def test_fast_reader_agrees_with_ruamel_on_random_documents() -> None:
    rng = random.Random(7)
    yaml = YAML(typ="safe")
    for _ in range(400):
        doc = _random_doc(rng)
        text = yamlfile.dump(doc)
        assert yaml.load(text) == doc, text
        assert yamlfile._fast_load(text) == doc, text


def test_plain_words_stay_unquoted_for_readable_diffs() -> None:
    text = yamlfile.dump(
        {
            "agent": "claude-code",
            "models": {"claude-sonnet-4-6": {"requests": 1}},
            "work_items": ["WRK-237", "#41"],
        }
    )
    assert "agent: claude-code\n" in text
    assert "  claude-sonnet-4-6: {requests: 1}\n" in text
    assert 'work_items: [WRK-237, "#41"]' in text


def test_hand_edited_block_style_still_loads() -> None:
    text = "schema: 1\nmodels:\n  claude-sonnet-4-6:\n    requests: 3\n    input: 10\n"
    assert yamlfile.load_text(text) == {
        "schema": 1,
        "models": {"claude-sonnet-4-6": {"requests": 3, "input": 10}},
    }


def test_broken_yaml_names_file_and_line() -> None:
    with pytest.raises(LedgerError) as info:
        yamlfile.load_text("schema: 1\nmodels: {a: [1, 2\nnotes: x\n", path="s.yaml")
    message = info.value.one_line()
    assert message.startswith("s.yaml:")
    assert "not valid YAML" in message
    assert info.value.line is not None


def test_a_number_python_cannot_convert_is_one_line_naming_file_and_line(repo: Path) -> None:
    """Python refuses int() of over 4,300 digits: such a count in a committed ledger file
    once crashed every command; now it is that file's error, at its line."""
    run("record", "--model", "claude-sonnet-4-6", "--session", "s1", "--cost", "0.25")
    path = repo / ".costlog" / "sessions" / "manual" / "s1.yaml"
    text = path.read_text()
    line = next(n for n, x in enumerate(text.splitlines(), 1) if "requests:" in x)
    path.write_text(re.sub(r"requests: \d+", "requests: " + "9" * 5000, text, count=1))
    for command, code in (("render", 1), ("report", 1), ("check", 3)):
        out = run(command, code=code)
        assert f".costlog/sessions/manual/s1.yaml:{line}: a number of over 4000 digits" in out
        assert "internal error" not in out and len(out.strip().splitlines()) == 1
