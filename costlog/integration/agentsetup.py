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
- OpenCode: `.opencode/command/end-session.md` with `!`...`` injection, and a plugin
  `.opencode/plugin/costlog.js` (OpenCode has no hook settings; plugins get its events)
  that queues a session each time it goes idle (`session.idle`, after every turn), with
  its id; the next commit records each queued session once, as it is by then.
- aider: nothing to write; it has no hooks or commands. Its auto-commits run costlog's
  post-commit hook, which queues the repo's `.aider.chat.history.md` when it changed
  (`integration.agentlogs`), and the newest session in it is recorded.

A SessionEnd handler only queues (`costlog hook session-end`): the agents give it 1.5 s or
do not wait at all; the next commit's post-commit hook does the recording.

Everything above is committed, so it names no machine's paths: each clone's `init` writes a
launcher into its own git dir (`<git common dir>/costlog/bin/costlog`, never committed) that
runs the Python which ran `init` there. The commands run the committed runner
`.costlog/bin/costlog` (one simple command, so Claude Code's `allowed-tools` can pre-approve
it); the handlers inline the runner's steps in one shell line (`HOOK_LINE`), so they work
from any directory of the work tree: the launcher, else `costlog` on PATH, else one line
saying costlog is not set up in this clone, exit 0. Files an older `init` wrote with an
absolute interpreter path carry the same marks and are replaced by the next `init`.

Opt-in, Claude Code only (`init --statusline`, `init --guard`; see `live`): the status
line as `statusLine` (an existing one is wrapped, both shown, and put back by uninstall)
and the budget guard as `UserPromptSubmit` and `PreToolUse` handlers, in the same
settings file. Both run `python -m costlog.integration.<module>` of the installing
interpreter, which imports no click, so each call stays fast. They still name that
interpreter; `--local` puts them in the per-clone `settings.local.json`.
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

AGENTS = ("claude-code", "codex", "gemini", "opencode", "aider")
MARK = "costlog-end-session"
#: what the committed `/end-session` commands run: a committed script that names no path of
#: any one machine (`hooks/run.sh`); it finds this clone's launcher, else `costlog` on PATH
RUNNER = ".costlog/bin/costlog"
COSTLOG = f"sh {RUNNER}"
#: the per-clone launcher below the git common dir (`hooks/launcher.sh`): it names the
#: Python that ran `init` in this clone, so it is never committed
LAUNCHER = ("bin", "costlog")
LAUNCHER_ID = "costlog-launcher"
#: a SessionEnd handler's shell line: the same three steps as the runner, inline, so it
#: works from any directory of the work tree and never fails the agent
HOOK_LINE = (
    'c="$(git rev-parse --git-common-dir 2>/dev/null)/costlog/bin/costlog"; '
    'if [ -x "$c" ]; then "$c" {args}; '
    "elif command -v costlog >/dev/null 2>&1; then costlog {args}; "
    "else echo 'costlog is not set up in this clone: run `costlog init`'; fi"
)
#: what every SessionEnd handler of ours runs, whichever version wrote it
HOOK_MARK = "costlog hook session-end"
#: in a handler's command: the portable form above (older versions named an interpreter)
PORTABLE_MARK = "/costlog/bin/costlog"


def hook_command(agent: str) -> str:
    return HOOK_LINE.format(args=f"hook session-end --agent {agent}")


CLAUDE_COMMAND = f"""\
---
description: Record this session's cost in the costlog ledger and COST_LOG.md
argument-hint: "[--tasks N] [--task-types \\"2 code, 1 docs\\"] [--notes TEXT] [--commit]"
allowed-tools: Bash({COSTLOG} record *), Bash({COSTLOG} record:*)
disable-model-invocation: true
---
<!-- {MARK}: written by `costlog init`; `costlog uninstall` removes it -->

!`{COSTLOG} record --agent claude-code --session "${{CLAUDE_SESSION_ID}}" $ARGUMENTS`

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

    {COSTLOG} record --agent codex $ARGUMENTS
"""

GEMINI_COMMAND = f"""\
# {MARK}: written by `costlog init`; `costlog uninstall` removes it
description = "Record this session's cost in the costlog ledger and COST_LOG.md"
prompt = \"\"\"
costlog recorded this session:

!{{{COSTLOG} record --agent gemini {{{{args}}}}}}

Reply with the line above, exactly, and nothing else.
\"\"\"
"""


OPENCODE_COMMAND = f"""\
---
description: Record this session's cost in the costlog ledger and COST_LOG.md
---
<!-- {MARK}: written by `costlog init`; `costlog uninstall` removes it -->

!`{COSTLOG} record --agent opencode $ARGUMENTS`

Reply with the line above, exactly, and nothing else.
"""

#: the plugin's line that names what it runs, for `costlog doctor` (as a handler's command)
PLUGIN_RUNS = "// runs: "
OPENCODE_PLUGIN = f"""\
// {MARK}: written by `costlog init`; `costlog uninstall` removes it
// Queues an OpenCode session for costlog each time it goes idle; the next commit's
// post-commit hook records it once. Nothing here waits, and it never fails.
{PLUGIN_RUNS}{COSTLOG} hook session-end --agent opencode
import {{ spawn }} from "node:child_process"

const COSTLOG = {json.dumps(COSTLOG.split())}

export const Costlog = async ({{ directory }}) => ({{
  event: async ({{ event }}) => {{
    const id = event?.properties?.sessionID
    if (event?.type !== "session.idle" || !id) return
    try {{
      const args = [...COSTLOG.slice(1), "hook", "session-end", "--agent", "opencode"]
      const stdio = ["pipe", "ignore", "ignore"]
      const child = spawn(COSTLOG[0], args, {{ cwd: directory, stdio }})
      child.on("error", () => {{}})
      child.stdin.on("error", () => {{}})
      const payload = {{ session_id: id, cwd: directory, hook_event_name: "session.idle" }}
      child.stdin.end(JSON.stringify(payload))
    }} catch {{}}
  }},
}})
"""

AIDER_NOTE = (
    "aider: nothing to install (it has no hooks); its commits run the post-commit hook, "
    "which records the newest session of .aider.chat.history.md"
)


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
    #: "settings": a handler merged into JSON settings; "plugin": `settings_path` is a whole
    #: file of ours (`settings_text`); "none": nothing to write (aider)
    kind: str = "settings"
    settings_text: str | None = None


def costlog_command() -> str:
    """The installing interpreter running costlog, quoted for the shell: what the clone's
    launcher runs (and the opt-in status line and guard)."""
    from costlog.integration.gitsetup import python

    return f"{python()} -m costlog"


def launcher_path(repo: Repo) -> Path:
    return repo.state_dir.joinpath(*LAUNCHER)


def runner_path(repo: Repo) -> Path:
    return repo.root / RUNNER


def launcher_text() -> str:
    from costlog import resources
    from costlog.integration.gitsetup import python

    text = resources.hook_script("launcher.sh").read_text(encoding="utf-8")
    return text.replace("@PYTHON@", python())


def runner_text() -> str:
    from costlog import resources

    return resources.hook_script("run.sh").read_text(encoding="utf-8")


def unlaunch(path: Path, text: str) -> str | None:
    """Uninstall's stripper for the launcher: ours goes, anything else stays."""
    return None if LAUNCHER_ID in text else text


def detect(repo: Repo, env: Mapping[str, str]) -> list[str]:
    """Agents this machine or repo uses: their data dir, a repo folder, or the program."""
    home = Path(env.get("HOME") or Path.home())
    signs: dict[str, list[str | Path | None]] = {
        "claude-code": [env.get("CLAUDE_CONFIG_DIR"), home / ".claude", repo.root / ".claude"],
        "codex": [env.get("CODEX_HOME"), home / ".codex", repo.root / ".codex"],
        "gemini": [env.get("GEMINI_DATA_DIR"), home / ".gemini", repo.root / ".gemini"],
        "opencode": [env.get("OPENCODE_DB"), repo.root / ".opencode"],
        "aider": [repo.root / ".aider.chat.history.md"],
    }
    programs = {
        "claude-code": "claude",
        "codex": "codex",
        "gemini": "gemini",
        "opencode": "opencode",
        "aider": "aider",
    }
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
            CLAUDE_COMMAND,
            repo.root / ".claude" / claude_settings,
            {
                "type": "command",
                "command": hook_command("claude-code"),
                "timeout": 10,
            },
        ),
        "codex": Target(
            "codex",
            codex_home / "prompts" / "end-session.md",
            CODEX_PROMPT,
            repo.root / ".codex" / "hooks.json",
            {
                "type": "command",
                "command": hook_command("codex"),
                "timeout": 3,
            },
            command_base=codex_base,
        ),
        "gemini": Target(
            "gemini",
            repo.root / ".gemini" / "commands" / "end-session.toml",
            GEMINI_COMMAND,
            repo.root / ".gemini" / "settings.json",
            {
                "type": "command",
                "command": hook_command("gemini"),
                "name": "costlog",
                "timeout": 5000,
            },
        ),
    }
    table["opencode"] = Target(
        "opencode",
        repo.root / ".opencode" / "command" / "end-session.md",
        OPENCODE_COMMAND,
        repo.root / ".opencode" / "plugin" / "costlog.js",
        {},
        kind="plugin",
        settings_text=OPENCODE_PLUGIN,
    )
    table["aider"] = Target("aider", repo.root, "", repo.root, {}, kind="none")
    unknown = [a for a in agents if a not in table]
    if unknown:
        raise CostlogError(
            f"no /end-session set-up for {', '.join(unknown)}", hint=f"known: {', '.join(AGENTS)}"
        )
    return [table[a] for a in agents]


def plugin_commands(text: str | None) -> list[str]:
    """What a plugin of ours runs (its `// runs:` line), as a settings handler's command."""
    if not text or MARK not in text:
        return []
    return [
        line[len(PLUGIN_RUNS) :].strip()
        for line in text.splitlines()
        if line.startswith(PLUGIN_RUNS) and HOOK_MARK in line
    ]


def changes(
    repo: Repo,
    chosen: Sequence[Target],
    plan: Plan,
    *,
    statusline: bool = False,
    guard: bool = False,
) -> None:
    if any(t.kind != "none" for t in chosen):
        _launch_changes(repo, plan)
    for target in chosen:
        if target.kind == "none":
            plan.notes.append(AIDER_NOTE)
            continue
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
        if target.kind == "plugin":
            _plugin_change(repo, target, plan)
            continue
        merged = merge_settings(
            target.settings_path, target.handler, read_in(repo, target.settings_path)
        )
        what = f"{_shown(repo, target.settings_path)}: SessionEnd hook for {target.agent}"
        what += " (queues only)"
        if target.agent == "claude-code" and (statusline or guard):
            merged = merge_live(target.settings_path, merged, statusline=statusline, guard=guard)
            what += ", " + " and ".join(
                n for n, on in (("status line", statusline), ("budget guard", guard)) if on
            )
        plan.changes.append(Change(target.settings_path, merged, what))
        if target.agent == "codex":
            plan.notes.append(
                "codex: trust the new hook once in Codex's /hooks; the "
                "prompt is /prompts:end-session"
            )


def _launch_changes(repo: Repo, plan: Plan) -> None:
    """The committed runner the commands call, and this clone's launcher it finds."""
    runner = runner_path(repo)
    existing = read_in(repo, runner)
    if existing is not None and MARK not in existing:
        plan.notes.append(f"kept your own {RUNNER} (not written by costlog)")
    else:
        plan.changes.append(
            Change(runner, runner_text(), f"{RUNNER}: runs this clone's costlog", mode=0o755)
        )
    launcher = launcher_path(repo)
    plan.changes.append(
        Change(
            launcher,
            launcher_text(),
            f"{_shown(repo, launcher)}: this clone's costlog, for the agents (not committed)",
            mode=0o755,
        )
    )


def _plugin_change(repo: Repo, target: Target, plan: Plan) -> None:
    existing = read_in(repo, target.settings_path)
    if existing is not None and MARK not in existing:
        plan.notes.append(f"kept your own {target.settings_path} (not written by costlog)")
        return
    plan.changes.append(
        Change(
            target.settings_path,
            target.settings_text or "",
            f"{_shown(repo, target.settings_path)}: session-end plugin for {target.agent} "
            "(queues only)",
        )
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
    """Settings without our SessionEnd handler (and without containers it leaves empty);
    a plugin of ours goes as a whole."""
    if path.suffix == ".js":
        return uncommand(path, text)
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
    out = [t for t in targets(repo, AGENTS, environ, local=False) if t.kind != "none"]
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


# ------------------------------------------- status line and budget guard (Claude Code)

STATUS_MODULE = "costlog.integration.statusline"
GUARD_MODULE = "costlog.integration.guard"
GUARD_EVENTS = ("UserPromptSubmit", "PreToolUse")
#: an existing statusLine command is kept and run first, on the same stdin; its first
#: line and ours are shown on one line (no separator when it printed nothing). Plain sh,
#: so Claude Code's shell runs it as is.
WRAP_HEAD = "in=$(cat); old=$(printf '%s' \"$in\" | { "
WRAP_MID = (
    '\n} | head -n 1); if [ -n "$old" ]; then printf \'%s \u00b7 \' "$old"; fi; '
    "printf '%s' \"$in\" | "
)
#: the wrapper of earlier versions (still recognised, to update or take back)
OLD_WRAPS = (
    (
        "in=$(cat); printf '%s' \"$in\" | { ",
        "\n} | head -n 1 | tr -d '\\n'; printf ' \u00b7 '; printf '%s' \"$in\" | ",
    ),
)
#: what the committed settings run: this clone's launcher (below the git common dir, as the
#: SessionEnd handler finds it), which `exec`s the module with the Python that ran `init`
#: here, so the file names no machine's path; else `costlog` on PATH (slower: the whole
#: CLI starts), else a short line (status line) or nothing (the guard fails open)
LIVE_LINE = (
    '{{ c="$(git rev-parse --git-common-dir 2>/dev/null)/costlog/bin/costlog"; '
    'if [ -x "$c" ]; then exec "$c" {module}; '
    "elif command -v costlog >/dev/null 2>&1; then exec costlog {command}; "
    "else {otherwise}; fi; }}"
)


def live_command(module: str) -> str:
    if module == STATUS_MODULE:
        return LIVE_LINE.format(
            module=module, command="statusline", otherwise="echo 'costlog: n/a'"
        )
    return LIVE_LINE.format(module=module, command="guard", otherwise="exit 0")


def wrapped(old: str) -> str:
    return WRAP_HEAD + old + WRAP_MID + live_command(STATUS_MODULE)


def unwrapped(command: str) -> str | None:
    """The user's own command inside our wrapper (this version's or an earlier one's);
    None when `command` is not one."""
    for head, mid in ((WRAP_HEAD, WRAP_MID), *OLD_WRAPS):
        if command.startswith(head) and mid in command:
            inner, _, tail = command[len(head) :].rpartition(mid)
            if STATUS_MODULE in tail:
                return inner
    return None


def merge_live(path: Path, text: str, *, statusline: bool, guard: bool) -> str:
    """The settings text with the status line and/or the guard handlers; all else kept.
    Idempotent: ours already there (from this or another interpreter) is updated."""
    data = _load(path, text)
    if statusline:
        found = data.get("statusLine")
        if found is not None and not isinstance(found, dict):
            raise CostlogError("`statusLine` is not an object", path=path)
        current: dict[str, Any] = found or {}
        command = current.get("command")
        if isinstance(command, str) and command.strip() and STATUS_MODULE not in command:
            data["statusLine"] = {**current, "type": "command", "command": wrapped(command)}
        elif isinstance(command, str) and unwrapped(command) is not None:
            data["statusLine"] = {**current, "command": wrapped(unwrapped(command) or "")}
        else:
            data["statusLine"] = {**current, "type": "command"}
            data["statusLine"]["command"] = live_command(STATUS_MODULE)
    if guard:
        hooks = data.setdefault("hooks", {})
        if not isinstance(hooks, dict):
            raise CostlogError("`hooks` is not an object", path=path)
        handler = {"type": "command", "command": live_command(GUARD_MODULE), "timeout": 5}
        for event in GUARD_EVENTS:
            groups = hooks.get(event, [])
            if not isinstance(groups, list):
                raise CostlogError(f"`hooks.{event}` is not a list", path=path)
            groups = _without(groups, GUARD_MODULE)
            group: dict[str, Any] = {"hooks": [handler]}
            if event == "PreToolUse":
                group = {"matcher": "*", **group}
            hooks[event] = [*groups, group]
    out = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    return text if text is not None and _load(path, text) == data else out


def _without(groups: list[Any], mark: str) -> list[Any]:
    """Hook groups without our handlers (and without groups that leaves empty)."""
    kept = []
    for group in groups:
        if isinstance(group, dict) and isinstance(group.get("hooks"), list):
            left = [
                h
                for h in group["hooks"]
                if not (isinstance(h, dict) and mark in str(h.get("command", "")))
            ]
            if not left:
                continue
            group = {**group, "hooks": left}
        kept.append(group)
    return kept


def unsettle_live(path: Path, text: str | None) -> str | None:
    """Settings without our status line (the wrapped one put back) and guard handlers."""
    if text is None:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return text
    if not isinstance(data, dict):
        return text
    before = json.dumps(data)
    found = data.get("statusLine")
    line: dict[str, Any] = found if isinstance(found, dict) else {}
    command = line.get("command")
    if isinstance(command, str):
        inner = unwrapped(command)
        if inner is not None:
            data["statusLine"] = {**line, "command": inner}
        elif STATUS_MODULE in command:
            del data["statusLine"]
    hooks = data.get("hooks")
    if isinstance(hooks, dict):
        for event in GUARD_EVENTS:
            groups = hooks.get(event)
            if isinstance(groups, list):
                kept = _without(groups, GUARD_MODULE)
                if kept:
                    hooks[event] = kept
                else:
                    del hooks[event]
        if not hooks:
            del data["hooks"]
    if json.dumps(data) == before:
        return text
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n" if data else None


def unsettle_all(path: Path, text: str) -> str | None:
    """Uninstall's stripper for an agent settings file: every handler of ours."""
    return unsettle_live(path, unsettle(path, text))
