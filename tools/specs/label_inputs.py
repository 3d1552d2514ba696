"""label_inputs: the teacher labels the user's own unlabelled texts (`unlabelled:` in the task,
`--unlabelled FILE`): real inputs of the task, as training rows and (every 5th) validation rows."""
from __future__ import annotations

from typing import Any, Literal, Optional

from pydantic import Field, create_model

from ...agent.context import RunContext
from ...schemas import Example
from ..evaluate import label_with_teacher
from ..folds import fold_count
from .base import State, ToolArgs, ToolSpec
from .generate_examples import HOLDOUT_EVERY, calls_left

CHOICES = (25, 50, 100, 200, 400, 800)  # texts per call, offered up to what is left


class LabelArgs(ToolArgs):
    n: int = Field(default=200, ge=1, le=5000, description="how many of the unlabelled texts to label now")


def label_inputs(ctx: RunContext, n: int = 200) -> dict[str, Any]:
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
    rows = [Example(input=texts[i], output="", source={"kind": "unlabelled", "row": i}) for i in todo]
    k = fold_count(ctx.task, ctx.config.data.demo_folds) if not ctx.store.split("test") else 0
    labelled = label_with_teacher(ctx.teacher, ctx.task, rows, k)
    labelled = [e.model_copy(update={"split": "validation"}) if e.source["row"] % HOLDOUT_EVERY == HOLDOUT_EVERY - 1
                else e for e in sorted(labelled, key=lambda e: e.source["row"])]
    added = ctx.store.add(labelled)  # inputs equal to a test row or an earlier row are not added
    ctx.write_json("unlabelled.json", {"labelled_up_to": todo[-1] + 1})
    labels: dict[str, int] = {}
    for e in added:
        labels[e.output] = labels.get(e.output, 0) + 1
    return {"asked": len(todo), "labelled": len(labelled), "added": len(added),
            "n_validation": sum(e.split == "validation" for e in added), "labels": labels,
            "left": len(texts) - todo[-1] - 1, "scored": any("teacher_probs" in e.source for e in labelled)}


def already_labelled(ctx: RunContext) -> int:
    """How many of the task's unlabelled texts earlier calls went through (in order)."""
    return int((ctx.read_json("unlabelled.json") or {}).get("labelled_up_to", 0))


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
    return None


def narrow(state: State, ctx: RunContext) -> type[ToolArgs]:
    """`n` as an enum of counts up to what is left and what the call budget pays for."""
    room = min(len(ctx.task.unlabelled) - state.get("labelled_inputs", 0), calls_left(ctx))
    choices = tuple(c for c in CHOICES if c <= room) or (max(1, room),)
    return create_model("LabelNow", __base__=LabelArgs, n=(
        Literal[choices], Field(default=choices[-1], description="how many unlabelled texts to label now")))  # type: ignore[valid-type]


def update(result: dict[str, Any], args: dict[str, Any], state: State, ctx: RunContext) -> dict[str, Any]:
    return {"labelled_inputs": len(ctx.task.unlabelled) - result["left"]}


def view(result: dict[str, Any]) -> str:
    return (f"{result.get('added')} of {result.get('asked')} texts labelled and added "
            f"({result.get('n_validation')} validation), {result.get('left')} left")


SPEC = ToolSpec(name="label_inputs", run=label_inputs, args=LabelArgs, unavailable=unavailable, narrow=narrow,
                update=update, view=view, repeatable=True)
