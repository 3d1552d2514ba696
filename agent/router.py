"""Where the run goes next, and every reason it stops: budgets, the target, the iteration cap."""
from __future__ import annotations

from typing import Optional

from p2m.runfolder.context import RunContext
from p2m.agent.state import AgentState, RunState
from p2m.tools.specs import REGISTRY
from p2m.tools.specs.evaluate import target_met


def budget_stop(state: AgentState, ctx: RunContext) -> Optional[str]:
    """The budget that is spent, if any (a hard stop: checked before every planner decision)."""
    b = ctx.config.budget
    if state.get("elapsed_s", 0.0) >= b.max_wall_s:
        return f"max wall time ({b.max_wall_s:.0f} s)"
    if state.get("steps", 0) >= b.max_steps:
        return f"max tool calls ({b.max_steps})"
    if ctx.llm is not None and ctx.llm.usage.calls >= b.max_llm_calls:
        return f"max LLM calls ({b.max_llm_calls})"
    if ctx.llm is not None and b.max_cost_usd is not None and ctx.llm.usage.cost_usd >= b.max_cost_usd:
        return f"max cost (${b.max_cost_usd:.2f})"
    return None


def score_before_stopping(state: AgentState, ctx: RunContext) -> bool:
    """With a budget spent, whether one evaluation still runs first: a model was trained and not
    yet scored (without it, the last training would count for nothing), once."""
    last = (state.get("last") or {}).get("tool")
    return bool(state.get("needs_eval")) and last != "evaluate" and \
        REGISTRY["evaluate"].unavailable(state, ctx) is None


def stop_after_evaluation(state: AgentState, ctx: RunContext) -> Optional[str]:
    """Why the run ends after an evaluation: the target is met or the iterations are used up."""
    if target_met(state, ctx):
        return "target met"
    if len(state.get("history", [])) >= ctx.config.budget.max_iterations:
        return f"max iterations ({ctx.config.budget.max_iterations})"
    return None


def after_act(state: RunState) -> str:
    return "report" if state.get("done") else "planner"
