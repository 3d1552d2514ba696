"""generate_examples: synthetic training rows from the LLM, within the call budget."""
from __future__ import annotations

import time
from typing import Annotated, Any, Optional

from pydantic import Field

from p2m.runfolder.context import RunContext
from p2m.tools.scoring.folds import demo_folds, fold_count
from p2m.tools.generation.attributes import propose_subjects, subject_scope
from p2m.tools.generation.generate import generate_examples as generate
from .base import narrowed, MAX_TOOL_FAILURES, State, StateKey, Suggestion, ToolArgs, ToolSpec
from .evaluate import target_met
from p2m.runfolder.run_files import FAILURES

PLANNER_RESERVE = 12  # LLM calls a generation round leaves for the planner's remaining decisions
MIN_ROUND = 8  # a round smaller than this is not worth starting
MAX_EMPTY_ROUNDS = 2  # rounds in a row that kept no row, after which generation is closed
HOLDOUT_EVERY = 5  # every 5th kept row goes to the validation split
ROUND_TIME_SHARE = 0.5  # a round writes for at most this share of the wall time left
TRAIN_SCORE_SHARE = 0.15  # of the wall budget, kept for training and scoring after a round


def calls_left(ctx: RunContext) -> int:
    """LLM calls data may still spend: calls are kept for the planner and for scoring the
    teacher on the gold rows, so a run never spends its whole budget on data it then cannot
    train and evaluate on."""
    if ctx.llm is None:
        return 0
    if ctx.llm.max_calls is None:
        return 10**6
    gold = ctx.store.counts()["test"] or len(ctx.task.examples)
    reserve = PLANNER_RESERVE + min(ctx.config.data.teacher_n, gold)
    return max(0, ctx.llm.max_calls - ctx.llm.usage.calls - reserve)


def generation_room(ctx: RunContext) -> int:
    """How many rows a generation round can still pay for within the run's LLM call budget: a
    row costs one generation call and `verify_votes` verification calls (`calls_left`)."""
    return calls_left(ctx) // (1 + max(0, ctx.config.data.verify_votes))


def generate_examples(ctx: RunContext,
                      n: Annotated[int, Field(ge=0, le=1000, description="how many examples; 0 means the default")] = 0,
                      errors_only: Annotated[bool, Field(description="imitate the inputs the model got wrong")] = False
                      ) -> dict[str, Any]:
    """Generate training examples with the LLM (label-balanced, deduplicated)."""
    if ctx.llm is None:
        raise RuntimeError("generate_examples needs an LLM (--llm is none)")
    room = generation_room(ctx)
    if room < MIN_ROUND:
        raise RuntimeError(f"generate_examples: the LLM call budget left pays for {room} rows "
                           f"(fewer than {MIN_ROUND})")
    started = time.monotonic()
    store = ctx.store
    progress = ctx.read_json("data/generation.json", {"next_sample": 0, "rounds": 0})
    if ctx.step is not None and progress.get("step") == ctx.step and "first_sample" in progress:
        # This step's round was recorded, and the run was killed before its checkpoint: the
        # resumed step replays that round (same samples, replies from the cache), not a new one.
        progress = {"next_sample": progress["first_sample"], "rounds": progress["rounds"] - 1}
    failures = ctx.read_json(FAILURES, []) if errors_only else None
    note = ""
    if errors_only and not failures:
        # The student made no mistake on its validation rows: nothing to imitate.
        note = "no validation failures recorded: generated ordinary examples"
        errors_only = False
    n = min(n or ctx.config.data.generate_n, room)
    # Rows this round saved before a kill (its samples start at next_sample) are this round's:
    # the replayed round keeps them again instead of dropping them as duplicates.
    existing, interrupted = [], []
    for e in store.all():
        saved_by_this_round = e.source.get("kind") == "generated" and \
            int(e.source.get("sample", -1)) >= progress["next_sample"]
        (interrupted if saved_by_this_round else existing).append(e)
    # Without gold test rows the demonstrations will be scored by folds: each row's prompts
    # then show one fold's demonstrations only.
    k = 0 if store.split("test") else fold_count(ctx.task, ctx.config.data.demo_folds)
    writer = ctx.teacher  # the stronger model writes too: the 0.5B copies its demonstrations
    result = generate(ctx.task, writer, n, existing=existing, first_sample=progress["next_sample"],
                      failures=failures, concurrency=ctx.config.data.concurrency, rpm=ctx.config.data.rpm,
                      verify_votes=ctx.config.data.verify_votes, holdout_every=HOLDOUT_EVERY,
                      folds=demo_folds(ctx.task, k) or None, verifier=ctx.teacher,
                      subjects=round_subjects(ctx, progress["rounds"], blind=k > 0),
                      deadline=writing_deadline(ctx))
    kept = interrupted + store.add(result.kept)
    store.add_dropped(result.rejected)  # browsable with their reasons (p2m data RUN --dropped)
    ctx.write_json("data/generation.json", {"next_sample": progress["next_sample"] + n,
                                            "rounds": progress["rounds"] + 1, "step": ctx.step,
                                            "first_sample": progress["next_sample"]})
    return {"asked": n, "kept": len(kept), "kept_share": round(len(kept) / max(1, n), 3),
            "distinct_2": result.distinct_2, "dropped": result.dropped,
            "trimmed": sum(bool(e.source.get("trimmed")) for e in result.kept),
            **({"verified": result.verified} if result.verified else {}),
            "label_counts": store.label_counts("train"), "error_driven": errors_only,
            "seconds": round(time.monotonic() - started, 1), **({"note": note} if note else {})}


def writing_deadline(ctx: RunContext) -> Optional[float]:
    """When a round stops writing new rows: after `ROUND_TIME_SHARE` of the wall time left, so a
    slow LLM cannot spend the whole budget on one round and leave nothing to train and score."""
    if ctx.deadline is None:
        return None
    return time.monotonic() + ROUND_TIME_SHARE * max(0.0, ctx.deadline - time.monotonic())


def round_subjects(ctx: RunContext, round_no: int, blind: bool) -> dict[str, list[str]]:
    """Subjects per label for generation round `round_no`, proposed by the teacher and none of
    them a subject of an earlier round (so later rounds write about new things instead of
    rewriting the first round's rows); all rounds are recorded in data/attributes.json. The
    proposals are ordinary LLM calls: a resumed run replays them from the reply cache and bills
    them. `blind` (demonstration folds score the run): the proposal sees no demonstration, so no
    subject carries a fold's demonstrations into rows meant never to have seen them."""
    record = ctx.read_json("data/attributes.json", {})
    rounds: list = record.get("rounds", [])[:round_no]
    used: dict[str, list[str]] = {}
    for earlier in rounds:
        for label, subjects in earlier.items():
            used.setdefault(label, []).extend(subjects)
    task = ctx.task.model_copy(update={"examples": []}) if blind else ctx.task
    labels = ctx.task.label_set or [""]
    subjects = {label: propose_subjects(task, ctx.teacher, label, avoid=used.get(label, []),
                                        round_no=round_no, scope=subject_scope(ctx.task))
                for label in labels}
    ctx.write_json("data/attributes.json", {"rounds": rounds + [subjects], "blind": blind})
    return subjects


def time_for_a_round(state: State, ctx: RunContext) -> bool:
    """Whether the wall time left pays for another round as long as the last one plus training
    and scoring (`TRAIN_SCORE_SHARE` of the budget): a round that ends when the time is spent
    leaves rows nothing was trained on."""
    budget = ctx.config.budget.max_wall_s
    left = budget - state.get("elapsed_s", 0.0)
    return left > state.get("last_round_s", 0.0) + TRAIN_SCORE_SHARE * budget


def can_generate(state: State, ctx: RunContext) -> bool:
    """An LLM, generation not failing, and call budget left for a round worth starting."""
    return unavailable(state, ctx) is None and \
        state.get("failures", {}).get("generate_examples", 0) < MAX_TOOL_FAILURES


def unavailable(state: State, ctx: RunContext) -> Optional[str]:
    if ctx.llm is None:
        return "no LLM to generate with"
    if state.get("empty_rounds", 0) >= MAX_EMPTY_ROUNDS:
        # a round that keeps nothing (the LLM failing, every row a duplicate) was asked again
        # and again until the step budget was spent
        return f"the last {state['empty_rounds']} rounds kept no row"
    room = generation_room(ctx)
    if room < MIN_ROUND:
        return f"the LLM call budget left pays for {room} rows, fewer than a round ({MIN_ROUND})"
    # More rows before the model that would say whether they are needed: a small planner asked
    # round after round and never trained (the e2e run, 30 steps of writing).
    if state.get("needs_eval"):
        return "the trained model is not evaluated yet: score it before writing more rows"
    if not state.get("history") and state.get("n_train", 0) >= ctx.config.data.min_train:
        return (f"{state.get('n_train', 0)} training rows (>= min_train {ctx.config.data.min_train}) "
                "and no evaluation yet: train and score before writing more")
    return None


def narrow(state: State, ctx: RunContext) -> Optional[type[ToolArgs]]:
    """`n` as an enum of round sizes within the per-round cap and the call budget left
    (0: the default size); `errors_only` only once an evaluation has recorded errors."""
    cap = min(ctx.config.data.generate_n, generation_room(ctx))
    sizes = tuple(sorted({0} | {v for v in (10, 20, 40, 80, 160, 320) if v <= cap}))
    scored: dict[str, Any] = {} if state.get("history") else {"errors_only": ((False,), False)}
    return narrowed(SPEC.args, n=(sizes, 0), **scored)  # errors to imitate only once scored


def refuse(args: dict[str, Any], state: State, ctx: RunContext) -> Optional[str]:
    if args["n"] > ctx.config.data.generate_n:
        # A weak planner asked for 500 rows at once and spent the whole call budget on them.
        return f"n={args['n']} is over the per-round cap of {ctx.config.data.generate_n}"
    if args["errors_only"] and not state.get("history"):
        return "errors_only needs an evaluation first"
    return None


def view(result: dict[str, Any]) -> str:
    return (f"kept {result.get('kept')}/{result.get('asked')}, dropped {result.get('dropped')}, "
            f"labels {result.get('label_counts')}")


def suggest(state: State, ctx: RunContext) -> Suggestion:
    """Rows when there are too few; after an evaluation short of the target (the model trained
    on all the rows and scored), rows like the ones it got wrong, while iterations and time last."""
    data, n_train = ctx.config.data, state.get("n_train", 0)
    timely = time_for_a_round(state, ctx)
    if n_train < data.min_train and can_generate(state, ctx) and (timely or n_train == 0):
        return {"n": data.generate_n, "errors_only": False}, f"only {n_train} training rows; generate more"
    scored = state.get("trained_rows", -1) == n_train >= 0 and not state.get("needs_eval")
    if scored and not target_met(state, ctx) and state.get("evaluations", 0) < ctx.config.budget.max_iterations \
            and can_generate(state, ctx) and timely:
        return ({"n": min(data.generate_n, max(16, data.generate_n // 2)), "errors_only": True},
                "below target: generate examples like the ones the model got wrong")
    return None


STATE = {"gen_rounds": StateKey(0, "generate_examples calls that kept something"),
         "empty_rounds": StateKey(0, "generate_examples calls in a row that kept nothing"),
         "last_round_s": StateKey(0.0, "seconds the last generation round took")}

SPEC = ToolSpec(name="generate_examples", run=generate_examples, when="if there is too little data",
                state=STATE, suggest=suggest,
                unavailable=unavailable, refuse=refuse, view=view, repeatable=True, narrow=narrow,
                update=lambda result, args, state, ctx: {
                    "gen_rounds": state.get("gen_rounds", 0) + (1 if result["kept"] else 0),
                    "empty_rounds": 0 if result["kept"] else state.get("empty_rounds", 0) + 1,
                    "last_round_s": result.get("seconds", 0.0)})
