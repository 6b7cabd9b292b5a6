"""Deterministic generator of a realistic Claude Code log corpus, with its true totals.

Shape, as seen in real `~/.claude/projects` trees:
- ~20 projects; many small sessions and a long tail of 5-50 MB session files;
- one line per content block (thinking / text / tool_use) of each API response, every
  line repeating the response's final usage (Claude Code 2.1.x), so a reader must
  de-duplicate by message.id + requestId and never sum the lines of one response;
- user lines carrying tool results of 0.2-20 kB (most of the bytes, none of the usage);
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

MODELS = ["claude-sonnet-4-6"] * 6 + ["claude-opus-4-6"] * 2 + ["claude-opus-4-7",
                                                                "claude-haiku-4-5"]
WORDS = ["the", "of", "and", "to", "in", "is", "for", "that", "with", "file", "test", "def",
         "return", "import", "class", "value", "error", "config", "should", "function", "data",
         "path", "self", "result", "update", "make", "run", "check", "build", "new", "add",
         "fix", "line", "list", "string", "type", "name", "if", "else", "while", "try"]


class Corpus:
    def __init__(self, root: Path, seed: int) -> None:
        self.root = root
        self.rng = random.Random(seed)
        self.truth: Counter[str] = Counter()
        self.per_model: dict[str, Counter[str]] = {}
        self.sessions = 0
        self.bytes = 0
        filler = " ".join(self.rng.choice(WORDS) for _ in range(60_000))
        self.filler = filler.replace(" return ", " return\n")

    def text(self, n: int) -> str:
        start = self.rng.randint(0, len(self.filler) - n - 1)
        return self.filler[start:start + n]

    def uid(self, prefix: str) -> str:
        return f"{prefix}{self.rng.getrandbits(96):024x}"

    def count(self, model: str, usage: dict[str, int]) -> None:
        c = self.per_model.setdefault(model, Counter())
        writes = usage["cache_creation"]
        for key, value in (("input", usage["input_tokens"]), ("output", usage["output_tokens"]),
                           ("cache_read", usage["cache_read_input_tokens"]),
                           ("cache_write_5m", writes["ephemeral_5m_input_tokens"]),
                           ("cache_write_1h", writes["ephemeral_1h_input_tokens"])):
            self.truth[key] += value
            c[key] += value
        self.truth["requests"] += 1
        c["requests"] += 1

    def session(self, project: str, cwd: str, target: int, start: datetime) -> None:
        sid = f"{self.rng.getrandbits(128):032x}"
        sid = f"{sid[:8]}-{sid[8:12]}-{sid[12:16]}-{sid[16:20]}-{sid[20:]}"
        folder = self.root / "projects" / project
        folder.mkdir(parents=True, exist_ok=True)
        self.sessions += 1
        when = start
        model = self.rng.choice(MODELS)
        context = self.rng.randint(15_000, 30_000)
        subagents = self.rng.random() < 0.25
        with open(folder / f"{sid}.jsonl", "w", encoding="utf-8") as out:
            size = 0
            base = {"parentUuid": None, "isSidechain": False, "userType": "external", "cwd": cwd,
                    "sessionId": sid, "version": "2.1.90", "gitBranch": "main"}
            size += self.line(out, {**base, "type": "user", "uuid": self.uid("u"),
                                    "timestamp": self.stamp(when),
                                    "message": {"role": "user", "content": self.text(300)}})
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
                for block in blocks:
                    size += self.line(out, {**base, "type": "assistant", "uuid": self.uid("a"),
                                            "timestamp": self.stamp(when), "requestId": rid,
                                            "message": {"model": model, "id": mid,
                                                        "type": "message", "role": "assistant",
                                                        "content": [block],
                                                        "stop_reason": "tool_use",
                                                        "stop_sequence": None, "usage": usage}})
                result = {"type": "tool_result", "tool_use_id": self.uid("toolu_"),
                          "content": self.text(self.rng.choice([200, 800, 2_000, 6_000, 20_000]))}
                size += self.line(out, {**base, "type": "user", "uuid": self.uid("u"),
                                        "timestamp": self.stamp(when),
                                        "message": {"role": "user", "content": [result]}})
                if subagents and turn % 40 == 5:
                    size += self.subagent(folder / sid / "subagents", base, when, out)
        self.bytes += size

    def response(self, context: int) -> tuple[dict[str, object], list[dict[str, object]]]:
        one_hour = self.rng.random() < 0.5
        write = self.rng.randint(200, 6_000)
        usage = {"input_tokens": self.rng.randint(1, 12),
                 "cache_creation_input_tokens": write, "cache_read_input_tokens": context,
                 "cache_creation": {"ephemeral_5m_input_tokens": 0 if one_hour else write,
                                    "ephemeral_1h_input_tokens": write if one_hour else 0},
                 "output_tokens": self.rng.randint(20, 2_500), "service_tier": "standard"}
        blocks: list[dict[str, object]] = []
        if self.rng.random() < 0.4:
            blocks.append({"type": "thinking", "thinking": "", "signature": self.text(400)})
        if self.rng.random() < 0.7:
            blocks.append({"type": "text", "text": self.text(self.rng.randint(40, 900))})
        for _ in range(self.rng.choice([1, 1, 1, 2, 4])):
            blocks.append({"type": "tool_use", "id": self.uid("toolu_"), "name": "Read",
                           "input": {"file_path": f"/work/src/{self.rng.choice(WORDS)}.py"}})
        return usage, blocks  # type: ignore[return-value]

    def subagent(self, folder: Path, base: dict[str, object], when: datetime,
                 parent: object) -> int:
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
                line = {**base, "isSidechain": True, "agentId": agent, "type": "assistant",
                        "uuid": self.uid("a"), "timestamp": self.stamp(when), "requestId": rid,
                        "message": {"model": model, "id": mid, "type": "message",
                                    "role": "assistant", "content": blocks[-1:],
                                    "stop_reason": "end_turn", "usage": usage}}
                size += self.line(out, line)
                # the parent mirrors it as a progress line (same message.id + requestId)
                size += self.line(parent, {**base, "type": "progress", "uuid": self.uid("p"),
                                           "timestamp": self.stamp(when),
                                           "data": {"message": {**line, "type": "assistant"}}})
        return size

    @staticmethod
    def stamp(when: datetime) -> str:
        return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"

    @staticmethod
    def line(out: object, obj: dict[str, object]) -> int:
        text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False) + "\n"
        out.write(text)  # type: ignore[attr-defined]
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
        target = (corpus.rng.randint(5_000_000, 50_000_000) if roll < 0.04 else
                  corpus.rng.randint(500_000, 3_000_000) if roll < 0.3 else
                  corpus.rng.randint(20_000, 400_000))
        target = min(target, max(budget - corpus.bytes, 20_000))
        corpus.session(project, cwd, target, start + timedelta(minutes=n * 37))
        n += 1
    truth = {"sessions": corpus.sessions, "bytes": corpus.bytes,
             **{k: corpus.truth[k] for k in ("input", "output", "cache_read", "cache_write_5m",
                                             "cache_write_1h", "requests")},
             "models": {m: dict(c) for m, c in sorted(corpus.per_model.items())}}
    (root / "truth.json").write_text(json.dumps(truth, indent=2))
    return truth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--size-mb", type=float, default=500)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    truth = generate(args.out, args.size_mb, args.seed)
    print(json.dumps({k: v for k, v in truth.items() if k != "models"}))


if __name__ == "__main__":
    main()
