"""The guard: checks a proposed tool call against the arguments' schema and the preconditions."""
from __future__ import annotations

from typing import Any, Optional

from pydantic import ValidationError

from ..agent.context import RunContext
from ..tools.models import choose_model
from ..tools.toolkit import TOOLS
from .policy import MAX_TOOL_FAILURES, can_generate, has_gold_rows
from .state import AgentState


def check(proposal: dict[str, Any], state: AgentState, ctx: RunContext) -> Optional[str]:
    """Why `proposal` must not run, or None when it may."""
    tool, args = proposal.get("tool"), proposal.get("args") or {}
    if tool not in TOOLS:
        return f"unknown tool {tool!r}"
    if not isinstance(args, dict):
        return "arguments are not an object"
    try:
        TOOLS[tool][1].model_validate(args)
    except ValidationError as exc:
        return f"invalid arguments: {exc.errors()[0]['msg']}"
    if state.get("failures", {}).get(tool, 0) >= MAX_TOOL_FAILURES:
        return f"{tool} already failed {MAX_TOOL_FAILURES} times"
    last = state.get("last") or {}
    if tool == last.get("tool") and args == last.get("args") and tool != "generate_examples":
        # A weak planner whose prompt did not change repeats itself (its reply is even cached).
        return f"repeats the previous {tool} call with the same arguments"
    n_train = state.get("n_train", 0)
    if tool == "search_datasets":
        if not ctx.catalog and not ctx.config.hub:
            return "no dataset catalog is configured"
        if state.get("searched"):
            return "the catalog was already searched"
    elif tool == "load_dataset":
        names = {c["name"]: c for c in state.get("candidates", [])}
        name = args.get("name")
        if name not in names:
            return f"{name!r} was not returned by search_datasets"
        if args.get("relabel"):
            if not names[name].get("relabel"):
                return f"{name} cannot be relabelled: {names[name].get('reason')}"
            if ctx.llm is None:
                return "relabelling needs an LLM"
        elif not names[name].get("compatible"):
            return f"{name} does not fit the task: {names[name].get('reason')}"
        if name in state.get("loaded", []) or name in state.get("rejected", {}):
            return f"{name} was already loaded or rejected"
    elif tool == "generate_examples":
        if ctx.llm is None:
            return "no LLM to generate with"
        if not can_generate(state, ctx):
            return "generation failed repeatedly or the LLM call budget left cannot pay for a round"
        if args.get("n", 0) > ctx.config.data.generate_n:
            # A weak planner asked for 500 rows at once and spent the whole call budget on them.
            return f"n={args['n']} is over the per-round cap of {ctx.config.data.generate_n}"
        if args.get("errors_only") and not state.get("history"):
            return "errors_only needs an evaluation first"
    elif tool == "choose_model":
        chosen = state.get("model") or {}
        if chosen and (not args.get("name") or args.get("name") in (chosen.get("name"), chosen.get("path"))):
            return f"{chosen.get('name')} is already chosen"
        if args.get("name"):
            # A small planner names Hub models it remembers; refused here, a made-up name neither
            # runs the tool nor counts as its failure (which would block a later, valid choice).
            try:
                choose_model(ctx.task, args["name"])
            except (OSError, ValueError) as exc:  # ModelChoiceError, or an unreadable config.json
                return str(exc)
    elif tool == "train":
        if n_train < 8:
            return f"no training without data: {n_train} training rows"
        if not state.get("model"):
            return "no model chosen yet"
        if state.get("needs_eval"):
            return "the trained model is not evaluated yet"
        if state.get("trained_rows") == n_train and not args.get("epochs"):
            return "the model is already trained on exactly this data"
    elif tool == "evaluate":
        if state.get("trained_rows", -1) < 0:
            return "no evaluation before training"
        if not has_gold_rows(state, ctx):
            return "no gold rows to score on: no test rows and fewer than two demonstrations"
        if not state.get("needs_eval"):
            return "this model is already evaluated"
    elif tool == "finish":
        if not state.get("history") and (n_train > 0 or can_generate(state, ctx) or
                                         (ctx.catalog and not state.get("searched"))):
            return "finishing before any model was evaluated, while data can still be had"
    return None
