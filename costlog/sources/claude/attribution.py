"""What a transcript says about the work done, for attributing a session to a commit.

Read only when a transcript is read afresh (`find_session`, `scan(..., use_cache=False)`, a
single file given as root), never cached: the first prompt, the commits `git commit`
printed in tool output (sha and subject), and the files edited through Edit, Write,
MultiEdit and NotebookEdit.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

_EDIT_TOOLS = frozenset({"Edit", "Write", "MultiEdit", "NotebookEdit"})
#: `[main 1a2b3c4] subject` as printed by `git commit`, inside a JSON string
_COMMIT = re.compile(
    rb'\[(?:detached HEAD|[^\[\]\s"\\]+)(?: \(root-commit\))? ([0-9a-f]{7,40})\] '
    rb'((?:[^"\\]|\\[^n])*)'
)
#: user lines that Claude Code writes itself, not the user's prompt
_SKIP_PROMPT = (
    "<local-command",
    "Caveat:",
    "<system-reminder>",
    "<command-message>",
    "This session is being continued",
    "[Request interrupted",
)


def add_edited_files(content: Any, edited: set[str]) -> None:
    """Add the paths this line's tool calls edit."""
    if not isinstance(content, list):
        return
    for block in content:
        if (
            isinstance(block, dict)
            and block.get("type") == "tool_use"
            and isinstance(block.get("name"), str)
            and block["name"] in _EDIT_TOOLS
        ):
            args = block.get("input")
            if isinstance(args, dict):
                target = args.get("file_path") or args.get("notebook_path")
                if isinstance(target, str) and target:
                    edited.add(target)


def add_commit_refs(raw: bytes, refs: set[str]) -> None:
    """Add the sha and subject of each commit `git commit` printed in this (raw) line."""
    for match in _COMMIT.finditer(raw):
        refs.add(match.group(1).decode())
        try:
            subject = json.loads(b'"' + match.group(2) + b'"')
        except ValueError:
            continue
        if isinstance(subject, str) and subject.strip():
            refs.add(subject.strip())


def user_prompt(obj: Mapping[str, Any]) -> str | None:
    """The text the user typed on this line; None for any other line (meta, sidechain,
    compact summaries and the lines Claude Code writes on the user's behalf)."""
    if (
        obj.get("type") != "user"
        or obj.get("isMeta")
        or obj.get("isSidechain")
        or obj.get("isCompactSummary")
    ):
        return None
    msg = obj.get("message")
    content = msg.get("content") if isinstance(msg, dict) else None
    if isinstance(content, str):
        text = content.strip()
    elif isinstance(content, list):
        text = "\n".join(
            b.get("text") or "" for b in content if isinstance(b, dict) and b.get("type") == "text"
        ).strip()
    else:
        return None
    if text and not text.startswith(_SKIP_PROMPT):
        return text
    return None
