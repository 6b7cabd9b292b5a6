"""The rendered COST_LOG.md of a fixed ledger, compared with a file a human has read, and
parsed by GitHub's own renderer (cmark-gfm) with every table intact.

Update after an intended change: COSTLOG_UPDATE_GOLDEN=1 pytest tests/render/test_golden.py,
then read the diff of tests/golden/COST_LOG.md before committing it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from golden.ledger import entries  # tests/golden/ledger.py

from costlog import gitrepo as repo_mod
from costlog import render
from costlog.config import Budget, Config
from costlog.ledger.store import Ledger
from tests_support import GOLDEN_DIR

GOLDEN = GOLDEN_DIR / "COST_LOG.md"
#: a configured repo: every alert has a threshold (the defaults leave two of them off)
CONFIG = Config(budget=Budget(monthly_usd=Decimal("25"), rolling_7d_usd=Decimal("15")))


@pytest.fixture
def rendered(repo: Path) -> str:
    found = repo_mod.find(repo)
    ledger = Ledger(found, ".costlog/sessions")
    for entry in entries():
        ledger.write(entry)
    return render.render(found, CONFIG).text


def test_matches_the_reviewed_golden_file(rendered: str) -> None:
    if os.environ.get("COSTLOG_UPDATE_GOLDEN"):
        GOLDEN.write_text(rendered)
    assert rendered == GOLDEN.read_text()


def _cells(row: str) -> int:
    body = row.strip()
    assert body.startswith("|") and body.endswith("|"), row
    return len(re.split(r"(?<!\\)\|", body[1:-1]))


def source_tables(text: str) -> list[list[str]]:
    tables, current = [], []
    for line in text.splitlines():
        if line.startswith("|"):
            current.append(line)
        elif current:
            tables.append(current)
            current = []
    if current:
        tables.append(current)
    return tables


@pytest.mark.skipif(
    shutil.which("cmark-gfm") is None,
    reason="cmark-gfm not installed (apt-get install cmark-gfm; .ci/run installs it)",
)
def test_github_renderer_keeps_every_table_intact(rendered: str) -> None:
    html = subprocess.run(
        ["cmark-gfm", "-e", "table"], input=rendered, capture_output=True, text=True, check=True
    ).stdout
    tables = source_tables(rendered)
    assert len(tables) >= 10
    assert html.count("<table>") == len(tables)
    for table in tables:
        width = _cells(table[0])
        assert all(_cells(row) == width for row in table), table[0]
    assert "<script>" not in html
    assert html.count("<tr>") == sum(len(t) - 1 for t in tables)  # minus delimiter rows


def test_mermaid_chart_is_well_formed(rendered: str) -> None:
    block = re.search(r"```mermaid\n(.*?)\n```", rendered, re.S)
    assert block is not None
    lines = block.group(1).splitlines()
    assert lines[0] == "xychart-beta"
    labels = re.fullmatch(r"    x-axis \[(.*)\]", lines[2])
    bars = re.fullmatch(r"    bar \[(.*)\]", lines[4])
    assert labels and bars
    names = re.findall(r'"([^"]*)"', labels.group(1))
    values = [float(v) for v in bars.group(1).split(", ")]
    assert len(names) == len(values) == 30
    assert len(set(names)) == 30  # Mermaid's band scale merges bars with equal labels
    assert all(v >= 0 for v in values)
    assert re.fullmatch(r'    title "[^"]*"', lines[1]) and lines[3] == '    y-axis "USD"'
    assert len(lines) == 5
