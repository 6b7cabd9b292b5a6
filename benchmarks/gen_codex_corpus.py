"""Deterministic generator of a realistic Codex CLI rollout corpus, with its true totals.

Shape, as in a real `~/.codex/sessions/YYYY/MM/DD/rollout-*.jsonl` tree: a `session_meta`
line (id, cwd, git branch), a `turn_context` per turn (model), the user's prompt, then per
model call an encrypted `reasoning` item, a `function_call` (shell) and its
`function_call_output` (0.2-20 kB: most of the bytes, none of the usage), and an
`event_msg` `token_count` with the call's `last_token_usage`, the running total and the
account's `rate_limits` (both windows, credits, plan), as Codex 0.171 writes them on every
count. Codex re-emits the last `token_count` after some turns (a reader must count it once).

    python benchmarks/gen_codex_corpus.py OUT_DIR --size-mb 500 --cwd /path/to/repo
"""

from __future__ import annotations

import argparse
import json
import random
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

MODELS = ["gpt-5.2-codex"] * 5 + ["gpt-5-codex"] * 2 + ["gpt-5.1-codex-mini"]
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
]
FIELDS = ("input_tokens", "cached_input_tokens", "output_tokens", "reasoning_output_tokens")
#: the corpus's shape: a tree made by another version is made again (`bench_scan.corpus`)
SHAPE = 2


class Corpus:
    def __init__(self, root: Path, seed: int) -> None:
        self.root = root
        self.rng = random.Random(seed)
        self.truth: Counter[str] = Counter()
        self.sessions = 0
        self.bytes = 0
        self.filler = " ".join(self.rng.choice(WORDS) for _ in range(60_000))
        #: the account's two windows' use, in percent, as the rate limits report it
        self.used = [0.0, 0.0]

    def text(self, n: int) -> str:
        start = self.rng.randint(0, len(self.filler) - n - 1)
        return self.filler[start : start + n]

    def uuid(self) -> str:
        h = f"{self.rng.getrandbits(128):032x}"
        return f"{h[:8]}-{h[8:12]}-7{h[13:16]}-8{h[17:20]}-{h[20:]}"

    def session(self, cwd: str, target: int, start: datetime) -> None:
        sid = self.uuid()
        folder = self.root / "sessions" / start.strftime("%Y/%m/%d")
        folder.mkdir(parents=True, exist_ok=True)
        name = f"rollout-{start.strftime('%Y-%m-%dT%H-%M-%S')}-{sid}.jsonl"
        self.sessions += 1
        model = self.rng.choice(MODELS)
        total = dict.fromkeys(FIELDS, 0)
        when = start
        git = {"branch": "main", "commit_hash": f"{self.rng.getrandbits(40):010x}"}
        with open(folder / name, "w", encoding="utf-8") as out:
            size = self.line(
                out,
                when,
                "session_meta",
                {
                    "id": sid,
                    "timestamp": self.stamp(when),
                    "cwd": cwd,
                    "originator": "codex_cli_rs",
                    "cli_version": "0.108.0",
                    "source": "cli",
                    "model_provider": "openai",
                    "git": git,
                },
            )
            context = self.rng.randint(8_000, 20_000)
            while size < target:
                when += timedelta(seconds=self.rng.randint(20, 120))
                size += self.line(
                    out,
                    when,
                    "turn_context",
                    {"model": model, "cwd": cwd, "approval_policy": "on-request"},
                )
                size += self.line(
                    out,
                    when,
                    "event_msg",
                    {"type": "user_message", "message": self.text(200), "images": []},
                )
                for _ in range(self.rng.randint(2, 8)):
                    when += timedelta(seconds=self.rng.randint(2, 30))
                    size += self.call(out, when, context, total)
                    context = min(context + self.rng.randint(500, 4_000), 200_000)
                if self.rng.random() < 0.3:  # the re-emitted token_count
                    size += self.token_count(out, when, total, self.last)
        self.bytes += size

    def call(self, out: IO[str], when: datetime, context: int, total: dict[str, int]) -> int:
        call_id = f"call_{self.rng.getrandbits(64):016x}"
        size = self.line(
            out,
            when,
            "response_item",
            {
                "type": "reasoning",
                "summary": [],
                "content": None,
                "encrypted_content": self.text(self.rng.randint(200, 1_200)),
            },
        )
        size += self.line(
            out,
            when,
            "response_item",
            {
                "type": "function_call",
                "name": "shell",
                "call_id": call_id,
                "arguments": json.dumps({"command": ["bash", "-lc", self.text(60)]}),
            },
        )
        size += self.line(
            out,
            when,
            "response_item",
            {
                "type": "function_call_output",
                "call_id": call_id,
                "output": json.dumps(
                    {
                        "output": self.text(self.rng.choice([200, 800, 2_000, 6_000, 20_000])),
                        "metadata": {"exit_code": 0},
                    }
                ),
            },
        )
        cached = int(context * self.rng.uniform(0.7, 0.95))
        output = self.rng.randint(30, 2_500)
        last = {
            "input_tokens": context,
            "cached_input_tokens": cached,
            "output_tokens": output,
            "reasoning_output_tokens": output // 3,
        }
        for key in FIELDS:
            total[key] += last[key]
            self.truth[key] += last[key]
        self.truth["requests"] += 1
        self.last = last
        return size + self.token_count(out, when, total, last)

    def token_count(
        self, out: IO[str], when: datetime, total: dict[str, int], last: dict[str, int]
    ) -> int:
        def shape(n: dict[str, int]) -> dict[str, int]:
            return {**n, "total_tokens": n["input_tokens"] + n["output_tokens"]}

        return self.line(
            out,
            when,
            "event_msg",
            {
                "type": "token_count",
                "info": {
                    "total_token_usage": shape(total),
                    "last_token_usage": shape(last),
                    "model_context_window": 272_000,
                },
                "rate_limits": self.rate_limits(when),
            },
        )

    def rate_limits(self, when: datetime) -> dict[str, Any]:
        """The account's windows as the count reports them: use grows call by call and
        starts again when its window resets (300 minutes, a week)."""
        epoch = int(when.timestamp())
        windows = []
        for i, minutes in enumerate((300, 10_080)):
            self.used[i] += self.rng.choice([0.0, 0.0, 0.5, 1.0])
            if self.used[i] > 100:
                self.used[i] = 0.0
            span = minutes * 60
            windows.append(
                {
                    "used_percent": self.used[i],
                    "window_minutes": minutes,
                    "resets_at": epoch - epoch % span + span,
                }
            )
        return {
            "limit_id": "codex",
            "limit_name": None,
            "primary": windows[0],
            "secondary": windows[1],
            "credits": {"has_credits": True, "unlimited": False, "balance": "12.34"},
            "individual_limit": None,
            "spend_control_reached": None,
            "plan_type": "plus",
            "rate_limit_reached_type": None,
        }

    @staticmethod
    def stamp(when: datetime) -> str:
        return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"

    def line(self, out: IO[str], when: datetime, kind: str, payload: dict[str, Any]) -> int:
        text = (
            json.dumps(
                {"timestamp": self.stamp(when), "type": kind, "payload": payload},
                separators=(",", ":"),
            )
            + "\n"
        )
        out.write(text)
        return len(text.encode())


def generate(
    root: Path, size_mb: float, cwds: Sequence[str], weights: Sequence[float], seed: int = 11
) -> dict[str, object]:
    corpus = Corpus(root, seed)
    budget = int(size_mb * 1_000_000)
    start = datetime(2026, 10, 20, 8, 30, tzinfo=UTC)
    n = 0
    while corpus.bytes < budget:
        cwd = corpus.rng.choices(list(cwds), weights=list(weights))[0]
        roll = corpus.rng.random()
        target = (
            corpus.rng.randint(5_000_000, 40_000_000)
            if roll < 0.04
            else corpus.rng.randint(500_000, 3_000_000)
            if roll < 0.3
            else corpus.rng.randint(20_000, 400_000)
        )
        target = min(target, max(budget - corpus.bytes, 20_000))
        corpus.session(cwd, target, start + timedelta(minutes=n * 41))
        n += 1
    truth: dict[str, object] = {
        "shape": SHAPE,
        "sessions": corpus.sessions,
        "bytes": corpus.bytes,
        **dict(corpus.truth),
    }
    (root / "truth.json").write_text(json.dumps(truth, indent=2))
    return truth


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("out", type=Path)
    parser.add_argument("--size-mb", type=float, default=500)
    parser.add_argument("--cwd", default="/home/dev/code/project-00")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    print(json.dumps(generate(args.out, args.size_mb, [args.cwd], [1.0], args.seed)))


if __name__ == "__main__":
    main()
