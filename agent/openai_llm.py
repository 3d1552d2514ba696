"""Any OpenAI-compatible endpoint (OpenAI, vLLM, Ollama, llama.cpp server) via langchain-openai."""
from __future__ import annotations

import os
from typing import Any, Optional, Sequence

from .llm import LLM, Messages, Reply, schema_instruction


class OpenAILLM(LLM):
    """`openai:MODEL`; honours OPENAI_API_KEY and OPENAI_BASE_URL.

    Retries are ours (tenacity, in `LLM.call`), so the client's own are switched off.
    Structured calls use JSON mode plus the schema in the prompt, which OpenAI, vLLM, Ollama
    and llama.cpp's server all accept, and the reply is validated against the pydantic model.
    """

    backend = "openai"
    native_tools = True

    def __init__(self, model: str, *, base_url: Optional[str] = None, api_key: Optional[str] = None,
                 timeout: Optional[float] = None, **kwargs: Any):
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

    def _chat(self, messages: Messages, *, schema: Optional[dict] = None,
              tools: Optional[Sequence[Any]] = None, temperature: float = 0.0,
              max_tokens: int = 512, seed: int = 0) -> Reply:
        client: Any = self._client.bind(temperature=temperature, max_tokens=max_tokens, seed=seed)
        msgs = [dict(m) for m in messages]
        if tools:
            client = self._client.bind_tools(list(tools)).bind(temperature=temperature,
                                                               max_tokens=max_tokens)
        elif schema is not None:
            msgs.append({"role": "system", "content": schema_instruction(schema)})
            client = client.bind(response_format={"type": "json_object"})
        ai = client.invoke([(m["role"], m["content"]) for m in msgs])
        usage = getattr(ai, "usage_metadata", None) or {}
        content = ai.content if isinstance(ai.content, str) else str(ai.content)
        return Reply(
            content=content,
            tool_calls=[{"name": c["name"], "args": c.get("args") or {}} for c in ai.tool_calls or []],
            prompt_tokens=int(usage.get("input_tokens", 0)),
            completion_tokens=int(usage.get("output_tokens", 0)),
        )

    def describe(self) -> dict[str, Any]:
        return {"backend": self.backend, "model": self.model, "base_url": self.base_url}
