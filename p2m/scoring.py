"""`p2m eval`: score a run's model on any JSONL of {"input", "output"} rows."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from .schemas import Example, TaskSpec
from .tools.data_store import read_jsonl
from .tools.evaluate import evaluate_model


def score_run(run_dir: str | Path, data: str | Path, limit: Optional[int] = None) -> dict[str, Any]:
    run_dir = Path(run_dir)
    model_dir = run_dir / "model"
    if not (model_dir / "config.json").is_file():
        raise FileNotFoundError(f"{run_dir} has no trained model (model/ is missing)")
    task = TaskSpec.model_validate_json((run_dir / "task.json").read_text(encoding="utf-8"))
    rows = read_jsonl(data, limit=limit)
    missing = [i for i, r in enumerate(rows, 1) if "input" not in r or "output" not in r]
    if missing:
        raise ValueError(f"{data}: rows {missing[:5]} lack 'input' or 'output'")
    examples = [Example(input=str(r["input"]), output=str(r["output"]), split="test",
                        source={"kind": "eval", "row": i,
                                **({"answers": r["answers"]} if isinstance(r.get("answers"), list) else {})})
                for i, r in enumerate(rows)]
    if task.task_type == "classification" and task.labels:
        lower = {label.lower(): label for label in task.labels}
        unknown = sorted({e.output for e in examples if e.output.lower() not in lower})
        if unknown:
            raise ValueError(f"{data}: outputs {unknown[:5]} are not in the run's labels {task.labels}")
        examples = [e.model_copy(update={"output": lower[e.output.lower()]}) for e in examples]
    metrics = evaluate_model(model_dir, examples, task)
    return {"metric": {"name": metrics.name, "value": metrics.value}, **metrics.others,
            "n": metrics.n, "per_class": metrics.per_class, "data": str(data)}
