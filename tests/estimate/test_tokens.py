"""Token estimates: the fitted heuristic and offline tiktoken."""

from __future__ import annotations

import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

from costlog.estimate import tokens as estimate
from costlog.estimate.tokens import (
    ENCODING_FILES,
    bundled_dir,
    count_tokens,
    heuristic_tokens,
)

SAMPLE = Path(estimate.__file__).read_text(encoding="utf-8")


@pytest.fixture(autouse=True)
def fresh_state(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(estimate, "_encodings", {})
    monkeypatch.setattr(estimate, "_warned", set())
    monkeypatch.delenv("TIKTOKEN_CACHE_DIR", raising=False)


def test_heuristic_counts() -> None:
    # 0.156*words + 0.128*letters + 0.661*digits + 0.746*punct + 0.385*space runs
    # + 0.827*non-ASCII
    assert heuristic_tokens("hello world") == 2
    assert heuristic_tokens("def f(x):\n    return x + 1\n") == 8
    assert heuristic_tokens('价格 2026-11-20 {"a": 1}') == 14
    assert heuristic_tokens("") == 0
    assert count_tokens("hello world") == 2


def test_bundled_files_are_the_ones_tiktoken_expects() -> None:
    for name in ENCODING_FILES.values():
        assert (bundled_dir() / name).is_file()


def test_exact_counts_offline_from_the_bundled_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The user's own tiktoken cache (empty here, and no network) is neither needed nor
    touched, and their setting is left as it was."""
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    said: list[str] = []
    assert count_tokens("def f(x):\n    return x + 1\n", exact=True, warn=said.append) == 11
    assert (
        count_tokens(
            "def f(x):\n    return x + 1\n", exact=True, warn=said.append, encoding="cl100k_base"
        )
        == 11
    )
    assert count_tokens("hello world", exact=True, warn=said.append) == 2
    assert said == []
    assert os.environ["TIKTOKEN_CACHE_DIR"] == str(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_heuristic_is_close_to_o200k_on_source_text() -> None:
    chunks = [SAMPLE[i : i + 4000] for i in range(0, len(SAMPLE), 4000)]
    guess = sum(heuristic_tokens(c) for c in chunks)
    exact = sum(count_tokens(c, exact=True) for c in chunks)
    assert 0.85 < guess / exact < 1.15


def test_missing_tokenizer_file_never_touches_tiktoken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_network(name: str) -> None:
        raise AssertionError(f"get_encoding({name}) would download")

    fake = types.ModuleType("tiktoken")
    fake.get_encoding = no_network  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "tiktoken", fake)
    monkeypatch.setattr(estimate, "bundled_dir", lambda: tmp_path)
    said: list[str] = []
    assert count_tokens("hello world", exact=True, warn=said.append) == 2
    assert count_tokens("hello world again", exact=True, warn=said.append) == 3
    assert said == [
        "tokenizer file for o200k_base is not bundled; using the fitted character heuristic instead"
    ]
    assert "TIKTOKEN_CACHE_DIR" not in os.environ


def test_importing_costlog_estimators_does_not_load_tiktoken() -> None:
    code = (
        "import sys, costlog.estimate.tokens, costlog.sources.claude.adapter; "
        "print('tiktoken' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "False"
