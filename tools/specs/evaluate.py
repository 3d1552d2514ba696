"""evaluate: score the student on gold rows beside the baselines; publish the better model."""
from __future__ import annotations

from typing import Any, Optional

from p2m.runfolder.context import RunContext
from p2m.core.schemas import Example
from p2m.tools.scoring.assess import (BASELINE, bootstrap_ci, compare, estimate, fit_cascade, predict_plan, select_and_publish,
                      student_predictor, test_plan)
from p2m.tools.scoring.predictions import evaluate_model, gold_answers
from p2m.tools.families import score_for
from p2m.tools.scoring.folds import fold_count, row_fold
from .base import State, ToolArgs, ToolSpec
from p2m.runfolder.run_files import FAILURES, METRICS, TEST_FAILURES, TRAIN

MAX_VALIDATION = 200  # validation rows scored per evaluation (selection, error mining)


class NoArgs(ToolArgs):
    pass


def evaluate(ctx: RunContext) -> dict[str, Any]:
    """Score the trained model on the gold test rows beside the baselines; publish the better
    model, chosen on the validation split."""
    trained = ctx.read_json(TRAIN)
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
    history = ctx.read_json(METRICS, {"history": []})["history"]
    # A kill after metrics.json was written but before the checkpoint re-runs this evaluation on
    # resume: it replaces its own entry instead of adding an iteration.
    history = [h for h in history if h.get("trained_at") is None or h.get("trained_at") != trained.get("trained_at")]
    iteration = len(history) + 1
    ctx.write_json(f"predictions/iteration-{iteration}.json",  # every gold row: p2m errors RUN reads them
                   {"iteration": iteration, "source": plan["source"], "mode": plan["mode"], "rows": side["predictions"]})
    gold = estimate(ctx, plan, trained, {"value": metrics.value, "ci": ci}, side["baselines"].get(BASELINE), val,
                    side["baselines"].get("teacher") if plan["mode"] == "folds" else None)
    published = select_and_publish(ctx, trained, iteration, val, val_metrics.value if val_metrics else None,
                                   metrics.value, side["baselines"].get(BASELINE), gold, plan)
    decided = {"source": gold["source"], "gold": gold["gold"], "n": gold["n"],
               "student": gold["student"], "baseline": gold["baseline"],
               "published": published["kind"], "value": published.get("estimate"),
               "lower": published.get("lower")}
    entry = {"iteration": iteration, "name": metrics.name, "value": metrics.value, "ci": ci,
             "n": metrics.n, "test_source": plan["source"], "others": metrics.others,
             "per_class": metrics.per_class, "confusion": metrics.confusion,
             "validation": {"name": val_metrics.name, "value": val_metrics.value, "n": val_metrics.n}
             if val_metrics else None,
             "estimate": decided,
             "model_path": trained["path"], "n_train": trained["n_rows"], "trained_at": trained.get("trained_at")}
    history.append(entry)
    ctx.write_json(TEST_FAILURES, metrics.failures)  # for people; never shown to the generator
    ctx.write_json(FAILURES, _with_folds(val_metrics.failures if val_metrics else [], val, plan))
    cascade = fit_cascade(ctx, ctx.store.split("validation"), plan)  # every held-out row calibrates
    ctx.write_json(METRICS, {"history": history, "latest": entry, **side, "published": published,
                                    "cascade": cascade,
                                    "test": {"source": plan["source"], "mode": plan["mode"], "n": len(rows)}})
    return {"metric": {"name": metrics.name, "value": metrics.value, "ci": ci},
            "test_source": plan["source"], "n": metrics.n,
            "validation": entry["validation"], "baselines": {k: v.get("value") for k, v in
                                                             side["baselines"].items()},
            "published": published["kind"], "estimate": {**{k: decided[k] for k in ("gold", "value", "lower")},
                                                       "baseline": (decided["baseline"] or {}).get("value")},
            "n_failures": len(val_metrics.failures if val_metrics else []),
            "n_test_failures": len(metrics.failures), "iteration": iteration}


def _with_folds(failures: list[dict[str, str]], val: list[Example], plan: dict[str, Any]) -> list[dict]:
    """Validation mistakes with the demonstration fold of their row (error-driven generation
    imitates a row from that fold's prompts only)."""
    if plan["mode"] != "folds":
        return failures
    fold_by_input = {e.input[:2000]: row_fold(e, plan["folds"]) for e in val}
    return [{**f, "fold": fold_by_input.get(f["input"])} for f in failures]


def has_gold_rows(state: State, ctx: RunContext) -> bool:
    """Gold test rows, or demonstrations enough to score by folds."""
    return state.get("n_test", 0) > 0 or fold_count(ctx.task, ctx.config.data.demo_folds) >= 2


def unavailable(state: State, ctx: RunContext) -> Optional[str]:
    if state.get("trained_rows", -1) < 0:
        return "no evaluation before training"
    if not has_gold_rows(state, ctx):
        return "no gold rows to score on: no test rows and fewer than two demonstrations"
    if not state.get("needs_eval"):
        return "this model is already evaluated"
    return None


def update(result: dict[str, Any], args: dict[str, Any], state: State, ctx: RunContext) -> dict[str, Any]:
    baselines = result.get("baselines") or {}
    entry = {"iteration": result["iteration"], "name": result["metric"]["name"],
             "value": result["metric"]["value"], "n": result["n"], "n_train": state.get("trained_rows"),
             "test_source": result.get("test_source"), "baseline": baselines.get(BASELINE),
             "teacher": baselines.get("teacher"), "published": result.get("published"),
             "estimate": result.get("estimate"),  # what "target met" reads (gold, its lower bound)
             # what this iteration cost in total, for the planner's "what it bought" line
             "rows": {k: v for k, v in ctx.store.counts().items() if k in ("user", "retrieved", "generated")},
             "llm_calls": ctx.llm.usage.calls if ctx.llm else 0}
    history = list(state.get("history", [])) + [entry]
    return {"history": history, "evaluations": len(history), "needs_eval": False}


def view(result: dict[str, Any]) -> str:
    others = ", ".join(f"{k} {v}" for k, v in (result.get("baselines") or {}).items() if v is not None)
    val = result.get("validation") or {}
    metric = result.get("metric") or {}
    return (f"{metric.get('name')} = {metric.get('value')} {metric.get('ci', '')} on {result.get('n')} "
            f"gold rows ({result.get('test_source')}); baselines: {others or '-'}; validation "
            f"{val.get('value', '-')}; published {result.get('published')}")


SPEC = ToolSpec(name="evaluate", run=evaluate, args=NoArgs, unavailable=unavailable, update=update, view=view)
