"""Task families as plugins: each folder registers one `Family`; train, predict and score go
through the registry."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, Optional

from p2m.core.config import TrainConfig
from p2m.core.schemas import Example, Metrics, TaskSpec
from p2m.tools.families.baselines import NAME as BASELINE, is_baseline, load_baseline
from p2m.tools.training.head import is_head, load_head, predict_linear
from . import classification, extractive_qa, text2text, ner  # noqa: F401,I001  (each registers itself, in this order)
from .base import FAMILIES, Family, family, register

__all__ = ["FAMILIES", "Family", "family", "register", "train_for", "predict_for", "score_for",
           "fit_baseline", "predict_baseline"]


def train_for(task: TaskSpec, model_path: str, examples: list, out_dir: str | Path, cfg: TrainConfig,
              progress: bool = True, val_rows: Optional[list] = None, seconds_left: Optional[float] = None,
              **trainer_overrides: Any) -> Any:
    """Fine-tune the student the way its family needs; `trainer_overrides` go to TrainingArguments.

    `val_rows` (the run's validation split) drive early stopping and the best checkpoint; None
    holds out `cfg.val_fraction` of `examples` instead. `seconds_left` (the run's wall budget
    left) lets a family spend more where time pays for it (classification: a rival encoder)."""
    fam = family(task.task_type)
    cfg = replace(cfg, max_length=cfg.max_length or fam.max_length)
    return fam.train(task, model_path, examples, out_dir, cfg, progress, val_rows, seconds_left=seconds_left,
                     **trainer_overrides)


def predict_for(task: TaskSpec, model_dir: str | Path, texts: list[str]) -> list[str]:
    """Outputs of a saved student (a fine-tuned model or a head on frozen embeddings), or of a
    published demonstrations-only baseline."""
    if is_baseline(model_dir):
        return predict_baseline(load_baseline(model_dir), texts)
    if is_head(model_dir):
        return predict_linear(load_head(model_dir), texts)
    return family(task.task_type).predict(model_dir, texts)


def score_for(task: TaskSpec, preds: list[str], golds: list[str],
              inputs: Optional[list[str]] = None, gold_lists: Optional[list[Any]] = None) -> Metrics:
    """The family's metrics: accuracy/macro-F1, SQuAD F1/EM, entity F1, chrF++/ROUGE-L/EM."""
    return family(task.task_type).score(task, preds, golds, inputs, gold_lists)


def fit_baseline(task: TaskSpec, demos: list[Example]) -> dict[str, Any]:
    """The demonstrations-only baseline's parameters (JSON-serialisable) from the demonstration
    rows alone; what it is depends on the task family."""
    if not demos:
        raise ValueError("the baseline needs at least one demonstration")
    spec: dict[str, Any] = {"kind": BASELINE, "task_type": task.task_type, "n_demos": len(demos)}
    return {**spec, **family(task.task_type).fit_baseline(task, demos)}


def predict_baseline(spec: dict[str, Any], texts: list[str]) -> list[str]:
    """The baseline's outputs for `texts`."""
    return family(spec["task_type"]).predict_baseline(spec, texts) if texts else []
