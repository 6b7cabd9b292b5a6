"""backfill's batched commit log lists, for every session, what that session's own
`git log --since/--until` lists (issue 12's review).

`git log --since` stops at a commit dated before the bound and does not walk past it, so
with dates that go backwards a commit dated inside a window can lie out of git's reach;
`attribution.CommitLog` must cut exactly git's answer from its wider spans, not every
commit dated in the window. Checked against the real git on random histories (branches,
merges, tags, shuffled and repeated dates), and end to end on the reviewer's case.
"""

from __future__ import annotations

import json
import random
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from costlog import config
from costlog.commands import backfill
from costlog.gitrepo import Repo, find
from costlog.recording import attribution
from tests_support import git

BASE = datetime(2026, 11, 10, 8, 0, tzinfo=UTC)


def _history(root: Path, rng: random.Random) -> int:
    """A repo of random branches, merges and tags whose commit dates are shuffled over
    twelve hours (some at the same second), made by one `git fast-import`; returns the
    number of commits."""
    git(root, "init", "-q", "-b", "b0")
    branches = rng.randint(1, 3)
    tips: dict[int, int] = {}
    stream: list[str] = []
    count = rng.randint(6, 22)
    for mark in range(1, count + 1):
        branch = rng.randrange(branches)
        when = int(BASE.timestamp()) + rng.randrange(72) * 600 + rng.choice([0, 0, 1, 7])
        stream += [
            f"commit refs/heads/b{branch}",
            f"mark :{mark}",
            f"committer T <t@example.com> {when} +0000",
            "data 3",
            f"c{mark}",
        ]
        if branch in tips:
            stream.append(f"from :{tips[branch]}")
        others = [m for b, m in tips.items() if b != branch]
        if others and rng.random() < 0.3:
            stream.append(f"merge :{rng.choice(others)}")
        stream += [f"M 644 inline f{mark}.txt", "data 2", "x", ""]
        tips[branch] = mark
        if rng.random() < 0.15:
            stream += [f"reset refs/tags/t{mark}", f"from :{mark}", ""]
    subprocess.run(
        ["git", "fast-import", "--quiet"],
        cwd=root,
        input="\n".join(stream) + "\n",
        text=True,
        check=True,
        capture_output=True,
    )
    if 0 not in tips:  # HEAD (b0) unborn: point it at another branch
        git(root, "symbolic-ref", "HEAD", f"refs/heads/b{min(tips)}")
    elif rng.random() < 0.3:  # a detached HEAD behind its branch's tip
        git(root, "checkout", "-q", "--detach", f":/c{rng.randint(1, count)}")
    return count


def _codex_log(home: Path, sid: str, cwd: Path, start: str, end: str) -> None:
    """A Codex rollout of 2026-11-10 from `start` to `end` (HH:MM, UTC) with one request."""
    folder = home / "sessions" / "2026" / "11" / "10"
    folder.mkdir(parents=True, exist_ok=True)
    at = f"2026-11-10T{start}:00.000Z"
    usage = {"input_tokens": 1000, "output_tokens": 10}
    lines = [
        {
            "timestamp": at,
            "type": "session_meta",
            "payload": {"id": sid, "timestamp": at, "cwd": str(cwd), "git": {"branch": "main"}},
        },
        {"timestamp": at, "type": "turn_context", "payload": {"cwd": str(cwd), "model": "gpt-5"}},
        {
            "timestamp": f"2026-11-10T{end}:00.000Z",
            "type": "event_msg",
            "payload": {
                "type": "token_count",
                "info": {"total_token_usage": usage, "last_token_usage": usage},
            },
        },
    ]
    name = f"rollout-2026-11-10T{start.replace(':', '-')}-00-{sid}.jsonl"
    (folder / name).write_text("".join(json.dumps(line) + "\n" for line in lines))


def _facts(commits: list[attribution.GitCommit]) -> list[tuple[Any, ...]]:
    return [(c.sha, c.when, c.subject, c.files, c.created, c.added, c.removed) for c in commits]


def test_the_batched_cut_lists_what_git_log_lists_for_every_window(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(1203)
    windows_seen = cut_by_time_wrong = 0
    real = attribution.commits_between
    asked: list[int] = []

    def counting(repo: Repo, start: datetime, end: datetime) -> Any:
        asked.append(1)
        return real(repo, start, end)

    for n in range(30):
        root = tmp_path / f"h{n}"
        root.mkdir()
        _history(root, rng)
        repo = find(root)
        windows = []
        for _ in range(rng.randint(3, 12)):
            start = BASE + timedelta(minutes=rng.randrange(-30, 720))
            windows.append((start, start + timedelta(minutes=rng.randrange(0, 240))))
        log = attribution.CommitLog(repo)
        log.prefetch(windows)
        for start, end in windows:
            want = real(repo, start, end)
            monkeypatch.setattr(attribution, "commits_between", counting)
            got = log.between(start, end)
            monkeypatch.setattr(attribution, "commits_between", real)
            assert _facts(got) == _facts(want), (n, start, end)
            windows_seen += 1
            lo, hi = attribution._bounds(start, end)
            by_time = {c.sha for _s, _u, span in log.spans for t, c in span if lo <= t <= hi}
            cut_by_time_wrong += by_time != {c.sha for c in want}
    # the histories do hide commits from git's walk, and most windows are cut, not asked
    assert cut_by_time_wrong >= 5
    assert len(asked) < windows_seen / 3


def test_a_commit_behind_an_older_one_is_not_linked_by_backfill(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Commits X 12:00, Y 11:00, Z 12:30, made in that order: git log for the window
    11:55-12:10 stops at Y and never reaches X, so the session of that window gets no
    commit (as `record` would give it), and the one of 10:50-11:05 gets Y."""
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    shas = {}
    for name, when in [("X", "12:00"), ("Y", "11:00"), ("Z", "12:30")]:
        (root / f"{name}.txt").write_text(name)
        git(root, "add", f"{name}.txt")
        monkeypatch.setenv("GIT_COMMITTER_DATE", f"2026-11-10T{when}:00+00:00")
        monkeypatch.setenv("GIT_AUTHOR_DATE", f"2026-11-10T{when}:00+00:00")
        git(root, "commit", "-q", "-m", f"commit {name}")
        shas[name] = git(root, "rev-parse", "HEAD").stdout.strip()[:12]
    codex = tmp_path / "codex"
    monkeypatch.setenv("CODEX_HOME", str(codex))
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "claude"))
    monkeypatch.setenv("COSTLOG_CACHE_DIR", str(tmp_path / "cache"))
    one = "019b0001-0000-7000-8000-000000000001"
    two = "019b0002-0000-7000-8000-000000000002"
    _codex_log(codex, one, root, "10:50", "11:05")
    _codex_log(codex, two, root, "11:55", "12:10")
    monkeypatch.chdir(root)
    repo = find(root)
    spans = {}
    result = backfill.run(repo, config.load(root), backfill.Options())
    for entry in result.recorded:
        spans[entry.id] = [c.sha for c in entry.commits]
    assert spans == {f"codex/{one}": [shas["Y"]], f"codex/{two}": []}
