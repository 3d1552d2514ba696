"""One factory for every `--llm SPEC`."""
from __future__ import annotations

import os
from typing import Any, Optional

from p2m.llm.llm import LLM
from p2m.llm.local_model import installed, model_file
from p2m.llm.openai_llm import OpenAILLM
from p2m.llm.local_llm import LocalLLM
from p2m.llm.scripted_llm import ScriptedLLM


class LLMSpecError(ValueError):
    """An `--llm` value that names no backend."""


def default_spec() -> str:
    """`openai:gpt-4o-mini` when an endpoint is configured, else the embedded local model."""
    if os.environ.get("OPENAI_API_KEY") or os.environ.get("OPENAI_BASE_URL"):
        return "openai:" + os.environ.get("P2M_OPENAI_MODEL", "gpt-4o-mini")
    return "local"


def teacher_spec(llm_spec: Optional[str], teacher: Optional[str] = None) -> Optional[str]:
    """The teacher's spec (it labels, verifies and is scored as a baseline): `teacher` when given;
    for the embedded 0.5B (`local`, `local:0.5b`) the embedded 1.5B when its files are installed
    (a far better labeller: see docs/backends.md); otherwise the run's own LLM."""
    if teacher:
        return teacher
    spec = (llm_spec or default_spec()).strip().lower()
    if spec in ("local", "local:0.5b"):
        return "local:1.5b" if installed(model_file("1.5b")) else llm_spec
    return llm_spec


def run_teacher(config: Any) -> Optional[LLM]:
    """A run's teacher, as its RunConfig names it (the run's own LLM unless `teacher` is set);
    None for a run without an LLM (`--llm none`)."""
    return None if config.llm in (None, "none") else make_llm(config.teacher or config.llm)


def make_llm(spec: Optional[str], **kwargs: Any) -> Optional[LLM]:
    """The LLM for `spec`; None for `none` (deterministic policy, nothing generated).

    Specs: openai:MODEL | local[:0.5b|1.5b|PATH.gguf] | scripted:FILE | none.
    kwargs (usage, cache, max_calls) are passed to the backend.
    """
    spec = (spec or default_spec()).strip()
    kind, _, arg = spec.partition(":")
    if kind == "none":
        return None
    if kind == "openai":
        if not arg:
            raise LLMSpecError("openai backend needs a model name: --llm openai:MODEL")

        return OpenAILLM(arg, **kwargs)
    if kind == "local":
        return LocalLLM(arg or None, **kwargs)
    if kind == "scripted":
        if not arg:
            raise LLMSpecError("scripted backend needs a file: --llm scripted:FILE")

        return ScriptedLLM.from_file(arg, **kwargs)
    raise LLMSpecError(
        f"unknown LLM spec {spec!r}; expected openai:MODEL, local[:0.5b|1.5b|PATH.gguf], scripted:FILE or none"
    )
