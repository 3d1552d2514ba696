"""finish: end the run (its report is written next)."""
from __future__ import annotations

from typing import Annotated, Any, Optional

from pydantic import Field

from p2m.runfolder.context import RunContext
from .base import State, Suggestion, ToolSpec
from .evaluate import target_met
from .generate_examples import can_generate, time_for_a_round
from .train import MIN_TRAIN_ROWS


def finish(ctx: RunContext, reason: Annotated[str, Field(description="why the run ends here")] = "") -> dict[str, Any]:
    """End the run."""
    return {"finished": True, "reason": reason or "planner chose to finish"}


def unavailable(state: State, ctx: RunContext) -> Optional[str]:
    if not state.get("history") and (state.get("n_train", 0) > 0 or can_generate(state, ctx) or
                                     (ctx.catalog and not state.get("searched"))):
        return "finishing before any model was evaluated, while data can still be had"
    return None


def suggest(state: State, ctx: RunContext) -> Suggestion:
    """Why the run ends when no other tool suggests a step (the policy asks finish last)."""
    n_train = state.get("n_train", 0)
    if n_train == 0:
        why, short = ("no training data: nothing in the catalog fits and no LLM is available to generate "
                      "examples"), "no data"
    elif n_train < MIN_TRAIN_ROWS and not state.get("history"):
        why, short = (f"too few rows to train a student ({n_train}, at least {MIN_TRAIN_ROWS}) and no way to "
                      "get more: the demonstrations-only model is published"), "too few rows"
    elif state.get("needs_eval"):
        why, short = ("the model cannot be scored: no gold rows (give test rows with --test or two or more "
                      "demonstrations)"), "cannot score"
    elif state.get("trained_rows", -1) < 0:
        why, short = "training failed repeatedly", "cannot train"
    elif target_met(state, ctx):
        why, short = "target met", "the metric reached the target"
    elif not time_for_a_round(state, ctx):
        why, short = ("below target, and the wall time left does not pay for another round, training and "
                      "scoring"), "out of time"
    else:
        why, short = "below target and nothing left to try within the budget", "no further step can help"
    return {"reason": why}, short


SPEC = ToolSpec(name="finish", run=finish, suggest=suggest, unavailable=unavailable,
                view=lambda result: str(result.get("reason")),
                update=lambda result, args, state, ctx: {
                    "done": True, "stop_reason": state.get("stop_reason") or result["reason"]})
