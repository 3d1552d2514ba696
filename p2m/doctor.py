"""`p2m doctor`: which LLM would be used, where its file is, and whether it answers."""
from __future__ import annotations

import time
from typing import Any, Optional

from .agent.factory import default_spec, make_llm


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
        from .agent.local_model import ModelFile, sha256_file

        started = time.perf_counter()
        info["sha256"] = sha256_file(llm.path)
        info["sha256_ok"] = info["sha256"] == ModelFile().sha256 if info.get("source") != "argument" else None
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
        info["ok"] = bool(info.get("answered"))
    else:
        info["ok"] = True
    return info
