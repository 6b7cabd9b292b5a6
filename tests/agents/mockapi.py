"""A scripted mock of the providers' streaming APIs, run as its own process.

The agent CLIs under test talk to this server instead of the real API. It answers from a plan
(a JSON file): "main" requests, the ones that offer the agent its tools, get the plan's steps
in order (a tool call or a text reply, each with the usage the test chose); other requests
(title or routing calls) get the plan's "aux" reply. Every answer is appended to a JSON-lines
log with the usage sent, so the test knows the exact truth. A plan's usage is in costlog's
kinds (`input` is uncached input); each wire format is built from it as the provider does
(OpenAI's and Gemini's prompt counts include the cached part). The server is bounded: it exits
after ``max_requests`` answers or ``max_seconds``, and the test kills it by PID.

Run: python mockapi.py PLAN.json LOG.jsonl PORTFILE
"""

from __future__ import annotations

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

_LOCK = threading.Lock()


class Plan:
    def __init__(self, path: Path, log: Path) -> None:
        self.data: dict[str, Any] = json.loads(path.read_text())
        self.steps: list[dict[str, Any]] = list(self.data.get("steps", []))
        self.log = log
        self.served = 0
        self.max_requests = int(self.data.get("max_requests", 60))
        self.final: dict[str, Any] = self.data.get("final") or {"text": "Nothing more to do."}

    def next(self, main: bool) -> dict[str, Any]:
        with _LOCK:
            self.served += 1
            if not main:
                return dict(self.data.get("aux") or self.final)
            if self.steps:
                return self.steps.pop(0)
            return dict(self.final)

    def record(self, entry: dict[str, Any]) -> None:
        with _LOCK, self.log.open("a") as fh:
            fh.write(json.dumps(entry) + "\n")


def _sse(event: str | None, data: dict[str, Any]) -> bytes:
    head = f"event: {event}\n" if event else ""
    return (head + "data: " + json.dumps(data) + "\n\n").encode()


# --- Anthropic Messages ---------------------------------------------------------------


def anthropic_usage(u: dict[str, Any]) -> dict[str, Any]:
    w5 = int(u.get("cache_write_5m", 0))
    w1 = int(u.get("cache_write_1h", 0))
    return {
        "input_tokens": int(u.get("input", 0)),
        "cache_creation_input_tokens": w5 + w1,
        "cache_read_input_tokens": int(u.get("cache_read", 0)),
        "cache_creation": {"ephemeral_5m_input_tokens": w5, "ephemeral_1h_input_tokens": w1},
        "output_tokens": int(u.get("output", 0)),
        "service_tier": "standard",
    }


def anthropic_events(step: dict[str, Any], model: str, n: int) -> list[bytes]:
    usage = anthropic_usage(step.get("usage", {}))
    start_usage = dict(usage, output_tokens=1)
    msg = {
        "id": f"msg_mock{n:04d}",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": start_usage,
    }
    out = [_sse("message_start", {"type": "message_start", "message": msg})]
    blocks: list[tuple[dict[str, Any], dict[str, Any]]] = []
    text = step.get("text") or ("Running the command." if step.get("tool") else "Done.")
    blocks.append(({"type": "text", "text": ""}, {"type": "text_delta", "text": text}))
    tool = step.get("tool")
    if tool:
        blocks.append(
            (
                {"type": "tool_use", "id": f"toolu_mock{n:04d}", "name": tool["name"], "input": {}},
                {"type": "input_json_delta", "partial_json": json.dumps(tool["input"])},
            )
        )
    for i, (start, delta) in enumerate(blocks):
        out.append(
            _sse(
                "content_block_start",
                {"type": "content_block_start", "index": i, "content_block": start},
            )
        )
        out.append(
            _sse("content_block_delta", {"type": "content_block_delta", "index": i, "delta": delta})
        )
        out.append(_sse("content_block_stop", {"type": "content_block_stop", "index": i}))
    stop = "tool_use" if tool else "end_turn"
    out.append(
        _sse(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": stop, "stop_sequence": None},
                "usage": usage,
            },
        )
    )
    out.append(_sse("message_stop", {"type": "message_stop"}))
    return out


def anthropic_json(step: dict[str, Any], model: str, n: int) -> dict[str, Any]:
    content: list[dict[str, Any]] = [{"type": "text", "text": step.get("text") or "Done."}]
    tool = step.get("tool")
    if tool:
        content.append(
            {
                "type": "tool_use",
                "id": f"toolu_mock{n:04d}",
                "name": tool["name"],
                "input": tool["input"],
            }
        )
    return {
        "id": f"msg_mock{n:04d}",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": "tool_use" if tool else "end_turn",
        "stop_sequence": None,
        "usage": anthropic_usage(step.get("usage", {})),
    }


# --- OpenAI Responses -------------------------------------------------------------------


def responses_usage(u: dict[str, Any]) -> dict[str, Any]:
    # the plan counts uncached input; the wire's input_tokens includes cache reads and writes
    inp = int(u.get("input", 0)) + int(u.get("cache_read", 0)) + int(u.get("cache_write", 0))
    out = int(u.get("output", 0))
    return {
        "input_tokens": inp,
        "input_tokens_details": {
            "cached_tokens": int(u.get("cache_read", 0)),
            "cache_write_tokens": int(u.get("cache_write", 0)),
        },
        "output_tokens": out,
        "output_tokens_details": {"reasoning_tokens": int(u.get("reasoning", 0))},
        "total_tokens": inp + out,
    }


def responses_events(step: dict[str, Any], model: str, n: int) -> list[bytes]:
    rid = f"resp_mock_{n:03d}"
    base = {
        "id": rid,
        "object": "response",
        "created_at": int(time.time()),
        "model": model,
        "status": "in_progress",
        "output": [],
    }
    out = [_sse("response.created", {"type": "response.created", "response": base})]
    items: list[dict[str, Any]] = []
    tool = step.get("tool")
    if tool and tool.get("kind") == "custom":
        items.append(
            {
                "type": "custom_tool_call",
                "id": f"ctc_mock_{n:03d}",
                "status": "completed",
                "call_id": f"call_mock_{n:03d}",
                "name": tool["name"],
                "input": tool["input"],
            }
        )
    elif tool:
        items.append(
            {
                "type": "function_call",
                "id": f"fc_mock_{n:03d}",
                "status": "completed",
                "call_id": f"call_mock_{n:03d}",
                "name": tool["name"],
                "arguments": json.dumps(tool["input"]),
            }
        )
    else:
        items.append(
            {
                "type": "message",
                "id": f"msg_mock_{n:03d}",
                "status": "completed",
                "role": "assistant",
                "content": [
                    {"type": "output_text", "text": step.get("text") or "Done.", "annotations": []}
                ],
            }
        )
    for i, item in enumerate(items):
        out.append(
            _sse(
                "response.output_item.added",
                {"type": "response.output_item.added", "output_index": i, "item": item},
            )
        )
        out.append(
            _sse(
                "response.output_item.done",
                {"type": "response.output_item.done", "output_index": i, "item": item},
            )
        )
    done = dict(
        base, status="completed", output=items, usage=responses_usage(step.get("usage", {}))
    )
    out.append(_sse("response.completed", {"type": "response.completed", "response": done}))
    return out


# --- OpenAI Chat Completions ---------------------------------------------------------------


def chat_events(step: dict[str, Any], model: str, n: int) -> list[bytes]:
    u = step.get("usage", {})
    cid = f"chatcmpl-mock{n:03d}"
    head = {
        "id": cid,
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
    }
    out: list[bytes] = []
    tool = step.get("tool")
    if tool:
        delta: dict[str, Any] = {
            "role": "assistant",
            "tool_calls": [
                {
                    "index": 0,
                    "id": f"call_mock_{n:03d}",
                    "type": "function",
                    "function": {"name": tool["name"], "arguments": json.dumps(tool["input"])},
                }
            ],
        }
        finish = "tool_calls"
    else:
        delta = {"role": "assistant", "content": step.get("text") or "Done."}
        finish = "stop"
    out.append(
        _sse(None, dict(head, choices=[{"index": 0, "delta": delta, "finish_reason": None}]))
    )
    out.append(_sse(None, dict(head, choices=[{"index": 0, "delta": {}, "finish_reason": finish}])))
    inp = int(u.get("input", 0)) + int(u.get("cache_read", 0))
    outp = int(u.get("output", 0))
    usage = {
        "prompt_tokens": inp,
        "completion_tokens": outp,
        "total_tokens": inp + outp,
        "prompt_tokens_details": {"cached_tokens": int(u.get("cache_read", 0))},
        "completion_tokens_details": {"reasoning_tokens": int(u.get("reasoning", 0))},
    }
    out.append(_sse(None, dict(head, choices=[], usage=usage)))
    out.append(b"data: [DONE]\n\n")
    return out


def chat_json(step: dict[str, Any], model: str, n: int) -> dict[str, Any]:
    """A non-streamed Chat Completions answer (aider asks for commit messages this way)."""
    events = chat_events(step, model, n)
    usage = json.loads(events[-2].decode()[len("data: ") :])["usage"]
    return {
        "id": f"chatcmpl-mock{n:03d}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": step.get("text") or "Done."},
            }
        ],
        "usage": usage,
    }


# --- Gemini streamGenerateContent -------------------------------------------------------------


def gemini_events(step: dict[str, Any], model: str, n: int) -> list[bytes]:
    u = step.get("usage", {})
    tool = step.get("tool")
    parts: list[dict[str, Any]]
    if tool:
        parts = [{"functionCall": {"name": tool["name"], "args": tool["input"]}}]
    else:
        parts = [{"text": step.get("text") or "Done."}]
    prompt = int(u.get("input", 0)) + int(u.get("cache_read", 0))
    meta = {
        "promptTokenCount": prompt,
        "candidatesTokenCount": int(u.get("output", 0)),
        "cachedContentTokenCount": int(u.get("cache_read", 0)),
        "thoughtsTokenCount": int(u.get("thoughts", 0)),
        "toolUsePromptTokenCount": int(u.get("tool", 0)),
        "totalTokenCount": prompt
        + int(u.get("output", 0))
        + int(u.get("thoughts", 0))
        + int(u.get("tool", 0)),
    }
    chunk = {
        "candidates": [
            {"content": {"role": "model", "parts": parts}, "finishReason": "STOP", "index": 0}
        ],
        "usageMetadata": meta,
        "modelVersion": model,
        "responseId": f"mock{n:03d}",
    }
    return [_sse(None, chunk)]


class Handler(BaseHTTPRequestHandler):
    plan: Plan
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            data = json.loads(raw or b"{}")
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    def _send(self, status: int, body: bytes, ctype: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _refuse_proxied(self) -> bool:
        """As a proxy (HTTPS_PROXY points here) refuse every outside host: the client under
        test must never reach the internet. Logged, so a test can say what it tried."""
        if self.command == "CONNECT" or self.path.startswith(("http://", "https://")):
            self.plan.record({"method": self.command, "path": self.path, "refused": True})
            self._send(403, b"outside hosts are refused in this test", "text/plain")
            self.close_connection = True
            return True
        return False

    def do_CONNECT(self) -> None:
        self._refuse_proxied()

    def do_GET(self) -> None:
        if self._refuse_proxied():
            return
        self.plan.record({"method": "GET", "path": self.path, "served": False})
        if "models" in self.path:
            body = {"object": "list", "data": [], "models": []}
            self._send(200, json.dumps(body).encode(), "application/json")
            return
        self._send(404, b"{}", "application/json")

    def do_HEAD(self) -> None:
        self._send(200, b"", "text/plain")

    def do_POST(self) -> None:
        body = self._body()
        if self._refuse_proxied():
            return
        path = self.path.split("?")[0]
        plan = self.plan
        if plan.served >= plan.max_requests:
            self._send(429, b'{"error": "mock request bound reached"}', "application/json")
            return
        if path.endswith("/messages/count_tokens"):
            self._send(200, b'{"input_tokens": 100}', "application/json")
            return
        if path.endswith("/messages"):
            kind = "anthropic"
            tools = [t.get("name") for t in body.get("tools") or [] if isinstance(t, dict)]
            main = "bash" in [str(t).lower() for t in tools]  # Claude Code's Bash, OpenCode's bash
        elif path.endswith("/responses"):
            kind = "responses"
            main = True  # Codex makes no side calls here; in code mode its tools list is empty
        elif path.endswith("/chat/completions"):
            kind = "chat"
            # aider offers no tools: its main model's calls are main, its weak model's
            # (commit messages) are not
            aux_models = plan.data.get("aux_models", [])
            main = bool(body.get("tools")) or (
                plan.data.get("chat_all_main", False) and body.get("model") not in aux_models
            )
        elif ":streamGenerateContent" in path or ":generateContent" in path:
            kind = "gemini"
            main = bool(body.get("tools"))
        else:
            plan.record({"method": "POST", "path": path, "served": False})
            self._send(404, b"{}", "application/json")
            return
        step = plan.next(main)
        n = plan.served
        model = step.get("model") or body.get("model") or plan.data.get("model", "mock")
        if kind == "gemini":
            model = path.rsplit("/", 1)[-1].split(":")[0]
        plan.record(
            {
                "method": "POST",
                "path": path,
                "served": True,
                "kind": kind,
                "main": main,
                "n": n,
                "model": model,
                "usage": step.get("usage", {}),
                "tool": step.get("tool"),
                "time": time.time(),
            }
        )
        # the APIs stream only when asked ("stream": true); Gemini says so in the path
        stream = bool(body.get("stream")) if kind != "gemini" else "stream" in path.lower()
        if kind == "anthropic" and not stream:
            self._send(200, json.dumps(anthropic_json(step, model, n)).encode(), "application/json")
            return
        if kind == "chat" and not stream:
            self._send(200, json.dumps(chat_json(step, model, n)).encode(), "application/json")
            return
        if kind == "gemini" and not stream:
            chunk = json.loads(gemini_events(step, model, n)[0].decode()[len("data: ") :])
            self._send(200, json.dumps(chunk).encode(), "application/json")
            return
        events = {
            "anthropic": anthropic_events,
            "responses": responses_events,
            "chat": chat_events,
            "gemini": gemini_events,
        }[kind](step, model, n)
        payload = b"".join(events)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("x-request-id", f"req_mock{n:04d}")
        self.end_headers()
        self.wfile.write(payload)


def main() -> None:
    plan_path, log_path, port_file = (Path(a) for a in sys.argv[1:4])
    plan = Plan(plan_path, log_path)
    Handler.plan = plan
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    port_file.write_text(str(server.server_address[1]))
    limit = float(plan.data.get("max_seconds", 240))
    threading.Timer(limit, lambda: threading.Thread(target=server.shutdown).start()).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
