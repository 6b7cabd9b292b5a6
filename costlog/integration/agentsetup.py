"""The agent side of `costlog init`: `/end-session` commands and SessionEnd hooks.

- Claude Code: `.claude/commands/end-session.md` runs `costlog record` through `!` injection
  for `${CLAUDE_SESSION_ID}` (pre-approved by `allowed-tools`, user-only through
  `disable-model-invocation`); a SessionEnd handler merged into `.claude/settings.json`
  (`--local`: `.claude/settings.local.json`).
- Codex: a custom prompt `$CODEX_HOME/prompts/end-session.md` (`/prompts:end-session`; Codex
  has no `!` injection, so the model runs the command) and a SessionEnd handler in
  `.codex/hooks.json` (Codex >= 0.145 asks you to trust it once, in `/hooks`).
- Gemini CLI: `.gemini/commands/end-session.toml` with `!{...}` injection, and a SessionEnd
  handler in `.gemini/settings.json` (timeouts in milliseconds there).

A SessionEnd handler only queues (`costlog hook session-end`): the agents give it 1.5 s or
do not wait at all; the next commit's post-commit hook does the recording.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from costlog.errors import CostlogError
from costlog.gitrepo import Repo
from costlog.integration.changeplan import Change, Plan, read_in

AGENTS = ("claude-code", "codex", "gemini")
MARK = "costlog-end-session"
#: stands for the command that runs costlog in the texts below: the installing
#: interpreter's absolute path (`costlog_command`), as the git shims name it, so an agent
#: whose PATH lacks a `.venv` still finds it
COSTLOG = "@COSTLOG@"
HOOK_COMMAND = COSTLOG + " hook session-end --agent {agent}"
#: what every SessionEnd handler of ours runs, bare `costlog` (older versions) or not
HOOK_MARK = "costlog hook session-end"

CLAUDE_COMMAND = f"""\
---
description: Record this session's cost in the costlog ledger and COST_LOG.md
argument-hint: "[--tasks N] [--task-types \\"2 code, 1 docs\\"] [--notes TEXT] [--commit]"
allowed-tools: Bash(@COSTLOG@ record *), Bash(@COSTLOG@ record:*)
disable-model-invocation: true
---
<!-- {MARK}: written by `costlog init`; `costlog uninstall` removes it -->

!`@COSTLOG@ record --agent claude-code --session ${{CLAUDE_SESSION_ID}} $ARGUMENTS`

Reply with the line above, exactly, and nothing else.
"""

CODEX_PROMPT = f"""\
---
description: Record this session's cost in the costlog ledger and COST_LOG.md
argument-hint: "[--tasks N] [--task-types \\"2 code, 1 docs\\"] [--notes TEXT] [--commit]"
---
<!-- {MARK}: written by `costlog init`; `costlog uninstall` removes it -->

Run this shell command exactly once, from the repository root, then reply with its last
line of output and nothing else:

    @COSTLOG@ record --agent codex $ARGUMENTS
"""

GEMINI_COMMAND = f"""\
# {MARK}: written by `costlog init`; `costlog uninstall` removes it
description = "Record this session's cost in the costlog ledger and COST_LOG.md"
prompt = \"\"\"
costlog recorded this session:

!{{@COSTLOG@ record --agent gemini {{{{args}}}}}}

Reply with the line above, exactly, and nothing else.
\"\"\"
"""


@dataclass(frozen=True)
class Target:
    agent: str
    command_path: Path
    command_text: str
    settings_path: Path
    #: the handler dict merged into settings' hooks.SessionEnd
    handler: dict[str, Any]
    #: for a command file outside the repo: no symlink below this directory on the way
    command_base: Path | None = None


def costlog_command() -> str:
    """The installing interpreter running costlog, quoted for the shell."""
    from costlog.integration.gitsetup import python

    return f"{python()} -m costlog"


def _filled(text: str, toml: bool = False) -> str:
    command = costlog_command()
    if toml:  # inside a TOML basic string a backslash escapes
        command = command.replace("\\", "\\\\").replace('"', '\\"')
    return text.replace(COSTLOG, command)


def detect(repo: Repo, env: Mapping[str, str]) -> list[str]:
    """Agents this machine or repo uses: their data dir, a repo folder, or the program."""
    home = Path(env.get("HOME") or Path.home())
    signs = {
        "claude-code": [env.get("CLAUDE_CONFIG_DIR"), home / ".claude", repo.root / ".claude"],
        "codex": [env.get("CODEX_HOME"), home / ".codex", repo.root / ".codex"],
        "gemini": [env.get("GEMINI_DATA_DIR"), home / ".gemini", repo.root / ".gemini"],
    }
    programs = {"claude-code": "claude", "codex": "codex", "gemini": "gemini"}
    found = []
    for agent in AGENTS:
        paths = [Path(p) for p in signs[agent] if p]
        if any(p.exists() for p in paths) or shutil.which(programs[agent]):
            found.append(agent)
    return found


def targets(repo: Repo, agents: Sequence[str], env: Mapping[str, str], local: bool) -> list[Target]:
    home = Path(env.get("HOME") or Path.home())
    codex_home = Path(env.get("CODEX_HOME") or home / ".codex")
    # the user's own CODEX_HOME is theirs to point anywhere; below it, and from ~/.codex
    # down when it is the default, a symlink is refused like one in the repo
    codex_base = codex_home if env.get("CODEX_HOME") else home
    claude_settings = "settings.local.json" if local else "settings.json"
    table = {
        "claude-code": Target(
            "claude-code",
            repo.root / ".claude" / "commands" / "end-session.md",
            _filled(CLAUDE_COMMAND),
            repo.root / ".claude" / claude_settings,
            {
                "type": "command",
                "command": _filled(HOOK_COMMAND.format(agent="claude-code")),
                "timeout": 10,
            },
        ),
        "codex": Target(
            "codex",
            codex_home / "prompts" / "end-session.md",
            _filled(CODEX_PROMPT),
            repo.root / ".codex" / "hooks.json",
            {
                "type": "command",
                "command": _filled(HOOK_COMMAND.format(agent="codex")),
                "timeout": 3,
            },
            command_base=codex_base,
        ),
        "gemini": Target(
            "gemini",
            repo.root / ".gemini" / "commands" / "end-session.toml",
            _filled(GEMINI_COMMAND, toml=True),
            repo.root / ".gemini" / "settings.json",
            {
                "type": "command",
                "command": _filled(HOOK_COMMAND.format(agent="gemini")),
                "name": "costlog",
                "timeout": 5000,
            },
        ),
    }
    unknown = [a for a in agents if a not in table]
    if unknown:
        raise CostlogError(
            f"no /end-session set-up for {', '.join(unknown)}", hint=f"known: {', '.join(AGENTS)}"
        )
    return [table[a] for a in agents]


def changes(repo: Repo, chosen: Sequence[Target], plan: Plan) -> None:
    for target in chosen:
        existing = read_in(repo, target.command_path, target.command_base)
        if existing is not None and MARK not in existing:
            plan.notes.append(f"kept your own {target.command_path} (not written by costlog)")
        else:
            plan.changes.append(
                Change(
                    target.command_path,
                    target.command_text,
                    f"{_shown(repo, target.command_path)}: /end-session for {target.agent}",
                    base=target.command_base,
                )
            )
        merged = merge_settings(
            target.settings_path, target.handler, read_in(repo, target.settings_path)
        )
        plan.changes.append(
            Change(
                target.settings_path,
                merged,
                f"{_shown(repo, target.settings_path)}: SessionEnd hook "
                f"for {target.agent} (queues only)",
            )
        )
        if target.agent == "codex":
            plan.notes.append(
                "codex: trust the new hook once in Codex's /hooks; the "
                "prompt is /prompts:end-session"
            )


def _shown(repo: Repo, path: Path) -> str:
    try:
        return str(path.relative_to(repo.root))
    except ValueError:
        return str(path)


def _load(path: Path, text: str | None) -> dict[str, Any]:
    if text is None or not text.strip():
        return {}
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise CostlogError(
            f"not valid JSON: {exc}",
            path=path,
            hint="fix it first; costlog never overwrites your settings",
        ) from None
    if not isinstance(data, dict):
        raise CostlogError("expected a JSON object", path=path)
    return data


def _ours(handler: Any) -> bool:
    return isinstance(handler, dict) and HOOK_MARK in str(handler.get("command", ""))


def merge_settings(path: Path, handler: dict[str, Any], text: str | None) -> str:
    """The settings text with our SessionEnd handler added; everything else kept."""
    data = _load(path, text)
    hooks = data.setdefault("hooks", {})
    if not isinstance(hooks, dict):
        raise CostlogError("`hooks` is not an object", path=path)
    groups = hooks.setdefault("SessionEnd", [])
    if not isinstance(groups, list):
        raise CostlogError("`hooks.SessionEnd` is not a list", path=path)
    ours = [h for g in groups if isinstance(g, dict) for h in g.get("hooks", []) or [] if _ours(h)]
    if ours == [handler] and text is not None:
        return text
    if ours:  # an older one (bare `costlog`, another interpreter): replaced by this one
        data = json.loads(unsettle(path, json.dumps(data)) or "{}")
        return merge_settings(path, handler, json.dumps(data) if data else None)
    groups.append({"hooks": [handler]})
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def unsettle(path: Path, text: str) -> str | None:
    """Settings without our SessionEnd handler (and without containers it leaves empty)."""
    try:
        data = json.loads(text)
    except ValueError:
        return text
    hooks = data.get("hooks") if isinstance(data, dict) else None
    groups = hooks.get("SessionEnd") if isinstance(hooks, dict) else None
    if not isinstance(groups, list):
        return text
    kept = []
    for group in groups:
        if isinstance(group, dict) and isinstance(group.get("hooks"), list):
            group = {**group, "hooks": [h for h in group["hooks"] if not _ours(h)]}
            if not group["hooks"]:
                continue
        kept.append(group)
    if kept == groups:
        return text
    assert isinstance(hooks, dict)
    if kept:
        hooks["SessionEnd"] = kept
    else:
        del hooks["SessionEnd"]
        if not hooks:
            del data["hooks"]
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n" if data else None


def uncommand(path: Path, text: str) -> str | None:
    return None if MARK in text else text


def all_targets(repo: Repo, env: Mapping[str, str] | None = None) -> list[Target]:
    environ = os.environ if env is None else env
    out = targets(repo, AGENTS, environ, local=False)
    out += [t for t in targets(repo, ["claude-code"], environ, local=True)]
    return out


# ------------------------------------------- the shared Codex prompt's users

#: beside the user-wide Codex prompt: the work trees whose init installed it, so one
#: repo's uninstall leaves it for the others
USERS_NAME = ".end-session.costlog-repos.json"


def users_path(target: Target) -> Path:
    return target.command_path.with_name(USERS_NAME)


def codex_target(repo: Repo, env: Mapping[str, str] | None = None) -> Target:
    return targets(repo, ["codex"], os.environ if env is None else env, local=False)[0]


def read_users(repo: Repo, target: Target) -> list[str]:
    """The registered work trees; anything unreadable or malformed counts as none."""
    from costlog.safefs import read_regular

    path = users_path(target)
    try:
        read_in(repo, path, target.command_base)
        data = json.loads(read_regular(path, limit=1 << 20).decode("utf-8"))
    except (OSError, ValueError, CostlogError):
        return []
    repos = data.get("repos") if isinstance(data, dict) else None
    if not isinstance(repos, list):
        return []
    return [r for r in dict.fromkeys(repos) if isinstance(r, str) and r]


def write_users(repo: Repo, target: Target, users: Sequence[str]) -> None:
    from costlog.integration.changeplan import guard, write

    path = users_path(target)
    guard(repo, path, target.command_base)
    text = json.dumps({"version": 1, "repos": list(users)}, indent=1) + "\n" if users else None
    if text is not None and not path.parent.is_dir():
        return  # no prompt folder: nothing installed to count
    write(path, text)


def uses_codex_hook(root: Path) -> bool:
    """Whether that work tree still has costlog's Codex SessionEnd handler."""
    from costlog.safefs import read_repo_text

    try:
        text = read_repo_text(root, root / ".codex" / "hooks.json")
    except (OSError, CostlogError):
        return False
    return text is not None and HOOK_MARK in text


def register(repo: Repo, env: Mapping[str, str]) -> None:
    """Count this work tree as a user of the Codex prompt."""
    target = codex_target(repo, env)
    text = read_in(repo, target.command_path, target.command_base)
    if text is None or MARK not in text:
        return
    users = read_users(repo, target)
    me = str(repo.root)
    if me not in users:
        write_users(repo, target, [*users, me])


def other_users(repo: Repo, *, dry_run: bool = False) -> list[str]:
    """Drop this work tree (and any gone or uninstalled) from the prompt's users; the
    ones left still use it."""
    target = codex_target(repo)
    users = read_users(repo, target)
    me = str(repo.root)
    others = [u for u in users if u != me and uses_codex_hook(Path(u))]
    if not dry_run and (others != users or not others):
        with contextlib.suppress(CostlogError):  # a linked folder: undo says so itself
            write_users(repo, target, others)  # none left: the file goes, however it read
    return others
