"""`p2m compare RUN RUN ...`: runs side by side (issue 36 item 4): each published model, the
teacher and the demonstrations-only model on the gold rows the runs share, their data by source,
their decisions, wall time and LLM calls."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from p2m.runfolder.trace import read_trace
from p2m.errors_view import predictions
from p2m.runfolder.rundir import RunDir, RunError
from p2m.core.schemas import Example
from p2m.tools.scoring.assess import metric_value
from p2m.runfolder.run_files import SELECTION


def _answers(run: RunDir) -> dict[str, dict[str, Any]]:
    """Gold input -> {"gold", "published", "teacher", "baseline"} from the run's scored predictions."""
    data, _ = predictions(run)
    kind = ((run.read_json(SELECTION) or {}).get("published") or {}).get("kind")
    column = "baseline" if kind == "baseline" else "student"
    return {r["input"]: {"gold": r["gold"], "published": r.get(column), "teacher": r.get("teacher"),
                         "baseline": r.get("baseline")} for r in data["rows"]}


def compare_runs(run_dirs: list[str | Path]) -> dict[str, Any]:
    """The runs side by side; RunError when there are fewer than two, one is not a finished run, or
    their tasks are of different families (their metrics would not compare)."""
    if len(run_dirs) < 2:
        raise RunError("compare needs two runs or more")
    runs = [RunDir(r).require() for r in run_dirs]
    tasks = [r.task() for r in runs]
    if len({t.task_type for t in tasks}) > 1:
        raise RunError("the runs are tasks of different families: " +
                       ", ".join(f"{r.path.name} {t.task_type}" for r, t in zip(runs, tasks)))
    reports = []
    for run in runs:
        report = run.report()
        if report is None:
            raise RunError(f"{run.path} has not finished (no report.json): p2m trace {run.path} --follow")
        reports.append(report)
    answers = [_answers(run) for run in runs]
    shared = set.intersection(*(set(a) for a in answers))
    table = []
    for run, report, mine in zip(runs, reports, answers):
        tools = [e.get("tool") for e in read_trace(run.trace_path) if e["kind"] == "tool"]
        rows = [Example(input=text, output=mine[text]["gold"], source={"kind": "gold"}) for text in sorted(shared)]
        on_shared = {who: metric_value(tasks[0], [mine[e.input][who] for e in rows], rows)
                     for who in ("published", "baseline") if rows and all(mine[e.input][who] is not None for e in rows)}
        asked = [e for e in rows if mine[e.input]["teacher"] is not None]
        if asked:
            on_shared["teacher"] = {"n": len(asked), "teacher": metric_value(
                tasks[0], [mine[e.input]["teacher"] for e in asked], asked), "published": metric_value(
                tasks[0], [mine[e.input]["published"] for e in asked], asked)}
        table.append({
            "run": str(run.path), "published": report.get("published"), "metric": report.get("metric"),
            "on_shared_rows": on_shared, "teacher": report.get("teacher"), "stop_reason": report.get("stop_reason"),
            "rows": {k: report.get(k) for k in ("n_user", "n_retrieved", "n_generated", "n_unlabelled",
                                                 "n_train", "n_validation", "n_test")},
            "decisions": tools, "iterations": report.get("iterations"), "wall_s": report.get("wall_s"),
            "llm_calls": report.get("llm_calls"), "model": (report.get("model") or {}).get("name")
            if isinstance(report.get("model"), dict) else report.get("model")})
    return {"shared_gold_rows": len(shared), "metric": (reports[0].get("metric") or {}).get("name"),
            "runs": table}


def render(result: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title=f"{result['shared_gold_rows']} gold rows shared by the runs ({result['metric']})")
    for col in ("run", "published", "on shared rows", "teacher (its rows)", "rows u/r/g/l", "iter", "wall s",
                "LLM calls", "stop"):
        table.add_column(col, overflow="fold")
    for r in result["runs"]:
        shared = r["on_shared_rows"]
        teacher = shared.get("teacher") or {}
        rows = r["rows"]
        table.add_row(Path(r["run"]).name, str(r["published"]), _fmt(shared.get("published")),
                      f"{_fmt(teacher.get('teacher'))} vs {_fmt(teacher.get('published'))} on {teacher.get('n', 0)}",
                      f"{rows['n_user']}/{rows['n_retrieved']}/{rows['n_generated']}/{rows['n_unlabelled']}",
                      str(r["iterations"]), str(r["wall_s"]), str(r["llm_calls"]), str(r["stop_reason"]))
    console.print(table)
    for r in result["runs"]:
        console.print(f"{Path(r['run']).name}: {' -> '.join(r['decisions'])}")


def _fmt(value: Any) -> str:
    return "-" if value is None else f"{value:.4f}" if isinstance(value, float) else str(value)
