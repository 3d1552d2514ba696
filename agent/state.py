"""The agent's state: small, JSON-serialisable facts about the run, checkpointed every step.

The agent owns the keys below; every other key is owned by the tool that declares it
(`ToolSpec.state`), so the state's type, its initial value and the planner's view of the run
are built from the registry (`state_schema`, `initial_state`, `planner_lines`)."""
from __future__ import annotations

import copy
from typing import Any, Callable, Optional, TypedDict, get_type_hints

from p2m.tools.specs import REGISTRY, StateKey


class AgentState(TypedDict, total=False):
    n_train: int                   # training rows in the store
    n_test: int                    # test rows in the store
    failures: dict[str, int]       # tool -> consecutive failures
    steps: int                     # tool calls so far
    spent: dict[str, dict]         # tool -> {"runs", "llm_calls"} spent on it so far
    elapsed_s: float               # wall time spent, summed across resumes
    usage: dict[str, Any]          # LLM accounting snapshot, restored on resume
    llm_learned: dict[str, Any]    # what the LLM backend learned about its server, restored too
    proposal: Optional[dict]       # {"tool", "args", "reason", "by"} awaiting the guard
    last: Optional[dict]           # the last tool's {"tool", "summary"} for the planner
    stop_reason: Optional[str]
    done: bool


RunState = dict[str, Any]
"""A node's state: every key, the agent's and the tools' (a node typed `AgentState` would be
handed the agent's keys only: LangGraph filters a node's input by its annotation)."""

AGENT_DEFAULTS: dict[str, Any] = dict(n_train=0, n_test=0, failures={}, steps=0, spent={}, elapsed_s=0.0, usage={},
                                      proposal=None, last=None, stop_reason=None, done=False)


def tool_keys() -> dict[str, StateKey]:
    """Every registered tool's state keys, in the registry's order."""
    return {key: declared for spec in REGISTRY.values() for key, declared in spec.state.items()}


def state_schema() -> type:
    """The graph's state type: the agent's keys and every registered tool's (LangGraph keeps
    only declared keys)."""
    fields = {**get_type_hints(AgentState), **{key: Any for key in tool_keys()}}
    return TypedDict("RunState", fields, total=False)  # type: ignore[operator]


def initial_state() -> dict[str, Any]:
    """The state before the first step: the agent's defaults and every tool's."""
    defaults = {**AGENT_DEFAULTS, **{key: declared.default for key, declared in tool_keys().items()}}
    return copy.deepcopy(defaults)


def planner_lines(state: dict[str, Any], safe: Callable[[Any], str]) -> list[str]:
    """What the registered tools show the planner of their keys, one fact a line."""
    lines = []
    for key, declared in tool_keys().items():
        if declared.show is not None:
            shown = declared.show(state.get(key, declared.default), safe)
            lines.extend(shown.splitlines() if shown else [])
    return lines
