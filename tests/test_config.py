from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from costlog import config
from costlog.errors import ConfigError


def test_defaults_when_no_file(tmp_path: Path) -> None:
    assert config.load(tmp_path) == config.Config()


def test_typo_gets_a_did_you_mean(tmp_path: Path) -> None:
    (tmp_path / ".costlog").mkdir()
    (tmp_path / ".costlog/config.yaml").write_text("ledger_dri: x\n")
    with pytest.raises(ConfigError, match="did you mean `ledger_dir`"):
        config.load(tmp_path)


def test_budget_values_become_decimals(tmp_path: Path) -> None:
    (tmp_path / ".costlog").mkdir()
    (tmp_path / ".costlog/config.yaml").write_text("budget:\n  monthly_usd: 120.5\n")
    assert config.load(tmp_path).budget.monthly_usd == Decimal("120.5")


def test_broken_yaml_names_line(tmp_path: Path) -> None:
    (tmp_path / ".costlog").mkdir()
    (tmp_path / ".costlog/config.yaml").write_text("output: x\nbudget: [\n")
    with pytest.raises(ConfigError) as info:
        config.load(tmp_path)
    assert info.value.one_line().startswith(".costlog/config.yaml:")


def test_commented_default_file_uncommented_is_the_defaults() -> None:
    """Every commented line in the file `init` writes is a real, valid default."""
    lines = [
        line[2:]
        for line in config.DEFAULT_TEXT.splitlines()
        if line.startswith("# ")
        and ":" in line
        and not line.startswith("# costlog")
        and not line.startswith("# Docs")
        and not line.startswith("#   - ")
    ]
    data = YAML(typ="safe").load("\n".join(lines).replace("estimation_guide:", ""))
    loaded = config.from_dict(data)
    defaults = config.Config()
    assert loaded.ledger_dir == defaults.ledger_dir
    assert loaded.work_item_patterns == defaults.work_item_patterns
    assert loaded.work_item_ignore == defaults.work_item_ignore
    assert loaded.risky_task_types == defaults.risky_task_types
    assert loaded.budget.session_spike_usd == defaults.budget.session_spike_usd
