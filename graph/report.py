"""report.json: the run's outcome in one object, every figure on gold test rows."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from p2m.runfolder.context import RunContext
from p2m.core.schemas import TaskSpec
from p2m.tools.families.baselines import NAME as BASELINE
from p2m.tools.generation.verify import demonstrated_entity_types
from p2m.tools.specs.label_inputs import per_minute, progress_of
from p2m.runfolder.run_files import CHOICE, METRICS, MODEL, REPORT


def verdict(student: Optional[dict[str, Any]], baselines: dict[str, Any], n: int,
            published: Optional[dict[str, Any]] = None, same_rows: Optional[dict[str, Any]] = None) -> str:
    """Plain sentences: which model is published and why, against both baselines on the same
    gold rows (the demonstrations-only model on all test rows, the teacher on its rows)."""
    base = (baselines.get(BASELINE) or {}).get("value")
    published = published or {}
    if student is None and published.get("kind") == "baseline" and base is not None:
        first = (f"no student was trained (too few rows); the demonstrations-only model is published: "
                 f"{base} on {n} gold rows")
        return _beside_teacher(first, "baseline", same_rows)
    if student is None:
        return "no student was evaluated"
    kind = published.get("kind", "student")
    why = ""
    other_name = "baseline" if kind == "student" else "student"
    decided_on = published.get("decided_on") or ""
    # the teacher's rows that decided, when they did: held-out real inputs it labelled (step 2),
    # or held-out validation rows it wrote or labelled, with their interval (step 3)
    shares, interval = None, ""
    if published.get("teacher_rows") and "teacher wrote or labelled" in decided_on:
        shares, interval = published["teacher_rows"], f", difference interval {published['teacher_rows']['ci']}"
    elif published.get("agreement") and "teacher labelled" in decided_on:
        shares = published["agreement"]
    if shares:
        why = (f" (chosen on {decided_on}: it agrees with the teacher on {round(shares[kind], 4)} of them, "
               f"the {other_name} on {round(shares[other_name], 4)}{interval})")
    elif decided_on and published.get("estimate") is not None:
        decided = student.get("estimate") or {}
        other = ((decided.get("baseline") if kind == "student" else decided.get("student")) or {}).get("value")
        why = (f" (chosen on {published['decided_on']}: {published['estimate']}"
               + (f" against {other} for the {other_name})" if other is not None else ")"))
    if base is None:
        first = f"the student is published{why}; no demonstrations-only baseline (the task has no demonstrations)"
    elif kind == "baseline":
        first = (f"the demonstrations-only model is published{why}: on {n} gold test rows it reads {base}, "
                 f"the student {student['value']}"
                 + (" (the student does NOT beat it)" if student["value"] <= base else ""))
    else:
        gap = round(student["value"] - base, 4)
        first = (f"the student beats the demonstrations-only baseline by {gap} ({student['value']} vs {base}) "
                 f"on {n} gold test rows" if gap > 0 else
                 f"the student does NOT beat the demonstrations-only baseline ({student['value']} vs {base}) "
                 f"on {n} gold test rows") + why
    return _beside_teacher(first, kind, same_rows)


def _beside_teacher(first: str, kind: str, same_rows: Optional[dict[str, Any]]) -> str:
    same = same_rows or {}
    if same.get("teacher") is None:
        return first
    mine = same.get(BASELINE if kind == "baseline" else "student")
    if mine is None:
        return first
    gap = round(mine - same["teacher"], 4)
    who = "the demonstrations-only model" if kind == "baseline" else "the student"
    return (f"{first}; against the teacher: {who} {round(mine, 4)} vs the teacher's {same['teacher']} on "
            f"the same {same['n']} rows ({'+' if gap >= 0 else ''}{gap})")


def labelling(ctx: RunContext) -> Optional[dict[str, Any]]:
    """The teacher's labelling of the user's unlabelled texts: rows, seconds, rows a minute."""
    progress = progress_of(ctx)
    if not progress.get("labelled"):
        return None
    return {"rows": progress["labelled"], "seconds": round(progress.get("labelling_s") or 0.0, 2),
            "per_minute": per_minute(progress)}


def to_improve(ctx: RunContext, counts: dict[str, int], published: dict[str, Any]) -> list[str]:
    """What the user could add, when the published model rests on little: said plainly."""
    task, config = ctx.task, ctx.config
    hints = []
    if counts["retrieved"] + counts["generated"] + counts["unlabelled"] == 0:
        if ctx.llm is None:
            hints.append("an LLM to write and label training rows (--llm local, the embedded model)")
        if not config.catalog and not config.hub:
            hints.append("a dataset catalog to search (--catalog DIR, or --hub)")
    per_label = min((sum(d.output == label for d in task.examples) for label in task.label_set or []),
                    default=None)
    if per_label is not None and per_label < 8:
        hints.append(f"more demonstrations: {per_label} for the rarest label now; 8 or more per label "
                     "make the demonstrations-only model and the fold estimate firmer")
    hints += unnamed_entity_types(task)
    if counts["test"] == 0:
        hints.append("gold test rows (--test FILE.jsonl): the demonstrations are the only test now")
    if published.get("kind") == "baseline":
        hints.insert(0, "the demonstrations-only model is published: no trained student did better on "
                        "the gold estimate")
    return hints


def unnamed_entity_types(task: TaskSpec) -> list[str]:
    """An entity task's types that no demonstration names. The teacher annotates, and verifies
    written rows, from the demonstrations: WNUT-17's four drawn with seed 1 named no entity, and
    43 of the 48 rows a run kept named none."""
    if task.task_type != "ner":
        return []
    named = demonstrated_entity_types(task)
    if not named:
        return ["demonstrations that name entities: none of yours does, so the teacher and the rows "
                "it writes learn to answer none"]
    missing = [t for t in task.labels or [] if t.strip().lower() not in named]
    return [f"demonstrations naming a {', '.join(missing)}: none of yours does"] if missing else []


def build_report(ctx: RunContext, state: dict[str, Any]) -> dict[str, Any]:
    metrics = ctx.read_json(METRICS) or {}
    history = metrics.get("history", [])
    published = metrics.get("published") or {}
    by_iteration = {h["iteration"]: h for h in history}
    student = by_iteration.get(published.get("iteration")) or (history[-1] if history else None)
    baselines = metrics.get("baselines", {})
    test = metrics.get("test") or {}
    if published.get("kind") == "baseline":
        headline = {k: baselines[BASELINE][k] for k in ("name", "value", "n", "ci")}
    else:
        headline = {k: student[k] for k in ("name", "value", "n", "ci")} if student else None
    counts = ctx.store.counts()
    estimate = (student or {}).get("estimate") or metrics.get("estimate") or {}
    choice = ctx.read_json(CHOICE) or {}
    usage = ctx.llm.usage.to_dict() if ctx.llm else {}
    target = ctx.task.target
    return {
        "task_type": ctx.task.task_type,
        "metric": headline,
        "published": (f"student (iteration {published.get('iteration')})" if published.get("kind") == "student"
                      else "demonstrations-only baseline" if published else None),
        "target": target.model_dump() if target else None,
        # what stopped the run: the published model's gold estimate, its 95% lower bound at the
        # target (the test split above is reported, never decided on)
        "target_met": bool(target and estimate.get("gold") and published.get("lower") is not None
                           and published["lower"] >= target.value),
        "estimate": {"source": estimate.get("source"), "gold": estimate.get("gold"), "n": estimate.get("n"),
                     "published": published.get("estimate"), "lower": published.get("lower"),
                     "student": estimate.get("student"), "baseline": estimate.get("baseline"),
                     # student - baseline on the gold rows (paired), and, when those could not tell
                     # them apart, each one's agreement with the teacher on held-out real inputs
                     "difference": published.get("difference"), "agreement": published.get("agreement"),
                     # teacher - baseline on the gold rows, when clearly below 0 (no agreement step)
                     "teacher_vs_baseline": published.get("teacher_vs_baseline"),
                     # when neither could: each one's agreement with the teacher on the held-out
                     # validation rows it wrote or labelled, and the paired difference
                     "teacher_rows": published.get("teacher_rows"),
                     # what the gold point estimates alone would have published
                     "point_estimates": published.get("point_estimates"),
                     "decided_on": published.get("decided_on")}
        if estimate else None,
        "test": test,
        "student": {k: student[k] for k in ("iteration", "name", "value", "n", "ci")} if student else None,
        "baselines": {name: {k: b.get(k) for k in ("name", "value", "n", "ci", "rows", "skipped")
                             if b.get(k) is not None} for name, b in baselines.items()},
        "same_rows": metrics.get("same_rows") or {},
        "cascade": metrics.get("cascade"),
        "verdict": verdict(student, baselines, test.get("n", 0),
                           published, metrics.get("same_rows")),
        "to_improve": to_improve(ctx, counts, published),
        "validation": {"n": published.get("validation_n", 0), "student": published.get("validation")
                       if published.get("kind") == "student" else None,
                       "baseline": published.get("baseline_validation")},
        "n_train": counts["train"], "n_validation": counts["validation"], "n_test": counts["test"],
        "n_retrieved": counts["retrieved"], "n_generated": counts["generated"], "n_user": counts["user"],
        "n_unlabelled": counts["unlabelled"],
        "labelling": labelling(ctx),
        "model": {"name": choice.get("name"), "path": str(ctx.path(MODEL)) if published else None,
                  "params": choice.get("params")},
        "teacher": baselines.get("teacher"),
        "iterations": len(history),
        "history": [{k: h.get(k) for k in ("iteration", "name", "value", "ci", "n_train", "validation")}
                    for h in history],
        "llm": ctx.llm.describe() if ctx.llm else None,
        "llm_calls": usage.get("calls", 0),
        "tokens": usage.get("prompt_tokens", 0) + usage.get("completion_tokens", 0),
        "cost_usd": usage.get("cost_usd", 0.0),
        "faults": usage.get("faults", {}),
        "stop_reason": state.get("stop_reason"),
        "steps": state.get("steps", 0),
        "wall_s": round(state.get("elapsed_s", 0.0), 1),
    }


def write_report(ctx: RunContext, state: dict[str, Any]) -> Path:
    return ctx.write_json(REPORT, build_report(ctx, state))
