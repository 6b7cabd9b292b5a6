"""The `projects` tree shared by the Claude Code reader's tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from claude_logs import make_projects


@pytest.fixture
def projects(tmp_path: Path) -> Path:
    """Two sessions of one project: S1 (with a sub-agent) and S2, which resumed S1."""
    return make_projects(tmp_path)
