"""Rendering a run's trace as a readable timeline."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from p2m.runfolder.trace import read_trace
from p2m.runfolder.rundir import RunDir
from p2m.tools.specs import REGISTRY


def _short(value: Any, limit: int = 160) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _tool_summary(event: dict[str, Any]) -> str:
    s = event.get("summary") or {}
    if not isinstance(s, dict):
        return _short(s)
    if "error" in s:
        return "ERROR " + _short(s["error"])
    spec = REGISTRY.get(event.get("tool") or "")
    try:
        return spec.view(s) if spec else _short(s)
    except (KeyError, TypeError, AttributeError):  # a trace written by another version
        return _short(s)


def timeline_rows(run_dir: str | Path) -> list[dict[str, str]]:
    """One row per trace event: time, node, what happened, details; lines that are not events
    are named in a last row rather than failing the view."""
    rows: list[dict[str, str]] = []
    skipped: list[int] = []
    start = None
    for e in read_trace(RunDir(run_dir).trace_path, skipped):
        start = start if start is not None else e["time"]
        try:
            what, detail = _describe(e)
        except (TypeError, ValueError, KeyError, AttributeError):  # a hand-edited or crafted event
            what, detail = e["kind"][:40], "(fields not as p2m writes them)"
        rows.append({"t": f"{e['time'] - start:7.1f}s", "node": e["node"][:40], "what": what,
                     "detail": detail, "tokens": str(e.get("tokens") or "")[:12]})
    if skipped:
        rows.append({"t": "", "node": "trace", "what": "UNREADABLE",
                     "detail": f"{len(skipped)} line(s) of trace.jsonl are not events: "
                               f"{', '.join(map(str, skipped[:10]))}", "tokens": ""})
    return rows


def _describe(e: dict[str, Any]) -> tuple[str, str]:
    kind = e["kind"]
    if kind == "decision":
        by = (e.get("summary") or {}).get("by", "")
        return f"decide {e.get('tool')} ({by})", f"{e.get('reason') or ''} {_short(e.get('args'), 80)}"
    if kind == "override":
        prop = (e.get("summary") or {}).get("proposed", {})
        return f"OVERRIDE {prop.get('tool')} -> {e.get('tool')}", f"{e.get('reason')}"
    if kind == "tool":
        return f"{e.get('tool')} [{float(e.get('duration_s') or 0):.1f}s]", _tool_summary(e)
    if kind == "llm_error":
        return "LLM error", _short(e.get("summary"))
    if kind == "stop":
        return "stop", str(e.get("reason"))
    if kind == "fork":
        s = e.get("summary") or {}
        change = s.get("task") or {}
        edits = [f"demonstrations {change['demonstrations'][0]} -> {change['demonstrations'][1]}"
                 if change.get("demonstrations") and change["demonstrations"][0] != change["demonstrations"][1] else "",
                 f"labels renamed {change['renamed_labels']}" if change.get("renamed_labels") else "",
                 f"set {', '.join(s['set'])}" if s.get("set") else "",
                 f"then {s['then']['tool']}" if s.get("then") else ""]
        return (f"FORK of {s.get('from')} at step {s.get('at_step')}",
                "; ".join(x for x in edits if x) or "no change: the same run, continued")
    return kind, _short(e.get("summary"))


def step_detail(run_dir: str | Path, n: int) -> dict[str, Any]:
    """Planner step `n` (1-based, the n-th decision) opened: who decided and why, the menu it
    chose from (legal tools, and why each other was not), the guard's verdict, the tool's
    arguments and result, seconds, tokens, the rows it added, and the metric before and after.
    ValueError naming the range when there is no such step."""
    events = list(read_trace(RunDir(run_dir).trace_path))
    decisions = [i for i, e in enumerate(events) if e["kind"] == "decision"]
    if not 1 <= n <= len(decisions):
        raise ValueError(f"step {n}: the run has steps 1 to {len(decisions)}")
    first = decisions[n - 1]
    last = decisions[n] if n < len(decisions) else len(events)
    decision, after = events[first], events[first + 1:last]
    override = next((e for e in after if e["kind"] == "override"), None)
    tool = next((e for e in after if e["kind"] == "tool"), None)
    summary = decision.get("summary") if isinstance(decision.get("summary"), dict) else {}

    def metric(scope: list[dict[str, Any]]) -> Any:
        scored = [e for e in scope if e["kind"] == "tool" and e.get("tool") == "evaluate"
                  and isinstance(e.get("summary"), dict) and "metric" in e["summary"]]
        return scored[-1]["summary"]["metric"] if scored else None

    return {
        "step": n, "of": len(decisions), "iteration": decision.get("iteration"),
        "decided": {"tool": decision.get("tool"), "args": decision.get("args"), "by": summary.get("by"),
                    "reason": decision.get("reason"), "seconds": decision.get("duration_s"),
                    "tokens": decision.get("tokens"), "cost_usd": decision.get("cost_usd", 0.0)},
        "options": decision.get("options") or "not recorded (a trace written before p2m recorded them)",
        "guard": ({"verdict": "refused", "why": override.get("reason"),
                   "replaced_by": {"tool": override.get("tool"), "args": override.get("args")}}
                  if override else {"verdict": "accepted"}),
        "errors": [e.get("summary") for e in after if e["kind"] == "llm_error"],
        "ran": None if tool is None else {
            "tool": tool.get("tool"), "args": tool.get("args"), "result": _tool_summary(tool),
            "seconds": tool.get("duration_s"), "tokens": tool.get("tokens"), "cost_usd": tool.get("cost_usd", 0.0),
            "added": tool.get("added") or "no rows" if "added" in tool else "not recorded"},
        "metric_before": metric(events[:first]), "metric_after": metric(events[:last]),
    }


def render_step(run_dir: str | Path, n: int) -> None:
    """`p2m trace RUN --step N`: one step, opened."""
    from rich.console import Console

    d = step_detail(run_dir, n)
    console = Console()
    decided = d["decided"]
    console.print(f"[bold]step {d['step']} of {d['of']}[/bold] (iteration {d['iteration']}): "
                  f"{decided['tool']} {_short(decided['args'], 200)}")
    console.print(f"  decided by {decided['by']}: {decided['reason']}  "
                  f"({decided['seconds'] or 0:.2f} s, {decided['tokens'] or 0} tokens)")
    options = d["options"]
    if isinstance(options, dict):
        console.print(f"  legal then: {', '.join(options.get('legal', [])) or 'none'}")
        for name, why in (options.get("refused") or {}).items():
            console.print(f"    not {name}: {why}")
    else:
        console.print(f"  options: {options}")
    guard = d["guard"]
    console.print("  guard: accepted" if guard["verdict"] == "accepted" else
                  f"  guard: REFUSED ({guard['why']}); ran {guard['replaced_by']['tool']} instead")
    for error in d["errors"]:
        console.print(f"  LLM error: {_short(error)}")
    ran = d["ran"]
    if ran is None:
        console.print("  no tool ran (the run ended here, or was stopped)")
    else:
        console.print(f"  ran {ran['tool']} {_short(ran['args'], 200)}: {ran['result']}")
        console.print(f"    {ran['seconds'] or 0:.1f} s, {ran['tokens'] or 0} tokens, ${ran['cost_usd'] or 0:.4f}; "
                      f"rows added: {_short(ran['added'], 300)}")
    console.print(f"  metric before: {_short(d['metric_before'])}; after: {_short(d['metric_after'])}")


def render_timeline(run_dir: str | Path) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"p2m trace: {run_dir}", show_lines=False)
    for col in ("t", "node", "what", "detail", "tokens"):
        table.add_column(col, overflow="fold")
    for row in timeline_rows(run_dir):
        style = "bold red" if row["what"].startswith(("OVERRIDE", "LLM error")) or "ERROR" in row["detail"] else None
        table.add_row(row["t"], row["node"], row["what"], row["detail"], row["tokens"], style=style)
    console = Console()
    console.print(table)
    r = RunDir(run_dir).report()
    if r is not None:
        test = r.get("test") or {}
        console.print(f"test: {test.get('n')} gold rows from {test.get('source')}; published: "
                      f"{r.get('published')}; metric {r.get('metric')}")
        for name, b in (r.get("baselines") or {}).items():
            console.print(f"  baseline {name}: {b.get('value', b.get('skipped'))} on {b.get('n', '-')} rows "
                          f"{b.get('ci', '')}")
        if r.get("same_rows"):
            console.print(f"  on the teacher's rows: {r['same_rows']}")
        console.print(f"verdict: {r.get('verdict')}  stop: {r.get('stop_reason')}  wall: {r.get('wall_s')} s")
        console.print(f"data: {r.get('n_train')} train / {r.get('n_validation')} validation / "
                      f"{r.get('n_test')} test rows; by source: "
                      f"retrieved {r.get('n_retrieved')}, generated {r.get('n_generated')}, "
                      f"user {r.get('n_user')}")
        console.print(f"LLM: {r.get('llm_calls')} calls, {r.get('tokens')} tokens, "
                      f"${r.get('cost_usd', 0):.4f}; faults {r.get('faults') or {}}")
        for h in r.get("history", []):
            console.print(f"  iteration {h['iteration']}: {h['name']} = {h['value']} {h.get('ci') or ''} "
                          f"({h['n_train']} training rows; validation {(h.get('validation') or {}).get('value')})")
        plots = sorted((Path(run_dir) / "plots").glob("*.png"))
        if plots:
            console.print("plots: " + ", ".join(str(p) for p in plots))
