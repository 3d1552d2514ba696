"""Extractive QA's metric: SQuAD exact match and F1 with the official normalisation (lower case,
no punctuation, no articles, single spaces), best over all gold answers; a fraction in [0, 1]."""
from __future__ import annotations

import re
import string
from collections import Counter
from typing import Optional, Sequence

from p2m.core.schemas import Metrics
from p2m.tools.families.base import failing_examples


def normalize_answer(text: str) -> str:
    """The official SQuAD v1.1 answer normalisation."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in set(string.punctuation))
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())

def squad_f1(prediction: str, gold: str) -> float:
    pred, ref = normalize_answer(prediction).split(), normalize_answer(gold).split()
    common = Counter(pred) & Counter(ref)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision, recall = same / len(pred), same / len(ref)
    return 2 * precision * recall / (precision + recall)

def qa_metrics(preds: Sequence[str], golds: Sequence[Sequence[str] | str],
               inputs: Optional[Sequence[str]] = None) -> Metrics:
    """SQuAD EM and F1 (headline: F1), each the best over an example's gold answers."""
    if not golds:
        raise ValueError("nothing to score: the evaluation split is empty")
    gold_lists = [[g] if isinstance(g, str) else list(g) for g in golds]
    em = [max(float(normalize_answer(p) == normalize_answer(g)) for g in gs) for p, gs in zip(preds, gold_lists)]
    f1 = [max(squad_f1(p, g) for g in gs) for p, gs in zip(preds, gold_lists)]
    return Metrics(name="f1", value=round(sum(f1) / len(f1), 4),
                   others={"exact_match": round(sum(em) / len(em), 4)}, n=len(preds),
                   failures=failing_examples(inputs, preds, [gs[0] for gs in gold_lists], [e < 1 for e in em]))
