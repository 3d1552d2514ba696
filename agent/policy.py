"""The deterministic default policy: the planner with `--llm none`, and the guard's fallback."""
from __future__ import annotations

from typing import Any

from p2m.runfolder.context import RunContext
from p2m.tools.specs import MAX_TOOL_FAILURES, REGISTRY
from p2m.tools.specs.evaluate import has_gold_rows
from p2m.tools.specs.generate_examples import can_generate, time_for_a_round
from p2m.tools.specs.train import MIN_TRAIN_ROWS
from p2m.agent.router import target_met
from p2m.agent.state import AgentState


def default_step(state: AgentState, ctx: RunContext) -> dict[str, Any]:
    """The next sensible tool call, with the reason, from the state alone."""
    data = ctx.config.data
    failures = state.get("failures", {})
    if (ctx.catalog or ctx.config.hub) and not state.get("searched") and failures.get("search_datasets", 0) < MAX_TOOL_FAILURES:
        return _step("search_datasets", {"query": ctx.task.instruction}, "look for existing data first")
    usable = [c["name"] for c in state.get("candidates", [])
              if c.get("compatible") and c["name"] not in state.get("loaded", [])
              and c["name"] not in state.get("rejected", {})]
    if usable and not state.get("loaded"):
        return _step("load_dataset", {"name": usable[0], "relabel": False},
                     f"{usable[0]} matches the task's type and labels")
    relabel = [c["name"] for c in state.get("candidates", [])[:3]
               if c.get("relabel") and c["name"] not in state.get("loaded", [])
               and c["name"] not in state.get("rejected", {})]
    if relabel and not state.get("loaded") and ctx.llm is not None:
        return _step("load_dataset", {"name": relabel[0], "relabel": True},
                     f"{relabel[0]} has fitting inputs under another label scheme: the teacher "
                     "labels them in the task's scheme")
    if REGISTRY["label_inputs"].unavailable(state, ctx) is None and not state.get("model"):
        left = min(len(ctx.task.unlabelled) - state.get("labelled_inputs", 0), 5000)
        return _step("label_inputs", {"n": left},
                     "the user's own unlabelled texts: the task's real inputs, labelled by the teacher")
    timely = time_for_a_round(state, ctx)
    if state.get("n_train", 0) < data.min_train and can_generate(state, ctx) and \
            (timely or state.get("n_train", 0) == 0):
        return _step("generate_examples", {"n": data.generate_n, "errors_only": False},
                     f"only {state.get('n_train', 0)} training rows; generate more")
    if state.get("n_train", 0) == 0:
        return _step("finish", {"reason": "no training data: nothing in the catalog fits and no LLM "
                                          "is available to generate examples"}, "no data")
    if state.get("n_train", 0) < MIN_TRAIN_ROWS and not state.get("history"):
        return _step("finish", {"reason": f"too few rows to train a student ({state.get('n_train', 0)}, "
                                          f"at least {MIN_TRAIN_ROWS}) and no way to get more: the "
                                          "demonstrations-only model is published"}, "too few rows")
    if not state.get("model"):
        return _step("choose_model", {"name": ""}, "pick the student model")
    # A trained model is scored before anything else: `train` refuses to replace an unscored
    # model (an LLM planner may have generated rows between training and scoring).
    if state.get("needs_eval"):
        if failures.get("evaluate", 0) >= MAX_TOOL_FAILURES or not has_gold_rows(state, ctx):
            return _step("finish", {"reason": "the model cannot be scored: no gold rows (give test rows "
                                              "with --test or two or more demonstrations)"}, "cannot score")
        return _step("evaluate", {}, "score the newly trained model")
    if state.get("trained_rows", -1) != state.get("n_train") and failures.get("train", 0) < MAX_TOOL_FAILURES:
        return _step("train", {"epochs": 0}, "the data changed since the last training")
    if state.get("trained_rows", -1) < 0:
        return _step("finish", {"reason": "training failed repeatedly"}, "cannot train")
    if target_met(state, ctx):
        return _step("finish", {"reason": "target met"}, "the metric reached the target")
    if state.get("evaluations", 0) < ctx.config.budget.max_iterations and can_generate(state, ctx) \
            and timely:
        return _step("generate_examples", {"n": min(data.generate_n, max(16, data.generate_n // 2)),
                                           "errors_only": True},
                     "below target: generate examples like the ones the model got wrong")
    if not timely:
        return _step("finish", {"reason": "below target, and the wall time left does not pay for "
                                          "another round, training and scoring"}, "out of time")
    return _step("finish", {"reason": "below target and nothing left to try within the budget"},
                 "no further step can help")


def _step(tool: str, args: dict[str, Any], reason: str) -> dict[str, Any]:
    return {"tool": tool, "args": args, "reason": reason, "by": "policy"}
