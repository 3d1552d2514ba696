"""The cascade: the published classifier answers the rows it is sure of, the teacher the rest.

The confidence threshold is fitted on held-out teacher-labelled rows (validation rows the
student never trained on) by fixed-sequence testing (Learn then Test, Angelopoulos et al.
2021): the student answers alone the c most confident rows, for c = c0, c0 + step, ..., n, a
sequence fixed by the confidences alone (not by whether the rows agree); each c must keep the
Clopper-Pearson upper bound (95%) of the share of those rows that disagree with the teacher
within the budget (2% by default), and the first c that fails ends the sequence. c0 is the
fewest rows that could pass at all (149 for 2% at 95%). So, with 95% confidence, at most
`budget` of the rows the student answers alone disagree with the teacher, where reading a
threshold off the curve breaks the budget in many draws.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np

from p2m.core.files import write_json_atomic
from p2m.tools.families.baselines import is_baseline, load_baseline
from p2m.tools.training.head import is_head, linear_scores, load_head
from p2m.runfolder.run_files import CASCADE

CARD_SECTION = "## Cascade"


def upper_bound(k: int, n: int, delta: float = 0.05) -> float:
    """Clopper-Pearson upper bound of a binomial share: the p at which seeing <= k of n has
    probability `delta` (1.0 when k == n; bisection on the binomial CDF)."""
    if n <= 0 or k >= n:
        return 1.0

    def cdf(p: float) -> float:
        logs = [math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1)
                + i * math.log(p) + (n - i) * math.log1p(-p) for i in range(k + 1)]
        top = max(logs)
        return math.exp(top) * sum(math.exp(v - top) for v in logs)

    lo, hi = k / n, 1.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if cdf(mid) > delta:
            lo = mid
        else:
            hi = mid
    return hi


def calibrate(confidence: Sequence[float], agrees: Sequence[bool], budget: float = 0.02,
              delta: float = 0.05, steps: int = 200) -> dict[str, Any]:
    """The lowest threshold (the most rows answered alone) reached by the fixed sequence before
    a share's disagreement bound exceeds `budget`; {"threshold": None} when the first fails."""
    conf = np.asarray(confidence, dtype=float)
    ok = np.asarray(agrees, dtype=bool)
    n = len(conf)
    found: dict[str, Any] = {"threshold": None, "answered_alone": 0.0, "n": n, "budget": budget,
                             "confidence_level": 1 - delta}
    first = math.ceil(math.log(delta) / math.log(1 - budget))  # fewest rows a clean share passes with
    if n < first:
        found["reason"] = f"{n} calibration rows; at least {first} are needed for a {budget:.0%} bound"
        return found
    ranked = np.sort(conf)[::-1]
    for c in range(first, n + 1, max(1, (n - first) // steps)):
        t = float(ranked[c - 1])
        alone = conf >= t
        m, wrong = int(alone.sum()), int((alone & ~ok).sum())
        bound = upper_bound(wrong, m, delta)
        if bound > budget:
            break
        found.update(threshold=t, answered_alone=round(m / n, 4), n_alone=m, disagreements=wrong,
                     upper_bound=round(bound, 4))
    return found


def confident(model_dir: str | Path, texts: list[str]) -> tuple[list[str], list[float]]:
    """(labels, confidences): a head's or baseline's softmax over its linear scores, a fine-tuned
    classifier's softmax over its logits."""
    if not texts:
        return [], []
    if is_baseline(model_dir) or is_head(model_dir):
        spec = load_baseline(model_dir) if is_baseline(model_dir) else load_head(model_dir)
        if "constant" in spec:
            return [spec["constant"]] * len(texts), [1.0] * len(texts)
        return _softmax_top(linear_scores(spec, texts), spec["classes"])
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    model = AutoModelForSequenceClassification.from_pretrained(str(model_dir)).eval()
    classes = [model.config.id2label[i] for i in range(model.config.num_labels)]
    logits = []
    with torch.inference_mode():
        for start in range(0, len(texts), 64):
            batch = tokenizer(texts[start:start + 64], truncation=True, padding=True, return_tensors="pt",
                              max_length=getattr(model.config, "p2m_max_length", 128))
            logits.append(model(**batch).logits.float().numpy())
    return _softmax_top(np.vstack(logits) if logits else np.zeros((0, len(classes))), classes)


def _softmax_top(scores: np.ndarray, classes: list[str]) -> tuple[list[str], list[float]]:
    if not len(scores):
        return [], []
    z = np.exp(scores - scores.max(axis=1, keepdims=True))
    probs = z / z.sum(axis=1, keepdims=True)
    top = probs.argmax(axis=1)
    return [classes[int(i)] for i in top], [round(float(p), 6) for p in probs.max(axis=1)]


def save_threshold(model_dir: str | Path, fitted: dict[str, Any]) -> Path:
    """cascade.json beside the model, and the model card's "Cascade" section (kept by exports)."""
    card = Path(model_dir) / "README.md"
    if card.is_file():
        text = card.read_text(encoding="utf-8").split(CARD_SECTION)[0].rstrip() + "\n\n" + CARD_SECTION + "\n\n"
        if fitted.get("threshold") is None:
            text += (f"No confidence threshold could be shown to keep disagreement with the teacher "
                     f"within {fitted.get('budget', 0):.0%}: the teacher answers every row "
                     f"({fitted.get('reason') or str(fitted.get('n', 0)) + ' calibration rows'}).\n")
        else:
            text += (f"Answer alone when the top label's probability is at least {fitted['threshold']:.4f}; "
                     f"ask the teacher below it. On {fitted.get('n', '?')} held-out teacher-labelled rows "
                     f"the model answered {fitted.get('answered_alone', 0):.0%} alone, disagreeing with the "
                     f"teacher on {fitted.get('disagreements', '?')} (upper bound "
                     f"{fitted.get('upper_bound', 0):.2%} at {fitted.get('confidence_level', 0.95):.0%} "
                     f"confidence; budget {fitted.get('budget', 0):.0%}).\n")
        tmp = card.with_name(card.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(card)
    return write_json_atomic(Path(model_dir) / CASCADE, fitted)


def load_threshold(model_dir: str | Path) -> Optional[dict[str, Any]]:
    import json

    path = Path(model_dir) / CASCADE
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def routed(model_dir: str | Path, texts: list[str]) -> tuple[list[str], list[float], list[bool], dict[str, Any]]:
    """(labels, confidences, answered alone, the fitted threshold) of a published classifier
    under its saved cascade.json ({} when there is none: the teacher answers all)."""
    labels, conf = confident(model_dir, texts)
    fitted = load_threshold(model_dir) or {}
    return labels, conf, route(conf, fitted), fitted


def cascade_answers(student: Sequence[str], teacher: Sequence[str],
                    alone: Sequence[bool]) -> tuple[list[str], Optional[float]]:
    """The cascade's answers (the student's where it answers alone, the teacher's elsewhere) and
    the share of rows sent to the teacher (None for no rows)."""
    mixed = [s if a else t for s, t, a in zip(student, teacher, alone)]
    return mixed, (round(1 - sum(alone) / len(alone), 4) if len(alone) else None)


def route(confidence: Sequence[float], fitted: Optional[dict[str, Any]]) -> list[bool]:
    """Which rows the student answers alone (True) under the fitted threshold; with none
    fitted, none (the teacher answers all)."""
    t = (fitted or {}).get("threshold")
    return [t is not None and c >= t for c in confidence]
