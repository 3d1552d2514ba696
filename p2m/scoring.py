"""`p2m eval`: score a run's model on any JSONL of {"input", "output"} rows; for a label set,
also the cascade (the teacher answering the rows under the fitted threshold) and the teacher
alone, on the same rows."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from p2m.llm.factory import run_teacher
from p2m.runfolder.rundir import RunDir
from p2m.tools.scoring.cascade import cascade_answers, routed
from p2m.runfolder.data_store import read_labelled
from p2m.tools.scoring.assess import metric_value
from p2m.tools.scoring.predictions import evaluate_model, teacher_predict


def score_run(run_dir: str | Path, data: str | Path, limit: Optional[int] = None,
              with_teacher: bool = True, teacher: Optional[Any] = None) -> dict[str, Any]:
    """The published model's metrics on `data`; with a label set and a teacher (`with_teacher`,
    the run's own LLM unless given), "same_rows": the student alone, the cascade with the share
    it sent to the teacher, and the teacher, each on every row of `data`."""
    run = RunDir(run_dir).require()
    model_dir, task = run.require_model(), run.task()
    examples = read_labelled(data, task, kind="eval", limit=limit)
    metrics = evaluate_model(model_dir, examples, task)
    result = {"metric": {"name": metrics.name, "value": metrics.value}, **metrics.others,
              "n": metrics.n, "per_class": metrics.per_class, "data": str(data)}
    if not (with_teacher and task.label_set):
        return result
    config = run.config()
    if teacher is None:
        teacher = run_teacher(config)
    if teacher is None:
        result["same_rows"] = {"skipped": "the run has no LLM (--llm none): no teacher to compare or fall back on"}
        return result
    texts = [e.input for e in examples]
    labels, _, alone, fitted = routed(model_dir, texts)
    answers = teacher_predict(teacher, task, texts)[0]
    mixed, sent = cascade_answers(labels, answers, alone)
    result["same_rows"] = {
        "n": len(examples), "student": metric_value(task, labels, examples),
        "cascade": metric_value(task, mixed, examples), "teacher": metric_value(task, answers, examples),
        "sent_to_teacher": sent,
        "threshold": fitted.get("threshold")}
    return result
