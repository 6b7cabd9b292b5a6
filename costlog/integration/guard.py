"""The budget guard: a Claude Code `UserPromptSubmit` / `PreToolUse` hook that watches the
session's cost against the repo's `budget.session_soft_usd` and `budget.session_hard_usd`.

- Past the soft cap it shows one line to the user, once per session (the hook output's
  `systemMessage`).
- Past the hard cap it blocks, with a reason naming the figure and how to raise the cap:
  a prompt by the documented `{"decision": "block", "reason": ...}`, a tool call by
  `hookSpecificOutput.permissionDecision: "deny"` with `permissionDecisionReason`.
- The cost is the one the status line shows, from the same incremental transcript reader
  (`live`): list prices, which on a subscription plan are the API-equivalent figure.
- It fails open: any problem (no repo, unreadable transcript, a bad config) lets the agent
  go on, printing nothing, and the error goes to `<state dir>/live.log`. Exit 0 always.

Run as `python -m costlog.integration.guard`, which imports no click, Jinja2 or YAML.
"""

from __future__ import annotations

import json
import os
import sys

from costlog.integration import live

TYPE_CHECKING = False
if TYPE_CHECKING:  # `typing` alone takes a third of the time budget to import
    from typing import Any

CONFIG = ".costlog/config.yaml"


def decide(data: dict[str, Any]) -> dict[str, Any] | None:
    """The hook's JSON answer for this input, or None to say nothing (go on)."""
    event = data.get("hook_event_name")
    transcript = data.get("transcript_path")
    cwd = data.get("cwd")
    if event not in ("UserPromptSubmit", "PreToolUse") or not isinstance(transcript, str):
        return None
    # the project root where the session started (it stays put when Claude cds around)
    start = os.environ.get("CLAUDE_PROJECT_DIR") or (cwd if isinstance(cwd, str) else None)
    root = live.find_root(start)
    if root is None:
        return None
    summary = live.RepoSummary(root)
    soft = live.units(summary.get("session_soft_usd") or "")
    hard = live.units(summary.get("session_hard_usd") or "")
    if soft is None and hard is None:
        return None
    state = live.SessionState(transcript)
    state.update()
    cost, _ = state.priced(summary.get("prices_file"))
    plan = summary.get("plan")  # on a plan: list prices are the API-equivalent value
    basis = f"API-equivalent on {plan}" if plan else "list prices"
    answer: dict[str, Any] | None = None
    if hard is not None and cost >= hard:
        reason = (
            f"costlog budget guard: this session has cost {live.money(cost)} ({basis}), "
            f"past budget.session_hard_usd = {live.money(hard)} in {CONFIG}. "
            "Raise that value (or remove it) to go on, or start a new session."
        )
        if event == "UserPromptSubmit":
            answer = {"decision": "block", "reason": reason}
        else:
            answer = {
                "hookSpecificOutput": {
                    "hookEventName": "PreToolUse",
                    "permissionDecision": "deny",
                    "permissionDecisionReason": reason,
                }
            }
    elif soft is not None and cost >= soft and state.mark("soft-warned"):
        answer = {
            "systemMessage": (
                f"costlog: this session has cost {live.money(cost)} ({basis}), past "
                f"budget.session_soft_usd = {live.money(soft)} ({CONFIG})"
            )
        }
    try:
        state.save()
    except OSError as exc:  # the answer stands; the transcript is read again next time
        live.log_error("guard state", exc)
    return answer


def main() -> int:
    try:
        answer = decide(live.read_stdin())
    except Exception as exc:  # fail open: the agent goes on
        live.log_error("guard", exc)
        return 0
    if answer is not None:
        try:
            sys.stdout.write(json.dumps(answer) + "\n")
            sys.stdout.flush()
        except OSError:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
