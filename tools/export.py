"""Saving what a run made: the model card beside the weights."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..schemas import TaskSpec


def write_model_card(model_dir: str | Path, task: TaskSpec, base_model: str,
                     data_counts: dict[str, int], sources: list[str], metrics: dict[str, Any]) -> Path:
    """README.md in the model directory: task, base model, data provenance and metrics."""
    model_dir = Path(model_dir)
    labels = ", ".join(task.labels or []) or "-"
    lines = [
        "---", "library_name: transformers", f"base_model: {base_model}",
        f"pipeline_tag: {'text-classification' if task.task_type == 'classification' else 'text2text-generation'}",
        "tags: [p2m]", "---", "",
        "# Model trained by p2m", "",
        "## Task", "", task.instruction, "",
        f"- task type: {task.task_type}", f"- labels: {labels}",
        f"- target: {task.target.metric} >= {task.target.value}" if task.target else "- target: none", "",
        "## Training data", "",
        f"- training rows: {data_counts.get('train', 0)} (retrieved {data_counts.get('retrieved', 0)}, "
        f"generated {data_counts.get('generated', 0)}, user {data_counts.get('user', 0)})",
        f"- test rows: {data_counts.get('test', 0)}",
        f"- sources: {', '.join(sources) or '-'}",
        "- every row's provenance is in the run's data/examples.jsonl", "",
        "## Evaluation", "", "```json", json.dumps(metrics, indent=2), "```", "",
    ]
    path = model_dir / "README.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
