"""The post-rewrite hook (amend, rebase): move the ledger's commit links to the new shas.

git gives the hook `<old-sha> <new-sha>` per rewritten commit on stdin, once at the end of
a rebase (the post-commit hooks of the commits it replays stop in the shim, before Python
starts), so the work is done once. Entries keep 12-character shas, so both sides are cut
to that before they are compared.

Which ledger files to look in: a file can only hold the sha of a commit that existed when
the file was written. The base is the parent of the first rewritten commit (git lists them
oldest first). When every rewritten commit descends from it, no file as it was there can
name one of them (its tree was fixed before they existed), so only the files git says
differ from the base, and the untracked ones, are read: a few git calls and a handful of
reads instead of all 10,000 files of a big ledger. When git cannot tell (a rewritten root
commit, one that does not descend from the base, more commits than fit on a command
line), every ledger file is read once, by a byte search before any parse.

Moving a link changes no line of COST_LOG.md (nothing the template receives holds a sha,
which a test keeps true), so only the ledger files are written and staged, and COST_LOG.md
is rendered only when the rebase may have left it behind: when both the replayed commits
and the commits they were moved onto changed ledger files.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING

from costlog import gitrepo
from costlog.errors import CostlogError
from costlog.gitrepo import Repo

if TYPE_CHECKING:
    from costlog.config import Config

#: = Config.ledger_dir's and Config.output's defaults (a test keeps them equal)
DEFAULT_LEDGER_DIR = ".costlog/sessions"
DEFAULT_OUTPUT = "COST_LOG.md"
#: beyond this many rewritten commits their shas are not passed to git on one command
#: line; every ledger file is read instead
MAX_NAMED = 2000
#: a ledger dir git takes as the folder it names, not as a pattern or pathspec magic
_PLAIN_DIR = re.compile(r"[A-Za-z0-9._][A-Za-z0-9._/ -]*")
#: bytes.translate table: hex digits stay, every other byte becomes a space, so a file's
#: hex runs are its `split()` (5x faster than a regex; a run holding an old sha as part
#: of a longer one is only a false hit, which the parse then rules out)
_HEX_ONLY = bytes(c if chr(c) in "0123456789abcdef" else 0x20 for c in range(256))


def read_rewrites(stdin: IO[str]) -> dict[str, str]:
    """post-rewrite's stdin: `<old-sha> <new-sha> [extra]` per line (full shas: anything
    else is not from git, and is never passed on to it)."""
    mapping = {}
    for line in stdin.read().splitlines():
        parts = line.split()
        if len(parts) >= 2 and _is_sha(parts[0]) and _is_sha(parts[1]):
            mapping[parts[0]] = parts[1]
    return mapping


def _is_sha(text: str) -> bool:
    return len(text) in (40, 64) and not text.strip("0123456789abcdef")


def post_rewrite(repo: Repo, args: Sequence[str], stdin: IO[str]) -> list[str]:
    mapping = read_rewrites(stdin)
    if not mapping:
        return []
    rebase = bool(args) and args[0] == "rebase"
    # the config is loaded only when it names the ledger or COST_LOG.md, or COST_LOG.md
    # must be rendered: moving links needs nothing else from it (nor its YAML import)
    config: Config | None = None
    if _quick_defaults(repo.root):
        ledger_dir, output = DEFAULT_LEDGER_DIR, repo.root / DEFAULT_OUTPUT
    else:
        config = _load_config(repo)
        ledger_dir, output = config.ledger_dir, config.output_path(repo.root)
    # where the rewritten commits were made: git lists the rewrites oldest first
    base = f"{next(iter(mapping))}^"
    survey = _survey(repo, ledger_dir, mapping, base, rebase=rebase)
    tracked: set[str] = set()
    hits = _files_naming(
        repo, ledger_dir, mapping, base, rebase=rebase, survey=survey, tracked=tracked
    )
    lines = []
    if hits != []:  # some do, or every file must be looked at
        changed = rewrite_shas(repo, ledger_dir, output, mapping, hits)
        if changed:
            # files the index holds take the light `update-index`; any other, `git add`
            if not tracked.issuperset(changed) or not gitrepo.refresh(repo.root, changed):
                gitrepo.stage(repo.root, changed)
            lines.append(
                f"moved commit links to the rewritten commits in {len(changed)} ledger "
                f"file{'s' if len(changed) != 1 else ''} (staged)"
            )
    if rebase and _both_sides_changed_ledger(repo, ledger_dir, mapping, base, survey):
        lines += _render_and_stage(repo, config or _load_config(repo))
    return lines


def _load_config(repo: Repo) -> Config:
    from costlog import config as config_mod

    return config_mod.load(repo.root)


def _quick_defaults(root: Path) -> bool:
    """Whether the config leaves the ledger dir and output at their defaults, by a line
    scan (no YAML); False when a line may set one, or the config cannot be read: then the
    config decides (and says what is wrong with it)."""
    try:
        text = (root / ".costlog" / "config.yaml").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    # any line but a comment that holds either word (a line that only looks like a
    # setting sends it to the config too, which is only slower)
    return not re.search(r"^(?![ \t]*#)[^\n]*(ledger_dir|output)", text, re.M)


class _Survey:
    """What one `git cat-file --batch` tells of the rewrite, asked before anything else
    (it replaces a `rev-list` and a `rev-parse`): whether every rewritten commit surely
    descends from the base (None: unsure, `rev-list` decides, as it did alone), and the
    ledger folder's tree ids at the base, at what the commits were moved onto and at the
    old tip (None: one is missing; the diffs decide)."""

    def __init__(self, descends: bool | None, trees: list[str] | None) -> None:
        self.descends = descends
        self.trees = trees


def _survey(
    repo: Repo, ledger_dir: str, mapping: dict[str, str], base: str, *, rebase: bool
) -> _Survey:
    olds = list(mapping)
    if not rebase and len(olds) == 1:
        return _Survey(True, None)  # an amend: one commit descends from its own parent
    if len(olds) > MAX_NAMED or "\n" in ledger_dir:
        return _Survey(None, None)
    tips = (base, *_rebase_ends(repo, mapping)) if rebase else ()
    try:
        found = gitrepo.objects(repo.root, [base, *olds, *(f"{t}:{ledger_dir}" for t in tips)])
    except CostlogError:
        return _Survey(None, None)
    commits, trees = found[: 1 + len(olds)], found[1 + len(olds) :]
    return _Survey(
        _all_descend(commits, olds) if len(olds) > 1 else True,
        _tree_ids(trees) if rebase else None,
    )


def _tree_ids(found: list[tuple[str, str, bytes] | None]) -> list[str] | None:
    """The ids of the three ledger trees `gitrepo.objects` found (base, onto, old tip);
    None when one is missing or not a tree: then the diffs decide."""
    ids = [t[0] for t in found if t is not None and t[1] == "tree"]
    return ids if len(ids) == 3 else None


def _all_descend(commits: list[tuple[str, str, bytes] | None], olds: list[str]) -> bool | None:
    """True when each old commit reaches the base (`commits[0]`) through parents that are
    old commits too; None when that does not show (a parent outside them, a commit git
    cannot read, the base among them), and `rev-list --ancestry-path` is asked."""
    if any(c is None or c[1] != "commit" for c in commits):
        return None
    base = commits[0][0]  # type: ignore[index]
    if base in olds:
        return None
    parents: dict[str, list[str]] = {}
    for old, commit in zip(olds, commits[1:], strict=True):
        assert commit is not None
        head = commit[2].split(b"\n\n", 1)[0].split(b"\n")
        parents[old] = [ln[7:].decode("ascii") for ln in head if ln.startswith(b"parent ")]
    good = {base}
    todo = list(olds)
    while todo:
        left = [c for c in todo if good.isdisjoint(parents[c])]
        if len(left) == len(todo):
            return None
        good.update(c for c in todo if not good.isdisjoint(parents[c]))
        todo = left
    return True


def _rebase_ends(repo: Repo, mapping: dict[str, str]) -> tuple[str, str]:
    """What a rebase moved the commits onto, and its old tip: ORIG_HEAD, which every rebase
    sets when it starts (the last commit replayed is not it when `rebase -i` moved or
    dropped commits)."""
    return f"{next(iter(mapping.values()))}^", _orig_head(repo) or list(mapping)[-1]


def _files_naming(
    repo: Repo,
    ledger_dir: str,
    mapping: dict[str, str],
    base: str,
    *,
    rebase: bool,
    survey: _Survey | None = None,
    tracked: set[str] | None = None,
) -> list[str] | None:
    """The ledger files that hold one of the old shas, found among the files that differ
    from `base` (see the module's docstring); None when that cannot be told, and every
    file must be read. A link on the way to one of them is refused (UnsafePath), as the
    full read would: the ledger holds no links. `tracked` receives the hits the index
    holds (those git's diff named, not the untracked ones).

    After a rebase the index's text is the work tree's (git refuses to start one on
    uncommitted changes, checks out every commit it makes, and re-applies an autostash
    only after this hook), so git compares the index, without a stat of every ledger
    file; after an amend, the work tree may hold anything, and is compared itself."""
    from costlog.safefs import check_repo_path, read_repo_bytes

    folder = repo.root / ledger_dir
    check_repo_path(repo.root, folder)  # a linked ledger dir is refused, loudly
    if len(mapping) > MAX_NAMED or not _PLAIN_DIR.fullmatch(ledger_dir):
        return None  # (a folder name git might read as a pattern: read every file)
    olds = list(mapping)
    descends = True if survey is None and len(olds) == 1 else survey and survey.descends
    try:  # (one commit, an amend, descends from its own parent)
        if not descends and not set(
            gitrepo.rev_list(repo.root, "--ancestry-path", f"^{base}", *olds)
        ) >= set(olds):
            return None  # one was made before the base: a file there may name it
        names, others = gitrepo.changed_and_untracked(
            repo.root, base, ledger_dir, index_only=rebase
        )
    except CostlogError:
        return None
    needles = _needles(mapping)
    hits = []
    known = set(names)
    for rel in names + others:
        path = repo.root / rel
        try:
            mode = os.lstat(path).st_mode
        except FileNotFoundError:
            continue  # deleted since the base
        except OSError:
            return None  # the full read says what is wrong with it
        if stat.S_ISDIR(mode):
            return None  # a file git knew is a directory now: let the full read see in
        if stat.S_ISLNK(mode):
            check_repo_path(repo.root, path)  # raises: a link in the ledger
        if not _is_ledger_name(path.name):
            continue
        data = read_repo_bytes(repo.root, path)  # refuses FIFOs, links on the way
        if data is not None and _names_one(data, needles):
            hits.append(str(path))
            if tracked is not None and rel in known:
                tracked.add(rel)
    return sorted(hits)


def _is_ledger_name(name: str) -> bool:
    """What Ledger.file_names takes as a ledger file."""
    return name.endswith(".yaml") and not name.startswith(".")


def _needles(mapping: dict[str, str]) -> frozenset[bytes]:
    return frozenset(old[:12].encode("ascii", "replace") for old in mapping)


def _names_one(data: bytes, needles: frozenset[bytes]) -> bool:
    """Whether `data` holds one of the 12-character shas as a run of hex digits."""
    return not needles.isdisjoint(data.translate(_HEX_ONLY).split())


def rewrite_shas(
    repo: Repo,
    ledger_dir: str,
    output: Path,
    mapping: dict[str, str],
    names: Iterable[str] | None = None,
) -> list[str]:
    """Replace old shas by new ones in ledger entries; returns the files changed. `names`:
    the files to look at (absolute); None: every ledger file, each searched first."""
    from costlog.ledger.format import parse_entry
    from costlog.ledger.store import Ledger
    from costlog.safefs import check_repo_path, read_repo_text

    short = {old[:12]: new[:12] for old, new in mapping.items()}
    ledger = Ledger(repo, ledger_dir)
    changed: list[str] = []
    # COST_LOG.md may be rendered and staged after these writes: refuse a symlink first
    check_repo_path(repo.root, output)
    needles = _needles(mapping)
    with ledger.lock():
        search = names is None
        for name in ledger.file_names() if names is None else names:
            # (file_names refuses links and non-regular files in the ledger)
            if search and not _mentions(name, needles):
                continue  # a byte search first: parse only the files that mention one
            path = Path(name)
            text = read_repo_text(repo.root, path)
            if text is None:
                continue  # removed since it was found
            entry = parse_entry(text, ledger.rel(path))
            hits = [c for c in entry.commits if c.sha in short]
            for commit in hits:
                commit.sha = short[commit.sha]
            if hits and ledger.write(entry, at=path)[1]:  # in place: no folder listing
                changed.append(ledger.rel(path))
    return changed


def _mentions(name: str, needles: frozenset[bytes]) -> bool:
    """Whether the file holds one of the 12-character shas (read raw: the caller has just
    refused links and non-regular files, and O_NOFOLLOW refuses one swapped in since)."""
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return True  # let the careful read say what is wrong with it
    try:
        data = os.read(fd, 1 << 20)
    finally:
        os.close(fd)
    return _names_one(data, needles)


def _both_sides_changed_ledger(
    repo: Repo, ledger_dir: str, mapping: dict[str, str], base: str, survey: _Survey | None = None
) -> bool:
    """Whether the replayed commits and the ones they now sit on both changed the ledger
    since `base`, where the replayed ones were made: then COST_LOG.md, merged one commit
    at a time without the whole ledger, may be behind. One git call compares the ledger
    folder's tree ids at the three commits; a diff of each side when one has none.

    The old tip is ORIG_HEAD, which every rebase sets to it when it starts: the last
    commit replayed is not it when `rebase -i` moved or dropped commits. (Only a rebase
    calls this: an amend leaves ORIG_HEAD as some older command set it.)"""
    onto, old_tip = _rebase_ends(repo, mapping)
    trees = survey.trees if survey is not None else None
    if trees is None:
        try:
            trees = _tree_ids(
                gitrepo.objects(repo.root, [f"{c}:{ledger_dir}" for c in (base, onto, old_tip)])
            )
        except CostlogError:
            trees = None
    if trees is not None:
        return trees[0] != trees[1] and trees[0] != trees[2]
    try:
        if not gitrepo.diff_names(repo.root, base, onto, ledger_dir):
            return False
        return bool(gitrepo.diff_names(repo.root, base, old_tip, ledger_dir))
    except CostlogError:
        return True  # cannot tell (a root commit rewritten, say): look


def _orig_head(repo: Repo) -> str | None:
    try:
        text = (gitrepo.git_dir(repo) / "ORIG_HEAD").read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return text if _is_sha(text) else None


def _render_and_stage(repo: Repo, config: Config) -> list[str]:
    from costlog import render

    if not render.render(repo, config).changed:
        return []
    gitrepo.stage(repo.root, [config.output])
    return [f"re-rendered {config.output} for the rebased ledger (staged)"]
