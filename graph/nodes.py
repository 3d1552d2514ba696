"""The graph's nodes besides the planner (agent/planner.py): guard, act (the tool node) and report."""
from __future__ import annotations

import time
from typing import Any

from p2m.agent import guard as guard_mod
from p2m.agent.planner import llm_snapshot
from p2m.agent.policy import default_step
from p2m.agent.state import RunState
from p2m.agent.router import stop_after_evaluation
from p2m.llm.llm import LLMBudgetExceeded
from p2m.graph.plots import write_plots
from p2m.graph.report import write_report
from p2m.runfolder.context import RunContext
from p2m.tools.scoring.assess import publish_demonstrations_only
from p2m.tools.specs import REGISTRY


def make_guard(ctx: RunContext):
    def guard(state: RunState) -> dict[str, Any]:
        proposal = state["proposal"] or {}
        if proposal.get("by") == "budget":
            return {}
        why = guard_mod.check(proposal, state, ctx)
        if why is None:
            return {}
        replacement = default_step(state, ctx)
        stuck = guard_mod.check(replacement, state, ctx) if replacement["tool"] != "finish" else None
        if stuck:  # the policy's own step is refused too: going on would only repeat it
            replacement = {"tool": "finish", "reason": "no step can run",
                           "args": {"reason": f"no step can run: {replacement['tool']} is refused ({stuck})"}}
        ctx.trace.write("guard", "override", tool=replacement["tool"], args=replacement["args"],
                        reason=why, summary={"proposed": {"tool": proposal.get("tool"),
                                                          "args": proposal.get("args")},
                                             "replacement_reason": replacement["reason"]},
                        iteration=state.get("evaluations", 0))
        return {"proposal": {**replacement, "by": "guard"}}

    return guard


def make_act(ctx: RunContext):
    def act(state: RunState) -> dict[str, Any]:
        proposal = state["proposal"]
        tool, args = proposal["tool"], proposal.get("args") or {}
        spec = REGISTRY[tool]
        started = time.perf_counter()
        tokens_before = ctx.llm.usage.tokens if ctx.llm else 0
        calls_before = ctx.llm.usage.calls if ctx.llm else 0
        cost_before = ctx.llm.usage.cost_usd if ctx.llm else 0.0
        update: dict[str, Any] = {}
        failures = dict(state.get("failures", {}))
        ctx.deadline = time.monotonic() + max(0.0, ctx.config.budget.max_wall_s - state.get("elapsed_s", 0.0))
        ctx.step = state.get("steps", 0)
        rows_before = len(ctx.store.all())
        try:
            result = spec(ctx, **args)
            failures[tool] = 0
            update.update(spec.update(result, args, state, ctx))
            if "history" in update:  # a new gold-scored iteration: the router may end the run
                stop = stop_after_evaluation({**state, **update}, ctx)
                if stop:
                    update.update(done=True, stop_reason=stop)
            summary: Any = result
        except LLMBudgetExceeded as exc:
            summary = {"error": str(exc)}
            update.update(done=True, stop_reason=f"max LLM calls ({ctx.config.budget.max_llm_calls})")
        except Exception as exc:  # a failed tool is reported to the planner, not fatal
            summary = {"error": f"{type(exc).__name__}: {exc}"[:800]}
            failures[tool] = failures.get(tool, 0) + 1
            update.update(spec.on_failure(summary["error"], args, state))
        counts = ctx.store.counts()
        duration = time.perf_counter() - started
        ctx.trace.write("act", "tool", tool=tool, args=args, summary=summary, added=ctx.store.added_since(rows_before),
                        duration_s=round(duration, 3),
                        tokens=(ctx.llm.usage.tokens - tokens_before) if ctx.llm else 0,
                        cost_usd=round(ctx.llm.usage.cost_usd - cost_before, 6) if ctx.llm else 0.0,
                        iteration=update.get("evaluations", state.get("evaluations", 0)))
        ctx.run.save_step(state.get("steps", 0) + 1)  # what `p2m fork` restores to continue from here
        spent = dict(state.get("spent") or {})  # counts only (seconds are in the trace): prompts replay
        was = spent.get(tool, {"runs": 0, "llm_calls": 0})
        spent[tool] = {"runs": was["runs"] + 1,
                       "llm_calls": was["llm_calls"] + (ctx.llm.usage.calls - calls_before if ctx.llm else 0)}
        update.update(n_train=counts["train"], n_test=counts["test"], failures=failures, spent=spent,
                      steps=state.get("steps", 0) + 1, last={"tool": tool, "args": args, "summary": summary},
                      elapsed_s=state.get("elapsed_s", 0.0) + duration, proposal=None,
                      **llm_snapshot(ctx))
        return update

    return act


def make_report(ctx: RunContext):
    def report(state: RunState) -> dict[str, Any]:
        if not state.get("history"):  # no student evaluated: the demonstrations-only model, scored
            try:
                publish_demonstrations_only(ctx)
            except Exception as exc:  # the report still says what the run did
                ctx.trace.write("report", "baseline_error", summary=f"{type(exc).__name__}: {exc}"[:300])
        path = write_report(ctx, state)
        try:
            write_plots(ctx.run_dir)
        except Exception as exc:  # a plot is a view: it never fails the run
            ctx.trace.write("report", "plot_error", summary=f"{type(exc).__name__}: {exc}"[:300])
        ctx.trace.write("report", "stop", reason=state.get("stop_reason"), summary={"report": str(path)},
                        iteration=state.get("evaluations", 0))
        return {"done": True}

    return report
