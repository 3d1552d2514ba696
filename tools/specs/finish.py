"""finish: end the run (its report is written next)."""
from __future__ import annotations

from typing import Any, Optional

from pydantic import Field

from p2m.runfolder.context import RunContext
from .base import State, ToolArgs, ToolSpec
from .generate_examples import can_generate


class FinishArgs(ToolArgs):
    reason: str = Field(default="", description="why the run ends here")


def finish(ctx: RunContext, reason: str = "") -> dict[str, Any]:
    """End the run."""
    return {"finished": True, "reason": reason or "planner chose to finish"}


def unavailable(state: State, ctx: RunContext) -> Optional[str]:
    if not state.get("history") and (state.get("n_train", 0) > 0 or can_generate(state, ctx) or
                                     (ctx.catalog and not state.get("searched"))):
        return "finishing before any model was evaluated, while data can still be had"
    return None


SPEC = ToolSpec(name="finish", run=finish, args=FinishArgs, unavailable=unavailable,
                view=lambda result: str(result.get("reason")),
                update=lambda result, args, state, ctx: {
                    "done": True, "stop_reason": state.get("stop_reason") or result["reason"]})
