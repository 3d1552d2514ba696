"""choose_model: the pretrained student the run fine-tunes."""
from __future__ import annotations

from typing import Annotated, Any, Literal, Optional, Union

from pydantic import Field

from p2m.runfolder.context import RunContext
from p2m.tools.retrieval.models import choose_model as choose, local_models
from .base import narrowed, State, StateKey, Suggestion, ToolArgs, ToolSpec
from .train import MIN_TRAIN_ROWS
from p2m.tools.retrieval.model_index import load_model_catalog, search_models
from p2m.runfolder.run_files import CHOICE


def choose_model(ctx: RunContext, name: Annotated[str, Field(
        description="a model on local disk; empty picks the default")] = "") -> dict[str, Any]:
    """Pick the pretrained student model for the task."""
    requested = name or ctx.config.model
    candidates: list[dict[str, Any]] = []
    if not requested and ctx.config.model_catalog:
        catalog = [m for path in ctx.config.model_catalog for m in load_model_catalog(path)]
        candidates = search_models(ctx.task, catalog, local_models(), ctx.llm,
                                   max_bytes=ctx.config.max_model_bytes)
        usable = [c for c in candidates if c["on_disk"]]
        requested = usable[0]["name"] if usable else None
    choice = choose(ctx.task, requested)
    if candidates:
        best = candidates[0]
        why = (f"best ranked of {len(candidates)} candidates: {best['reason']}" if best["name"] == choice.name
               else f"best catalog match {best['name']} is not on local disk; using {choice.name} "
                    f"(on disk): {choice.reason}")
        choice = choice.model_copy(update={"reason": why})
    ctx.write_json(CHOICE, {**choice.model_dump(), "candidates": candidates})
    return {**choice.model_dump(), "candidates": [{k: c[k] for k in ("name", "on_disk", "score")}
                                                  for c in candidates]}


def unavailable(state: State, ctx: RunContext) -> Optional[str]:
    chosen = (state.get("model") or {}).get("name")
    if chosen and ctx.config.model:
        return f"the user chose the student ({ctx.config.model})"
    if state.get("needs_eval"):
        return "the trained model is not evaluated yet: score it before choosing another"
    if chosen and state.get("trained_rows", -1) < 0:
        # Two models on disk and a small planner switched between them 30 times, never training.
        return f"{chosen} is chosen and not trained yet: train it before choosing another"
    return None


def refuse(args: dict[str, Any], state: State, ctx: RunContext) -> Optional[str]:
    if ctx.config.model and args["name"] and args["name"] != ctx.config.model:
        return f"the user chose the student ({ctx.config.model}), not {args['name']}"
    chosen = state.get("model") or {}
    if chosen and (not args["name"] or args["name"] in (chosen.get("name"), chosen.get("path"))):
        return f"{chosen.get('name')} is already chosen"
    # A small planner names Hub models it remembers; refused here, a made-up name neither runs
    # the tool nor counts as its failure (which would block a later, valid choice).
    return why_unfit(ctx, args["name"]) if args["name"] else None


def why_unfit(ctx: RunContext, name: str) -> Optional[str]:
    """Why `name` cannot be the student of this task (not on disk; not an encoder for encoder
    families, not a decoder directory for text-to-text: the embedded GGUF is the run's LLM)."""
    try:
        choose(ctx.task, name)
    except (OSError, ValueError) as exc:  # ModelChoiceError, or an unreadable config.json
        return str(exc)
    return None


def narrow(state: State, ctx: RunContext) -> Union[type[ToolArgs], Literal[False]]:
    """`name` as an enum of the models on local disk that fit the task (less the one already
    chosen); "" (the default) while none is chosen; False when nothing else fits."""
    chosen = (state.get("model") or {}).get("name")
    if ctx.config.model:  # the user's choice: only the default ("" = that model) is offered
        names = [] if chosen else [""]
    else:
        names = [n for n in sorted(local_models())[:30] if n != chosen and why_unfit(ctx, n) is None] + \
            ([] if chosen else [""])
    if not names:
        return False  # nothing else fits this task: not offered (a free name would be refused)
    return narrowed(SPEC.args, name=(tuple(names), names[-1]))


def view(result: dict[str, Any]) -> str:
    return f"{result.get('name')} ({result.get('params') or '?'} parameters): {str(result.get('reason'))[:100]}"


def suggest(state: State, ctx: RunContext) -> Suggestion:
    n_train = state.get("n_train", 0)
    if not state.get("model") and n_train > 0 and (n_train >= MIN_TRAIN_ROWS or state.get("history")):
        return {"name": ""}, "pick the student model"
    return None


STATE = {"model": StateKey(None, "the ModelChoice",
                          lambda v, safe: f"model chosen: {safe((v or {}).get('name', 'none'))}")}

SPEC = ToolSpec(name="choose_model", run=choose_model, state=STATE, suggest=suggest, refuse=refuse, view=view,
                unavailable=unavailable, narrow=narrow,
                update=lambda result, args, state, ctx: {"model": result, "trained_rows": -1})  # a new
# student has seen no rows yet, whatever the previous one was trained on
