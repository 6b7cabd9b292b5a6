"""Who and where (issue 14): every path that records an entry stores its `author` and
`machine` as the config says, and nothing more; import leaves them empty, reprice keeps
them. Real repos, the real CLI, the user's config dir pointed at a temp dir."""

from __future__ import annotations

import hashlib
import json
import re
import socket
from pathlib import Path

import pytest
from agent_logs import SESSION, transcript

from costlog import config as config_mod
from costlog import gitrepo as repo_mod
from costlog.commands import importer, reprice
from costlog.integration import pending, queue
from costlog.ledger.store import Ledger
from costlog.models import Entry
from costlog.recording import identity
from tests_support import FIXTURES_DIR, git, run

NAME, EMAIL = "Ada Lovelace", "Ada.Lovelace@Example.com"


def sha12(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


@pytest.fixture
def ada(repo: Path) -> Path:
    git(repo, "config", "user.name", NAME)
    git(repo, "config", "user.email", EMAIL)
    return repo


def configure(repo: Path, text: str) -> None:
    (repo / ".costlog").mkdir(exist_ok=True)
    (repo / ".costlog" / "config.yaml").write_text(text)


def entries(repo: Path) -> list[Entry]:
    return Ledger(repo_mod.find(repo), ".costlog/sessions").load_all()


def only(repo: Path) -> Entry:
    [entry] = entries(repo)
    return entry


def machine_id(home: Path) -> str:
    return (home / ".config" / "costlog" / "machine-id").read_text().strip()


def everything(repo: Path) -> str:
    """The text of every file costlog writes into the repo (ledger, COST_LOG.md)."""
    files = [*sorted((repo / ".costlog").rglob("*.yaml")), repo / "COST_LOG.md"]
    return "".join(p.read_text() for p in files if p.is_file())


def record_by_hand(*extra: str) -> str:
    return run("record", "--model", "claude-sonnet-4-6", "--cost", "0.25", "--no-stage", *extra)


@pytest.mark.parametrize(
    ("people", "stored"),
    [("name", NAME), ("email", EMAIL), ("hash", sha12(EMAIL.lower())), ("none", None)],
)
def test_people_stores_what_it_promises(ada: Path, people: str, stored: str | None) -> None:
    configure(ada, f"people: {people}\n")
    record_by_hand()
    entry = only(ada)
    assert entry.author == stored
    text = everything(ada)
    if people in ("hash", "none"):  # neither the name nor the address, anywhere
        assert "lovelace" not in text.lower() and "example.com" not in text.lower()
    if people == "name":
        assert EMAIL not in text
    if people == "none":
        assert "author:" not in text
    assert run("check").startswith("ok:")


def test_machine_is_a_hash_of_an_id_made_once_in_the_config_dir(
    ada: Path, isolated_home: Path
) -> None:
    record_by_hand()
    first = only(ada).machine
    made = machine_id(isolated_home)
    assert re.fullmatch(r"[0-9a-f]{32}", made)  # random, in the isolated home, not the real one
    assert first == sha12(made) and re.fullmatch(r"[0-9a-f]{12}", first)
    record_by_hand()
    assert {e.machine for e in entries(ada)} == {first}  # stable: the id is not made again
    assert machine_id(isolated_home) == made
    assert socket.gethostname() not in everything(ada)


def test_without_xdg_the_id_lives_in_home_dot_config(
    ada: Path, isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("XDG_CONFIG_HOME")
    record_by_hand()
    assert only(ada).machine == sha12(machine_id(isolated_home))


def test_machine_hostname_and_none(ada: Path) -> None:
    configure(ada, "machine: hostname\n")
    record_by_hand("--session", "one")
    configure(ada, "machine: none\n")
    record_by_hand("--session", "two")
    by_id = {e.id: e.machine for e in entries(ada)}
    host = re.sub(r"[^A-Za-z0-9._-]+", "-", socket.gethostname()).strip("-._")
    assert by_id == {"manual/one": host, "manual/two": None}


def test_an_unwritable_config_dir_records_without_a_machine(
    ada: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the config dir should be")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(blocked))
    record_by_hand()
    assert only(ada).machine is None and only(ada).author == NAME


def test_no_configured_identity_stores_no_author(repo: Path) -> None:
    """git would guess one from the login and host name: that guess is never stored (the
    test env sets only GIT_AUTHOR_NAME, which git config does not report)."""
    record_by_hand()
    assert only(repo).author is None
    assert "author:" not in everything(repo)


def test_a_re_record_keeps_who_and_where_it_was_first_recorded(
    ada: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    record_by_hand("--session", "s1")
    first = only(ada)
    git(ada, "config", "user.name", "Someone Else")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "other-machine"))
    record_by_hand("--session", "s1", "--notes", "again")
    again = only(ada)
    assert again.notes == "again"
    assert (again.author, again.machine) == (first.author, first.machine) == (NAME, first.machine)


def test_an_old_entry_gains_them_when_recorded_again(ada: Path) -> None:
    configure(ada, "people: none\nmachine: none\n")
    record_by_hand("--session", "old")
    assert (only(ada).author, only(ada).machine) == (None, None)
    configure(ada, "")
    record_by_hand("--session", "old")
    assert only(ada).author == NAME and only(ada).machine is not None


def test_a_hostile_git_name_is_stored_as_one_plain_line(repo: Path) -> None:
    git(repo, "config", "user.name", "Eve\u202e\x07 <b>|x|" + "y" * 300)
    record_by_hand()
    author = only(repo).author
    assert author is not None and author.startswith("Eve <b>|x|y") and len(author) == 200
    assert run("check").startswith("ok:")


# ---------------------------------------------------------------- every path that records


@pytest.fixture
def claude_log(ada: Path, isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    config = isolated_home / "claude"
    project = config / "projects" / "".join(c if c.isalnum() else "-" for c in str(ada))
    project.mkdir(parents=True)
    path = project / f"{SESSION}.jsonl"
    path.write_text(transcript(ada, "claude-sonnet-4-6", [30_000], output=800))
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(config))
    return path


def expect_ada(entry: Entry, home: Path) -> None:
    assert (entry.author, entry.machine) == (NAME, sha12(machine_id(home)))


def test_record_of_a_transcript(ada: Path, claude_log: Path, isolated_home: Path) -> None:
    run("record", "--transcript", str(claude_log), "--no-stage")
    expect_ada(only(ada), isolated_home)


def test_backfill(ada: Path, claude_log: Path, isolated_home: Path) -> None:
    run("backfill", "--agent", "claude-code")
    expect_ada(only(ada), isolated_home)


def test_the_session_end_queue_drained_by_the_post_commit_hook(
    ada: Path, claude_log: Path, isolated_home: Path
) -> None:
    found = repo_mod.find(ada)
    item = {"agent": "claude-code", "session_id": SESSION, "transcript_path": str(claude_log)}
    queue.enqueue(found.state_dir, item)
    lines = pending.process_pending(found)
    assert any("claude-code" in line for line in lines), lines
    expect_ada(only(ada), isolated_home)


def test_record_from_json(ada: Path, tmp_path: Path, isolated_home: Path) -> None:
    result = tmp_path / "result.json"
    result.write_text(
        json.dumps(
            {
                "type": "result",
                "session_id": "ci-run-1",
                "duration_ms": 60_000,
                "num_turns": 2,
                "total_cost_usd": 0.5,
                "modelUsage": {
                    "claude-sonnet-4-6": {"inputTokens": 10, "outputTokens": 20, "costUSD": 0.5}
                },
            }
        )
    )
    run("record", "--from-json", str(result), "--no-stage")
    expect_ada(only(ada), isolated_home)


def test_a_diff_estimate(ada: Path, isolated_home: Path) -> None:
    (ada / "app.py").write_text("print('hello')\n")
    git(ada, "add", "app.py")
    git(ada, "commit", "-q", "-m", "Add the app")
    run("record", "--agent", "cursor", "--model", "claude-sonnet-4-6", "--no-stage")
    entry = only(ada)
    assert entry.source == "estimated"
    expect_ada(entry, isolated_home)


def test_import_leaves_them_empty_and_reprice_keeps_them(ada: Path) -> None:
    import shutil

    shutil.copy(FIXTURES_DIR / "import" / "COST_LOG.classic.md", ada / "COST_LOG.md")
    found, config = repo_mod.find(ada), config_mod.Config()
    importer.run(found, config, ada / "COST_LOG.md")
    imported = entries(ada)
    assert imported and all(e.author is None and e.machine is None for e in imported)
    record_by_hand("--session", "mine")
    before = {e.id: (e.author, e.machine) for e in entries(ada)}
    reprice.run(found, config)
    assert {e.id: (e.author, e.machine) for e in entries(ada)} == before
    assert before["manual/mine"][0] == NAME


def test_identity_current_asks_nothing_when_both_are_off(repo: Path) -> None:
    config = config_mod.Config(people="none", machine="none")
    assert identity.current(repo_mod.find(repo), config) == identity.Identity(None, None)


def test_an_empty_machine_id_file_is_made_again(ada: Path, isolated_home: Path) -> None:
    path = isolated_home / ".config" / "costlog" / "machine-id"
    path.parent.mkdir(parents=True)
    path.write_text("")
    record_by_hand()
    assert re.fullmatch(r"[0-9a-f]{32}", machine_id(isolated_home))
    assert only(ada).machine == sha12(machine_id(isolated_home))
    assert [p.name for p in path.parent.iterdir()] == ["machine-id"]  # no temp file left
