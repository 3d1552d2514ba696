"""report.json: the run's outcome in one object, every figure on gold test rows."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from .agent.context import RunContext
from .tools.baselines import NAME as BASELINE


def verdict(student: Optional[dict[str, Any]], baselines: dict[str, Any], n: int) -> str:
    """One plain sentence: does the student beat the demonstrations-only baseline?"""
    base = (baselines.get(BASELINE) or {}).get("value")
    if student is None:
        return "no student was evaluated"
    if base is None:
        return "no demonstrations-only baseline (the task has no demonstrations)"
    gap = round(student["value"] - base, 4)
    if gap > 0:
        return (f"the student beats the demonstrations-only baseline by {gap} "
                f"({student['value']} vs {base}) on {n} gold test rows")
    return (f"the student does NOT beat the demonstrations-only baseline ({student['value']} vs "
            f"{base}) on {n} gold test rows")


def build_report(ctx: RunContext, state: dict[str, Any]) -> dict[str, Any]:
    metrics = ctx.read_json("metrics.json") or {}
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
    choice = ctx.read_json("model_choice.json") or {}
    usage = ctx.llm.usage.to_dict() if ctx.llm else {}
    target = ctx.task.target
    return {
        "task_type": ctx.task.task_type,
        "metric": headline,
        "published": (f"student (iteration {published.get('iteration')})" if published.get("kind") == "student"
                      else "demonstrations-only baseline" if published else None),
        "target": target.model_dump() if target else None,
        "target_met": bool(headline and target and headline["value"] >= target.value),
        "test": test,
        "student": {k: student[k] for k in ("iteration", "name", "value", "n", "ci")} if student else None,
        "baselines": {name: {k: b.get(k) for k in ("name", "value", "n", "ci", "rows", "skipped")
                             if b.get(k) is not None} for name, b in baselines.items()},
        "same_rows": metrics.get("same_rows") or {},
        "verdict": verdict(student, baselines, test.get("n", 0)),
        "validation": {"n": published.get("validation_n", 0), "student": published.get("validation")
                       if published.get("kind") == "student" else None,
                       "baseline": published.get("baseline_validation")},
        "n_train": counts["train"], "n_validation": counts["validation"], "n_test": counts["test"],
        "n_retrieved": counts["retrieved"], "n_generated": counts["generated"], "n_user": counts["user"],
        "model": {"name": choice.get("name"), "path": str(ctx.path("model")) if published else None,
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
    return ctx.write_json("report.json", build_report(ctx, state))
