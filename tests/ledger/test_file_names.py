"""Every session id gets a file of its own (issue 10): no id is lost, merged with another,
or written outside its agent's folder, on any file system.

An id that is a plain name keeps it (so ledgers written before keep their paths); any
other id gets `_<slug>-<hash>.yaml`. Names that differ only in case never share a file,
since macOS and Windows would make them one. `costlog check` reports a file that is not
where its id puts it, and one id held by two files, naming both.
"""

from __future__ import annotations

import json
import os
import random
import shutil
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from costlog import gitrepo as repo_mod
from costlog.ledger import check
from costlog.ledger.names import hashed_name, plain_name
from costlog.ledger.store import Ledger
from costlog.models import Entry
from tests_support import git, run

SESSIONS = Path(".costlog/sessions")


def _entry(entry_id: str, cost: str = "0.010000") -> Entry:
    return Entry(
        id=entry_id,
        agent=entry_id.split("/", 1)[0],
        started=datetime(2026, 11, 20, 9, 0, tzinfo=UTC),
        cost_usd=Decimal(cost),
        source="manual",
    )


def hostile_ids(count: int, seed: int = 10) -> list[str]:
    """`count` distinct session ids of every awkward kind (no NUL, no lone surrogate:
    those are replaced before an id is stored, see test_surrogates_*)."""
    rng = random.Random(seed)
    fixed = [
        ".hidden",
        "...",
        "..",
        ".",
        "a b",
        "a_b",
        "a-b",
        "ABC",
        "abc",
        "Abc",
        "aBC",
        "a/b",
        "a\\b",
        "../../etc/passwd",
        "x.yaml",
        "X.YAML",
        "x.yaml.yaml",
        "con",
        "CON",
        "nul.txt",
        "lpt1",
        "com9.yaml",
        "-rf",
        "_",
        "__",
        "_a_b-0123456789abcdef",
        "é",
        "é",
        "日本語",
        "🙂",
        "tab\there",
        "new\nline",
        "bell\x07",
        "\x1b[31m",
        " lead",
        "trail ",
        "trail.",
        "c" * 300,
        "C" * 300,
        "ünï/cödé",
        "a" * 100,
        "a" * 101,
        "manual",
        "prices",
        "20261120T090000Z-a1b2c3",
    ]
    pieces = [
        "a",
        "B",
        "z",
        "0",
        "9",
        ".",
        "..",
        "-",
        "_",
        " ",
        "/",
        "\\",
        "é",
        "ß",
        "İ",
        "ﬁ",
        "Ω",
        "Ω",
        "日",
        "🙂",
        "\u200b",
        "\u0301",
        "\t",
        "\x01",
        "\x7f",
        ".yaml",
        "con",
        "Con",
        "ABC",
        "abc",
    ]
    out = dict.fromkeys(fixed)
    while len(out) < count:
        size = rng.choice([1, 2, 3, 5, 8, 20, 60, 150, 300])
        text = "".join(rng.choice(pieces) for _ in range(size))
        out[text] = None
        if rng.random() < 0.2:  # case twins of the same id
            out[text.swapcase()] = None
            out[text.upper()] = None
    return list(out)[:count]


@pytest.mark.slow
def test_ten_thousand_hostile_ids_get_ten_thousand_files_and_load_back(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "fsync", lambda fd: None)  # durability is not what is tested
    ids = [f"manual/{sid}" for sid in hostile_ids(10_000)]
    assert len(set(ids)) == 10_000
    ledger = Ledger(repo_mod.find(repo), str(SESSIONS))
    written = []
    with ledger.lock():
        for entry_id in ids:
            path, changed = ledger.write(_entry(entry_id))
            assert changed, entry_id  # a new file every time: nothing overwritten
            written.append(path)
    files = sorted(str(p.relative_to(repo)) for p in (repo / SESSIONS).rglob("*.yaml"))
    assert len(files) == 10_000
    assert len({f.casefold() for f in files}) == 10_000  # also distinct on macOS/Windows
    for path in written:
        assert path.parent == repo / SESSIONS / "manual"  # `/`, `..`: still in its folder
        assert path.name.isascii() and len(path.name.encode()) <= 120
        assert not path.name.startswith((".", "-"))
    fresh = Ledger(repo_mod.find(repo), str(SESSIONS))
    assert sorted(e.id for e in fresh.load_all()) == sorted(ids)
    check.files(fresh)  # every file is where its id puts it
    for entry_id in ids[:300]:  # looked up again by a new reader: the same one file
        found = Ledger(repo_mod.find(repo), str(SESSIONS)).get(entry_id)
        assert found is not None and found.id == entry_id


def test_plain_ids_keep_the_paths_existing_ledgers_use() -> None:
    kept = [
        "5f0c2a9e-1111-4c3b-9a55-0123456789ab",  # Claude Code, Codex, Gemini
        "20261120T090000Z-a1b2c3",  # costlog's own manual ids
        "aider-20261120T090000-analytics",
        "01HV9ZQ0T3XKQ3J7M2N4P5R6S8",  # aider, llm
        "ses_3f0a5b1c2ffeAbCdEfGhIjKl",
        "chatcmpl-AbC123",
        "line_3",  # opencode, api
        "row-1a2b3c4d-imported-2026-11-20",
        "2026-11-20T09-00-00_WO-2026-110",
    ]
    for sid in kept:
        assert plain_name(sid), sid
    for sid in [".hidden", "..", "a b", "x.yaml", "con", "trail.", "a" * 101, "é", "_x"]:
        assert not plain_name(sid), sid
        assert hashed_name(sid).startswith("_") and plain_name(hashed_name(sid)[1:])


def test_case_twins_get_two_files_whichever_comes_first(repo: Path) -> None:
    ledger = Ledger(repo_mod.find(repo), str(SESSIONS))
    with ledger.lock():
        first, _ = ledger.write(_entry("manual/abc", "1"))
        second, _ = ledger.write(_entry("manual/ABC", "2"))
    assert first.name == "abc.yaml"
    assert second.name.startswith("_ABC-") and second.name.lower() != "abc.yaml"
    again = Ledger(repo_mod.find(repo), str(SESSIONS))
    got = {e.id: e.cost_usd for e in again.load_all()}
    assert got == {"manual/abc": Decimal(1), "manual/ABC": Decimal(2)}
    with again.lock():  # recording either again updates its own file, not the other's
        assert again.write(_entry("manual/ABC", "3"))[0] == second
        assert again.write(_entry("manual/abc", "4"))[0] == first


def test_hostile_ids_through_record_each_count_once_in_report(repo: Path) -> None:
    run("init")
    ids = [
        "a b",
        "a_b",
        ".hidden",
        "...",
        "ABC",
        "abc",
        "x.yaml",
        "con",
        "a/b",
        "a\\b",
        "ünï",
        "019a0001-aaaa-7aaa-8aaa-" + "b" * 276,
    ]  # a 300-character Codex-like id
    for n, sid in enumerate(ids, 1):
        out = run("record", "--model", "claude-sonnet-4-6", "--cost", f"{n}", "--session", sid)
        assert out.startswith("recorded ")
    data = json.loads(run("report", "--json", "--by", "session"))
    assert data["totals"]["sessions"] == len(ids)
    assert Decimal(str(data["totals"]["cost_usd"])) == sum(range(1, len(ids) + 1))
    stored = {e.id: e.cost_usd for e in Ledger(repo_mod.find(repo), str(SESSIONS)).load_all()}
    assert stored == {f"manual/{sid}": Decimal(n) for n, sid in enumerate(ids, 1)}
    assert not (repo / ".costlog" / "prices.yaml").exists()
    assert not list((repo / SESSIONS).rglob(".*.yaml"))  # no file the loader skips
    run("check")


def test_agent_names_that_are_not_one_folder_are_usage_errors(repo: Path) -> None:
    run("init")
    for agent in ["..", ".", "a/b", "../..", "Cursor", "con", ""]:
        run(
            "record", "--agent", agent, "--session", "prices", "--model", "m", "--cost", "1", code=2
        )
        run("record", "--agent", agent, "--session", "prices", code=2)  # auto mode
    run("record", "--agent", "nope", code=2)  # auto mode reads logs: a known agent only
    assert not (repo / ".costlog" / "prices.yaml").exists()
    assert not list((repo / SESSIONS).rglob("*.yaml"))
    out = run(
        "record", "--agent", "cursor", "--model", "gpt-5", "--cost", "1", "--session", "s1"
    )  # an agent without logs, as the README shows
    assert "cursor s1" in out and (repo / SESSIONS / "cursor" / "s1.yaml").is_file()
    run("report")


def _recorded(repo: Path, sid: str) -> Path:
    run("record", "--model", "claude-sonnet-4-6", "--cost", "1", "--session", sid)
    return Ledger(repo_mod.find(repo), str(SESSIONS)).path_for(f"manual/{sid}")


def test_check_reports_a_ledger_file_renamed_by_hand(repo: Path) -> None:
    run("init")
    path = _recorded(repo, "s1")
    git(repo, "add", "-A")
    git(repo, "mv", str(path), str(path.with_name("renamed.yaml")))
    out = run("check", code=3)
    assert ".costlog/sessions/manual/renamed.yaml" in out
    assert (
        "'manual/s1'" in out
        and "git mv .costlog/sessions/manual/renamed.yaml .costlog/sessions/manual/s1.yaml" in out
    )
    run("report")  # only check refuses it: the session still counts everywhere


def test_check_reports_one_id_in_two_files_naming_both(repo: Path) -> None:
    run("init")
    path = _recorded(repo, "s1")
    copy = path.with_name("s1-copy.yaml")
    shutil.copy(path, copy)
    out = run("check", code=3)
    assert "'manual/s1'" in out and "two files" in out
    assert ".costlog/sessions/manual/s1.yaml" in out
    assert ".costlog/sessions/manual/s1-copy.yaml" in out


def test_check_reports_names_that_differ_only_in_case(repo: Path) -> None:
    run("init")
    path = _recorded(repo, "abc")
    twin = path.with_name("ABC.yaml")
    if twin.exists():
        pytest.skip("a case-insensitive file system: the twin cannot even be made")
    twin.write_text(path.read_text().replace("manual/abc", "manual/ABC"))
    out = run("check", code=3)
    assert "only in case" in out and "ABC.yaml" in out and "abc.yaml" in out


def test_check_names_a_dot_file_the_loader_skips(repo: Path) -> None:
    run("init")
    path = _recorded(repo, "s1")
    hidden = path.with_name(".hidden.yaml")  # what costlog 0.1 wrote for `--session .hidden`
    path.rename(hidden)
    hidden.write_text(hidden.read_text().replace("manual/s1", "manual/.hidden"))
    run("render")
    out = run("check", code=3)
    want = Ledger(repo_mod.find(repo), str(SESSIONS)).path_for("manual/.hidden")
    assert ".costlog/sessions/manual/.hidden.yaml" in out and want.name in out


def test_surrogates_and_nul_in_ids_models_and_branches_are_replaced(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Claude Code transcript (its real line format) whose JSON escapes hold half a
    surrogate pair in the model and branch, named by bytes that are not UTF-8 (its session
    id, decoded with a lone surrogate): recorded, not a crash."""
    run("init")
    common = (
        f'"sessionId": "x", "cwd": {json.dumps(str(repo))}, "version": "2.1.90", '
        '"gitBranch": "feat/\\udcff-x", "isSidechain": false, "userType": "external"'
    )
    lines = [
        '{"type": "user", "uuid": "u0", "timestamp": "2026-11-20T09:00:00.000Z", '
        f'"message": {{"role": "user", "content": "hi"}}, {common}}}',
        '{"type": "assistant", "uuid": "a0", "timestamp": "2026-11-20T09:00:10.000Z", '
        '"requestId": "req_1", "message": {"model": "claude-\\udc80sonnet", "id": "msg_1", '
        '"type": "message", "role": "assistant", "content": [{"type": "text", '
        '"text": "ok"}], "stop_reason": "end_turn", "usage": {"input_tokens": 10, '
        f'"output_tokens": 20}}}}, {common}}}',
    ]
    path = tmp_path / "sess-\udcff.jsonl"  # the file name's byte 0xff
    path.write_text("\n".join(lines) + "\n")
    out = run("record", "--transcript", str(path))
    assert "recorded 2026-11-20 claude-code" in out
    [entry] = Ledger(repo_mod.find(repo), str(SESSIONS)).load_all()
    assert entry.id == "claude-code/sess-\ufffd"
    assert entry.branch == "feat/\ufffd-x"
    assert list(entry.models) == ["claude-\ufffdsonnet"]
    run(
        "record", "--model", "m\udcff", "--cost", "1", "--session", "s\udcfe", "--notes", "n\x00"
    )  # undecodable bytes in argv arrive as lone surrogates
    ids = {e.id for e in Ledger(repo_mod.find(repo), str(SESSIONS)).load_all()}
    assert "manual/s\ufffd" in ids
    run("check")


def test_a_file_costlog_0_1_named_is_kept_until_renamed_and_never_merged(repo: Path) -> None:
    """0.1 wrote `--session "a b"` to a_b.yaml (and `a_b` to the same file)."""
    run("init")
    folder = repo / SESSIONS / "manual"
    folder.mkdir(parents=True)
    (folder / "a_b.yaml").write_text(
        'schema: 1\nid: "manual/a b"\nagent: manual\nstarted: "2026-11-20T09:00:00Z"\n'
        'source: manual\ncost_usd: "1.000000"\n'
    )
    run("record", "--model", "m", "--cost", "2", "--session", "a b")  # updated in place
    assert [p.name for p in folder.iterdir()] == ["a_b.yaml"]
    out = run("record", "--model", "m", "--cost", "3", "--session", "a_b", code=1)
    assert "holds session 'manual/a b', not 'manual/a_b'" in out
    assert {e.id: e.cost_usd for e in Ledger(repo_mod.find(repo), str(SESSIONS)).load_all()} == {
        "manual/a b": Decimal(2)
    }
    out = run("check", code=3)
    want = f"{SESSIONS}/manual/{hashed_name('a b')}.yaml"
    assert f"git mv {SESSIONS}/manual/a_b.yaml {want}" in out
    (folder / "a_b.yaml").rename(repo / want)
    run("record", "--model", "m", "--cost", "3", "--session", "a_b")
    run("check")
