"""The record types of the agents' logs costlog knows: those it reads, and those it leaves
unread on purpose, each with the reason.

A new agent version adds record types. Most are bookkeeping, but one may carry usage the
adapters then miss, so a type in neither list is worth seeing: `census` counts the types of
a log, `unknown` keeps the ones in neither list, and `costlog doctor` reports them for the
newest logs on this machine. The test suite runs the same check on the files the pinned
real clients wrote (tests/fixtures/*/real-*), so a pinned version that adds a type fails a
test until the type is read or listed here with its reason.

A type is named as the adapter tells records apart: Claude Code by the line's `type`;
Codex by `type`, and for `event_msg` / `response_item` by `type:payload.type`; Gemini CLI
chat records as `metadata`, `$set`, `$rewindTo` or `message:<type>`; aider's analytics
log by its `event`. Only these names are read from a line, never its content.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from costlog.safefs import open_log
from costlog.sources._lines import bounded_lines

#: agent -> type -> what costlog reads from it
HANDLED: dict[str, dict[str, str]] = {
    "claude-code": {
        "assistant": "a response: model, usage, request id, tool calls, edited files",
        "user": "the first prompt, tool results (commit evidence, gitOperation)",
        "progress": "a sub-agent's response relayed into the main transcript",
        "cost-state": "Claude Code's own totals: auxiliary calls the transcript lacks",
    },
    "codex": {
        "token_usage_record": "its response_id keys the token_count after it (same usage), "
        "so a fork's call the size of a parent's is not taken for the parent's",
        "session_meta": "session id, cwd, start, fork parent",
        "turn_context": "the model and cwd of the turns that follow",
        "event_msg:token_count": "usage (last_token_usage, else the running total's step)",
        "event_msg:user_message": "the first prompt",
        "event_msg:exec_command_end": "commit evidence of a shell command",
        "event_msg:patch_apply_begin": "edited files",
        "event_msg:patch_apply_end": "edited files",
        "event_msg:item_completed": "commit evidence (CommandExecution) and prompts",
        "response_item:function_call": "a tool call: command, patch",
        "response_item:function_call_output": "commit evidence of a command",
        "response_item:custom_tool_call": "a code-mode script or a patch",
        "response_item:custom_tool_call_output": "commit evidence of a code-mode script",
        "response_item:local_shell_call": "a shell command",
        "response_item:message": "the first prompt, when no user_message came",
    },
    "gemini": {
        "metadata": "session id, project, start and last update",
        "$set": "metadata updates and whole-history rewrites",
        "$rewindTo": "a rewind: the calls it hides were billed, so they stay",
        "message:gemini": "a model call: tokens, model, tool calls",
        "message:user": "the first prompt",
    },
    "aider": {
        "message_send": "a request: model, tokens, cost",
        "launched": "a run's start",
    },
}

#: agent -> type -> why it is not read
IGNORED: dict[str, dict[str, str]] = {
    "claude-code": {
        "summary": "a compaction summary's text: its call is logged as an assistant line",
        "system": "local notices (hooks, errors, compaction markers): no usage",
        "file-history-snapshot": "checkpoint bookkeeping for /rewind: no usage",
        "attachment": "context attached to a prompt (files, reminders): no usage",
        "queue-operation": "the prompt queue of `claude -p`: no usage",
        "last-prompt": "a pointer to the latest prompt: no usage",
        "ai-title": "the session title's text; the title call's usage is in cost-state",
        "custom-title": "a title the user set: no usage",
        "tag": "a user's tag: no usage",
        "api-request": "request parameters; its response is the assistant line (requestRef)",
        "api-request-blob": "request content, stored once per hash: no usage",
        "api-request-shape": "the request's system prompt and tools, stored once: no usage",
        "atis-latch": "client state: no usage",
        "tools-used": "the tool names of a turn: the calls are in the assistant lines",
        "pr-link": "a pull request the session opened: no usage",
        "worktree-state": "the session's git worktree: no usage",
        "mode": "the interactive input mode (`normal`, …) of the session: no usage",
    },
    "codex": {
        "compacted": "a compaction's replacement history: its call is a token_count",
        "world_state": "the environment sent to the model (skills, cwd): no usage",
        "response_item:reasoning": "encrypted reasoning: its tokens are in token_count",
        "response_item:additional_tools": "the tool list sent to the model: no usage",
        "response_item:web_search_call": "a web search: its tokens are in token_count",
        "event_msg:agent_message": "the reply's text: no usage",
        "event_msg:agent_reasoning": "reasoning text: no usage",
        "event_msg:task_started": "a turn's start: no usage",
        "event_msg:task_complete": "a turn's end: no usage",
        "event_msg:turn_aborted": "a turn the user stopped: its calls are token_counts",
        "event_msg:thread_settings_applied": "model and policy of the thread: turn_context "
        "names the model",
        "event_msg:exec_command_begin": "a command's start: its end is read",
        "event_msg:context_compacted": "a compaction marker: no usage",
        "event_msg:entered_review_mode": "review mode on: no usage",
        "event_msg:exited_review_mode": "review mode off: no usage",
    },
    "gemini": {
        "message:info": "a CLI notice: no usage",
        "message:error": "an error shown to the user: no usage",
        "message:warning": "a warning shown to the user: no usage",
    },
    "aider": {
        "repo": "the repository's size: no usage",
        "auto_commits": "a setting: commits are read from the chat history",
        "message_send_starting": "a request's start: its message_send is read",
        "exit": "a run's end: no usage",
    },
}

#: the agents whose record types are listed
AGENTS = tuple(HANDLED)
#: where each agent's logs lie under its data dirs (`Adapter.default_roots`)
_PATTERNS = {
    "claude-code": "*/*.jsonl",  # the roots are the `projects` dirs
    "codex": "**/rollout-*.jsonl",
    "gemini": "*/chats/*.jsonl",
}


def type_of(agent: str, record: Mapping[str, Any]) -> Iterator[str]:
    """The type names of one parsed line (a Gemini `$set` may rewrite many messages)."""
    if agent == "claude-code":
        kind = record.get("type")
        yield kind if isinstance(kind, str) else "(no type)"
    elif agent == "codex":
        kind = record.get("type")
        payload = record.get("payload")
        inner = payload.get("type") if isinstance(payload, dict) else None
        if kind in ("event_msg", "response_item") and isinstance(inner, str):
            yield f"{kind}:{inner}"
        else:
            yield kind if isinstance(kind, str) else "(no type)"
    elif agent == "gemini":
        yield from _gemini(record)
    elif agent == "aider":
        event = record.get("event")
        yield event if isinstance(event, str) else "(no event)"


def _gemini(record: Mapping[str, Any]) -> Iterator[str]:
    if isinstance(record.get("$set"), dict):
        yield "$set"
        messages = record["$set"].get("messages")
        for message in messages if isinstance(messages, list) else []:
            if isinstance(message, dict):
                yield f"message:{message.get('type')}"
    elif "$rewindTo" in record:
        yield "$rewindTo"
    elif isinstance(record.get("id"), str):
        yield f"message:{record.get('type')}"
    elif isinstance(record.get("sessionId"), str):
        yield "metadata"
    else:
        yield "(unrecognised)"


def census(agent: str, path: Path) -> Counter[str]:
    """How many lines (or Gemini messages) of each type `path` holds. Lines that are not
    JSON objects are the readers' business (they warn about them) and are not counted."""
    counts: Counter[str] = Counter()
    try:
        fh = open_log(path)
    except OSError:
        return counts
    with fh:
        for raw in bounded_lines(fh):
            if isinstance(raw, int) or not raw.strip():
                continue
            try:
                record = json.loads(raw)
            except (ValueError, UnicodeDecodeError, RecursionError):
                continue
            if isinstance(record, dict):
                counts.update(type_of(agent, record))
    return counts


def unknown(agent: str, counts: Mapping[str, int]) -> dict[str, int]:
    """The types of `counts` in neither list for `agent`."""
    known = HANDLED.get(agent, {}).keys() | IGNORED.get(agent, {}).keys()
    return {kind: n for kind, n in sorted(counts.items()) if kind not in known}


def summary(agent: str, paths: Iterable[Path]) -> tuple[int, dict[str, int]]:
    """(files read, unknown type -> lines) over `paths`."""
    total: Counter[str] = Counter()
    files = 0
    for path in paths:
        files += 1
        total.update(census(agent, path))
    return files, unknown(agent, total)


def newest_logs(agent: str, roots: Iterable[Path], limit: int) -> list[Path]:
    """The `limit` most recently changed logs of `agent` under its data dirs."""
    pattern = _PATTERNS.get(agent)
    if pattern is None:
        return []
    found: list[tuple[float, Path]] = []
    for root in roots:
        try:
            for path in root.glob(pattern):
                if path.is_file() and not path.is_symlink():
                    found.append((path.stat().st_mtime, path))
        except OSError:
            continue
    found.sort(reverse=True)
    return [path for _when, path in found[:limit]]
