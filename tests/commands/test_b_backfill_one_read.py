"""`costlog backfill` reads each of the repo's logs once and asks git once (issue 12).

A cold backfill used to read every session to record twice (the scan, then again for the
attribution fields) and run one `git log` per session. Now the scan's one read of a log
that is not in the cache gathers those fields too, and the commits come from one `git
log` of the window of all sessions. What is recorded must not change: the ledger files of
a cold backfill (one read) are byte for byte those of a backfill whose scan was served by
a warm cache (a second read for attribution), and the batched git log and commit claims
give what the per-session look-ups gave.
"""

from __future__ import annotations

import json
import random
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from agent_logs import claude_session, codex_session

from costlog import config, gitrepo
from costlog.commands import backfill
from costlog.gitrepo import find
from costlog.models import Commit, Entry
from costlog.recording import attribution
from costlog.safefs import UnsafePath
from costlog.sources.claude import incremental
from costlog.sources.codex import adapter as codex_adapter
from costlog.sources.codex import reader as codex_reader
from tests_support import git, invoke

SID_A = "aaaaaaaa-0000-4000-8000-0000000000a1"  # Claude, this repo, names commit 1
SID_B = "bbbbbbbb-0000-4000-8000-0000000000b2"  # Claude, this repo, no evidence
SID_C = "cccccccc-0000-4000-8000-0000000000c3"  # Claude, elsewhere
SID_E = "eeeeeeee-0000-4000-8000-0000000000e5"  # Codex, this repo, names commit 2
SID_F = "ffffffff-0000-4000-8000-0000000000f6"  # Codex, elsewhere
SID_G = "99999999-0000-4000-8000-000000000097"  # Codex, this repo, no commit near it
SID_H = "88888888-0000-4000-8000-000000000088"  # Codex, this repo, its last line early


def _commit(repo: Path, name: str, subject: str, when: str) -> str:
    (repo / name).write_text(f"{subject}\n")
    git(repo, "add", name)
    with _dated(when):
        git(repo, "commit", "-q", "-m", subject)
    return git(repo, "rev-parse", "HEAD").stdout.strip()


@contextmanager
def _dated(when: str) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GIT_COMMITTER_DATE", when)
        mp.setenv("GIT_AUTHOR_DATE", when)
        yield


def _codex_commit(path: Path, when: str, sha: str, subject: str) -> None:
    """A finished `git commit` as Codex 0.171+ writes it (an item_completed event)."""
    record = {
        "timestamp": when,
        "type": "event_msg",
        "payload": {
            "type": "item_completed",
            "item": {
                "type": "CommandExecution",
                "id": "call_1",
                "command": ["git", "commit", "-m", subject],
                "status": "completed",
                "aggregated_output": f"[main {sha[:7]}] {subject}\n 1 file changed",
            },
        },
    }
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(record) + "\n")


@pytest.fixture
def history(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    claude, codex = tmp_path / "claude", tmp_path / "codex"
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(claude))
    monkeypatch.setenv("CODEX_HOME", str(codex))
    monkeypatch.setenv("COSTLOG_CACHE_DIR", str(tmp_path / "cache"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    one = _commit(repo, "cost.py", "Add cost table", "2026-11-19T10:00:05+00:00")
    two = _commit(repo, "parse.py", "Fix the parser", "2026-11-19T11:00:05+00:00")
    _commit(repo, "notes.md", "Notes of the day", "2026-11-19T12:00:30+00:00")
    paths = {
        "A": claude_session(
            claude,
            SID_A,
            repo,
            "2026-11-19T10:00",
            2,
            prompt="Please do WRK-12: add the cost table",
            tool_output=f"[main {one[:7]}] Add cost table\n 1 file changed",
        ),
        "B": claude_session(claude, SID_B, repo, "2026-11-19T12:00", 3),
        "C": claude_session(claude, SID_C, elsewhere, "2026-11-19T13:00", 2),
        "E": codex_session(codex, SID_E, repo, "2026-11-19T11:00", 2),
        "F": codex_session(codex, SID_F, elsewhere, "2026-11-19T15:00", 2),
    }
    _codex_commit(paths["E"], "2026-11-19T11:00:20.000Z", two, "Fix the parser")
    (repo / ".costlog").mkdir()
    (repo / ".costlog" / "config.yaml").write_text("work_item_prefixes: [WRK]\n")
    return {"paths": paths, "one": one[:12], "two": two[:12], "cache": tmp_path / "cache"}


def _run(repo: Path) -> backfill.Result:
    return backfill.run(find(repo), config.load(repo), backfill.Options())


def _ledger_bytes(repo: Path) -> dict[str, bytes]:
    folder = repo / ".costlog" / "sessions"
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*.yaml"))}


def _forget_ledger(repo: Path) -> None:
    """No ledger, no COST_LOG.md, no backfill state; the adapters' caches stay."""
    shutil.rmtree(repo / ".costlog" / "sessions")
    (repo / "COST_LOG.md").unlink()
    (find(repo).state_dir / "backfill.json").unlink()


def _count_whole_reads(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """How often each log is opened to be read (the Codex head peek is not counted)."""
    opened: dict[str, int] = {}
    for module in (incremental, codex_adapter):
        real = module.open_log

        def counting(path: Any, *args: Any, _real: Any = real, **kwargs: Any) -> Any:
            opened[str(path)] = opened.get(str(path), 0) + 1
            return _real(path, *args, **kwargs)

        monkeypatch.setattr(module, "open_log", counting)
    return opened


def test_a_cold_backfill_reads_each_log_once_and_still_attributes(
    repo: Path, history: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    opened = _count_whole_reads(monkeypatch)
    result = _run(repo)
    paths = history["paths"]
    assert {e.id for e in result.recorded} == {
        f"claude-code/{SID_A}",
        f"claude-code/{SID_B}",
        f"codex/{SID_E}",
    }
    for key in ("A", "B", "E"):
        assert opened[str(paths[key])] == 1, key
    byid = {e.id: e for e in result.recorded}
    a, e = byid[f"claude-code/{SID_A}"], byid[f"codex/{SID_E}"]
    assert [(c.sha, c.evidence) for c in a.commits] == [(history["one"], "tool-output")]
    assert "WRK-12" in a.work_items  # from the first prompt (a configured prefix)
    assert [(c.sha, c.evidence) for c in e.commits] == [(history["two"], "tool-output")]
    # B named no commit: the one made during it is its by time
    assert [c.evidence for c in byid[f"claude-code/{SID_B}"].commits] == ["time-window"]


def test_the_ledger_is_the_same_from_a_cold_or_a_warm_cache(
    repo: Path, history: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    _run(repo)
    cold = _ledger_bytes(repo)
    assert len(cold) == 3
    _forget_ledger(repo)
    # every log is in the cache now: the scan has no attribution fields, so the sessions
    # to record are read again on their own, as before
    opened = _count_whole_reads(monkeypatch)
    again = _run(repo)
    assert len(again.recorded) == 3
    assert opened[str(history["paths"]["A"])] == 1  # the read for attribution only
    assert _ledger_bytes(repo) == cold


def test_a_session_partly_in_the_cache_is_read_again_whole(
    repo: Path, history: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sub-agent transcript new since the last scan: the session's main transcript is
    served by the cache, so the one new file cannot carry the session's attribution; the
    session is read again whole and keeps its commit and work item."""
    _run(repo)
    cold = _ledger_bytes(repo)
    _forget_ledger(repo)
    main = history["paths"]["A"]
    sub = main.with_suffix("") / "subagents" / "agent-1.jsonl"
    sub.parent.mkdir(parents=True)
    line = {  # a tool's output naming a commit of another repo: a fact of its own
        "isSidechain": True,
        "agentId": "agent-1",
        "type": "user",
        "uuid": "sub-u1",
        "timestamp": "2026-11-19T10:00:05.000Z",
        "cwd": str(repo),
        "sessionId": SID_A,
        "version": "2.1.90",
        "message": {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "s1", "content": "[dev 0abc123] Other"}
            ],
        },
    }
    sub.write_text(json.dumps(line) + "\n")
    _run(repo)
    now = _ledger_bytes(repo)
    name = f"claude-code/{SID_A}.yaml"
    assert b"evidence: tool-output" in now[name] and b"work_items: [WRK-12]" in now[name]
    assert [line for line in now[name].splitlines() if not line.startswith(b"subagents:")] == [
        line for line in cold[name].splitlines() if not line.startswith(b"subagents:")
    ]


def test_one_git_log_for_a_backfill_of_many_sessions(
    repo: Path, history: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, ...]] = []
    real = gitrepo.log

    def counting(root: Path, *args: str) -> str:
        calls.append(args)
        return real(root, *args)

    monkeypatch.setattr(gitrepo, "log", counting)
    result = _run(repo)
    assert len(result.recorded) == 3
    # per agent, not per session: the commits of its one span, and the commit graph and
    # refs that say which of them each session's own `git log` reaches
    assert len(calls) == 6
    assert sum("--numstat" in args for args in calls) == 2


# ---------------------------------------------------------------- the batched pieces


def test_commit_log_cuts_what_one_git_log_per_window_lists(repo: Path) -> None:
    base = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    for n in range(12):  # every 2 h 13 min over a day, then one 4 days later
        when = base + timedelta(minutes=133 * n) if n < 11 else base + timedelta(days=4)
        _commit(repo, f"f{n}.txt", f"change {n}", when.isoformat())
    found = find(repo)
    windows = [
        (base + timedelta(minutes=m), base + timedelta(minutes=m + d))
        for m, d in [(-10, 30), (120, 200), (300, 5), (700, 400), (5755, 20)]
    ]
    log = attribution.CommitLog(found)
    log.prefetch(windows)
    assert len(log.spans) == 2  # the day's windows as one span, the far one on its own
    for start, end in [*windows, (base + timedelta(days=9), base + timedelta(days=9, hours=1))]:
        got = [(c.sha, c.when, c.files, c.created) for c in log.between(start, end)]
        want = [
            (c.sha, c.when, c.files, c.created)
            for c in attribution.commits_between(found, start, end)
        ]
        assert got == want
    assert [c.subject for c in log.between(*windows[1])] == ["change 1", "change 2"]


def _entries(rng: random.Random, count: int) -> list[Entry]:
    kinds = ["tool-output", "files", "time-window", "manual", "odd"]
    shas = [f"{n:012x}" for n in range(8)]
    start = datetime(2026, 3, 1, tzinfo=UTC)
    return [
        Entry(
            id=f"codex/s{n}",
            agent="codex",
            started=start + timedelta(minutes=n),
            commits=[
                Commit(sha=sha, subject="x", evidence=rng.choice(kinds))
                for sha in rng.sample(shas, rng.randint(0, 3))
            ],
        )
        for n in range(count)
    ]


def _ranks(claimed: Any) -> dict[str, int]:
    return {sha: attribution._RANK[evidence] for sha, evidence in dict(claimed).items()}


def test_claims_index_answers_as_the_passes_over_the_ledger() -> None:
    rng = random.Random(12)
    entries = _entries(rng, 30)
    known = {e.id: e for e in entries}
    claims = attribution.Claims(known)
    for entry in entries:
        assert _ranks(claims.claimed(entry.id)) == _ranks(
            attribution.claimed_commits(entries, entry.id)
        )
    for newcomer in _entries(random.Random(5), 40)[30:] + _entries(random.Random(6), 12):
        expected = attribution.released(list(known.values()), newcomer)
        got = claims.released(newcomer)
        assert [(e.id, e.commits, lines) for e, lines in got] == [
            (e.id, e.commits, lines) for e, lines in expected
        ]
        for other, _lines in got:
            claims.put(other)
        claims.put(newcomer)
        assert _ranks(claims.claimed("nobody")) == _ranks(
            attribution.claimed_commits(list(known.values()), "nobody")
        )


def _no_prompt_keys(repo: Path) -> None:
    """No `work_item_prefixes`: a prompt is not searched, so only commits need the text."""
    (repo / ".costlog" / "config.yaml").write_text("{}\n")


def _codex_event(path: Path, when: str, payload: dict[str, Any]) -> None:
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps({"timestamp": when, "type": "event_msg", "payload": payload}))
        handle.write("\n")


def test_a_codex_log_with_no_commit_in_its_span_is_read_once_the_fast_way(
    repo: Path, history: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Codex's read with the prompt and tool text is several times slower; a log with no
    commit of the repo between its first and last line is read without them, and its
    entry is the same as with them (no prompt is searched for work items here)."""
    _no_prompt_keys(repo)
    quiet = codex_session(tmp_path / "codex", SID_G, repo, "2026-11-19T18:00", 3)
    collected: list[bool] = []
    real = codex_reader.Reader.__init__

    def spy(self: Any, data: Any, warn: Any, collect: bool) -> None:
        if data.head.path == quiet:
            collected.append(collect)
        real(self, data, warn, collect)

    monkeypatch.setattr(codex_reader.Reader, "__init__", spy)
    opened = _count_whole_reads(monkeypatch)
    _run(repo)
    assert collected == [False] and opened[str(quiet)] == 1
    fast = _ledger_bytes(repo)
    assert f"codex/{SID_G}.yaml" in fast
    # every log read with its text, as before: the same ledger
    _forget_ledger(repo)
    shutil.rmtree(history["cache"])
    monkeypatch.setattr(backfill._Job, "_facts_worth_reading", lambda *_a: True)
    monkeypatch.setattr(backfill._Job, "_uses_facts", lambda *_a: True)
    _run(repo)
    assert _ledger_bytes(repo) == fast


def test_a_guess_that_the_text_is_not_needed_is_corrected_after_the_read(
    repo: Path, history: dict[str, Any], tmp_path: Path
) -> None:
    """The guess goes by the log's first and last line; here a line before the last is
    later (the session ran on to make a commit), so the session is read again for its
    text and still takes its commit by its tool output."""
    _no_prompt_keys(repo)
    late = _commit(repo, "late.py", "Late change", "2026-11-19T16:30:05+00:00")
    path = codex_session(tmp_path / "codex", SID_H, repo, "2026-11-19T16:00", 2)
    _codex_commit(path, "2026-11-19T16:30:20.000Z", late, "Late change")
    _codex_event(path, "2026-11-19T16:00:12.000Z", {"type": "agent_message", "message": "ok"})
    result = _run(repo)
    entry = next(e for e in result.recorded if e.id == f"codex/{SID_H}")
    assert [(c.sha, c.evidence) for c in entry.commits] == [(late[:12], "tool-output")]


def test_a_symlinked_ledger_file_stops_the_run_before_anything_is_written(
    repo: Path, history: dict[str, Any], tmp_path: Path
) -> None:
    """Written together or one by one, a planted link is refused, naming it, and never
    followed."""
    folder = repo / ".costlog" / "sessions" / "claude-code"
    folder.mkdir(parents=True)
    target = tmp_path / "target.yaml"
    target.write_text("not a ledger file\n")
    (folder / f"{SID_B}.yaml").symlink_to(target)
    with pytest.raises(UnsafePath) as caught:
        _run(repo)
    assert SID_B in str(caught.value.path)
    assert sorted(p.name for p in folder.iterdir()) == [f"{SID_B}.yaml"]
    assert target.read_text() == "not a ledger file\n"


def test_a_link_planted_between_staging_and_writing_is_refused_and_nothing_is_written(
    repo: Path, history: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The entries are staged while the sessions are recorded and written together at the
    end: a symlink that appears in the meantime, in place of the last file to write, stops
    the run with one line naming it, before any file of the batch is written, and its
    target is left alone."""
    from costlog.ledger import batch

    target = tmp_path / "target.yaml"
    target.write_text("not a ledger file\n")
    real = batch.Staged.write
    planted: list[Path] = []

    def plant_then_write(self: batch.Staged) -> None:
        last = list(self.texts)[-1]
        last.parent.mkdir(parents=True, exist_ok=True)
        last.symlink_to(target)
        planted.append(last)
        real(self)

    monkeypatch.setattr(batch.Staged, "write", plant_then_write)
    result = invoke(["backfill"])
    assert result.exit_code == 1
    message = result.output.strip()
    assert len(message.splitlines()) == 1
    assert planted and str(planted[0].relative_to(repo)) in message
    folder = repo / ".costlog" / "sessions"
    assert [p for p in folder.rglob("*") if p.is_file() or p.is_symlink()] == planted
    assert target.read_text() == "not a ledger file\n"
    assert not (repo / "COST_LOG.md").exists()
