"""`p2m serve-llm`: the embedded GGUF behind llama.cpp's OpenAI-compatible server.

Several processes (runs, the UI, `bench/retrieval.py --llm openai:local`) can then share one
loaded model through `OPENAI_BASE_URL=http://127.0.0.1:PORT/v1`. The server is
llama-cpp-python's own (FastAPI + uvicorn); this module only resolves the verified model file
and turns off the AMX repacking that crashes on some CPUs, which the server's flags cannot.
"""
from __future__ import annotations

from typing import Optional

from p2m.llm.local_llm import LocalLLM, model_params_without_extra_bufts, threads
from p2m.exposure import server_key

# Qwen's chat format with llama-cpp-python's tool-calling support; JSON mode with a schema
# (`response_format` json_object + schema) is decoded under a grammar.
CHAT_FORMAT = "chatml-function-calling"


def build_app(model: Optional[str] = None, alias: str = "local", n_ctx: int = 4096,
              n_threads: Optional[int] = None, host: str = "127.0.0.1", port: int = 8000,
              api_key: Optional[str] = None):
    """The server's ASGI app for `model` (default: the embedded GGUF, fetched and verified)."""
    try:
        from llama_cpp.server.app import create_app
        from llama_cpp.server.settings import ModelSettings, ServerSettings
    except ImportError as exc:
        raise RuntimeError("serve-llm needs llama-cpp-python's server: "
                           "pip install -e '.[local]'") from exc
    path = LocalLLM(model).path  # the file given, or the embedded one; nothing loaded yet
    model_params_without_extra_bufts()
    n = n_threads or threads()
    settings = ModelSettings(model=str(path), model_alias=alias, n_ctx=n_ctx, n_threads=n,
                             n_threads_batch=n, chat_format=CHAT_FORMAT, verbose=False)
    key = server_key(host, api_key)  # required off loopback
    return create_app(server_settings=ServerSettings(host=host, port=port, api_key=key),
                      model_settings=[settings])


def serve(model: Optional[str] = None, alias: str = "local", n_ctx: int = 4096,
          host: str = "127.0.0.1", port: int = 8000, api_key: Optional[str] = None) -> None:
    """Serve until interrupted."""
    import uvicorn

    app = build_app(model, alias=alias, n_ctx=n_ctx, host=host, port=port, api_key=api_key)
    print(f"serving {alias} at http://{host}:{port}/v1 "
          f"(use: OPENAI_BASE_URL=http://{host}:{port}/v1 p2m run --llm openai:{alias} ...)",
          flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")
