"""The planner's tools: one spec per module (`base.ToolSpec`), listed here in their usual order.

Adding a tool is one module defining `SPEC` and one line below (or `register(SPEC)` from
anywhere); the guard, the act node, the agent's state, the planner prompt, the trace and
LangChain all read the registry.
"""
from __future__ import annotations

from typing import Any, Mapping, Optional

from p2m.runfolder.context import RunContext
from . import (choose_model, evaluate, finish, generate_examples, label_inputs, load_dataset, search_datasets,
               train)
from .base import MAX_TOOL_FAILURES, StateKey, ToolArgs, ToolSpec

REGISTRY: dict[str, ToolSpec] = {spec.name: spec for spec in (
    search_datasets.SPEC, load_dataset.SPEC, label_inputs.SPEC, generate_examples.SPEC, choose_model.SPEC, train.SPEC,
    evaluate.SPEC, finish.SPEC)}


def register(spec: ToolSpec, before: str = "finish") -> ToolSpec:
    """Add a tool to the registry, placed before `before` in the usual order (the end when that
    tool is not registered); a name already taken, or a state key another tool owns, is an error."""
    if spec.name in REGISTRY:
        raise ValueError(f"a tool named {spec.name!r} is already registered")
    owned = {key: name for name, other in REGISTRY.items() for key in other.state}
    clash = sorted(set(spec.state) & set(owned))
    if clash:
        raise ValueError(f"{spec.name}: state key {clash[0]!r} is owned by {owned[clash[0]]}")
    items = list(REGISTRY.items())
    at = next((i for i, (name, _) in enumerate(items) if name == before), len(items))
    items.insert(at, (spec.name, spec))
    REGISTRY.clear()
    REGISTRY.update(items)
    return spec


def unregister(name: str) -> None:
    """Remove a registered tool (a plugin unloaded, a test's tool)."""
    REGISTRY.pop(name, None)


def usual_order() -> str:
    """The registry's order as the planner prompt gives it: each tool with its condition."""
    return ", ".join(f"{name} ({spec.when})" if spec.when else name for name, spec in REGISTRY.items())


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


__all__ = ["MAX_TOOL_FAILURES", "REGISTRY", "StateKey", "ToolArgs", "ToolSpec", "build_tools", "offered_tools",
           "register", "tool_options", "unregister", "usual_order"]
