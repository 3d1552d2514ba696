"""Classification's metric: accuracy (headline), macro-F1, per-class report and confusion
(scikit-learn)."""
from __future__ import annotations

from typing import Optional

from p2m.core.schemas import Metrics
from p2m.tools.families.base import failing_examples


def classification_metrics(preds: list[str], golds: list[str], labels: list[str],
                           inputs: Optional[list[str]] = None) -> Metrics:
    """Accuracy (headline), macro-F1, a per-class report and the failing examples."""
    from sklearn.metrics import accuracy_score, classification_report, f1_score

    if not golds:
        raise ValueError("nothing to score: the evaluation split is empty")
    report = classification_report(golds, preds, labels=labels, output_dict=True, zero_division=0)
    per_class = {label: {k: round(float(v), 4) for k, v in report[label].items()} for label in labels}
    failures = failing_examples(inputs, preds, golds, [p != g for p, g in zip(preds, golds)])
    confusion = {g: {p: 0 for p in labels} for g in labels}
    for p, g in zip(preds, golds):
        if g in confusion and p in confusion[g]:
            confusion[g][p] += 1
    return Metrics(
        name="accuracy", value=round(float(accuracy_score(golds, preds)), 4), confusion=confusion,
        others={"macro_f1": round(float(f1_score(golds, preds, labels=labels, average="macro",
                                                 zero_division=0)), 4)},
        per_class=per_class, n=len(golds), failures=failures,
    )
