"""It holds (issue 7, the fast sizes): concurrent records, killed writers, merges in any
order and after a rebase, and hand edits over many cycles.

The full sizes run from `stress/` (see stress/README.md); these run in CI in seconds.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from costlog import gitrepo as repo_mod
from costlog.config import Config
from costlog.errors import EXIT_CHECK_FAILED
from costlog.ledger.store import Ledger
from tests_support import git, run

pytestmark = pytest.mark.slow

SESSIONS = Path(".costlog/sessions")


def start(repo: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "costlog", *args],
        cwd=repo,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )


def ledger_ids(repo: Path) -> list[str]:
    return [e.id for e in Ledger(repo_mod.find(repo), ".costlog/sessions").load_all()]


def test_32_records_at_once_each_session_exactly_once(repo: Path) -> None:
    run("init")
    # 24 different sessions, and 8 more runs re-recording 4 of them
    sessions = [f"s{i:02d}" for i in range(24)] + [f"s{i:02d}" for i in range(4)] * 2
    procs = [
        start(
            repo,
            "record",
            "--model",
            "claude-sonnet-4-6",
            "--session",
            sid,
            "--cost",
            f"0.{n + 10}",
            "--no-stage",
        )
        for n, sid in enumerate(sessions)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    ids = ledger_ids(repo)
    assert sorted(ids) == sorted(f"manual/s{i:02d}" for i in range(24))
    assert len(list((repo / SESSIONS).rglob("*.yaml"))) == 24
    assert not list(repo.rglob("*.tmp"))  # nothing half-written left in the work tree
    run("render")
    assert "matches 24 ledger sessions" in run("check")


@pytest.mark.parametrize("command", ["record", "render"])
def test_a_killed_writer_never_corrupts_the_ledger_or_blocks_the_next(
    repo: Path, command: str
) -> None:
    run("init")
    for i in range(5):
        run(
            "record",
            "--model",
            "claude-haiku-4-5",
            "--session",
            f"keep{i}",
            "--cost",
            "0.01",
            "--no-stage",
        )
    before = {p: p.read_bytes() for p in (repo / SESSIONS).rglob("*.yaml")}
    rng = random.Random(7)
    for trial in range(12):  # stress/crash.py runs 200+
        args = (
            [
                "record",
                "--model",
                "claude-sonnet-4-6",
                "--session",
                f"k{trial}",
                "--cost",
                "0.02",
                "--no-stage",
            ]
            if command == "record"
            else ["render"]
        )
        proc = start(repo, *args)
        time.sleep(rng.uniform(0.0, 0.35))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        for path, data in before.items():
            assert path.read_bytes() == data  # nothing recorded before is lost
        Ledger(repo_mod.find(repo), ".costlog/sessions").load_all()  # every file valid
    done = start(
        repo,
        "record",
        "--model",
        "claude-sonnet-4-6",
        "--session",
        "after",
        "--cost",
        "0.03",
        "--no-stage",
    )
    _, err = done.communicate(timeout=60)
    assert done.returncode == 0, err  # no stale lock
    run("render")
    run("check")
    assert not list(repo.rglob("*.tmp"))


def _branch_with_session(repo: Path, branch: str, session: str, cost: str) -> None:
    git(repo, "checkout", "-q", "-b", branch, "main")
    run("record", "--model", "claude-sonnet-4-6", "--session", session, "--cost", cost)
    (repo / f"{branch}.txt").write_text(f"work on {branch}\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", f"work on {branch}")


def _three_branches(repo: Path) -> list[str]:
    run("init")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "costlog init")
    names = ["alpha", "beta", "gamma"]
    for i, name in enumerate(names):
        _branch_with_session(repo, name, f"on-{name}", f"0.{i + 1}0")
    git(repo, "checkout", "-q", "main")
    return names


@pytest.mark.parametrize("order", [(0, 1, 2), (2, 0, 1), (1, 2, 0)])
def test_three_branches_merge_in_any_order_without_ledger_conflicts(
    repo: Path, order: tuple[int, ...]
) -> None:
    names = _three_branches(repo)
    for index in order:
        merge = git(repo, "merge", "--no-edit", names[index], check=False)
        conflicted = git(repo, "diff", "--name-only", "--diff-filter=U").stdout.split()
        assert not [p for p in conflicted if p.startswith(".costlog/")], merge.stdout
        if conflicted:
            assert conflicted == ["COST_LOG.md"]
            run("render")  # the one documented command
            assert "<<<<<<<" not in (repo / "COST_LOG.md").read_text()
            git(repo, "add", "COST_LOG.md")
            git(repo, "commit", "-q", "--no-edit")
    assert sorted(ledger_ids(repo)) == [f"manual/on-{n}" for n in names]
    run("render")
    assert "matches 3 ledger sessions" in run("check")


def test_rebased_branches_keep_every_session(repo: Path) -> None:
    names = _three_branches(repo)
    for name in names:
        git(repo, "checkout", "-q", name)
        rebase = git(repo, "rebase", "main", check=False)
        while rebase.returncode != 0:
            conflicted = git(repo, "diff", "--name-only", "--diff-filter=U").stdout.split()
            assert conflicted == ["COST_LOG.md"], rebase.stdout + rebase.stderr
            run("render")
            git(repo, "add", "COST_LOG.md")
            rebase = subprocess.run(
                ["git", "-c", "core.editor=true", "rebase", "--continue"],
                cwd=repo,
                capture_output=True,
                text=True,
            )
        run("render")  # a rebase keeps our COST_LOG.md blocks: the one command fixes them
        if git(repo, "status", "--porcelain", "COST_LOG.md").stdout.strip():
            git(repo, "commit", "-q", "-am", "costlog render")
        git(repo, "checkout", "-q", "main")
        git(repo, "merge", "-q", "--ff-only", name)
        assert git(repo, "status", "--porcelain").stdout == ""  # the hooks left it clean
    assert sorted(ledger_ids(repo)) == [f"manual/on-{n}" for n in names]
    run("render")
    run("check")


def test_hand_edits_outside_blocks_survive_100_cycles(repo: Path) -> None:
    run("init")
    log = repo / "COST_LOG.md"
    top = "<!-- team: keep this -->\nIntro written by hand,  with two spaces | and a pipe.\n\n"
    roi = "\n## ROI Notes\n\n- Saved ~3h on the Stripe work. <b>worth it</b>\n\t tab line\n"
    log.write_text(top + log.read_text() + roi)
    rng = random.Random(100)
    for cycle in range(100):
        if rng.random() < 0.5:
            session = f"c{rng.randrange(10)}"
            run(
                "record",
                "--model",
                rng.choice(["claude-sonnet-4-6", "claude-haiku-4-5"]),
                "--session",
                session,
                "--cost",
                f"0.{rng.randrange(10, 99)}",
                "--no-stage",
            )
        else:
            run("render")
        text = log.read_text()
        assert text.startswith(top), cycle
        assert text.endswith(roi), cycle
    run("check")


def test_an_edit_inside_a_generated_block_is_reported_not_lost_silently(repo: Path) -> None:
    run("init")
    run("record", "--model", "claude-haiku-4-5", "--cost", "0.01", "--notes", "first")
    log = repo / "COST_LOG.md"
    edited = log.read_text().replace("| first |", "| first (fixed by hand) |")
    log.write_text(edited)
    out = run("check", code=EXIT_CHECK_FAILED)
    assert "block 'sessions' differs" in out and "COST_LOG.md:" in out
    assert log.read_text() == edited  # check never rewrites


def test_ledger_files_are_small_canonical_and_load_after_a_hand_reformat(repo: Path) -> None:
    run("init")
    run(
        "record",
        "--model",
        "claude-sonnet-4-6",
        "--session",
        "s1",
        "--input-tokens",
        "1200",
        "--output-tokens",
        "340",
        "--notes",
        'quotes " and: colons',
    )
    path = next((repo / SESSIONS).rglob("*.yaml"))
    text = path.read_text()
    assert len(text.splitlines()) < 20
    from ruamel.yaml import YAML

    doc = YAML(typ="safe").load(text)
    assert doc["models"]["claude-sonnet-4-6"]["input"] == 1200
    assert doc["notes"] == 'quotes " and: colons'
    found = repo_mod.find(repo)
    assert Ledger(found, Config().ledger_dir).get("manual/s1") is not None


def _claude_sessions(repo: Path, config_dir: Path, count: int) -> list[str]:
    """`count` finished Claude Code sessions of this repo, in the real transcript shape."""
    import json

    slug = "".join(c if c.isalnum() else "-" for c in str(repo))
    folder = config_dir / "projects" / slug
    folder.mkdir(parents=True)
    ids = []
    for n in range(count):
        sid = f"00000000-0000-4000-8000-{n:012d}"
        lines = [
            {
                "type": "user",
                "sessionId": sid,
                "cwd": str(repo),
                "version": "2.1.119",
                "uuid": f"u{n}",
                "parentUuid": None,
                "timestamp": f"2026-11-1{n % 9}T09:00:00Z",
                "message": {"role": "user", "content": f"task {n}"},
            }
        ]
        for r in range(3):
            lines.append(
                {
                    "type": "assistant",
                    "sessionId": sid,
                    "cwd": str(repo),
                    "version": "2.1.119",
                    "uuid": f"a{n}-{r}",
                    "parentUuid": f"u{n}",
                    "requestId": f"req_{n}_{r}",
                    "timestamp": f"2026-11-1{n % 9}T09:0{r + 1}:00Z",
                    "message": {
                        "id": f"msg_{n}_{r}",
                        "model": "claude-sonnet-4-6",
                        "role": "assistant",
                        "type": "message",
                        "stop_reason": "end_turn",
                        "content": [{"type": "text", "text": "done"}],
                        "usage": {
                            "input_tokens": 10,
                            "output_tokens": 100,
                            "cache_read_input_tokens": 5000,
                            "cache_creation_input_tokens": 0,
                        },
                    },
                }
            )
        (folder / f"{sid}.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
        ids.append(f"claude-code/{sid}")
    return ids


def test_commit_hooks_firing_while_backfill_runs(
    repo: Path, isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    config_dir = isolated_home / "claude"
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(config_dir))
    ids = _claude_sessions(repo, config_dir, 12)
    run("init", "--agent", "claude-code")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Set up costlog")
    backfill = start(repo, "backfill")
    for n in range(6):
        # a SessionEnd hook queues a session the backfill is recording too, then a commit
        payload = json.dumps(
            {
                "session_id": ids[n].split("/")[1],
                "cwd": str(repo),
                "hook_event_name": "SessionEnd",
                "reason": "exit",
            }
        )
        subprocess.run(
            [sys.executable, "-m", "costlog.integration.hookrun", "session-end"],
            cwd=repo,
            input=payload,
            text=True,
            check=True,
            capture_output=True,
        )
        (repo / f"f{n}.txt").write_text(f"{n}\n")
        git(repo, "add", f"f{n}.txt")
        commit = git(repo, "commit", "-q", "-m", f"work {n}", check=False)
        assert commit.returncode == 0, commit.stderr  # the hook never blocks a commit
    _, err = backfill.communicate(timeout=120)
    assert backfill.returncode == 0, err
    git(repo, "commit", "-q", "--allow-empty", "-m", "drain the queue")
    assert sorted(ledger_ids(repo)) == sorted(ids)  # each session exactly once
    assert len(list((repo / SESSIONS).rglob("*.yaml"))) == 12
    run("render")
    run("check")
