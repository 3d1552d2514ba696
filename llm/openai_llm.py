"""Any OpenAI-compatible endpoint (OpenAI, vLLM, Ollama, llama.cpp server) via langchain-openai."""
from __future__ import annotations

import os
import threading
import warnings
from typing import Any, Optional, Sequence

from p2m.llm.llm import LLM, Messages, Reply, schema_instruction
from p2m.llm.retry import LLMOutputError

# How a structured call asks the server for JSON, strictest first. `json_schema` is OpenAI's
# structured output (also vLLM, Ollama, llama.cpp's C++ server); `json_object_schema` is JSON
# mode carrying the schema (llama-cpp-python's server, which refuses json_schema); `json_object`
# is plain JSON mode, the schema only in the prompt. Constrained decoding matters for small
# models: in plain JSON mode Qwen2.5-0.5B answered a one-field schema with other keys.
STRUCTURED_MODES = ("json_schema", "json_object_schema", "json_object")


# How the planner's tool call is asked for: `native` tool calling, a `json` decision object
# decoded under a schema (as the embedded model does), or `auto`: native until a reply comes
# back without a tool call, then json for the rest of this LLM's calls. llama-cpp-python's
# server, for one, answers small models' tool requests with no tool call.
TOOL_CALLING = ("auto", "native", "json")


# langchain-openai warns, pointing at with_structured_output, when a model refuses json_schema;
# here the refusal is expected and handled (the next mode is tried), so the warning only misleads.
warnings.filterwarnings("ignore", message="This model does not support OpenAI's structured output",
                        category=UserWarning)


def response_format(mode: str, schema: dict[str, Any]) -> dict[str, Any]:
    """The `response_format` request field for a structured-output mode."""
    if mode == "json_schema":
        return {"type": "json_schema",
                "json_schema": {"name": "reply", "schema": schema, "strict": False}}
    if mode == "json_object_schema":
        return {"type": "json_object", "schema": schema}
    return {"type": "json_object"}


def refuses_response_format(exc: BaseException) -> bool:
    """Whether a failed request was the server rejecting the `response_format` it was sent."""
    status = getattr(exc, "status_code", None) or getattr(getattr(exc, "response", None),
                                                          "status_code", None)
    text = str(exc).lower()
    return status in (400, 422, 500) and ("response_format" in text or "json_schema" in text)


class OpenAILLM(LLM):
    """`openai:MODEL`; honours OPENAI_API_KEY and OPENAI_BASE_URL.

    Retries are ours (tenacity, in `LLM.call`), so the client's own are switched off.
    Structured calls send the schema in the prompt and as `response_format`, so servers that
    constrain decoding do; `structured_output` (or P2M_OPENAI_STRUCTURED) picks the mode, and
    `auto` starts with the strictest and steps down, once per LLM, when a server refuses it.
    The reply is validated against the pydantic model either way.
    """

    backend = "openai"
    native_tools = True

    def __init__(self, model: str, *, base_url: Optional[str] = None, api_key: Optional[str] = None,
                 timeout: Optional[float] = None, structured_output: Optional[str] = None,
                 tool_calling: Optional[str] = None, **kwargs: Any):
        if os.environ.get("P2M_LLM_MAX_WAIT"):
            kwargs.setdefault("retry_max_wait", float(os.environ["P2M_LLM_MAX_WAIT"]))
        super().__init__(**kwargs)
        # Seconds to wait for one reply (P2M_LLM_TIMEOUT, default 120); a slower reply is a timeout fault.
        timeout = timeout or float(os.environ.get("P2M_LLM_TIMEOUT", "120"))
        from langchain_openai import ChatOpenAI

        self.model = model
        self.base_url = base_url or os.environ.get("OPENAI_BASE_URL") or None
        key = api_key or os.environ.get("OPENAI_API_KEY") or ("not-needed" if self.base_url else None)
        if not key:
            raise ValueError("openai backend: set OPENAI_API_KEY (or OPENAI_BASE_URL for a local server)")
        self._client = ChatOpenAI(model=model, base_url=self.base_url, api_key=key,
                                  max_retries=0, timeout=timeout)
        mode = structured_output or os.environ.get("P2M_OPENAI_STRUCTURED") or "auto"
        if mode != "auto" and mode not in STRUCTURED_MODES:
            raise ValueError(f"structured output mode {mode!r}: use auto or one of "
                             f"{', '.join(STRUCTURED_MODES)}")
        self.structured_output = mode
        self._modes = list(STRUCTURED_MODES) if mode == "auto" else [mode]
        self._modes_lock = threading.Lock()
        calling = tool_calling or os.environ.get("P2M_OPENAI_TOOLS") or "auto"
        if calling not in TOOL_CALLING:
            raise ValueError(f"tool calling mode {calling!r}: use one of {', '.join(TOOL_CALLING)}")
        self.tool_calling = calling
        self._native_failed = False

    def _chat(self, messages: Messages, *, schema: Optional[dict] = None,
              tools: Optional[Sequence[Any]] = None, temperature: float = 0.0,
              max_tokens: int = 512, seed: int = 0) -> Reply:
        client: Any = self._client.bind(temperature=temperature, max_tokens=max_tokens, seed=seed)
        msgs = [dict(m) for m in messages]
        if tools:  # tool_choice stated: some servers (llama-cpp-python) ignore tools without it
            client = self._client.bind_tools(list(tools), tool_choice="auto").bind(
                temperature=temperature, max_tokens=max_tokens)
        elif schema is not None:
            msgs.append({"role": "system", "content": schema_instruction(schema)})
            return self._structured_chat(client, msgs, schema)
        return self._reply(client.invoke([(m["role"], m["content"]) for m in msgs]))

    def propose_tool(self, messages: Messages, tools: Sequence[Any]) -> dict[str, Any]:
        """Native tool calling, or a schema-decoded decision where the server's tool calling
        returned no call (see TOOL_CALLING)."""
        if self.tool_calling == "json" or self._native_failed:
            return self._propose_by_schema(messages, tools)
        try:
            return self._propose_natively(messages, tools)
        except LLMOutputError:
            if self.tool_calling == "native":
                raise
            self._native_failed = True
            return self._propose_by_schema(messages, tools)

    def _structured_chat(self, client: Any, msgs: list[dict[str, Any]],
                         schema: dict[str, Any]) -> Reply:
        """A structured call in the strictest mode the server takes; a refused mode is dropped
        for the rest of this LLM's calls (other faults go to the caller's retries)."""
        while True:
            modes = list(self._modes)
            mode = modes[0]
            if mode == "json_schema" and schema.get("type") != "object" and len(modes) > 1:
                mode = modes[1]  # OpenAI's structured outputs take an object at the root only
            try:
                ai = client.bind(response_format=response_format(mode, schema)).invoke(
                    [(m["role"], m["content"]) for m in msgs])
                return self._reply(ai)
            except Exception as exc:
                if not refuses_response_format(exc):
                    raise
                with self._modes_lock:  # concurrent calls: drop each refused mode once
                    if mode in self._modes:
                        if len(self._modes) == 1:
                            raise
                        self._modes.remove(mode)

    @staticmethod
    def _reply(ai: Any) -> Reply:
        usage = getattr(ai, "usage_metadata", None) or {}
        content = ai.content if isinstance(ai.content, str) else str(ai.content)
        return Reply(
            content=content,
            tool_calls=[{"name": c["name"], "args": c.get("args") or {}} for c in ai.tool_calls or []],
            prompt_tokens=int(usage.get("input_tokens", 0)),
            completion_tokens=int(usage.get("output_tokens", 0)),
        )

    def learned(self) -> dict[str, Any]:
        return {"modes": list(self._modes), "native_failed": self._native_failed}

    def relearn(self, learned: Optional[dict[str, Any]]) -> None:
        if not learned:
            return
        with self._modes_lock:
            modes = [m for m in learned.get("modes", []) if m in self._modes]
            self._modes = modes or self._modes
        self._native_failed = bool(learned.get("native_failed", self._native_failed))

    def describe(self) -> dict[str, Any]:
        return {"backend": self.backend, "model": self.model, "base_url": self.base_url,
                "structured_output": self._modes[0] if self.structured_output == "auto"
                else self.structured_output,
                "tool_calling": "json" if self._native_failed else self.tool_calling}
