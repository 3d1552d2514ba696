"""train: train the chosen student, one more per demonstration fold when folds score the run
(classification: a head on its frozen embeddings or the fine-tuned encoder, see train_classifier)."""
from __future__ import annotations

import time
from dataclasses import replace
from typing import Annotated, Any, Optional

from pydantic import Field

from p2m.runfolder.context import RunContext
from p2m.tools.scoring.assess import NoGoldRows, fold_rows, test_plan
from p2m.tools.families import train_for
from .base import narrowed, MAX_TOOL_FAILURES, State, StateKey, Suggestion, ToolArgs, ToolSpec
from p2m.runfolder.run_files import CHOICE, TRAIN

MIN_TRAIN_ROWS = 8
RETRAIN_EPOCHS = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32)  # offered when only the epochs can change


def train(ctx: RunContext, epochs: Annotated[float, Field(
        ge=0, le=50, description="passes over the data; 0 = default")] = 0) -> dict[str, Any]:
    """Train the chosen model on the run's training rows (early stopping on validation; for
    classification, the better on validation of a head on its frozen embeddings and fine-tuning)."""
    choice = ctx.read_json(CHOICE)
    if choice is None:
        raise RuntimeError("train: no model chosen yet")
    store = ctx.store
    train_rows, val_rows = store.split("train"), store.split("validation")
    cfg = replace(ctx.config.train, epochs=epochs) if epochs else ctx.config.train
    # One directory per training job (data size, epochs): a killed job resumes from its own
    # checkpoints, a different job starts fresh.
    job = f"n{len(train_rows)}-v{len(val_rows)}-e{cfg.epochs:g}"
    # only the published student may spend the time left on a costlier encoder; fold students
    # keep the cheaper choice (they estimate the run; three trainings per iteration)
    seconds_left = None if ctx.deadline is None else max(0.0, ctx.deadline - time.monotonic())
    result = train_for(ctx.task, choice["path"], train_rows, ctx.path("train", job), cfg,
                       progress=ctx.progress, val_rows=val_rows or None, seconds_left=seconds_left)
    summary: dict[str, Any] = {k: v for k, v in result.__dict__.items() if k != "loss_curve"}
    summary["n_rows"] = len(train_rows)
    try:
        plan: Optional[dict[str, Any]] = test_plan(ctx)
    except NoGoldRows:
        plan = None  # evaluate will say what is missing; the model is still trained
    if plan and plan["mode"] == "folds":  # one student per demonstration fold, trained without it
        summary["folds"] = {}
        for fold in range(plan["k"]):
            rows, val = fold_rows(train_rows, plan, fold), fold_rows(val_rows, plan, fold)
            summary["folds"][str(fold)] = train_for(
                ctx.task, choice["path"], rows, ctx.path("train", job, f"fold{fold}"), cfg,
                progress=ctx.progress, val_rows=val or None).path
    summary["trained_at"] = time.time()  # names this training: its evaluation is recorded once
    ctx.write_json(TRAIN, {**summary, "loss_curve": result.loss_curve})
    return summary


def unavailable(state: State, ctx: RunContext) -> Optional[str]:
    n_train = state.get("n_train", 0)
    if n_train < MIN_TRAIN_ROWS:
        return f"no training without data: {n_train} training rows"
    if not state.get("model"):
        return "no model chosen yet"
    if state.get("needs_eval"):
        return "the trained model is not evaluated yet"
    return None


def narrow(state: State, ctx: RunContext) -> type[ToolArgs]:
    """`epochs` as an enum (a grammar enforces an enum, not a number's bounds: a 0.5B planner
    asked for 1000): 0 (the default) or a listed count; on exactly the data the model saw, only
    other epochs retrain."""
    same_data = state.get("trained_rows") == state.get("n_train")
    choices = RETRAIN_EPOCHS if same_data else (0,) + RETRAIN_EPOCHS
    return narrowed(SPEC.args, epochs=(choices, choices[0]))


def refuse(args: dict[str, Any], state: State, ctx: RunContext) -> Optional[str]:
    if state.get("trained_rows") == state.get("n_train") and not args["epochs"]:
        return "the model is already trained on exactly this data"
    return None


def view(result: dict[str, Any]) -> str:
    tried = result.get("candidates") or {}
    over = ("; val of those tried: " + ", ".join(f"{k} {v}" for k, v in tried.items())) if len(tried) > 1 else ""
    if result.get("kind") == "head":
        return (f"{result.get('n_train')} rows, logistic regression on frozen embeddings, "
                f"{result.get('train_s')} s, best val {result.get('best_val')}{over}")
    head = f" (head {result['head_val']})" if result.get("head_val") is not None and not over else ""
    return (f"{result.get('n_train')} rows, {result.get('epochs_run')} epochs, {result.get('train_s')} s, "
            f"{result.get('examples_per_s')} ex/s, best val {result.get('best_val')}{head}{over}")


def suggest(state: State, ctx: RunContext) -> Suggestion:
    if unavailable(state, ctx) is None and state.get("trained_rows", -1) != state.get("n_train") \
            and state.get("failures", {}).get("train", 0) < MAX_TOOL_FAILURES:
        return {"epochs": 0}, "the data changed since the last training"
    return None


STATE = {"trained_rows": StateKey(-1, "n_train when the current model was trained (-1: none)",
                                 lambda v, safe: f"trained: {v >= 0}"),
         "needs_eval": StateKey(False, "a model was trained and not yet evaluated",
                               lambda v, safe: f"awaiting evaluation: {v}")}

SPEC = ToolSpec(name="train", run=train, state=STATE, suggest=suggest, unavailable=unavailable, refuse=refuse,
                view=view, narrow=narrow,
                update=lambda result, args, state, ctx: {"trained_rows": result["n_rows"],
                                                         "needs_eval": True})
