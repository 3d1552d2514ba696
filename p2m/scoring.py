"""`p2m eval`: score a run's model on any JSONL of {"input", "output"} rows."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from .rundir import RunDir
from .tools.data_store import read_labelled
from .tools.evaluate import evaluate_model


def score_run(run_dir: str | Path, data: str | Path, limit: Optional[int] = None) -> dict[str, Any]:
    run = RunDir(run_dir).require()
    model_dir, task = run.require_model(), run.task()
    examples = read_labelled(data, task, kind="eval", limit=limit)
    metrics = evaluate_model(model_dir, examples, task)
    return {"metric": {"name": metrics.name, "value": metrics.value}, **metrics.others,
            "n": metrics.n, "per_class": metrics.per_class, "data": str(data)}
