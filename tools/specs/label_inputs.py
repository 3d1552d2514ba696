"""label_inputs: the teacher labels the user's own unlabelled texts (`unlabelled:` in the task,
`--unlabelled FILE`): real inputs of the task, as training rows and (every 5th) validation rows."""
from __future__ import annotations

import time
from typing import Annotated, Any, Optional

from pydantic import Field

from p2m.runfolder.context import RunContext
from p2m.core.schemas import Example
from p2m.tools.scoring.predictions import label_with_teacher
from p2m.tools.scoring.folds import fold_count
from .base import narrowed, State, StateKey, Suggestion, ToolArgs, ToolSpec
from .generate_examples import HOLDOUT_EVERY, calls_left
from p2m.runfolder.run_files import UNLABELLED

CHOICES = (25, 50, 100, 200, 400, 800)  # texts per call, offered up to what is left
CHUNK = 25  # texts labelled between two saves of the progress
LABEL_SHARE = 0.5  # of the wall budget: no chunk starts past it; the rest trains, generates, scores


def out_of_time(ctx: RunContext) -> bool:
    """Whether the wall time left is down to what training, generation and scoring need."""
    budget = ctx.config.budget.max_wall_s
    return ctx.deadline is not None and ctx.deadline - time.monotonic() < (1 - LABEL_SHARE) * budget


def label_inputs(ctx: RunContext, n: Annotated[int, Field(
        ge=1, le=5000, description="how many of the unlabelled texts to label now")] = 200) -> dict[str, Any]:
    """Label the next `n` of the user's unlabelled texts with the teacher (its label
    distribution kept where it scores labels); every 5th becomes a validation row."""
    texts = ctx.task.unlabelled
    done = already_labelled(ctx)
    todo = list(range(done, min(len(texts), done + n, done + calls_left(ctx))))
    if not todo:
        raise RuntimeError("label_inputs: every unlabelled text is labelled already, or no LLM calls "
                           "are left in the budget")
    if ctx.teacher is None:
        raise RuntimeError("label_inputs: labelling needs an LLM (--llm is none)")
    k = fold_count(ctx.task, ctx.config.data.demo_folds) if not ctx.store.split("test") else 0
    labels: dict[str, int] = {}
    labelled, added, progress, stopped = 0, [], progress_of(ctx), None
    for start in range(0, len(todo), CHUNK):  # progress saved per chunk: a killed run resumes there
        if labelled and out_of_time(ctx):
            stopped = f"the wall time left is kept for training and scoring ({LABEL_SHARE:.0%} of the budget)"
            break
        chunk = todo[start:start + CHUNK]
        began = time.perf_counter()
        rows = [Example(input=texts[i], output="", source={"kind": "unlabelled", "row": i}) for i in chunk]
        done_rows = label_with_teacher(ctx.teacher, ctx.task, rows, k)
        done_rows = [e.model_copy(update={"split": "validation"}) if e.source["row"] % HOLDOUT_EVERY == HOLDOUT_EVERY - 1
                     else e for e in sorted(done_rows, key=lambda e: e.source["row"])]
        added += ctx.store.add(done_rows)  # inputs equal to a test row or an earlier row are not added
        labelled += len(done_rows)
        progress = {"labelled_up_to": chunk[-1] + 1, "labelled": progress.get("labelled", 0) + len(done_rows),
                    "labelling_s": progress.get("labelling_s", 0.0) + time.perf_counter() - began}  # unrounded: a fast chunk adds ms
        ctx.write_json(UNLABELLED, progress)
    for e in added:
        labels[e.output] = labels.get(e.output, 0) + 1
    return {"asked": len(todo), "labelled": labelled, "added": len(added),
            "n_validation": sum(e.split == "validation" for e in added), "labels": labels,
            "left": len(texts) - progress["labelled_up_to"], "scored": any("teacher_probs" in e.source for e in added),
            "per_minute": per_minute(progress), **({"stopped": stopped} if stopped else {})}


def progress_of(ctx: RunContext) -> dict[str, Any]:
    """What earlier calls did: texts gone through (in order), rows labelled, seconds spent."""
    return ctx.read_json(UNLABELLED) or {}


def per_minute(progress: dict[str, Any]) -> Optional[float]:
    """Rows the teacher labelled per minute over the run so far (None before any)."""
    seconds = progress.get("labelling_s") or 0
    return round(60 * progress.get("labelled", 0) / seconds, 1) if seconds > 0 else None


def already_labelled(ctx: RunContext) -> int:
    """How many of the task's unlabelled texts earlier calls went through (in order)."""
    return int(progress_of(ctx).get("labelled_up_to", 0))


def unavailable(state: State, ctx: RunContext) -> Optional[str]:
    if not ctx.task.unlabelled:
        return "the task has no unlabelled texts"
    if ctx.teacher is None:
        return "no LLM to label with"
    if state.get("labelled_inputs", 0) >= len(ctx.task.unlabelled):
        return "every unlabelled text is labelled"
    if state.get("needs_eval"):
        return "the trained model is not evaluated yet"
    if calls_left(ctx) < 1:
        return "no LLM calls left in the budget"
    if out_of_time(ctx):
        return f"past {LABEL_SHARE:.0%} of the wall budget: the rest is kept for training and scoring"
    return None


def narrow(state: State, ctx: RunContext) -> type[ToolArgs]:
    """`n` as an enum of counts up to what is left and what the call budget pays for."""
    room = min(len(ctx.task.unlabelled) - state.get("labelled_inputs", 0), calls_left(ctx))
    choices = tuple(c for c in CHOICES if c <= room) or (max(1, room),)
    return narrowed(SPEC.args, n=(choices, choices[-1]))


def update(result: dict[str, Any], args: dict[str, Any], state: State, ctx: RunContext) -> dict[str, Any]:
    return {"labelled_inputs": len(ctx.task.unlabelled) - result["left"]}


def view(result: dict[str, Any]) -> str:
    return (f"{result.get('added')} of {result.get('asked')} texts labelled and added "
            f"({result.get('n_validation')} validation), {result.get('left')} left"
            + (f"; {result['per_minute']} rows a minute" if result.get("per_minute") else "")
            + (f"; stopped: {result['stopped']}" if result.get("stopped") else ""))


def suggest(state: State, ctx: RunContext) -> Suggestion:
    if unavailable(state, ctx) is None and not state.get("model"):
        left = min(len(ctx.task.unlabelled) - state.get("labelled_inputs", 0), 5000)
        return {"n": left}, "the user's own unlabelled texts: the task's real inputs, labelled by the teacher"
    return None


STATE = {"labelled_inputs": StateKey(0, "the task's unlabelled texts label_inputs went through")}

SPEC = ToolSpec(name="label_inputs", run=label_inputs, when="if the user gave unlabelled texts",
                state=STATE, suggest=suggest, unavailable=unavailable, narrow=narrow,
                update=update, view=view, repeatable=True)
