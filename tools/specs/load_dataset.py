"""load_dataset: a retrieved dataset's rows, as they are or relabelled by the teacher."""
from __future__ import annotations

from typing import Annotated, Any, Optional

from pydantic import Field

from p2m.runfolder.context import RunContext
from p2m.core.schemas import Example
from p2m.tools.retrieval import datasets as ds
from p2m.tools.retrieval.catalog import DatasetError
from p2m.tools.scoring.folds import fold_count
from p2m.tools.retrieval.source_fit import fold_ablation, input_fit
from .base import narrowed, State, StateKey, Suggestion, ToolArgs, ToolSpec
from p2m.tools.retrieval.hub import download_dataset
from p2m.tools.scoring.predictions import label_with_teacher


def load_dataset(ctx: RunContext, name: Annotated[str, Field(description="a dataset name returned by search_datasets")],
                 relabel: Annotated[bool, Field(description="label its inputs with the teacher LLM in the task's label "
                                                            "scheme (for datasets with other labels)")] = False
                 ) -> dict[str, Any]:
    """Load a catalog dataset's train and test rows as input/output pairs."""
    entry = next((e for e in ctx.catalog if e.name == name), None)
    if entry is None:
        raise DatasetError(f"no dataset named {name!r} in the catalog")
    if not entry.loadable and entry.extra.get("source") == "hub":
        downloaded = download_dataset(name, ctx.path("hub_datasets"))
        ctx.catalog[ctx.catalog.index(entry)] = entry = downloaded
    ok, why = ds.compatibility(entry, ctx.task)
    if relabel and not ds.relabel_candidate(entry, ctx.task):
        raise DatasetError(f"{name}: relabelling applies to classification data with another "
                              "label scheme")
    if relabel and ctx.llm is None:
        raise DatasetError(f"{name}: relabelling needs an LLM (--llm is none)")
    if not ok and not relabel:
        raise DatasetError(f"{name}: {why}")
    data = ctx.config.data
    info: dict[str, Any] = {}
    limit_train = min(data.max_train, data.relabel_max) if relabel else data.max_train
    limit_test = min(data.max_test, max(1, data.relabel_max // 4)) if relabel else data.max_test
    train, test = ds.load_examples(entry, ctx.task, limit_train, limit_test, ctx.config.train.seed,
                                   llm=ctx.llm, keep_labels=relabel, info=info)
    fit = input_fit(ctx.task, [e.input for e in train], ctx.config.train.seed)
    if not fit["fits"]:  # checked before any teacher call is spent on relabelling it
        raise DatasetError(f"{name}: {fit['reason']}")
    relabelled = relabel_with_teacher(ctx, train + test) if relabel else None
    store = ctx.store
    if relabelled is not None:  # teacher labels: training and validation rows, never test rows
        rows = [e.model_copy(update={"split": "train"}) for e in relabelled]
    else:  # the dataset's own test rows are gold: the run's test unless it has one already
        rows = train + (test if not store.split("test") else [])
    ablation = fold_ablation(ctx.task, [e for e in rows if e.split == "train"],
                             fold_count(ctx.task, data.demo_folds), ctx.config.train.seed)
    if not ablation["keep"]:
        raise DatasetError(f"{name}: {ablation['reason']}")
    rows = set_aside_validation(rows, ctx.config)
    store.add(rows)
    # Counted in the store, not as rows appended now: a run killed after the append and resumed
    # loads again, appends nothing, and must still report (and show the planner) the same rows.
    mine = [e for e in store.all() if e.source.get("kind") == "dataset" and e.source.get("name") == entry.name]
    return {"loaded": name, **{f"n_{split}": sum(e.split == split for e in mine)
                               for split in ("train", "validation", "test")},
            "columns": info.get("mapping"), "fit": fit, "ablation": ablation,
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
    (`evaluate.label_with_teacher`)."""
    k = fold_count(ctx.task, ctx.config.data.demo_folds) if not ctx.store.split("test") else 0
    return label_with_teacher(ctx.teacher, ctx.task, examples, k)


def loadable(state: State, ctx: RunContext) -> list[dict[str, Any]]:
    """The retrieved candidates that may still be loaded (as they are, or relabelled with an LLM)."""
    done = set(state.get("loaded", [])) | set(state.get("rejected", {}))
    return [c for c in state.get("candidates", []) if c["name"] not in done
            and (c.get("compatible") or (c.get("relabel") and ctx.llm is not None))]


def unavailable(state: State, ctx: RunContext) -> Optional[str]:
    return None if loadable(state, ctx) else "no dataset returned by search_datasets is left to load"


def narrow(state: State, ctx: RunContext) -> Optional[type[ToolArgs]]:
    """`name` as an enum of the retrieved datasets that may still be loaded."""
    names = [c["name"] for c in loadable(state, ctx)]
    if not names:
        return None
    return narrowed(SPEC.args, name=(tuple(names), ...))


def refuse(args: dict[str, Any], state: State, ctx: RunContext) -> Optional[str]:
    names = {c["name"]: c for c in state.get("candidates", [])}
    name = args["name"]
    if name not in names:
        return f"{name!r} was not returned by search_datasets"
    if name in state.get("loaded", []) or name in state.get("rejected", {}):
        return f"{name} was already loaded or rejected"
    if args["relabel"]:
        if not names[name].get("relabel"):
            return f"{name} cannot be relabelled: {names[name].get('reason')}"
        if ctx.llm is None:
            return "relabelling needs an LLM"
    elif not names[name].get("compatible"):
        return f"{name} does not fit the task: {names[name].get('reason')}"
    return None


def update(result: dict[str, Any], args: dict[str, Any], state: State, ctx: RunContext) -> dict[str, Any]:
    return {"loaded": list(state.get("loaded", [])) + [result["loaded"]]}


def on_failure(error: str, args: dict[str, Any], state: State) -> dict[str, Any]:
    """A dataset that failed to load is not offered again."""
    return {"rejected": {**state.get("rejected", {}), args.get("name", "?"): error}}


def view(result: dict[str, Any]) -> str:
    return (f"{result.get('loaded')}: +{result.get('n_train')} train, +{result.get('n_validation')} "
            f"validation, +{result.get('n_test')} test" +
            (f" ({result['relabelled']} relabelled)" if result.get("relabelled") else ""))


def suggest(state: State, ctx: RunContext) -> Suggestion:
    """The first fitting candidate; else one of the top three whose inputs fit under another
    label scheme, for the teacher to relabel. Only while nothing is loaded."""
    if state.get("loaded"):
        return None
    open_names = {c["name"] for c in loadable(state, ctx)}
    candidates = state.get("candidates", [])
    usable = [c["name"] for c in candidates if c.get("compatible") and c["name"] in open_names]
    if usable:
        return {"name": usable[0], "relabel": False}, f"{usable[0]} matches the task's type and labels"
    relabel = [c["name"] for c in candidates[:3] if c.get("relabel") and c["name"] in open_names]
    if relabel:
        return ({"name": relabel[0], "relabel": True},
                f"{relabel[0]} has fitting inputs under another label scheme: the teacher labels them in the "
                "task's scheme")
    return None


STATE = {"loaded": StateKey([], "datasets loaded into the run",
                           lambda v, safe: "datasets loaded: " + (", ".join(safe(n) for n in v) or "none")),
         "rejected": StateKey({}, "dataset name -> why it was rejected")}

SPEC = ToolSpec(name="load_dataset", run=load_dataset, when="if a dataset fits", state=STATE, suggest=suggest,
                unavailable=unavailable, narrow=narrow,
                refuse=refuse, update=update, on_failure=on_failure, view=view)
