"""A run as it happens: the step running now, for how long, the rows it has added so far."""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Callable, Optional

from p2m.runfolder.trace import read_trace
from p2m.runfolder.rundir import RunDir
from p2m.trace_view import timeline_rows
from p2m.runfolder.run_files import DATA, EXAMPLES, STEP, STEPS


def live_status(run_dir: str | Path) -> dict[str, Any]:
    """{"state": "running" | "finished" | "stopped", "pid", "step", "tool", "running_s",
    "rows_added"}: the step in progress is the last decision with no tool result after it; the
    rows it added so far are the rows appended since the last step's files were kept."""
    run = RunDir(run_dir).require()
    events = list(read_trace(run.trace_path))
    decisions = [i for i, e in enumerate(events) if e["kind"] == "decision"]
    pid = run.holder()
    state = "finished" if run.report() is not None and pid is None else "running" if pid else "stopped"
    out: dict[str, Any] = {"state": state, "pid": pid, "steps": len(decisions)}
    if not decisions or any(e["kind"] == "tool" for e in events[decisions[-1]:]):
        return out
    decision = events[decisions[-1]]
    steps = run.saved_steps()
    rows_added = None
    if steps:
        kept = json.loads(run.file(STEPS, str(steps[-1]), STEP).read_text(encoding="utf-8"))
        rows = run.file(DATA, EXAMPLES)
        if rows.exists():
            with open(rows, "rb") as f:
                f.seek(kept["lengths"][f"{DATA}/{EXAMPLES}"])
                rows_added = sum(1 for line in f if line.strip())
    out.update(step=len(decisions), tool=decision.get("tool"), running_s=round(time.time() - decision["time"], 1),
               rows_added=rows_added)
    return out


def status_line(status: dict[str, Any]) -> str:
    if status.get("tool") and status["state"] == "running":
        rows = f", {status['rows_added']} rows added so far" if status.get("rows_added") else ""
        return f"step {status['step']}: {status['tool']} running for {status['running_s']:.0f} s{rows}"
    if status["state"] == "finished":
        return f"finished after {status['steps']} steps"
    if status.get("tool"):
        return (f"stopped during step {status['step']} ({status['tool']}): no process holds the run; "
                "p2m resume RUN goes on from there")
    return f"{status['state']} after {status['steps']} steps"


def follow(run_dir: str | Path, emit: Callable[[str], None] = print, interval: float = 1.0,
           max_s: Optional[float] = None) -> dict[str, Any]:
    """`p2m trace RUN --follow`: each new trace event as a line as it is written, and the running
    step's status when it changes; returns when the run is finished or stopped (or after `max_s`)."""
    shown, last_line, started = 0, "", time.monotonic()
    while True:
        rows = timeline_rows(run_dir)
        for row in rows[shown:]:
            emit(f"{row['t']}  {row['node']:<8} {row['what']:<28} {row['detail']}")
        shown = len(rows)
        status = live_status(run_dir)
        line = status_line(status)
        if line != last_line and (status.get("tool") or status["state"] != "running"):
            emit(f"... {line}")
            last_line = line
        if status["state"] != "running" or (max_s is not None and time.monotonic() - started >= max_s):
            return status
        time.sleep(interval)
