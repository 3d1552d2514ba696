"""`p2m predict RUN`: the published model's answers, the teacher answering the rows the model is
not sure of (the cascade, `tools/scoring/cascade.py`) unless told to answer alone."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from p2m.llm.factory import run_teacher
from p2m.runfolder.rundir import RunDir
from p2m.tools.scoring.cascade import routed
from p2m.tools.scoring.predictions import teacher_predict
from p2m.tools.families import predict_for


def predict_texts(run_dir: str | Path, texts: list[str], fallback: bool = True,
                  teacher: Optional[Any] = None) -> list[dict[str, Any]]:
    """{"input", "output", "confidence", "answered_by"} per text: for a label set, the model's
    label and confidence, and the teacher's label where the confidence is under the run's fitted
    threshold (`fallback`); other families: the model's output."""
    run = RunDir(run_dir).require()
    model_dir, task = run.require_model(), run.task()
    if not task.label_set:
        return [{"input": t, "output": o, "confidence": None, "answered_by": "student"}
                for t, o in zip(texts, predict_for(task, model_dir, texts))]
    labels, conf, alone, _ = routed(model_dir, texts)
    alone = alone if fallback else [True] * len(texts)
    rest = [i for i, a in enumerate(alone) if not a]
    answers: dict[int, str] = {}
    if rest:
        config = run.config()
        if teacher is None:
            teacher = run_teacher(config)
        if teacher is not None:
            answers = dict(zip(rest, teacher_predict(teacher, task, [texts[i] for i in rest])[0]))
    return [{"input": t, "output": answers.get(i) or label, "confidence": c,
             "answered_by": "teacher" if answers.get(i) else "student"}
            for i, (t, label, c) in enumerate(zip(texts, labels, conf))]
