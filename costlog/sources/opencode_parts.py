"""What OpenCode's message parts say about the work: commits made, files edited, the prompt.

OpenCode keeps every piece of a message as a `part` (`data` is its JSON). The ones read:

* a tool part, `{"type": "tool", "tool": "bash", "state": {"status": "completed", "input":
  {"command": "git commit ..."}, "output": "[feature/WRK-237-x 38b2ee4] step 1 ...",
  "metadata": {"output": ...}}}`: a finished `git commit` names the commit it made (sha and
  subject), the evidence attribution trusts most;
* tool parts of `edit`, `write` and `multiedit` (`input.filePath`) and `patch` /
  `apply_patch` (`*** Update File: path` lines of `input.patchText`): the files edited;
* the text parts of a session's first user message: its first prompt, kept in memory only,
  where attribution takes a work-item key from it only by the configured
  `work_item_prefixes` rule.

A failed or still running tool part made no commit and no edit, so it is left out.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from costlog.sources._tools import absolute, commit_refs, is_git_commit

#: the part rows worth parsing, as SQL LIKE patterns: a cheap superset (with or without a
#: space after the colon), each row parsed and checked after
TOOL_LIKE = tuple(
    f'%"tool":%"{name}"%' for name in ("bash", "edit", "write", "multiedit", "patch", "apply_patch")
)
_EDIT_TOOLS = frozenset({"edit", "write", "multiedit"})
_PATCH_TOOLS = frozenset({"patch", "apply_patch"})
_PATCH_PATH = re.compile(r"^\*\*\* (?:(?:Add|Update|Delete) File|Move to): (.+?)\s*$", re.M)
#: a prompt is kept this long (in memory only): enough to find work-item keys
PROMPT_CHARS = 4000


@dataclass
class Facts:
    """One session's attribution facts (in memory only, never cached or written)."""

    refs: set[str] = field(default_factory=set)
    edited: set[str] = field(default_factory=set)


def tool_part(data: Mapping[str, Any], facts: Facts, cwd: str | None) -> None:
    """Add what one finished tool part shows: a commit's sha and subject, edited files."""
    if data.get("type") != "tool":
        return
    state = data.get("state")
    if not isinstance(state, Mapping) or state.get("status") != "completed":
        return
    args = state.get("input")
    args = args if isinstance(args, Mapping) else {}
    tool = data.get("tool")
    if tool == "bash":
        command = args.get("command")
        if isinstance(command, str) and is_git_commit(command):
            for text in _outputs(state):
                facts.refs |= commit_refs(text)
    elif tool in _EDIT_TOOLS:
        path = args.get("filePath") or args.get("file_path")
        if isinstance(path, str) and path:
            facts.edited.add(absolute(path, cwd))
    elif tool in _PATCH_TOOLS:
        patch = args.get("patchText") or args.get("patch")
        if isinstance(patch, str):
            for match in _PATCH_PATH.finditer(patch):
                facts.edited.add(absolute(match.group(1), cwd))


def _outputs(state: Mapping[str, Any]) -> Iterator[str]:
    output = state.get("output")
    if isinstance(output, str):
        yield output
    metadata = state.get("metadata")
    if isinstance(metadata, Mapping) and isinstance(metadata.get("output"), str):
        yield metadata["output"]


def prompt_text(data: Mapping[str, Any]) -> str | None:
    """The text a user typed, from one text part of a user message (not the synthetic
    parts OpenCode adds itself, such as file contents it attached)."""
    if data.get("type") != "text" or data.get("synthetic") or data.get("ignored"):
        return None
    text = data.get("text")
    if isinstance(text, str) and text.strip():
        return text.strip()[:PROMPT_CHARS]
    return None
