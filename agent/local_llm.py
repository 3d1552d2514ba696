"""`local` / `local:PATH.gguf`: the embedded LLM, llama.cpp in process.

The model loads once per process and is shared by every LLMs made for it. Structured calls
are decoded under a grammar compiled from the pydantic model's JSON schema, so even a 0.5B
model returns parseable output.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any, Optional, Sequence

from .llm import LLM, Messages, Reply
from .local_model import ModelFile, resolve_model

_MODELS: dict[tuple[str, int, int], Any] = {}
_LOAD_LOCK = threading.Lock()
_CALL_LOCK = threading.Lock()  # llama.cpp contexts are not thread-safe


def threads() -> int:
    return max(1, int(os.environ.get("P2M_THREADS", "1")))


def load_llama(path: Path, n_ctx: int = 4096, n_threads: Optional[int] = None) -> Any:
    """The llama.cpp model for `path`, loaded once per process."""
    n_threads = n_threads or threads()
    key = (str(path), n_ctx, n_threads)
    with _LOAD_LOCK:
        if key not in _MODELS:
            try:
                from llama_cpp import Llama
            except ImportError as exc:
                raise RuntimeError(
                    "the local LLM needs llama-cpp-python: pip install -e '.[local]'"
                ) from exc
            llama = Llama(model_path=str(path), n_ctx=n_ctx, n_threads=n_threads,
                          n_threads_batch=n_threads, verbose=False, seed=0)
            _MODELS[key] = llama
        return _MODELS[key]


def model_params_without_extra_bufts() -> None:
    """Turn off llama.cpp's extra buffer types (AMX/repacked weights) for every model loaded.

    On CPUs with AMX the repacking crashes on any prompt longer than one token, and the
    Python binding exposes no argument for it; the field lives in llama_model_params.
    """
    import llama_cpp.llama_cpp as bindings  # the module Llama.__init__ reads its defaults from

    original = bindings.llama_model_default_params
    if getattr(original, "_p2m_patched", False):
        return

    def params():  # type: ignore[no-untyped-def]
        p = original()
        if hasattr(p, "use_extra_bufts"):
            p.use_extra_bufts = False
        return p

    params._p2m_patched = True  # type: ignore[attr-defined]
    bindings.llama_model_default_params = params


class LocalLLM(LLM):
    backend = "local"
    native_tools = False

    def __init__(self, path: Optional[str] = None, n_ctx: int = 4096, **kwargs: Any):
        super().__init__(**kwargs)
        if path:
            self.path = Path(path).expanduser()
            if not self.path.is_file():
                raise FileNotFoundError(f"local model file not found: {self.path}")
            self.source = "argument"
        else:
            self.path, self.source = resolve_model(ModelFile())
        self.model = self.path.name
        self.n_ctx = n_ctx
        self._llama: Any = None

    @property
    def llama(self) -> Any:
        if self._llama is None:
            model_params_without_extra_bufts()
            self._llama = load_llama(self.path, self.n_ctx)
        return self._llama

    def _chat(self, messages: Messages, *, schema: Optional[dict] = None,
              tools: Optional[Sequence[Any]] = None, temperature: float = 0.0,
              max_tokens: int = 512, seed: int = 0) -> Reply:
        kwargs: dict[str, Any] = dict(messages=messages, temperature=temperature,
                                      max_tokens=max_tokens, seed=seed)
        if schema is not None:
            kwargs["response_format"] = {"type": "json_object", "schema": schema}
        with _CALL_LOCK:
            out = self.llama.create_chat_completion(**kwargs)
        usage = out.get("usage") or {}
        return Reply(content=out["choices"][0]["message"].get("content") or "",
                     prompt_tokens=int(usage.get("prompt_tokens", 0)),
                     completion_tokens=int(usage.get("completion_tokens", 0)))

    def describe(self) -> dict[str, Any]:
        return {"backend": self.backend, "model": self.model, "path": str(self.path),
                "source": self.source, "threads": threads()}
