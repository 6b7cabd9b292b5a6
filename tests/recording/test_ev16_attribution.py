"""Attribution by evidence (issue 16): the commit evidence current clients write is read,
one commit goes to one session, and the time window never takes what it must not.

The logs are the files real clients wrote (tests/fixtures/*/real-*), with their commit
shas replaced by the shas of commits made here, at the logs' own times, in a real repo.
"""

from __future__ import annotations

import json
import os
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from costlog import gitrepo as repo_mod
from costlog.config import Config
from costlog.ledger.store import Ledger
from costlog.models import Commit, Entry, Session
from costlog.recording import attribution
from tests_support import FIXTURES_DIR, git, run

CODEX = FIXTURES_DIR / "codex" / "real-0.171.0"
CLAUDE = (
    FIXTURES_DIR / "claude-code" / "real-2.1.332" / "74bd4e93-bcd3-44cf-9b4c-8e2113b8c318.jsonl"
)
#: the code-mode run: started 21:06:03.936, its two commits, ended 21:06:07.172
CODE_START = datetime(2026, 12, 1, 21, 6, 3, 936000, tzinfo=UTC)


def commit_at(root: Path, when: datetime, message: str, files: dict[str, str] | None = None) -> str:
    """A real commit at `when` (author and committer date); empty unless `files`."""
    env = {
        **os.environ,
        "GIT_AUTHOR_DATE": when.isoformat(),
        "GIT_COMMITTER_DATE": when.isoformat(),
    }
    for name, text in (files or {}).items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        subprocess.run(["git", "add", name], cwd=root, check=True, env=env)
    subprocess.run(
        ["git", "commit", "-q", "--allow-empty", "-m", message], cwd=root, check=True, env=env
    )
    return git(root, "rev-parse", "HEAD").stdout.strip()


def entries(repo: Path) -> dict[str, Entry]:
    return {e.id: e for e in Ledger(repo_mod.find(repo), ".costlog/sessions").load_all()}


def linked(entry: Entry) -> list[tuple[str, str, str]]:
    return [(c.sha, c.subject, c.evidence) for c in entry.commits]


def setup_commit(repo: Path, when: datetime) -> str:
    """What `costlog init` then `git add -A && git commit` leaves: the config created."""
    return commit_at(
        repo,
        when,
        "Set up costlog",
        {".costlog/config.yaml": "# costlog\n", "COST_LOG.md": "# Cost log\n"},
    )


@pytest.fixture
def code_mode_repo(repo: Path) -> tuple[Path, dict[str, str]]:
    """A repo with commits around the code-mode run: its own two (made by the agent), and
    before it an `initial` commit and the set-up commit, all inside the 5-minute slack."""
    git(repo, "checkout", "-q", "-b", "feature/WRK-237-x")
    shas = {
        "initial": commit_at(repo, CODE_START - timedelta(minutes=3), "initial", {"a.txt": "a\n"}),
        "setup": setup_commit(repo, CODE_START - timedelta(minutes=1)),
        "step1": commit_at(repo, CODE_START + timedelta(seconds=1), "step 1 WRK-237"),
        "step2": commit_at(repo, CODE_START + timedelta(seconds=3), "step 2 WRK-237"),
    }
    return repo, shas


def codex_log(
    repo: Path, tmp_path: Path, shas: dict[str, str], name: str, drop: tuple[str, ...] = ()
) -> Path:
    """The real rollout with this repo's cwd and shas; lines holding any of `drop` removed."""
    text = (CODEX / name).read_text()
    for old, new in (("63815b0", shas["step1"][:7]), ("d9e8bd9", shas["step2"][:7])):
        text = text.replace(old, new)
    text = text.replace("/tmp/costlog-kit/cxreal/out/B/repo", str(repo))
    lines = [line for line in text.splitlines(keepends=True) if not any(d in line for d in drop)]
    out = tmp_path / name
    out.write_text("".join(lines))
    return out


def test_codex_code_mode_commits_are_linked_by_evidence_and_nothing_else(
    code_mode_repo: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    repo, shas = code_mode_repo
    run("record", "--transcript", str(codex_log(repo, tmp_path, shas, "code-mode.rollout.jsonl")))
    [entry] = entries(repo).values()
    assert linked(entry) == [
        (shas["step1"][:12], "step 1 WRK-237", "tool-output"),
        (shas["step2"][:12], "step 2 WRK-237", "tool-output"),
    ]
    assert entry.work_items == ["WRK-237"]


@pytest.mark.parametrize(
    "drop",
    [
        ('"custom_tool_call_output"', '"custom_tool_call"'),  # only item_completed left
        ('"item_completed"',),  # only the exec script and its output left
    ],
)
def test_each_code_mode_record_alone_is_evidence(
    code_mode_repo: tuple[Path, dict[str, str]], tmp_path: Path, drop: tuple[str, ...]
) -> None:
    repo, shas = code_mode_repo
    log = codex_log(repo, tmp_path, shas, "code-mode.rollout.jsonl", drop)
    run("record", "--transcript", str(log))
    [entry] = entries(repo).values()
    assert {(c.sha, c.evidence) for c in entry.commits} == {
        (shas["step1"][:12], "tool-output"),
        (shas["step2"][:12], "tool-output"),
    }


def test_time_window_takes_no_commit_from_before_the_start_nor_the_setup(
    code_mode_repo: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    """With every piece of evidence removed the window is all there is: it still leaves out
    `initial` and `Set up costlog` (made before the session), and a ledger-only commit
    made during it; the entry says `time-window` for what it took."""
    repo, shas = code_mode_repo
    ledger_only = commit_at(
        repo,
        CODE_START + timedelta(seconds=2),
        "Update the cost log",
        {".costlog/sessions/.gitkeep": "", "COST_LOG.md": "# Cost log\n\n(updated)\n"},
    )
    drop = ('"item_completed"', '"custom_tool_call_output"', '"custom_tool_call"')
    run(
        "record",
        "--transcript",
        str(codex_log(repo, tmp_path, shas, "code-mode.rollout.jsonl", drop)),
    )
    entry = entries(repo)["codex/01a2336d-ce09-7df1-8e13-1fc282cb8d39"]
    assert linked(entry) == [
        (shas["step1"][:12], "step 1 WRK-237", "time-window"),
        (shas["step2"][:12], "step 2 WRK-237", "time-window"),
    ]
    assert ledger_only[:12] not in {c.sha for c in entry.commits}
    assert (
        "time-window"
        in (repo / ".costlog/sessions/codex")
        .joinpath("01a2336d-ce09-7df1-8e13-1fc282cb8d39.yaml")
        .read_text()
    )


def test_claude_git_operation_sha_is_evidence_without_printed_output(
    repo: Path, tmp_path: Path
) -> None:
    """Claude Code 2.1.3xx records `toolUseResult.gitOperation.commit.sha`: that alone links
    the commit, even when `git commit -q` printed nothing."""
    git(repo, "checkout", "-q", "-b", "feature/WRK-237-x")
    start = datetime(2026, 12, 1, 21, 7, 6, tzinfo=UTC)
    one = commit_at(repo, start + timedelta(seconds=1), "step 3 WRK-237: add notes-5.txt")
    two = commit_at(repo, start + timedelta(seconds=1), "step 4 WRK-237")
    text = CLAUDE.read_text().replace("2cb10df", one[:7]).replace("3f5aa0e", two[:7])
    text = text.replace("/tmp/ccreal/repo", str(repo))
    lines = []
    for line in text.splitlines():
        obj = json.loads(line)
        result = obj.get("toolUseResult")
        if isinstance(result, dict) and "gitOperation" in result:
            result["stdout"] = ""  # as `git commit -q` leaves it
            for block in obj["message"]["content"]:
                if block.get("type") == "tool_result":
                    block["content"] = ""
        lines.append(json.dumps(obj))
    log = tmp_path / CLAUDE.name
    log.write_text("\n".join(lines) + "\n")
    run("record", "--transcript", str(log))
    [entry] = entries(repo).values()
    assert {(c.sha, c.evidence) for c in entry.commits} == {
        (one[:12], "tool-output"),
        (two[:12], "tool-output"),
    }


def test_a_fork_never_takes_its_parents_commits(
    code_mode_repo: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    """A fork started after its parent's commits; it made none itself. Whichever is
    recorded first, the parent's commits stay the parent's."""
    repo, shas = code_mode_repo
    parent = codex_log(repo, tmp_path, shas, "code-mode.rollout.jsonl")
    fork_start = CODE_START + timedelta(seconds=10)
    fork = tmp_path / "fork.jsonl"
    fork.write_text(
        "\n".join(
            json.dumps(line)
            for line in [
                {
                    "timestamp": fork_start.isoformat(),
                    "type": "session_meta",
                    "payload": {
                        "id": "01a2336d-ffff-7df1-8e13-1fc282cb8d39",
                        "timestamp": fork_start.isoformat(),
                        "cwd": str(repo),
                        "forked_from_id": "01a2336d-ce09-7df1-8e13-1fc282cb8d39",
                        "cli_version": "0.171.0",
                    },
                },
                {
                    "timestamp": (fork_start + timedelta(seconds=2)).isoformat(),
                    "type": "event_msg",
                    "payload": {
                        "type": "token_count",
                        "info": {
                            "last_token_usage": {"input_tokens": 900, "output_tokens": 20},
                            "model": "gpt-5.6-sol",
                        },
                    },
                },
            ]
        )
        + "\n"
    )
    run("record", "--transcript", str(fork))
    run("record", "--transcript", str(parent))
    found = entries(repo)
    assert found["codex/01a2336d-ffff-7df1-8e13-1fc282cb8d39"].commits == []
    assert {c.sha for c in found["codex/01a2336d-ce09-7df1-8e13-1fc282cb8d39"].commits} == {
        shas["step1"][:12],
        shas["step2"][:12],
    }


# ---------------------------------------------------------------- the rules, one by one

T0 = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def _session(sid: str, *, refs: set[str] | None = None, ended: bool = True) -> Session:
    return Session(
        agent="claude-code",
        session_id=sid,
        started=T0,
        ended=T0 + timedelta(minutes=30) if ended else None,
        tool_output_refs=set(refs or ()),
    )


def test_one_commit_one_session_strongest_evidence_first(repo: Path) -> None:
    found = repo_mod.find(repo)
    mine = commit_at(repo, T0 + timedelta(minutes=5), "Mine", {"m.py": "m\n"})
    theirs = commit_at(repo, T0 + timedelta(minutes=6), "Theirs", {"t.py": "t\n"})
    other = Entry(
        id="codex/B",
        agent="codex",
        started=T0,
        commits=[
            Commit(mine[:12], "Mine", evidence="time-window"),
            Commit(theirs[:12], "Theirs", evidence="tool-output"),
        ],
    )
    # A printed both shas: it takes what B holds only by time, not what B made itself
    commits, _ = attribution.attribute(
        _session("A", refs={mine[:7], theirs[:7]}), found, Config(), [other]
    )
    assert [(c.sha, c.evidence) for c in commits] == [(mine[:12], "tool-output")]
    # a third session with no evidence gets neither: both are held by someone
    commits, _ = attribution.attribute(_session("C"), found, Config(), [other])
    assert commits == []


def test_a_session_without_an_end_is_never_matched_by_time(repo: Path) -> None:
    found = repo_mod.find(repo)
    made = commit_at(repo, T0 + timedelta(minutes=1), "Neighbour's commit", {"n.py": "n\n"})
    commits, _ = attribution.attribute(_session("A", ended=False), found, Config())
    assert commits == []
    # evidence still links a commit made long after the start (aider: no end time)
    late = commit_at(repo, T0 + timedelta(hours=3), "Own commit", {"o.py": "o\n"})
    commits, _ = attribution.attribute(_session("A", refs={late[:7]}, ended=False), found, Config())
    assert [(c.sha, c.evidence) for c in commits] == [(late[:12], "tool-output")]
    assert made[:12] not in {c.sha for c in commits}


def test_the_setup_commit_is_never_linked_even_by_evidence(repo: Path) -> None:
    found = repo_mod.find(repo)
    setup = setup_commit(repo, T0 + timedelta(minutes=2))
    commits, _ = attribution.attribute(_session("A", refs={setup[:7]}), found, Config())
    assert commits == []


def test_a_later_session_with_evidence_takes_the_commit_from_a_time_window(
    code_mode_repo: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    """A recorded first, with no evidence, took both commits by time. B printed step 1's
    sha: recording B moves that commit to B, says so, and A keeps only step 2."""
    repo, shas = code_mode_repo
    drop = ('"item_completed"', '"custom_tool_call_output"', '"custom_tool_call"')
    run(
        "record",
        "--transcript",
        str(codex_log(repo, tmp_path, shas, "code-mode.rollout.jsonl", drop)),
    )
    b = tmp_path / "b" / "exec_command-mode.rollout.jsonl"
    b.parent.mkdir()
    text = (CODEX / b.name).read_text().replace("8dd4803", shas["step1"][:7])
    text = text.replace("step 2 WRK-237", "step 2b WRK-237")  # B's own second commit is not here
    b.write_text(text.replace("/tmp/costlog-kit/cxreal/out/A/repo", str(repo)))
    out = run("record", "--transcript", str(b))
    assert f"commit {shas['step1'][:7]} now belongs to codex/01a2336d-ac6a" in out
    found = entries(repo)
    a_id, b_id = (
        "codex/01a2336d-ce09-7df1-8e13-1fc282cb8d39",
        "codex/01a2336d-ac6a-7d23-93a7-3d73236c5daf",
    )
    assert [(c.sha, c.evidence) for c in found[a_id].commits] == [
        (shas["step2"][:12], "time-window")
    ]
    assert [(c.sha, c.evidence) for c in found[b_id].commits] == [
        (shas["step1"][:12], "tool-output")
    ]
    assert run("check").startswith("ok:")


def test_a_same_subject_commit_is_not_the_sessions_but_an_amended_one_is(repo: Path) -> None:
    found = repo_mod.find(repo)
    made = commit_at(repo, T0 + timedelta(minutes=1), "Fix tests", {"t.py": "1\n"})
    users = commit_at(repo, T0 + timedelta(minutes=9), "Fix tests", {"t.py": "2\n"})
    amended = commit_at(repo, T0 + timedelta(minutes=12), "Add parser", {"p.py": "p\n"})
    # what `git commit` printed: made's sha; for "Add parser" a sha an amend replaced
    refs = {made[:7], "Fix tests", "deadbee", "Add parser"}
    commits, _ = attribution.attribute(_session("A", refs=refs), found, Config())
    assert [(c.sha, c.evidence) for c in commits] == [
        (made[:12], "tool-output"),
        (amended[:12], "tool-output"),
    ]
    assert users[:12] not in {c.sha for c in commits}
