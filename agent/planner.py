"""The planner: the next tool call, proposed by the LLM from the calls legal now (through the
planner's gate) or by the default policy; what the planner is shown of the run."""
from __future__ import annotations

import json
import time
from collections import Counter
from typing import Any, Optional

from p2m.agent.gate import PlannerGate
from p2m.agent.policy import default_step
from p2m.agent.state import AgentState, RunState, planner_lines
from p2m.agent.router import budget_stop, score_before_stopping
from p2m.llm.llm import LLMBudgetExceeded
from p2m.prompts import render
from p2m.runfolder.context import RunContext
from p2m.runfolder.run_files import FAILURES
from p2m.tools.specs import REGISTRY, offered_tools, tool_options, usual_order
from p2m.tools.specs.evaluate import target_met
from p2m.tools.specs.generate_examples import time_for_a_round


def _state_summary(state: AgentState, ctx: RunContext, gate: PlannerGate) -> str:
    """Facts of the run for the planner, every string through the gate (agent/gate.py): the
    store's counts, each tool's view of its own state keys, the last tool's result."""
    lines = [f"training rows: {state.get('n_train', 0)}, test rows: {state.get('n_test', 0)}"]
    lines += planner_lines(dict(state), gate.text)
    # a yes/no, not seconds: a prompt holding wall time would not replay from the reply cache
    lines.append(f"time left for another round of writing, training and scoring: "
                 f"{'yes' if time_for_a_round(state, ctx) else 'no'}")
    if state.get("last"):
        lines.append(f"last tool: {json.dumps(_facts(state['last'], gate), default=str)[:600]}")
    return "\n".join("- " + line for line in lines)


def _shortfall(ctx: RunContext, state: AgentState, gate: PlannerGate) -> str:
    """The gap to the target and which labels get confused: counts and label names only, never
    row text (a QA answer or a generated output is data, not a label)."""
    if not state.get("history") or target_met(state, ctx) or ctx.task.target is None:
        return ""
    h = state["history"][-1]
    failures = ctx.read_json(FAILURES, []) or []
    labels = set(ctx.task.label_set or [])
    name = lambda v: v if v in labels else "<other>"  # noqa: E731
    confusions = Counter((name(f.get("expected")), name(f.get("predicted"))) for f in failures)
    shown = "; ".join(f"expected {e!r} got {p!r}: {n}" for (e, p), n in confusions.most_common(5)) \
        if labels else f"{len(failures)} validation rows wrong"
    est = h.get("estimate") or {}
    where = (f"{gate.text(h['name'])} lower bound {est.get('lower')} < {ctx.task.target.value}"
             if est.get("gold") else "no gold estimate shows it")
    return f"\nThe target is not shown met: {where}. Errors by kind: {shown or 'none recorded'}"


def _local(key: str) -> bool:
    """A file path (a trained model's folder): it names the run directory, so the same decision
    read differently in two runs of one task; the planner needs none."""
    return key == "path" or key.endswith("_path")


def _timing(key: str) -> bool:
    """A wall-time field (seconds, rates, timestamps): kept out of prompts, which must replay."""
    return key in ("seconds", "trained_at", "time") or key.endswith(("_s", "per_s"))


def _facts(value: Any, gate: PlannerGate) -> Any:
    """A tool result reduced to numbers, flags and what the gate lets through (a dataset's
    column mapping is its card's words, and test-split figures are for people: left out)."""
    if isinstance(value, dict):
        return {gate.text(k): _facts(v, gate) for k, v in list(value.items())[:20]
                if k not in ("reason", "llm_reason", "failures", "args", "columns", "metric", "baselines")
                and not _timing(k)
                and not _local(k)}
    if isinstance(value, list):
        return [_facts(v, gate) for v in value[:10]]
    if isinstance(value, str):
        return gate.text(value)
    return value if value is None or isinstance(value, (bool, int, float)) else gate.text(value)


def llm_snapshot(ctx: RunContext) -> dict[str, Any]:
    """The LLM's accounting and what it learned about its server, saved with each checkpoint
    and restored by a resume (`runner.execute`)."""
    return {"usage": ctx.llm.usage.to_dict() if ctx.llm else {},
            "llm_learned": ctx.llm.learned() if ctx.llm else {}}


def _tool_menu(state: AgentState, ctx: RunContext, gate: PlannerGate) -> str:
    """Each registered tool with its description, what it has cost in this run, and why it is
    unavailable now when it is."""
    lines, spent = [], state.get("spent") or {}
    for name, spec in REGISTRY.items():
        why = spec.unavailable(state, ctx)
        cost = spent.get(name)
        lines.append(f"- {name}: {spec.description.splitlines()[0]}"
                     + (f" [spent so far: {cost['runs']} runs, {cost['llm_calls']} LLM calls]"
                        if cost else "")
                     + (f" [not now: {gate.sentence(why)}]" if why else ""))
    return "\n".join(lines)


def planner_messages(state: AgentState, ctx: RunContext,
                     gate: Optional[PlannerGate] = None) -> list[dict[str, str]]:
    gate = gate or PlannerGate.for_run(ctx, state)
    task = ctx.task
    tools = _tool_menu(state, ctx, gate)
    user = render("plan_state", instruction=task.instruction, task_type=task.task_type,
                  labels=", ".join(task.labels or []) or "-",
                  target=f"{task.target.metric} >= {task.target.value}" if task.target else "-",
                  state=_state_summary(state, ctx, gate) + _shortfall(ctx, state, gate), tools=tools)
    return [{"role": "system", "content": render("plan", order=usual_order())}, {"role": "user", "content": user}]


def llm_plans(ctx: RunContext) -> bool:
    """Whether the LLM chooses the steps (`RunConfig.planner`); else the default policy does."""
    if ctx.llm is None or ctx.config.planner == "policy":
        return False
    return ctx.config.planner == "llm" or ctx.llm.describe().get("backend") != "local"


def make_planner(ctx: RunContext):
    def planner(state: RunState) -> dict[str, Any]:
        started = time.perf_counter()
        stop = budget_stop(state, ctx)
        if stop and score_before_stopping(state, ctx):
            reason = f"budget spent ({stop}): scoring the last training before stopping"
            ctx.trace.write("planner", "decision", tool="evaluate", args={}, reason=reason,
                            summary={"by": "budget"}, iteration=state.get("evaluations", 0))
            return {"proposal": {"tool": "evaluate", "args": {}, "reason": reason, "by": "budget"}}
        if stop:
            proposal = {"tool": "finish", "args": {"reason": f"budget spent: {stop}"},
                        "reason": stop, "by": "budget"}
            ctx.trace.write("planner", "decision", tool="finish", args=proposal["args"], reason=stop,
                            iteration=state.get("evaluations", 0))
            return {"proposal": proposal, "stop_reason": stop}
        tokens_before = ctx.llm.usage.tokens if ctx.llm else 0
        cost_before = ctx.llm.usage.cost_usd if ctx.llm else 0.0
        gate = PlannerGate.for_run(ctx, state)  # data names reach the LLM as handles only
        tools = [gate.tool(t) for t in offered_tools(ctx, state)] if llm_plans(ctx) else []
        if not tools:
            proposal = default_step(state, ctx)
        else:
            try:
                proposal = {**ctx.llm.propose_tool(planner_messages(state, ctx, gate), tools), "by": "llm"}
                proposal["args"] = gate.resolve(proposal["args"])
            except LLMBudgetExceeded as exc:
                proposal = {"tool": "finish", "args": {"reason": str(exc)}, "reason": str(exc),
                            "by": "budget"}
            except Exception as exc:  # invalid JSON, unknown reply, script exhausted, API down
                ctx.trace.write("planner", "llm_error", summary=f"{type(exc).__name__}: {exc}"[:500],
                                iteration=state.get("evaluations", 0))
                proposal = default_step(state, ctx)
        ctx.trace.write("planner", "decision", tool=proposal["tool"], args=proposal["args"],
                        reason=proposal.get("reason"), summary={"by": proposal["by"]},
                        options=tool_options(ctx, state),
                        duration_s=round(time.perf_counter() - started, 3),
                        tokens=(ctx.llm.usage.tokens - tokens_before) if ctx.llm else 0,
                        cost_usd=round(ctx.llm.usage.cost_usd - cost_before, 6) if ctx.llm else 0.0,
                        iteration=state.get("evaluations", 0))
        # The planner's own calls are saved with its checkpoint: a resume after this node bills them.
        return {"proposal": proposal, "elapsed_s": state.get("elapsed_s", 0.0) + time.perf_counter() - started,
                **llm_snapshot(ctx)}

    return planner
