"""report.json: the run's outcome in one object."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from .agent.context import RunContext


def build_report(ctx: RunContext, state: dict[str, Any]) -> dict[str, Any]:
    metrics = ctx.read_json("metrics.json") or {}
    history = metrics.get("history", [])
    best = max(history, key=lambda h: h["value"]) if history else None
    counts = ctx.store.counts()
    choice = ctx.read_json("model_choice.json") or {}
    usage = ctx.llm.usage.to_dict() if ctx.llm else {}
    return {
        "task_type": ctx.task.task_type,
        "metric": {"name": best["name"], "value": best["value"]} if best else None,
        "target": ctx.task.target.model_dump() if ctx.task.target else None,
        "target_met": bool(best and ctx.task.target and best["value"] >= ctx.task.target.value),
        "n_train": counts["train"], "n_test": counts["test"],
        "n_retrieved": counts["retrieved"], "n_generated": counts["generated"], "n_user": counts["user"],
        "model": {"name": choice.get("name"), "path": str(ctx.path("model")) if best else None,
                  "params": choice.get("params")},
        "teacher": metrics.get("teacher"),
        "iterations": len(history),
        "history": [{k: h[k] for k in ("iteration", "name", "value", "n_train")} for h in history],
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
