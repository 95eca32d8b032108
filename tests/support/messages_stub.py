"""A local stand-in for the Messages API (POST /v1/messages) that the real anthropic SDK talks to.

Scripted per test: queue replies (text, tool_use blocks, HTTP errors, a mid-stream error, or a callable
that builds the reply from the request); every request is recorded so tests can check what the client
sent. Streams SSE exactly as the API does and reports prompt-cache usage the way the API does: a
breakpoint (`cache_control`) whose prefix was seen before is read from the cache, a new one is written.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.support.chat import open_chat_runtime

CHARS_PER_TOKEN = 4
LOOKBACK = 20  # blocks the API looks back from a breakpoint for an earlier cache entry


@dataclass
class ToolCall:
    name: str
    input: dict[str, Any]
    id: str = field(default_factory=lambda: f"toolu_{uuid.uuid4().hex[:20]}")
    raw_json: str | None = None  # sent verbatim instead of json.dumps(input) (broken JSON tests)


@dataclass
class Reply:
    """One model answer: optional text, then tool calls (stop_reason tool_use when there are any)."""

    text: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    stop_reason: str | None = None
    chunk_delay_s: float = 0.0  # a pause before each streamed text chunk (a slow answer, to press Stop in)


@dataclass
class ErrorReply:
    status: int
    type: str
    message: str
    error_code: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    mid_stream: bool = False  # HTTP 200, then an `event: error` after message_start


Script = Reply | ErrorReply | Callable[["Recorded"], "Reply | ErrorReply"]


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    usage: dict[str, int] = field(default_factory=dict)

    @property
    def messages(self) -> list[dict[str, Any]]:
        return self.body.get("messages", [])

    @property
    def tools(self) -> list[dict[str, Any]]:
        return self.body.get("tools", [])

    def tool_results(self) -> list[dict[str, Any]]:
        """The tool_result blocks of the last user message."""
        last = self.messages[-1]["content"] if self.messages else []
        return [b for b in last if isinstance(b, dict) and b.get("type") == "tool_result"] if isinstance(last, list) else []

    def tool_data(self, name: str) -> Any:
        """The parsed result of the newest call of tool `name` in the conversation sent (text when not JSON)."""
        names: dict[str, str] = {}
        found: Any = None
        for message in self.messages:
            for block in message["content"] if isinstance(message["content"], list) else []:
                if block.get("type") == "tool_use":
                    names[block["id"]] = block["name"]
                elif block.get("type") == "tool_result" and names.get(block["tool_use_id"]) == name:
                    found = unframe(block)
        return found

    def tool_result_texts(self) -> list[str]:
        return ["".join(c.get("text", "") for c in (b.get("content") or [])) if isinstance(b.get("content"), list)
                else str(b.get("content")) for b in self.tool_results()]


def unframe(block: dict[str, Any]) -> Any:
    """A tool_result block's content without the <tool_result_data> frame, parsed as JSON when it is JSON."""
    content = block.get("content")
    text = "".join(c.get("text", "") for c in content) if isinstance(content, list) else str(content or "")
    text = re.sub(r"^<tool_result_data[^>]*>\n?|\n?</tool_result_data>$", "", text.strip())
    try:
        return json.loads(text)
    except ValueError:
        return text


def _tokens(value: Any) -> int:
    return max(1, len(json.dumps(value, ensure_ascii=False, sort_keys=True)) // CHARS_PER_TOKEN)


def _strip_cache(block: Any) -> Any:
    if isinstance(block, dict):
        return {k: _strip_cache(v) for k, v in block.items() if k != "cache_control"}
    if isinstance(block, list):
        return [_strip_cache(b) for b in block]
    return block


def _blocks(body: dict[str, Any]) -> Iterator[tuple[Any, bool]]:
    """The prompt in cache order (tools, system, messages), each block with "has a breakpoint"."""
    for tool in body.get("tools") or []:
        yield ("tool", _strip_cache(tool)), "cache_control" in tool
    system = body.get("system") or []
    if isinstance(system, str):
        system = [{"type": "text", "text": system}]
    for block in system:
        yield ("system", _strip_cache(block)), "cache_control" in block
    for i, message in enumerate(body.get("messages") or []):
        content = message.get("content")
        if isinstance(content, str):
            yield (i, message["role"], content), False
            continue
        for block in content:
            yield (i, message["role"], _strip_cache(block)), isinstance(block, dict) and "cache_control" in block


class MessagesStub:
    """The scripted server; `base_url` goes to `anthropic.Anthropic(base_url=...)`."""

    def __init__(self, *, min_cache_tokens: int = 0) -> None:
        self.script: deque[Script] = deque()
        self.requests: list[Recorded] = []
        self.failures: list[BaseException] = []
        self.min_cache_tokens = min_cache_tokens
        self._cache: set[str] = set()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="messages-stub", daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> MessagesStub:
        self._thread.start()
        return self

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # -- scripting -------------------------------------------------------------------------------

    def reply(self, *items: Script) -> MessagesStub:
        self.script.extend(items)
        return self

    def text(self, text: str) -> MessagesStub:
        return self.reply(Reply(text=text))

    def tools(self, *calls: tuple[str, dict[str, Any]] | ToolCall, text: str = "") -> MessagesStub:
        tool_calls = [c if isinstance(c, ToolCall) else ToolCall(c[0], c[1]) for c in calls]
        return self.reply(Reply(text=text, tool_calls=tool_calls))

    def error(self, status: int, type: str, message: str, *, error_code: str | None = None,
              times: int = 1, headers: dict[str, str] | None = None, mid_stream: bool = False) -> MessagesStub:
        # retry-after-ms keeps the SDK's retries fast in tests; the SDK honours it like the real header.
        hdrs = {"retry-after-ms": "5", **(headers or {})}
        for _ in range(times):
            self.reply(ErrorReply(status, type, message, error_code, hdrs, mid_stream))
        return self

    # -- accounting ------------------------------------------------------------------------------

    def _usage(self, body: dict[str, Any], output: Any) -> dict[str, int]:
        digest = hashlib.sha256()
        prefixes: list[tuple[str, int]] = []  # (hash of the prompt up to and including block i, its tokens)
        breakpoints: list[int] = []
        total = 0
        for i, (block, marked) in enumerate(_blocks(body)):
            encoded = json.dumps(block, ensure_ascii=False, sort_keys=True)
            digest.update(encoded.encode())
            total += max(1, len(encoded) // CHARS_PER_TOKEN)
            prefixes.append((digest.copy().hexdigest(), total))
            if marked and total >= self.min_cache_tokens:
                breakpoints.append(i)
        with self._lock:
            # Like the API: each breakpoint also finds an entry written up to LOOKBACK blocks before it.
            read = max((prefixes[j][1] for bp in breakpoints for j in range(max(0, bp - LOOKBACK + 1), bp + 1)
                        if prefixes[j][0] in self._cache), default=0)
            write = 0
            if breakpoints and prefixes[breakpoints[-1]][0] not in self._cache:
                write = prefixes[breakpoints[-1]][1] - read
            self._cache.update(prefixes[bp][0] for bp in breakpoints)
        return {
            "input_tokens": total - read - write,
            "output_tokens": _tokens(output),
            "cache_creation_input_tokens": write,
            "cache_read_input_tokens": read,
        }

    # -- HTTP ------------------------------------------------------------------------------------

    def _next(self, recorded: Recorded) -> Reply | ErrorReply:
        with self._lock:
            item = self.script.popleft() if self.script else None
        if item is None:
            return ErrorReply(500, "api_error", "messages stub: no scripted reply left", headers={"x-should-retry": "false"})
        if not callable(item):
            return item
        try:
            return item(recorded)
        except Exception as exc:  # a broken script must fail the test, not look like an API error to retry
            self.failures.append(exc)
            return ErrorReply(500, "api_error", f"messages stub: scripted step failed: {exc!r}", headers={"x-should-retry": "false"})

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                recorded = Recorded(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                with stub._lock:
                    stub.requests.append(recorded)
                if self.path.split("?")[0] != "/v1/messages":
                    return self._json(404, {"type": "error", "error": {"type": "not_found_error", "message": self.path}})
                reply = stub._next(recorded)
                if isinstance(reply, ErrorReply) and not reply.mid_stream:
                    error: dict[str, Any] = {"type": reply.type, "message": reply.message}
                    if reply.error_code:
                        error["details"] = {"error_code": reply.error_code}
                    return self._json(reply.status, {"type": "error", "error": error}, reply.headers)
                message = stub._message(body, reply, recorded)
                if body.get("stream"):
                    return self._sse(message, reply if isinstance(reply, ErrorReply) else None,
                                     reply.chunk_delay_s if isinstance(reply, Reply) else 0.0)
                return self._json(200, {**message, "content": [_strip_private(b) for b in message["content"]]})

            def _json(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("request-id", f"req_stub_{uuid.uuid4().hex[:12]}")
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _sse(self, message: dict[str, Any], error: ErrorReply | None, delay_s: float) -> None:
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("cache-control", "no-cache")
                self.send_header("connection", "close")
                self.end_headers()
                self.close_connection = True
                for event, data in _events(message, error):
                    if delay_s and data.get("delta", {}).get("type") == "text_delta":
                        time.sleep(delay_s)
                    self.wfile.write(f"event: {event}\ndata: {json.dumps(data)}\n\n".encode())
                    self.wfile.flush()

        return Handler

    def _message(self, body: dict[str, Any], reply: Reply | ErrorReply, recorded: Recorded) -> dict[str, Any]:
        content: list[dict[str, Any]] = []
        if isinstance(reply, Reply):
            if reply.text:
                content.append({"type": "text", "text": reply.text})
            for call in reply.tool_calls:
                content.append({"type": "tool_use", "id": call.id, "name": call.name, "input": call.input,
                                "_raw": call.raw_json})
            stop = reply.stop_reason or ("tool_use" if reply.tool_calls else "end_turn")
        else:
            stop = None
        recorded.usage = self._usage(body, [_strip_private(b) for b in content])
        return {
            "id": f"msg_stub_{uuid.uuid4().hex[:16]}",
            "type": "message",
            "role": "assistant",
            "model": body.get("model", "claude-sonnet-5-5"),
            "content": content,
            "stop_reason": stop,
            "stop_sequence": None,
            "usage": dict(recorded.usage),
        }


def _strip_private(block: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in block.items() if not k.startswith("_")}


def _chunks(text: str, size: int = 12) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def _events(message: dict[str, Any], error: ErrorReply | None) -> Iterator[tuple[str, dict[str, Any]]]:
    usage = message["usage"]
    start = {**copy.deepcopy(message), "content": [], "stop_reason": None,
             "usage": {**usage, "output_tokens": 1}}
    yield "message_start", {"type": "message_start", "message": start}
    if error is not None:
        yield "error", {"type": "error", "error": {"type": error.type, "message": error.message}}
        return
    for index, block in enumerate(message["content"]):
        if block["type"] == "text":
            yield "content_block_start", {"type": "content_block_start", "index": index,
                                          "content_block": {"type": "text", "text": ""}}
            for piece in _chunks(block["text"]):
                yield "content_block_delta", {"type": "content_block_delta", "index": index,
                                              "delta": {"type": "text_delta", "text": piece}}
        else:
            yield "content_block_start", {"type": "content_block_start", "index": index,
                                          "content_block": {"type": "tool_use", "id": block["id"],
                                                            "name": block["name"], "input": {}}}
            raw = block.get("_raw") or json.dumps(block["input"])
            for piece in _chunks(raw, 16):
                yield "content_block_delta", {"type": "content_block_delta", "index": index,
                                              "delta": {"type": "input_json_delta", "partial_json": piece}}
        yield "content_block_stop", {"type": "content_block_stop", "index": index}
    yield "message_delta", {"type": "message_delta",
                            "delta": {"stop_reason": message["stop_reason"], "stop_sequence": None},
                            "usage": {"output_tokens": usage["output_tokens"]}}
    yield "message_stop", {"type": "message_stop"}


@pytest.fixture
def messages_stub() -> Iterator[MessagesStub]:
    stub = MessagesStub().start()
    try:
        yield stub
    finally:
        stub.close()
    if stub.failures:
        raise stub.failures[0]


@pytest.fixture
def chat_runtime(tmp_path: Any, market_url: str) -> Iterator[Any]:
    """A Runtime on a fresh console DB and a private copy of the seeded demo market, on the real stdio servers."""
    runtime = open_chat_runtime(f"sqlite:///{tmp_path / 'console.db'}", market_url)
    try:
        yield runtime
    finally:
        runtime.close()
