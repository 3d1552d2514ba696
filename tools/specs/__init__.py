"""The planner's tools: one spec per module (`base.ToolSpec`), listed here in their usual order.

Adding a tool is one module defining `SPEC` and one line below; the guard, the act node, the
planner prompt, the trace and LangChain all read the registry.
"""
from __future__ import annotations

from typing import Any, Mapping, Optional

from p2m.runfolder.context import RunContext
from . import (choose_model, evaluate, finish, generate_examples, label_inputs, load_dataset, search_datasets,
               train)
from .base import MAX_TOOL_FAILURES, ToolArgs, ToolSpec

REGISTRY: dict[str, ToolSpec] = {spec.name: spec for spec in (
    search_datasets.SPEC, load_dataset.SPEC, label_inputs.SPEC, generate_examples.SPEC, choose_model.SPEC, train.SPEC,
    evaluate.SPEC, finish.SPEC)}


def build_tools(ctx: RunContext, names: Optional[list[str]] = None) -> list[Any]:
    """LangChain tools bound to `ctx`, in the planner's usual order."""
    return [spec.as_langchain(ctx) for name, spec in REGISTRY.items() if names is None or name in names]


def offered_tools(ctx: RunContext, state: Mapping[str, Any]) -> list[Any]:
    """The calls the planner may make now: tools whose preconditions hold, with their arguments
    narrowed to what is valid now. The local backend's grammar then decodes only legal calls;
    the guard stays as the last line."""
    return [tool for spec in REGISTRY.values() if (tool := spec.offer(state, ctx)) is not None]


def tool_options(ctx: RunContext, state: Mapping[str, Any]) -> dict[str, Any]:
    """The planner's menu at a step, for the trace: the legal tools and why each other was not."""
    legal, refused = [], {}
    for name, spec in REGISTRY.items():
        why = spec.closed_because(state, ctx)
        if why is None:
            legal.append(name)
        else:
            refused[name] = why
    return {"legal": legal, "refused": refused}


__all__ = ["MAX_TOOL_FAILURES", "REGISTRY", "ToolArgs", "ToolSpec", "build_tools", "offered_tools", "tool_options"]
