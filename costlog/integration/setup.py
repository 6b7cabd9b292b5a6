"""`costlog init` and `costlog uninstall`: set a repo up, and take exactly that back.

init (idempotent; `dry_run` only lists): the config file with commented defaults, the
ledger folder, a first COST_LOG.md, the git hooks (post-commit, post-rewrite, post-merge),
the COST_LOG.md merge driver and its `.gitattributes` line, for each agent found the
`/end-session` command and a SessionEnd hook, and with `ci` the CI workflows (`cisetup`).
uninstall removes what init added, putting back every file init changed byte for byte (the
ledger and a COST_LOG.md holding recorded sessions are data: they stay).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from costlog import config as config_mod
from costlog.errors import CostlogError
from costlog.gitrepo import Repo
from costlog.integration import agentsetup, cisetup, gitsetup
from costlog.integration import changeplan as install
from costlog.integration.changeplan import Change, Plan


def plan(
    repo: Repo,
    *,
    agents: Sequence[str] | None = None,
    local: bool = False,
    env: Mapping[str, str] | None = None,
    ci: str | None = None,
    force: bool = False,
    statusline: bool = False,
    guard: bool = False,
) -> Plan:
    environ = os.environ if env is None else env
    result = Plan()
    config = _core_changes(repo, result)
    gitsetup.hook_changes(repo, result)
    gitsetup.merge_changes(repo, config.output, result)
    if ci is not None:
        cisetup.changes(repo, ci, result, force=force)
    chosen = list(agents) if agents else agentsetup.detect(repo, environ)
    if (statusline or guard) and "claude-code" not in chosen:  # both are Claude Code's
        chosen.append("claude-code")
        asked = [n for n, on in (("--statusline", statusline), ("--guard", guard)) if on]
        result.notes.append(
            f"claude-code set up too: {' and '.join(asked)} work in Claude Code only"
        )
    agentsetup.changes(
        repo,
        agentsetup.targets(repo, chosen, environ, local),
        result,
        statusline=statusline,
        guard=guard,
    )
    if not chosen:
        result.notes.append(
            "no agent found: pass --agent claude-code|codex|gemini|opencode|aider to set it up"
        )
    return result


def _core_changes(repo: Repo, result: Plan) -> config_mod.Config:
    path = repo.root / config_mod.CONFIG_PATH
    config = config_mod.load(repo.root)  # refuses a linked .costlog/ or config
    if not path.exists():
        result.changes.append(
            Change(
                path,
                config_mod.DEFAULT_TEXT,
                f"{config_mod.CONFIG_PATH}: settings, defaults commented",
            )
        )
    ledger_dir = config.ledger_path(repo.root)
    install.guard(repo, ledger_dir)
    install.guard(repo, config.output_path(repo.root))
    if not ledger_dir.exists():
        result.changes.append(
            Change(
                ledger_dir / ".gitkeep", "", f"{config.ledger_dir}/: the ledger, one file a session"
            )
        )
    return config


def _render_output(repo: Repo) -> str | None:
    from costlog import render

    config = config_mod.load(repo.root)
    result = render.document(repo, config)
    if not result.changed:
        return None
    install.guard(repo, result.path)
    install.write(result.path, result.text)
    return f"{config.output}: rendered from the ledger"


def init(
    repo: Repo,
    *,
    dry_run: bool = False,
    agents: Sequence[str] | None = None,
    local: bool = False,
    env: Mapping[str, str] | None = None,
    ci: str | None = None,
    force: bool = False,
    statusline: bool = False,
    guard: bool = False,
) -> list[str]:
    """Returns a line per file touched (or, dry run, per file it would touch). `force`
    lets `ci` replace a workflow file that differs (uninstall puts it back)."""
    todo = plan(
        repo,
        agents=agents,
        local=local,
        env=env,
        ci=ci,
        force=force,
        statusline=statusline,
        guard=guard,
    )
    if dry_run:
        lines = [
            f"would write {c.what}"
            for c in todo.changes
            if install.read_in(repo, c.path, c.base) != c.after
        ]
        lines += [f"would set git config {k}" for k, _ in todo.git_config]
        output = config_mod.load(repo.root).output
        lines.append(f"would render {output}")
        return lines + [f"note: {n}" for n in todo.notes]
    done = [f"wrote {line}" for line in install.apply(repo, todo)]
    if agentsetup.uses_codex_hook(repo.root):
        agentsetup.register(repo, os.environ if env is None else env)
    output_path = config_mod.load(repo.root).output_path(repo.root)
    before = install.read_in(repo, output_path)
    rendered = _render_output(repo)
    if rendered:
        _remember(repo, output_path, before)
        done.append(f"wrote {rendered}")
    if not done:
        done.append("already set up: nothing to change")
    done += [f"note: {n}" for n in todo.notes]
    done.append(
        "pre-commit framework users: see README (`pre-commit install --hook-type post-commit`)"
        if (repo.root / ".pre-commit-config.yaml").exists()
        else "next: `/end-session` in your agent, or `costlog record`"
    )
    return done


#: in the manifest's record of COST_LOG.md: the text init first wrote there. Later inits
#: re-render it (with sessions or hand-written text by then); only this text is init's own.
INIT_TEXT = "init_text"


def _remember(repo: Repo, path: Path, before: str | None) -> None:
    manifest = install.Manifest(repo)
    text = install.read(path)
    manifest.note(path, before, install.file_mode(path), text)
    manifest.files[str(path)].setdefault(INIT_TEXT, text)
    manifest.save()


def _output_kept(repo: Repo) -> tuple[Path, str] | None:
    """COST_LOG.md and why uninstall leaves it, unless it is exactly what init first wrote
    into a ledger with no sessions: a rendered ledger or hand-written text is data."""
    try:
        config = config_mod.load(repo.root)
    except CostlogError:
        return None  # an unreadable config: nothing to tell COST_LOG.md by; undo decides
    path = config.output_path(repo.root)
    record = install.Manifest(repo).files.get(str(path))
    current = install.read(path)
    if record is None or current is None:
        return None
    from costlog.ledger.store import Ledger

    try:
        sessions = Ledger(repo, config.ledger_dir).file_names()
    except CostlogError:
        sessions = ["?"]  # unsure: keep it
    if sessions:
        return path, "it holds recorded sessions"
    if current != record.get(INIT_TEXT, record["after"]):
        return path, "it changed since `costlog init` wrote it"
    return None


def uninstall(repo: Repo, *, dry_run: bool = False) -> list[str]:
    strippers: dict[Path, install.Stripper] = {}
    for path in gitsetup.hook_paths(repo):
        is_legacy = path.name.endswith(gitsetup.LEGACY)
        strippers[path] = gitsetup.unlegacy if is_legacy else gitsetup.unhook
    strippers[repo.root / ".gitattributes"] = gitsetup.unattribute
    strippers.update(cisetup.strippers(repo))
    bases: dict[Path, Path] = {}
    for target in agentsetup.all_targets(repo):
        strippers[target.command_path] = agentsetup.uncommand
        strippers[target.settings_path] = agentsetup.unsettle_all
        if target.command_base is not None:
            bases[target.command_path] = target.command_base
    # the committed runner and this clone's launcher, whichever version wrote the rest
    strippers[agentsetup.runner_path(repo)] = agentsetup.uncommand
    strippers[agentsetup.launcher_path(repo)] = agentsetup.unlaunch
    keep: dict[Path, str] = {}
    others = agentsetup.other_users(repo, dry_run=dry_run)
    if others:
        prompt = agentsetup.codex_target(repo).command_path
        strippers.pop(prompt, None)
        keep[prompt] = f"still used by {len(others)} other repo(s), e.g. {others[0]}"
    output = _output_kept(repo)
    if output is not None:
        keep[output[0]] = output[1]
    done = install.undo(
        repo, strippers, [gitsetup.MERGE_SECTION], dry_run=dry_run, bases=bases, keep=keep
    )
    if not dry_run:
        install.forget(repo)
    prefix = "would " if dry_run else ""
    lines = [line if line.startswith("left ") else f"{prefix}{line}" for line in done]
    return lines or ["nothing of costlog's to remove"]
