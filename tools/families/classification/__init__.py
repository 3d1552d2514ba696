"""Classification: a head on frozen sentence embeddings or a fine-tuned encoder, whichever does
better on validation (`TrainConfig.classifier`); accuracy; MiniLM + logistic regression on the
demonstrations as the baseline."""
from __future__ import annotations

from typing import Any, Optional

from p2m.core.schemas import Example, Metrics, TaskSpec
from p2m.tools.families.base import Family, lazy, register, trainer
from p2m.tools.training.head import fit_linear, predict_linear
from p2m.tools.families.classification.metric import classification_metrics


CLASSIFY_MAX_LENGTH = 128  # tokens, when TrainConfig.max_length is not set


def score(task: TaskSpec, preds: list[str], golds: list[str], inputs: Optional[list[str]] = None,
          gold_lists: Optional[list[Any]] = None) -> Metrics:
    return classification_metrics(preds, golds, task.labels or sorted(set(golds)), inputs)


def fit_baseline(task: TaskSpec, demos: list[Example]) -> dict[str, Any]:
    """Logistic regression on MiniLM embeddings of the demonstrations."""
    return fit_linear([d.input for d in demos], [d.output for d in demos])


FAMILY = register(Family(
    name="classification",
    train=trainer("p2m.tools.families.classification.model:train_classifier", labelled=True, timed=True),
    predict=lazy("p2m.tools.scoring.predictions:predict_classifier"),
    score=score,
    fit_baseline=fit_baseline,
    predict_baseline=predict_linear,
    max_length=CLASSIFY_MAX_LENGTH,
    parse_hint="choose one label from a fixed set",
    search_words="text classification",
    hub_tags=("text-classification",),
    pipeline_tag="text-classification",
    export_head="AutoModelForSequenceClassification",
    default_metric="accuracy",
    aliases=("text-classification",),
))
