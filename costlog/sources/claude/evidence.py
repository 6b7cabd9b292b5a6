"""Structured commit evidence in Claude Code transcripts (2.1.3xx and later).

A Bash tool result whose command made a commit carries, beside the printed output,
`toolUseResult.gitOperation.commit = {"sha": "2cb10df", "kind": "committed", "branch":
...}`: Claude Code's own record of the commit, the strongest evidence there is. Older
transcripts have only the printed `[branch sha] subject`, which `attribution` still reads.

Only lines holding the key are parsed (a byte test first), so the cost stays with the few
lines that made commits.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

_MARK = b'"gitOperation"'
_SHA = re.compile(r"[0-9a-fA-F]{7,40}")


def add_git_operation(raw: bytes, refs: set[str]) -> None:
    """Add the sha of the commit this (raw) transcript line's tool result records."""
    if _MARK not in raw:
        return
    try:
        obj = json.loads(raw)
    except (ValueError, RecursionError):
        return
    if isinstance(obj, Mapping):
        sha = commit_sha(obj.get("toolUseResult"))
        if sha is not None:
            refs.add(sha)


def commit_sha(result: Any) -> str | None:
    """`gitOperation.commit.sha` of a tool result, when it is a plausible sha."""
    if not isinstance(result, Mapping):
        return None
    operation = result.get("gitOperation")
    commit = operation.get("commit") if isinstance(operation, Mapping) else None
    sha = commit.get("sha") if isinstance(commit, Mapping) else None
    if isinstance(sha, str) and _SHA.fullmatch(sha):
        return sha.lower()
    return None
