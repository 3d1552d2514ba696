"""The demonstrations-only baseline: what a user gets in a minute without p2m.

Each task family defines its own (`tools/families/*`): MiniLM embeddings + logistic regression
for classification, the nearest demonstration's output for text2text, the question's best
sentence for extractive QA, a gazetteer of the demonstrations' mentions for NER.

This module owns its file: a baseline is saved as `baseline.json` (plain JSON, no pickle) in
a model folder; `families.fit_baseline` makes one and `families.predict_for` runs it like a
trained student.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from p2m.core.files import write_json_atomic


BASELINE_FILE = "baseline.json"
NAME = "demonstrations-only"


def is_baseline(model_dir: str | Path) -> bool:
    return (Path(model_dir) / BASELINE_FILE).is_file()


def save_baseline(spec: dict[str, Any], model_dir: str | Path) -> Path:
    """Write the baseline into `model_dir` (a temporary file renamed into place)."""
    write_json_atomic(Path(model_dir) / BASELINE_FILE, spec)
    return Path(model_dir)


def load_baseline(model_dir: str | Path) -> dict[str, Any]:
    return json.loads((Path(model_dir) / BASELINE_FILE).read_text(encoding="utf-8"))
