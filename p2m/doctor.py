"""`p2m doctor`: which LLM would be used, where its file is, and whether it answers, in prose
and in JSON under a schema (which `response_format` an OpenAI-compatible server takes)."""
from __future__ import annotations

import time
from typing import Any, Optional

from pydantic import BaseModel

from p2m.llm.factory import default_spec, make_llm
from p2m.llm.local_model import gguf_name, sha256_file


class Ready(BaseModel):
    """The structured ping's reply."""

    ready: bool


def diagnose(spec: Optional[str] = None, ping: bool = True) -> dict[str, Any]:
    spec = spec or default_spec()
    info: dict[str, Any] = {"spec": spec, "ok": False}
    try:
        llm = make_llm(spec)
    except Exception as exc:
        info["error"] = f"{type(exc).__name__}: {exc}"
        return info
    if llm is None:
        info.update(backend="none", ok=True, note="no LLM: deterministic policy, task files only")
        return info
    info.update(llm.describe())
    if info.get("backend") == "local":
        started = time.perf_counter()
        info["sha256"] = sha256_file(llm.path)
        info["gguf_name"] = gguf_name(llm.path)
        info["sha256_ok"] = info["sha256"] == llm.expected.sha256 if llm.expected else None
        info["hash_s"] = round(time.perf_counter() - started, 2)
    if ping:
        started = time.perf_counter()
        try:
            reply = llm.text([{"role": "user", "content": "Reply with the single word: ready"}],
                             purpose="doctor", max_tokens=8)
            info["reply"] = reply.strip()
            info["answered"] = bool(reply.strip())
        except Exception as exc:
            info["answered"] = False
            info["error"] = f"{type(exc).__name__}: {exc}"
        info["ping_s"] = round(time.perf_counter() - started, 2)
        if info.get("answered"):
            _structured_ping(llm, info)
        info["ok"] = bool(info.get("answered")) and info.get("structured_ok", True)
    else:
        info["ok"] = True
    return info


def _structured_ping(llm: Any, info: dict[str, Any]) -> None:
    """One structured call: does a schema-valid reply come back, and in which mode."""
    started = time.perf_counter()
    try:
        llm.structured([{"role": "user", "content": "Are you ready? Answer in JSON."}], Ready,
                       purpose="doctor", max_tokens=20)
        info["structured_ok"] = True
    except Exception as exc:
        info["structured_ok"] = False
        info["structured_error"] = f"{type(exc).__name__}: {exc}"[:300]
    if "structured_output" in info:  # the mode the server took, after any step down
        info["structured_output"] = llm.describe()["structured_output"]
    info["structured_s"] = round(time.perf_counter() - started, 2)
