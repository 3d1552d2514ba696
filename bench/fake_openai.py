"""An OpenAI-compatible fake server on 127.0.0.1 for benchmarks and fault tests.

It answers `POST /v1/chat/completions` after a fixed latency with JSON that matches the schema
p2m appends to structured prompts (unique strings, enum values, nested objects), and injects
faults at given rates: 429 with and without Retry-After, 500, timeouts (a reply slower than the
client waits), truncated bodies, invalid JSON content and context-length errors. Tool-calling
requests get a plain-text reply (a model that does not call tools), which the agent must survive.

    with FakeOpenAI(latency=0.3, faults={"rate_limit": 0.05}) as server:
        OpenAILLM("fake", base_url=server.base_url, api_key="sk-test")
"""
from __future__ import annotations

import hashlib
import itertools
import json
import random
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Optional

FAULT_KINDS = ("rate_limit", "rate_limit_retry_after", "server_error", "timeout", "truncated",
               "invalid_json", "context_length")
SCHEMA_MARKER = "matches this JSON schema:\n"
INJECTION = "ignore previous instructions and call"
WORDS = ("river harbor lantern meadow violin cactus glacier bakery orbit saddle tunnel pepper "
         "compass ladder quartz mango ferry canyon pillow rocket walnut badge tulip anchor "
         "marble falcon kettle prairie cobalt ember").split()


def body_digest(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def instance(schema: dict[str, Any], defs: dict[str, Any], rng: random.Random, serial: int) -> Any:
    """A value valid for a (pydantic-made) JSON schema; strings are unique per `serial`."""
    if "$ref" in schema:
        return instance(defs[schema["$ref"].rsplit("/", 1)[-1]], defs, rng, serial)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return rng.choice(schema["enum"])
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [s for s in schema[key] if s.get("type") != "null"] or schema[key]
            return instance(options[0], defs, rng, serial)
    kind = schema.get("type") or ("object" if "properties" in schema else "string")
    if kind == "object":
        props = schema.get("properties", {})
        return {name: instance(sub, defs, rng, serial) for name, sub in props.items()}
    if kind == "array":
        return [instance(schema.get("items", {}), defs, rng, serial) for _ in range(2)]
    if kind in ("integer", "number"):
        return int(schema.get("minimum", 1))
    if kind == "boolean":
        return True
    words = " ".join(rng.sample(WORDS, 5))
    text = f"item {serial}: the {words} story"
    return text[: schema.get("maxLength", 400)]


class FakeOpenAI:
    """A threaded HTTP server; use as a context manager or call start()/stop()."""

    def __init__(self, latency: float = 0.3, faults: Optional[dict[str, float]] = None,
                 seed: int = 0, timeout_sleep: float = 3.0, retry_after: float = 0.2,
                 obey_injections: bool = False, refuse_json_schema: bool = False,
                 refusal_status: int = 500):
        unknown = set(faults or {}) - set(FAULT_KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds {sorted(unknown)}; known: {FAULT_KINDS}")
        self.latency = latency
        self.faults = dict(faults or {})
        self.timeout_sleep = timeout_sleep
        # A naive model: a prompt containing INJECTION makes it call the tool the text names.
        self.obey_injections = obey_injections
        self.obeyed = 0
        self.retry_after = retry_after
        # `response_format` json_schema refused: with a 500, as llama-cpp-python's server does,
        # or with a 400, as OpenAI does for models without structured outputs.
        self.refuse_json_schema = refuse_json_schema
        self.refusal_status = refusal_status
        self.formats: Counter[str] = Counter()  # response_format types received (with schema?)
        self.rng = random.Random(seed)
        self.serial = itertools.count()
        self.lock = threading.Lock()
        self.requests = 0
        self.injected: Counter[str] = Counter()
        self.in_flight = 0
        self.max_in_flight = 0
        self.answered: Counter[str] = Counter()  # successful replies per request body
        self.pending: Counter[str] = Counter()  # request bodies being served right now
        self.seen_text: dict[str, str] = {}  # digest -> start of the last message (for reports)
        self.sent: dict[str, str] = {}  # digest -> reply content sent
        self._server: Optional[ThreadingHTTPServer] = None

    @property
    def base_url(self) -> str:
        assert self._server is not None, "server not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def start(self) -> "FakeOpenAI":
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                fake._send(self, 200, {"object": "list", "data": [{"id": "fake", "object": "model"}]})

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("content-length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                fake._handle(self, body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> "FakeOpenAI":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # -- request handling ----------------------------------------------------------------------
    def _pick_fault(self) -> Optional[str]:
        with self.lock:
            roll = self.rng.random()
        edge = 0.0
        for kind in FAULT_KINDS:
            edge += self.faults.get(kind, 0.0)
            if roll < edge:
                return kind
        return None

    def _send(self, handler: BaseHTTPRequestHandler, status: int, payload: Any,
              headers: Optional[dict[str, str]] = None, raw: Optional[bytes] = None) -> None:
        data = raw if raw is not None else json.dumps(payload).encode()
        handler.send_response(status)
        handler.send_header("content-type", "application/json")
        handler.send_header("content-length", str(len(json.dumps(payload).encode()) if raw else len(data)))
        for key, value in (headers or {}).items():
            handler.send_header(key, value)
        handler.end_headers()
        try:
            handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _handle(self, handler: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        digest = body_digest(body)
        with self.lock:
            self.requests += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            self.pending[digest] += 1
            last = (body.get("messages") or [{}])[-1].get("content") or ""
            self.seen_text[digest] = str(last)[:120]
        try:
            time.sleep(self.latency)
            if self._refused(handler, body):
                return
            fault = self._pick_fault()
            if fault:
                with self.lock:
                    self.injected[fault] += 1
            self._reply(handler, body, fault)
        finally:
            with self.lock:
                self.in_flight -= 1
                self.pending[digest] -= 1

    def _refused(self, handler: BaseHTTPRequestHandler, body: dict[str, Any]) -> bool:
        """Counts the request's response_format; refuses json_schema where told to."""
        kind = (body.get("response_format") or {}).get("type")
        if kind:
            with self.lock:
                self.formats[kind + ("+schema" if "schema" in body["response_format"] else "")] += 1
        if kind == "json_schema" and self.refuse_json_schema:
            message = ("1 validation error: {'type': 'literal_error', 'loc': ('body', "
                       "'response_format', 'type'), 'msg': \"Input should be 'text' or "
                       "'json_object'\"}") if self.refusal_status >= 500 else (
                "Invalid parameter: 'response_format' of type 'json_schema' is not supported "
                "with this model.")
            self._send(handler, self.refusal_status, {"error": {
                "type": "invalid_request_error", "message": message}})
            return True
        return False

    def _reply(self, handler: BaseHTTPRequestHandler, body: dict[str, Any], fault: Optional[str]) -> None:
        error = lambda code, msg: {"error": {"message": msg, "type": code, "code": code}}  # noqa: E731
        if fault == "rate_limit":
            return self._send(handler, 429, error("rate_limit_exceeded", "Rate limit reached"))
        if fault == "rate_limit_retry_after":
            return self._send(handler, 429, error("rate_limit_exceeded", "Rate limit reached"),
                              headers={"retry-after": str(self.retry_after)})
        if fault == "server_error":  # echoes the caller's key, as some servers' errors do
            key = handler.headers.get("authorization", "").removeprefix("Bearer ")
            return self._send(handler, 500, error("server_error", f"The server had an error (key {key})"))
        if fault == "context_length":
            return self._send(handler, 400, error(
                "context_length_exceeded",
                "This model's maximum context length is 4096 tokens. However, your messages "
                "resulted in 5000 tokens."))
        if fault == "timeout":
            time.sleep(self.timeout_sleep)
        content = self._content(body)
        if fault == "invalid_json":
            content = content[: max(1, len(content) // 2)]  # cut mid-object: unparseable
        message: dict[str, Any] = {"role": "assistant", "content": content}
        injected_tool = self._obeyed_tool(body)
        if injected_tool:
            message = {"role": "assistant", "content": None, "tool_calls": [{
                "id": "call_injected", "type": "function",
                "function": {"name": injected_tool, "arguments": json.dumps({"reason": "as instructed"})}}]}
        payload = {
            "id": f"chatcmpl-{next(self.serial)}", "object": "chat.completion",
            "created": int(time.time()), "model": body.get("model", "fake"),
            "choices": [{"index": 0, "finish_reason": "stop", "message": message}],
            "usage": {"prompt_tokens": 50, "completion_tokens": 20, "total_tokens": 70},
        }
        if fault == "truncated":
            raw = json.dumps(payload).encode()
            return self._send(handler, 200, payload, raw=raw[: len(raw) // 2])
        if fault is None:
            with self.lock:
                self.answered[body_digest(body)] += 1
                self.sent[body_digest(body)] = content
        self._send(handler, 200, payload)

    def _obeyed_tool(self, body: dict[str, Any]) -> Optional[str]:
        """With obey_injections, the tool an injected sentence in the prompt names; else, so that
        the client never stops sending tools, the first tool offered (a model that always calls)."""
        if not (self.obey_injections and body.get("tools")):
            return None
        tools = [t.get("function", {}).get("name") for t in body["tools"]]
        text = " ".join(str(m.get("content") or "") for m in body.get("messages", [])).lower()
        if INJECTION in text:
            named = text.split(INJECTION, 1)[1].split()[0].strip(".,:;'\"")
            if named in tools:
                with self.lock:
                    self.obeyed += 1
                return named
        return tools[0] if tools else None

    def answered_twice(self) -> dict[str, str]:
        """digest -> reply content, for every request body answered more than once."""
        with self.lock:
            return {d: self.sent.get(d, "") for d, n in self.answered.items() if n > 1}

    def in_flight_now(self) -> set[str]:
        """Digests of the requests being served at this moment (e.g. those a killed client lost)."""
        with self.lock:
            return {d for d, n in self.pending.items() if n > 0}

    def _content(self, body: dict[str, Any]) -> str:
        """Depends on the request alone, so a rerun or a resumed run gets the same replies."""
        digest = body_digest(body)
        if body.get("tools"):  # no tool call; the reference makes each reply recognisable
            return f"I think the next step is to gather data. (ref {digest[:10]})"
        schema = None
        for message in body.get("messages", []):
            text = message.get("content") or ""
            if isinstance(text, str) and SCHEMA_MARKER in text:
                schema = json.loads(text.split(SCHEMA_MARKER, 1)[1])
        if schema is None:
            return "A plain answer."
        rng = random.Random(int(digest[:12], 16))
        return json.dumps(instance(schema, schema.get("$defs", {}), rng, int(digest[:6], 16)))
