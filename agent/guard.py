"""The guard: the last check of a proposed tool call, against the tool's own spec."""
from __future__ import annotations

from typing import Any, Optional

from p2m.runfolder.context import RunContext
from p2m.tools.specs import REGISTRY
from p2m.agent.state import AgentState


def check(proposal: dict[str, Any], state: AgentState, ctx: RunContext) -> Optional[str]:
    """Why `proposal` must not run, or None when it may."""
    tool, args = proposal.get("tool"), proposal.get("args") or {}
    spec = REGISTRY.get(tool)  # type: ignore[arg-type]
    if spec is None:
        return f"unknown tool {tool!r}"
    last = state.get("last") or {}
    if not spec.repeatable and tool == last.get("tool") and args == last.get("args"):
        # A weak planner whose prompt did not change repeats itself (its reply is even cached).
        return f"repeats the previous {tool} call with the same arguments"
    return spec.why_not(args, state, ctx)
