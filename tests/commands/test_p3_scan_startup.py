"""`costlog scan --agent <built-in>` starts without looking up installed plug-ins: that
look-up (importlib.metadata over every installed package) cost ~50 ms of every scan's
start-up. A name that is not built in still goes through it, and an unknown one is still
a usage error naming the known agents."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests_support import FIXTURES_DIR, REPO_ROOT, invoke

_PROBE = """
import sys
from costlog.cli import main
sys.argv = ["costlog", *sys.argv[1:]]
try:
    main()
except SystemExit as stop:
    code = stop.code
print("METADATA" if "importlib.metadata" in sys.modules else "NO-METADATA", code)
"""


def _claude_home(tmp_path: Path) -> Path:
    home = tmp_path / "claude"
    project = home / "projects" / "-home-dev-alpha"
    project.mkdir(parents=True)
    shutil.copy(FIXTURES_DIR / "claude-code" / "ccusage__project-alpha_chat.jsonl", project)
    return home


def _probe(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "HOME": str(tmp_path),
        "CLAUDE_CONFIG_DIR": str(_claude_home(tmp_path)),
        "COSTLOG_CACHE_DIR": str(tmp_path / "cache"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "PYTHONPATH": str(REPO_ROOT),
    }
    return subprocess.run(
        [sys.executable, "-c", _PROBE, *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=False,
    )


def test_a_built_in_agent_scans_without_the_plug_in_look_up(tmp_path: Path) -> None:
    done = _probe(tmp_path, "scan", "--agent", "claude-code", "--json")
    *printed, last = done.stdout.strip().splitlines()
    assert last == "NO-METADATA 0", done.stderr
    assert json.loads("\n".join(printed))["totals"]["requests"] > 0


def test_an_unknown_agent_is_still_a_usage_error_listing_the_known(tmp_path: Path) -> None:
    done = _probe(tmp_path, "scan", "--agent", "no-such-agent", "--json")
    assert done.stdout.strip().splitlines()[-1] == "METADATA 2"
    assert "unknown agent 'no-such-agent'" in done.stderr
    assert "claude-code" in done.stderr
    result = invoke(["scan", "--agent", "claude-code", "--agent", "nope"])
    assert result.exit_code == 2
