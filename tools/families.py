"""Each task family's trainer, predictor and metric, behind one pair of calls."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from ..config import TrainConfig
from ..schemas import Example, Metrics, TaskSpec
from .train import TrainResult


def train_for(task: TaskSpec, model_path: str, examples: list[Example], out_dir: str | Path,
              cfg: TrainConfig, progress: bool = True, val_rows: Optional[list[Example]] = None,
              **trainer_overrides: Any) -> TrainResult:
    """Fine-tune the student the way its family needs; `trainer_overrides` go to TrainingArguments.

    `val_rows` (the run's validation split) drive early stopping and the best checkpoint; None
    holds out `cfg.val_fraction` of `examples` instead."""
    if task.task_type == "classification":
        from .train import train_classifier

        return train_classifier(model_path, examples, task.labels or [], out_dir, cfg, progress,
                                val_rows=val_rows, **trainer_overrides)
    if task.task_type == "extractive_qa":
        from .qa import train_qa

        return train_qa(model_path, examples, out_dir, cfg, progress, val_rows=val_rows,
                        **trainer_overrides)
    if task.task_type == "ner":
        from .ner import train_ner

        return train_ner(model_path, examples, task.labels or [], out_dir, cfg, progress,
                         val_rows=val_rows, **trainer_overrides)
    from .seq2seq import train_seq2seq

    return train_seq2seq(model_path, examples, out_dir, cfg, progress, val_rows=val_rows,
                         **trainer_overrides)




def predict_for(task: TaskSpec, model_dir: str | Path, texts: list[str]) -> list[str]:
    from .baselines import is_baseline, load_baseline, predict_baseline

    if is_baseline(model_dir):
        return predict_baseline(load_baseline(model_dir), texts)
    if task.task_type == "classification":
        from .evaluate import predict_classifier

        return predict_classifier(model_dir, texts)
    if task.task_type == "extractive_qa":
        from .qa import predict_qa

        return predict_qa(model_dir, texts)
    if task.task_type == "ner":
        from .ner import predict_ner

        return predict_ner(model_dir, texts)
    from .seq2seq import predict_seq2seq

    return predict_seq2seq(model_dir, texts)


def score_for(task: TaskSpec, preds: list[str], golds: list[str],
              inputs: Optional[list[str]] = None, gold_lists: Optional[list[Any]] = None) -> Metrics:
    """The family's metrics: accuracy/macro-F1, SQuAD F1/EM, entity F1, chrF++/ROUGE-L/EM."""
    from . import metrics

    if task.task_type == "classification":
        from .evaluate import classification_metrics

        return classification_metrics(preds, golds, task.labels or sorted(set(golds)), inputs)
    if task.task_type == "extractive_qa":
        return metrics.qa_metrics(preds, gold_lists or golds, inputs)
    if task.task_type == "ner":
        return metrics.entity_metrics(preds, golds, inputs)
    return metrics.generation_metrics(preds, golds, inputs)
