"""An edit made by hand between two `init` runs survives `uninstall`: the second init must
not let undo restore the text from before the first one (issue 13's set-up review)."""

from __future__ import annotations

import json
from pathlib import Path

from costlog import gitrepo as repo_mod
from costlog.integration import setup
from tests_support import run


def test_a_hand_edit_between_two_inits_survives_uninstall(repo: Path) -> None:
    settings = repo / ".claude" / "settings.json"
    run("init", "--agent", "claude-code", "--statusline")
    data = json.loads(settings.read_text())
    data["env"] = {"FOO": "1"}  # the user's own setting, added by hand
    settings.write_text(json.dumps(data, indent=2))
    run("init", "--agent", "claude-code", "--guard")
    setup.uninstall(repo_mod.find(repo))
    left = json.loads(settings.read_text())
    assert left["env"] == {"FOO": "1"}
    assert "statusLine" not in left
    assert "costlog" not in json.dumps(left.get("hooks", {}))
