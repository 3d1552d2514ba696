"""Classification: a sequence-classification head on an encoder; accuracy; MiniLM + logistic
regression on the demonstrations as the baseline."""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from ...schemas import Example, Metrics, TaskSpec
from ..train import CLASSIFY_MAX_LENGTH
from .base import Family, lazy, register, trainer
from ..embed import embed
from ..metrics import classification_metrics


def score(task: TaskSpec, preds: list[str], golds: list[str], inputs: Optional[list[str]] = None,
          gold_lists: Optional[list[Any]] = None) -> Metrics:
    return classification_metrics(preds, golds, task.labels or sorted(set(golds)), inputs)


def fit_baseline(task: TaskSpec, demos: list[Example]) -> dict[str, Any]:
    """Logistic regression on MiniLM embeddings of the demonstrations."""
    from sklearn.linear_model import LogisticRegression

    labels = [d.output for d in demos]
    if len(set(labels)) < 2:
        return {"constant": labels[0]}
    clf = LogisticRegression(max_iter=2000).fit(embed([d.input for d in demos]), labels)
    return {"classes": [str(c) for c in clf.classes_], "coef": clf.coef_.tolist(),
            "intercept": clf.intercept_.tolist()}


def predict_baseline(spec: dict[str, Any], texts: list[str]) -> list[str]:
    if "constant" in spec:
        return [spec["constant"]] * len(texts)

    scores = embed(texts) @ np.asarray(spec["coef"], dtype=np.float32).T + np.asarray(spec["intercept"])
    classes = spec["classes"]
    if scores.shape[1] == 1:  # binary: one column, positive for classes[1]
        return [classes[int(s > 0)] for s in scores[:, 0]]
    return [classes[int(i)] for i in scores.argmax(axis=1)]


FAMILY = register(Family(
    name="classification",
    train=trainer("p2m.tools.train:train_classifier", labelled=True),
    predict=lazy("p2m.tools.evaluate:predict_classifier"),
    score=score,
    fit_baseline=fit_baseline,
    predict_baseline=predict_baseline,
    max_length=CLASSIFY_MAX_LENGTH,
    parse_hint="choose one label from a fixed set",
    search_words="text classification",
    hub_tags=("text-classification",),
    pipeline_tag="text-classification",
    export_head="AutoModelForSequenceClassification",
))
