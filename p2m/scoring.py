"""`p2m eval`: score a run's model on any JSONL of {"input", "output"} rows."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from .schemas import TaskSpec
from .tools.data_store import read_labelled
from .tools.evaluate import evaluate_model
from .tools.families import has_model


def score_run(run_dir: str | Path, data: str | Path, limit: Optional[int] = None) -> dict[str, Any]:
    run_dir = Path(run_dir)
    model_dir = run_dir / "model"
    if not has_model(model_dir):
        raise FileNotFoundError(f"{run_dir} has no trained model (model/ is missing)")
    task = TaskSpec.model_validate_json((run_dir / "task.json").read_text(encoding="utf-8"))
    examples = read_labelled(data, task, kind="eval", limit=limit)
    metrics = evaluate_model(model_dir, examples, task)
    return {"metric": {"name": metrics.name, "value": metrics.value}, **metrics.others,
            "n": metrics.n, "per_class": metrics.per_class, "data": str(data)}
