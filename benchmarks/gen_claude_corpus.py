"""Deterministic generator of a realistic Claude Code log corpus, with its true totals.

Shape, as seen in real `~/.claude/projects` trees (500 MB: ~1,300 files, half of them
under 50 kB, ~45k requests, ~11 kB of log per request; by bytes about 54% tool results,
38% assistant lines, 6% hook progress lines):
- ~20 projects; many small sessions (3-150 kB), some of 0.5-3 MB and a tail of 4-20 MB;
- one line per content block (thinking / text / tool_use) of each API response. In
  "2.1.110" sessions every line repeats the response's final usage (>= 2.1.97), so a reader
  must de-duplicate by message.id + requestId and never sum the lines of one response; in
  "2.1.90" sessions only the last line is final (stop_reason + message_delta-shaped usage)
  and earlier lines carry a streaming placeholder output count, so first-line-wins is wrong;
- resumed sessions: a new file that starts with a verbatim copy of an earlier session's
  lines (each call counts once); `/btw` sidechain replays of a message under a new
  requestId; `<synthetic>` API-error lines (not billed);
- user lines carrying tool results of 0.15-10 kB, each twice (the message's
  `tool_result` and Claude Code's structured `toolUseResult` copy): most of the bytes,
  none of the usage; `hook_progress` lines after tool calls, `file-history-snapshot`
  lines; Write and Edit calls whose input carries 0.6-20 kB of new text;
- sub-agent transcripts in `<session>/subagents/agent-<id>.jsonl` (isSidechain: true),
  mirrored as `progress` lines in the parent file;
- 1-hour and 5-minute cache writes, several models.

`truth.json` holds the totals a correct reader must report. The prompt and tool text is
filler from a fixed vocabulary (no real content).

    python benchmarks/gen_claude_corpus.py OUT_DIR --size-mb 500
"""

from __future__ import annotations

import argparse
import json
import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

MODELS = (
    ["claude-sonnet-4-6"] * 6 + ["claude-opus-4-6"] * 2 + ["claude-opus-4-7", "claude-haiku-4-5"]
)
WORDS = [
    "the",
    "of",
    "and",
    "to",
    "in",
    "is",
    "for",
    "that",
    "with",
    "file",
    "test",
    "def",
    "return",
    "import",
    "class",
    "value",
    "error",
    "config",
    "should",
    "function",
    "data",
    "path",
    "self",
    "result",
    "update",
    "make",
    "run",
    "check",
    "build",
    "new",
    "add",
    "fix",
    "line",
    "list",
    "string",
    "type",
    "name",
    "if",
    "else",
    "while",
    "try",
]


class Corpus:
    def __init__(self, root: Path, seed: int) -> None:
        self.root = root
        self.rng = random.Random(seed)
        #: a second stream for what only shapes the bytes (hook progress lines, tool-result
        #: copies, big tool inputs), so the usage stream of a seed stays as it was
        self.shape = random.Random(seed + 1)
        self.truth: Counter[str] = Counter()
        self.per_model: dict[str, Counter[str]] = {}
        self.sessions = 0
        self.bytes = 0
        filler = " ".join(self.rng.choice(WORDS) for _ in range(60_000))
        self.filler = filler.replace(" return ", " return\n")

    def text(self, n: int) -> str:
        start = self.rng.randint(0, len(self.filler) - n - 1)
        return self.filler[start : start + n]

    def uid(self, prefix: str) -> str:
        return f"{prefix}{self.rng.getrandbits(96):024x}"

    def count(self, model: str, usage: dict[str, int]) -> None:
        c = self.per_model.setdefault(model, Counter())
        writes = usage["cache_creation"]
        for key, value in (
            ("input", usage["input_tokens"]),
            ("output", usage["output_tokens"]),
            ("cache_read", usage["cache_read_input_tokens"]),
            ("cache_write_5m", writes["ephemeral_5m_input_tokens"]),
            ("cache_write_1h", writes["ephemeral_1h_input_tokens"]),
        ):
            self.truth[key] += value
            c[key] += value
        self.truth["requests"] += 1
        c["requests"] += 1

    def session(
        self,
        project: str,
        cwd: str,
        target: int,
        start: datetime,
        replay: list[str] | None = None,
        keep: bool = False,
    ) -> list[str]:
        """Write one session file; returns its lines when `keep` (to resume it later)."""
        sid = f"{self.rng.getrandbits(128):032x}"
        sid = f"{sid[:8]}-{sid[8:12]}-{sid[12:16]}-{sid[16:20]}-{sid[20:]}"
        folder = self.root / "projects" / project
        folder.mkdir(parents=True, exist_ok=True)
        self.sessions += 1
        when = start
        model = self.rng.choice(MODELS)
        context = self.rng.randint(15_000, 30_000)
        subagents = self.rng.random() < 0.35
        every_line_final = self.rng.random() < 0.6
        kept: list[str] = []
        with open(folder / f"{sid}.jsonl", "w", encoding="utf-8") as out:
            size = 0
            for text in replay or ():  # a resumed session starts with the old lines
                out.write(text)
                size += len(text.encode())
            base = {
                "parentUuid": None,
                "isSidechain": False,
                "userType": "external",
                "cwd": cwd,
                "sessionId": sid,
                "version": "2.1.110" if every_line_final else "2.1.90",
                "gitBranch": "main",
            }
            size += self.line(
                out,
                {
                    **base,
                    "type": "user",
                    "uuid": self.uid("u"),
                    "timestamp": self.stamp(when),
                    "message": {"role": "user", "content": self.text(300)},
                },
                kept if keep else None,
            )
            turn = 0
            while size < target:
                turn += 1
                when += timedelta(seconds=self.rng.randint(3, 40))
                usage, blocks = self.response(context)
                context += usage["cache_creation_input_tokens"]  # type: ignore[operator]
                if context > 160_000:  # Claude Code auto-compacts long contexts
                    context = self.rng.randint(20_000, 40_000)
                self.count(model, usage)
                mid, rid = self.uid("msg_01"), self.uid("req_011C")
                for i, block in enumerate(blocks):
                    last = i == len(blocks) - 1
                    line_usage, stop = usage, "tool_use"
                    if not every_line_final and not last:
                        # streaming placeholder: message_start shape, small output count
                        line_usage = {
                            **usage,
                            "output_tokens": self.rng.randint(
                                1, min(30, int(usage["output_tokens"]))
                            ),
                        }  # type: ignore[call-overload]
                        stop = None
                    elif not every_line_final:
                        line_usage = {
                            **usage,
                            "server_tool_use": {"web_search_requests": 0},
                            "iterations": [],
                            "speed": "standard",
                        }
                    size += self.line(
                        out,
                        {
                            **base,
                            "type": "assistant",
                            "uuid": self.uid("a"),
                            "timestamp": self.stamp(when),
                            "requestId": rid,
                            "message": {
                                "model": model,
                                "id": mid,
                                "type": "message",
                                "role": "assistant",
                                "content": [block],
                                "stop_reason": stop,
                                "stop_sequence": None,
                                "usage": line_usage,
                            },
                        },
                        kept if keep else None,
                    )
                if self.rng.random() < 0.01:  # a /btw aside replays the message as a sidechain
                    size += self.line(
                        out,
                        {
                            **base,
                            "isSidechain": True,
                            "type": "assistant",
                            "uuid": self.uid("a"),
                            "requestId": self.uid("req_"),
                            "timestamp": self.stamp(when),
                            "message": {
                                "model": model,
                                "id": mid,
                                "type": "message",
                                "role": "assistant",
                                "content": blocks[-1:],
                                "stop_reason": "end_turn",
                                "usage": usage,
                            },
                        },
                    )
                if self.rng.random() < 0.005:  # an API error shown as a message: not billed
                    size += self.line(
                        out,
                        {
                            **base,
                            "type": "assistant",
                            "uuid": self.uid("a"),
                            "timestamp": self.stamp(when),
                            "isApiErrorMessage": True,
                            "requestId": self.uid("req_"),
                            "message": {
                                "model": "<synthetic>",
                                "id": self.uid("msg_"),
                                "type": "message",
                                "role": "assistant",
                                "content": [{"type": "text", "text": "API Error: 529"}],
                                "stop_reason": "stop_sequence",
                                "usage": {"input_tokens": 0, "output_tokens": 0},
                            },
                        },
                    )
                for _ in range(self.shape.choice([0, 1, 1, 2, 3])):  # hooks report progress
                    size += self.line(out, self.hook_progress(base, when))
                output = self.text(self.shape.choice([150, 400, 1_200, 3_500, 10_000]))
                result = {
                    "type": "tool_result",
                    "tool_use_id": self.uid("toolu_"),
                    "content": output,
                }
                size += self.line(
                    out,
                    {
                        **base,
                        "type": "user",
                        "uuid": self.uid("u"),
                        "timestamp": self.stamp(when),
                        "message": {"role": "user", "content": [result]},
                        # Claude Code keeps a second, structured copy of every tool result
                        "toolUseResult": {"stdout": output, "stderr": "", "interrupted": False},
                    },
                    kept if keep else None,
                )
                if self.shape.random() < 0.1:  # a file-history snapshot before an edit
                    size += self.line(
                        out,
                        {
                            "type": "file-history-snapshot",
                            "messageId": self.uid("m"),
                            "snapshot": {"trackedFileBackups": {}, "timestamp": self.stamp(when)},
                            "isSnapshotUpdate": False,
                        },
                    )
                if subagents and turn % 30 == 4:
                    size += self.subagent(folder / sid / "subagents", base, when, out)
        self.bytes += size
        return kept

    def response(self, context: int) -> tuple[dict[str, object], list[dict[str, object]]]:
        one_hour = self.rng.random() < 0.5
        write = self.rng.randint(200, 6_000)
        usage = {
            "input_tokens": self.rng.randint(1, 12),
            "cache_creation_input_tokens": write,
            "cache_read_input_tokens": context,
            "cache_creation": {
                "ephemeral_5m_input_tokens": 0 if one_hour else write,
                "ephemeral_1h_input_tokens": write if one_hour else 0,
            },
            "output_tokens": self.rng.randint(20, 2_500),
            "service_tier": "standard",
        }
        blocks: list[dict[str, object]] = []
        if self.rng.random() < 0.4:
            blocks.append({"type": "thinking", "thinking": "", "signature": self.text(400)})
        if self.rng.random() < 0.7:
            blocks.append({"type": "text", "text": self.text(self.rng.randint(40, 900))})
        for _ in range(self.rng.choice([1, 1, 1, 2, 4])):
            path = f"/work/src/{self.rng.choice(WORDS)}.py"
            tool: dict[str, object] = {"file_path": path}
            name = "Read"
            if self.shape.random() < 0.12:  # Write and Edit carry the new text in the input
                name = self.shape.choice(["Write", "Edit"])
                tool["content"] = self.text(self.shape.choice([600, 2_000, 6_000, 20_000]))
            blocks.append(
                {"type": "tool_use", "id": self.uid("toolu_"), "name": name, "input": tool}
            )
        return usage, blocks  # type: ignore[return-value]

    def subagent(
        self, folder: Path, base: dict[str, object], when: datetime, parent: object
    ) -> int:
        folder.mkdir(parents=True, exist_ok=True)
        agent = f"{self.rng.getrandbits(64):016x}"[:17]
        size = 0
        with open(folder / f"agent-{agent}.jsonl", "w", encoding="utf-8") as out:
            for _ in range(self.rng.randint(3, 12)):
                when += timedelta(seconds=5)
                usage, blocks = self.response(self.rng.randint(8_000, 20_000))
                model = "claude-haiku-4-5" if self.rng.random() < 0.5 else "claude-sonnet-4-6"
                self.count(model, usage)
                mid, rid = self.uid("msg_01"), self.uid("req_011C")
                line = {
                    **base,
                    "isSidechain": True,
                    "agentId": agent,
                    "type": "assistant",
                    "uuid": self.uid("a"),
                    "timestamp": self.stamp(when),
                    "requestId": rid,
                    "message": {
                        "model": model,
                        "id": mid,
                        "type": "message",
                        "role": "assistant",
                        "content": blocks[-1:],
                        "stop_reason": "end_turn",
                        "usage": usage,
                    },
                }
                size += self.line(out, line)
                # the parent mirrors it as a progress line (same message.id + requestId)
                size += self.line(
                    parent,
                    {
                        **base,
                        "type": "progress",
                        "uuid": self.uid("p"),
                        "timestamp": self.stamp(when),
                        "data": {"message": {**line, "type": "assistant"}},
                    },
                )
        return size

    def hook_progress(self, base: dict[str, object], when: datetime) -> dict[str, object]:
        return {
            **base,
            "type": "progress",
            "uuid": self.uid("p"),
            "timestamp": self.stamp(when),
            "toolUseID": self.uid("toolu_"),
            "parentToolUseID": self.uid("toolu_"),
            "data": {
                "type": "hook_progress",
                "hookEvent": "PostToolUse",
                "hookName": "PostToolUse:Bash",
                "command": "npx prettier --write",
            },
        }

    @staticmethod
    def stamp(when: datetime) -> str:
        return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"

    @staticmethod
    def line(out: object, obj: dict[str, object], keep: list[str] | None = None) -> int:
        text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False) + "\n"
        out.write(text)  # type: ignore[attr-defined]
        if keep is not None:
            keep.append(text)
        return len(text.encode())


def generate(root: Path, size_mb: float, seed: int = 7) -> dict[str, object]:
    corpus = Corpus(root, seed)
    budget = int(size_mb * 1_000_000)
    start = datetime(2026, 10, 20, 8, 0, tzinfo=UTC)
    projects = [f"/home/dev/code/project-{i:02d}" for i in range(20)]
    n = 0
    while corpus.bytes < budget:
        cwd = corpus.rng.choice(projects)
        project = "".join(ch if ch.isalnum() else "-" for ch in cwd)
        roll = corpus.rng.random()
        target = (
            corpus.rng.randint(4_000_000, 20_000_000)
            if roll < 0.02
            else corpus.rng.randint(500_000, 3_000_000)
            if roll < 0.15
            else corpus.rng.randint(3_000, 150_000)
        )
        target = min(target, max(budget - corpus.bytes, 3_000))
        when = start + timedelta(minutes=n * 37)
        resumable = target < 1_000_000 and corpus.rng.random() < 0.08
        kept = corpus.session(project, cwd, target, when, keep=resumable)
        n += 1
        if resumable:  # `claude --resume`: a new file that replays the old one, then goes on
            corpus.session(
                project, cwd, len("".join(kept)) + 60_000, when + timedelta(minutes=30), replay=kept
            )
            n += 1
    truth = {
        "sessions": corpus.sessions,
        "bytes": corpus.bytes,
        **{
            k: corpus.truth[k]
            for k in (
                "input",
                "output",
                "cache_read",
                "cache_write_5m",
                "cache_write_1h",
                "requests",
            )
        },
        "models": {m: dict(c) for m, c in sorted(corpus.per_model.items())},
    }
    (root / "truth.json").write_text(json.dumps(truth, indent=2))
    return truth


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("out", type=Path)
    parser.add_argument("--size-mb", type=float, default=500)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    truth = generate(args.out, args.size_mb, args.seed)
    print(json.dumps({k: v for k, v in truth.items() if k != "models"}))


if __name__ == "__main__":
    main()
