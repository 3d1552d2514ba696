"""The agent's tools bound to one run, and their LangChain wrappers.

Each `*_tool` function does one step against the run directory and returns a JSON summary;
`build_tools` wraps them as LangChain StructuredTools for the planner and for outside use.
"""
from __future__ import annotations

from functools import partial
from typing import Any, Callable, Optional

from langchain_core.tools import StructuredTool
from pydantic import BaseModel, ConfigDict, Field

from ..agent.context import RunContext
from ..schemas import Example
from . import datasets as ds
from .assess import (BASELINE, NoGoldRows, bootstrap_ci, compare, fold_rows, predict_plan, select_and_publish,
                     student_predictor, test_plan)
from .evaluate import evaluate_model, gold_answers
from .families import score_for, train_for
from .folds import demo_folds, demo_rows, fold_count, row_fold
from .generate import generate_examples
from .models import choose_model


class ToolArgs(BaseModel):
    """Arguments of a tool; unknown keys are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


class SearchArgs(ToolArgs):
    query: str = Field(default="", description="what to look for; empty means the task instruction")


class LoadArgs(ToolArgs):
    name: str = Field(description="a dataset name returned by search_datasets")
    relabel: bool = Field(default=False, description="label its inputs with the teacher LLM in the "
                                                     "task's label scheme (for datasets with other labels)")


class GenerateArgs(ToolArgs):
    n: int = Field(default=0, ge=0, le=1000, description="how many examples; 0 means the default")
    errors_only: bool = Field(default=False, description="imitate the inputs the model got wrong")


class ChooseModelArgs(ToolArgs):
    name: str = Field(default="", description="a local model path; empty picks the default")


class TrainArgs(ToolArgs):
    epochs: float = Field(default=0, ge=0, le=50, description="passes over the data; 0 = default")


class NoArgs(ToolArgs):
    pass


class FinishArgs(ToolArgs):
    reason: str = Field(default="", description="why the run ends here")


def search_datasets_tool(ctx: RunContext, query: str = "") -> dict[str, Any]:
    """Search the dataset catalog for data that fits the task."""
    # The instruction always takes part: a planner's terse query only adds words to it.
    full_query = ctx.task.instruction if not query or query in ctx.task.instruction else \
        f"{ctx.task.instruction} {query}"
    data = ctx.config.data
    if ctx.config.hub:
        from .hub import search_hub

        known = {e.name for e in ctx.catalog}
        ctx.catalog.extend(e for e in search_hub(ctx.task.instruction) if e.name not in known)
    mode, votes = rerank_plan(data, ctx.llm)
    hits = ds.search_datasets(full_query, ctx.catalog, ctx.task,
                              llm=None if mode == "off" else ctx.llm, votes=votes,
                              expand=data.expand_query, rerank="vote" if mode == "off" else mode)
    return {"candidates": hits, "rerank": mode, "rerank_votes": votes}


def rerank_plan(data: Any, llm: Any) -> tuple[str, int]:
    """(mode, votes) of the LLM rerank. Unset, it is "likelihood" for a backend that scores
    replies (the embedded model: its sampled votes gained little, its likelihoods more) and
    3 votes for an endpoint; an explicit `rerank_votes` alone asks for votes (0: off)."""
    mode, votes = data.rerank, data.rerank_votes
    if llm is None or mode == "off":
        return "off", 0
    if mode is None:
        if votes is None and getattr(llm, "scores_replies", False):
            return "likelihood", 0
        mode = "vote"
    if mode == "likelihood":
        if not getattr(llm, "scores_replies", False):
            raise ValueError(f"data.rerank 'likelihood' needs a backend that scores replies "
                             f"(the embedded local model), not {llm.describe().get('backend')}")
        return "likelihood", 0
    votes = 3 if votes is None else max(0, votes)
    return ("vote", votes) if votes else ("off", 0)


def load_dataset_tool(ctx: RunContext, name: str, relabel: bool = False) -> dict[str, Any]:
    """Load a catalog dataset's train and test rows as input/output pairs."""
    entry = next((e for e in ctx.catalog if e.name == name), None)
    if entry is None:
        raise ds.DatasetError(f"no dataset named {name!r} in the catalog")
    if not entry.loadable and entry.extra.get("source") == "hub":
        from .hub import download_dataset

        downloaded = download_dataset(name, ctx.path("hub_datasets"))
        ctx.catalog[ctx.catalog.index(entry)] = entry = downloaded
    ok, why = ds.compatibility(entry, ctx.task)
    if relabel and not ds.relabel_candidate(entry, ctx.task):
        raise ds.DatasetError(f"{name}: relabelling applies to classification data with another "
                              "label scheme")
    if relabel and ctx.llm is None:
        raise ds.DatasetError(f"{name}: relabelling needs an LLM (--llm is none)")
    if not ok and not relabel:
        raise ds.DatasetError(f"{name}: {why}")
    data = ctx.config.data
    info: dict[str, Any] = {}
    limit_train = min(data.max_train, data.relabel_max) if relabel else data.max_train
    limit_test = min(data.max_test, max(1, data.relabel_max // 4)) if relabel else data.max_test
    train, test = ds.load_examples(entry, ctx.task, limit_train, limit_test, ctx.config.train.seed,
                                   llm=ctx.llm, keep_labels=relabel, info=info)
    relabelled = relabel_with_teacher(ctx, train + test) if relabel else None
    store = ctx.store
    if relabelled is not None:  # teacher labels: training and validation rows, never test rows
        rows = [e.model_copy(update={"split": "train"}) for e in relabelled]
    else:  # the dataset's own test rows are gold: the run's test unless it has one already
        rows = train + (test if not store.split("test") else [])
    rows = set_aside_validation(rows, ctx.config)
    kept = store.add(rows)
    return {"loaded": name, **{f"n_{split}": sum(e.split == split for e in kept)
                               for split in ("train", "validation", "test")},
            "columns": info.get("mapping"),
            "relabelled": len(relabelled) if relabelled is not None else 0}


def set_aside_validation(rows: list[Example], config: Any) -> list[Example]:
    """A share of the training rows (`train.val_fraction`, at most `data.max_validation`) moved
    to the validation split; rows arrive shuffled with the run's seed."""
    train = [i for i, e in enumerate(rows) if e.split == "train"]
    n_val = min(config.data.max_validation, round(len(train) * config.train.val_fraction))
    chosen = set(train[:n_val]) if len(train) >= 10 else set()
    return [e.model_copy(update={"split": "validation"}) if i in chosen else e for i, e in enumerate(rows)]


def relabel_with_teacher(ctx: RunContext, examples: list[Example]) -> list[Example]:
    """The teacher's labels in the task's scheme; the dataset's own label stays in the provenance.
    With demonstration folds, each row is labelled by a prompt showing one fold's demonstrations
    (the fold is recorded), so the folds that score the run stay unseen by the rows' labels."""
    from .evaluate import teacher_predict
    from .folds import demo_folds, fold_count, task_seeing

    k = fold_count(ctx.task, ctx.config.data.demo_folds) if not ctx.store.split("test") else 0
    folds = demo_folds(ctx.task, k)
    out: list[Example] = []
    for fold in range(k) if k else [None]:
        part = examples[fold::k] if k else examples
        seen = task_seeing(ctx.task, folds, {fold}) if k else ctx.task
        preds, _ = teacher_predict(ctx.llm, seen, [e.input for e in part])
        extra = {"fold": fold} if k else {}
        out += [e.model_copy(update={"output": p, "source": {**e.source, "original_label": e.output,
                                                              "relabelled_by": ctx.llm.model, **extra}})
                for e, p in zip(part, preds) if p]
    return out


# LLM calls a generation round leaves for the planner's remaining decisions.
PLANNER_RESERVE = 12
MIN_ROUND = 8  # a round smaller than this is not worth starting


def generation_room(ctx: RunContext) -> int:
    """How many rows a generation round can still pay for within the run's LLM call budget.

    A row costs one generation call and `verify_votes` verification calls. Calls are kept for
    the planner and for scoring the teacher on the gold rows, so a run never spends its whole
    budget on data it then cannot train and evaluate on."""
    if ctx.llm is None:
        return 0
    if ctx.llm.max_calls is None:
        return 10**6
    gold = ctx.store.counts()["test"] or len(ctx.task.examples)
    reserve = PLANNER_RESERVE + min(ctx.config.data.teacher_n, gold)
    left = ctx.llm.max_calls - ctx.llm.usage.calls - reserve
    return max(0, left // (1 + max(0, ctx.config.data.verify_votes)))


def generate_examples_tool(ctx: RunContext, n: int = 0, errors_only: bool = False) -> dict[str, Any]:
    """Generate training examples with the LLM (label-balanced, deduplicated)."""
    if ctx.llm is None:
        raise RuntimeError("generate_examples needs an LLM (--llm is none)")
    room = generation_room(ctx)
    if room < MIN_ROUND:
        raise RuntimeError(f"generate_examples: the LLM call budget left pays for {room} rows "
                           f"(fewer than {MIN_ROUND})")
    store = ctx.store
    state = ctx.read_json("data/generation.json", {"next_sample": 0, "rounds": 0})
    failures = ctx.read_json("failures.json", []) if errors_only else None
    note = ""
    if errors_only and not failures:
        # The student made no mistake on its validation rows: nothing to imitate.
        note = "no validation failures recorded: generated ordinary examples"
        errors_only = False
    n = min(n or ctx.config.data.generate_n, room)
    existing = store.all()
    # Without gold test rows the demonstrations will be scored by folds: each row's prompts
    # then show one fold's demonstrations only.
    k = 0 if store.split("test") else fold_count(ctx.task, ctx.config.data.demo_folds)
    result = generate_examples(ctx.task, ctx.llm, n, existing=existing,
                               first_sample=state["next_sample"], failures=failures,
                               concurrency=ctx.config.data.concurrency, rpm=ctx.config.data.rpm,
                               verify_votes=ctx.config.data.verify_votes, holdout_every=5,
                               folds=demo_folds(ctx.task, k) or None)
    kept = store.add(result.kept)
    ctx.write_json("data/generation.json", {"next_sample": state["next_sample"] + n,
                                            "rounds": state["rounds"] + 1})
    return {"asked": n, "kept": len(kept), "dropped": result.dropped,
            **({"verified": result.verified} if result.verified else {}),
            "label_counts": store.label_counts("train"), "error_driven": errors_only,
            **({"note": note} if note else {})}


def choose_model_tool(ctx: RunContext, name: str = "") -> dict[str, Any]:
    """Pick the pretrained student model for the task."""
    requested = name or ctx.config.model
    candidates: list[dict[str, Any]] = []
    if not requested and ctx.config.model_catalog:
        from .model_index import load_model_catalog, search_models
        from .models import local_models

        catalog = [m for path in ctx.config.model_catalog for m in load_model_catalog(path)]
        candidates = search_models(ctx.task, catalog, local_models(), ctx.llm,
                                   max_bytes=ctx.config.max_model_bytes)
        usable = [c for c in candidates if c["on_disk"]]
        requested = usable[0]["name"] if usable else None
    choice = choose_model(ctx.task, requested)
    if candidates:
        best = candidates[0]
        why = (f"best ranked of {len(candidates)} candidates: {best['reason']}" if best["name"] == choice.name
               else f"best catalog match {best['name']} is not on local disk; using {choice.name} "
                    f"(on disk): {choice.reason}")
        choice = choice.model_copy(update={"reason": why})
    ctx.write_json("model_choice.json", {**choice.model_dump(), "candidates": candidates})
    return {**choice.model_dump(), "candidates": [{k: c[k] for k in ("name", "on_disk", "score")}
                                                  for c in candidates]}


def train_tool(ctx: RunContext, epochs: float = 0) -> dict[str, Any]:
    """Fine-tune the chosen model on the run's training rows (early stopping on validation)."""
    choice = ctx.read_json("model_choice.json")
    if choice is None:
        raise RuntimeError("train: no model chosen yet")
    store = ctx.store
    train_rows, val_rows = store.split("train"), store.split("validation")
    cfg = ctx.config.train
    if epochs:
        from dataclasses import replace

        cfg = replace(cfg, epochs=epochs)
    # One directory per training job (data size, epochs): a killed job resumes from its own
    # checkpoints, a different job starts fresh.
    job = f"n{len(train_rows)}-v{len(val_rows)}-e{cfg.epochs:g}"
    result = train_for(ctx.task, choice["path"], train_rows, ctx.path("train", job), cfg,
                       progress=ctx.progress, val_rows=val_rows or None)
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
    ctx.write_json("train.json", {**summary, "loss_curve": result.loss_curve})
    return summary


def evaluate_tool(ctx: RunContext) -> dict[str, Any]:
    """Score the trained model on the gold test rows beside the baselines; publish the better
    model, chosen on the validation split."""
    trained = ctx.read_json("train.json")
    if trained is None:
        raise RuntimeError("evaluate: nothing trained yet")
    task = ctx.task
    plan = test_plan(ctx)
    rows = plan["rows"]
    preds = predict_plan(plan, student_predictor(task, trained))
    metrics = score_for(task, preds, [e.output for e in rows], [e.input for e in rows],
                        [gold_answers(e) for e in rows])
    ci = bootstrap_ci(task, preds, rows)
    side = compare(ctx, plan, preds)
    val = ctx.store.split("validation")[:MAX_VALIDATION]
    val_metrics = evaluate_model(trained["path"], val, task) if val else None
    history = ctx.read_json("metrics.json", {"history": []})["history"]
    iteration = len(history) + 1
    published = select_and_publish(ctx, trained, iteration, val, val_metrics.value if val_metrics else None,
                                   metrics.value, side["baselines"].get(BASELINE))
    entry = {"iteration": iteration, "name": metrics.name, "value": metrics.value, "ci": ci,
             "n": metrics.n, "test_source": plan["source"], "others": metrics.others,
             "per_class": metrics.per_class, "confusion": metrics.confusion,
             "validation": {"name": val_metrics.name, "value": val_metrics.value, "n": val_metrics.n}
             if val_metrics else None,
             "model_path": trained["path"], "n_train": trained["n_rows"]}
    history.append(entry)
    ctx.write_json("test_failures.json", metrics.failures)  # for people; never shown to the generator
    ctx.write_json("failures.json", _with_folds(val_metrics.failures if val_metrics else [], val, plan))
    ctx.write_json("metrics.json", {"history": history, "latest": entry, **side,
                                    "published": published,
                                    "test": {"source": plan["source"], "mode": plan["mode"], "n": len(rows)}})
    return {"metric": {"name": metrics.name, "value": metrics.value, "ci": ci},
            "test_source": plan["source"], "n": metrics.n,
            "validation": entry["validation"], "baselines": {k: v.get("value") for k, v in
                                                             side["baselines"].items()},
            "published": published["kind"], "n_failures": len(val_metrics.failures if val_metrics else []),
            "n_test_failures": len(metrics.failures), "iteration": iteration}


MAX_VALIDATION = 200  # validation rows scored per evaluation (selection, error mining)


def _with_folds(failures: list[dict[str, str]], val: list[Example], plan: dict[str, Any]) -> list[dict]:
    """Validation mistakes with the demonstration fold of their row (error-driven generation
    imitates a row from that fold's prompts only)."""
    if plan["mode"] != "folds":
        return failures
    fold_by_input = {e.input[:2000]: row_fold(e, plan["folds"]) for e in val}
    return [{**f, "fold": fold_by_input.get(f["input"])} for f in failures]


def finish_tool(ctx: RunContext, reason: str = "") -> dict[str, Any]:
    """End the run."""
    return {"finished": True, "reason": reason or "planner chose to finish"}


TOOLS: dict[str, tuple[Callable[..., dict[str, Any]], type[BaseModel]]] = {
    "search_datasets": (search_datasets_tool, SearchArgs),
    "load_dataset": (load_dataset_tool, LoadArgs),
    "generate_examples": (generate_examples_tool, GenerateArgs),
    "choose_model": (choose_model_tool, ChooseModelArgs),
    "train": (train_tool, TrainArgs),
    "evaluate": (evaluate_tool, NoArgs),
    "finish": (finish_tool, FinishArgs),
}


def build_tools(ctx: RunContext, names: Optional[list[str]] = None) -> list[StructuredTool]:
    """LangChain tools bound to `ctx`, in the planner's usual order."""
    out = []
    for name, (fn, schema) in TOOLS.items():
        if names is not None and name not in names:
            continue
        out.append(StructuredTool.from_function(func=partial(fn, ctx), name=name,
                                                description=fn.__doc__ or name, args_schema=schema))
    return out


def add_user_examples(ctx: RunContext) -> list[Example]:
    """The user's rows: demonstrations as training rows (provenance 'user'), and the rows they
    labelled for testing (the task's `test:` and `--test FILE`) as the gold test split."""
    from .data_store import read_labelled

    rows = demo_rows(ctx.task)
    rows += [Example(input=d.input, output=d.output, split="test", source={"kind": "user_test", "row": i})
             for i, d in enumerate(ctx.task.test)]
    if ctx.config.test_file:
        rows += read_labelled(ctx.config.test_file, ctx.task, kind="user_test")
    return ctx.store.add(rows)
