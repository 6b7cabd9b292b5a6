"""Commit evidence and prompts in the records current Codex writes (0.171 and later).

Since Codex runs tools in "code mode" for the models of its built-in list (its default
included), `exec_command_end` events are gone. What a command did is now in:

* `event_msg` / `item_completed` with an item of type `CommandExecution`: `command` (a list
  of argv parts, or a string) and `aggregated_output`, e.g. `[feature/WRK-237-x 38b2ee4]
  step 1`. In plain tool mode the item's `id` is the call id of the `function_call`, so the
  same commit read from both records is one fact.
* `item_completed` with a `UserMessage` item: the prompt (`content` text parts), which
  replaces the older `user_message` event.

The script of code mode's one `exec` custom tool, and the text parts of its
`custom_tool_call_output`, are read by the reader like any other command and its output.

Facts are keyed as the reader keys them (`("ref", call id, ref)`, `("prompt", digest)`), so
a fork's copy of its parent's records stays the parent's (see `sessions`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from costlog.sources._tools import commit_refs, digest, is_git_commit
from costlog.sources.codex.rollout import FileData

#: prompts are kept this long (in memory only): enough to find work-item keys
PROMPT_CHARS = 4000


def item_completed(data: FileData, payload: Mapping[str, Any], where: str) -> None:
    """Take the commit refs of a finished command, or the text of a user's prompt."""
    item = payload.get("item")
    if not isinstance(item, Mapping):
        return
    kind = item.get("type")
    if kind == "CommandExecution":
        _command(data, item, where)
    elif kind == "UserMessage":
        text = _text(item.get("content")).strip()
        if text:
            data.prompts.append((("prompt", digest(text)), text[:PROMPT_CHARS]))


def _command(data: FileData, item: Mapping[str, Any], where: str) -> None:
    command = item.get("command")
    text = " ".join(str(c) for c in command) if isinstance(command, list) else command
    if not isinstance(text, str) or not is_git_commit(text):
        return
    if item.get("status") not in (None, "completed"):
        return  # failed or declined: it made no commit
    output = item.get("aggregated_output")
    if not isinstance(output, str):
        return
    call_id = str(item.get("id") or where)
    for ref in commit_refs(output):
        data.refs.append((("ref", call_id, ref), ref))


def _text(content: object) -> str:
    """The text parts of an item's content (`[{"type": "text", "text": ...}]`)."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    return "\n".join(
        str(part.get("text") or "")
        for part in content
        if isinstance(part, Mapping) and str(part.get("type", "")).lower() == "text"
    )
