"""NER's metric: entity-level precision/recall/F1 over (type, text) mentions (an entity counts only
when its type and its whole text are right, as seqeval's strict mode on BIO tags)."""
from __future__ import annotations

from collections import Counter
from typing import Optional, Sequence

from p2m.core.schemas import Metrics
from p2m.tools.families.base import failing_examples


def parse_entities(text: str) -> list[tuple[str, str]]:
    """'type: text; type: text' (or 'none') -> [(type, text), ...]."""
    out = []
    for part in (text or "").split(";"):
        kind, sep, mention = part.partition(":")
        if sep and kind.strip() and mention.strip():
            out.append((kind.strip().lower(), " ".join(mention.split())))
    return out

def entity_metrics(preds: Sequence[str], golds: Sequence[str],
                   inputs: Optional[Sequence[str]] = None) -> Metrics:
    """Micro entity-level P/R/F1 (headline F1) and per-type P/R/F1."""
    if not golds:
        raise ValueError("nothing to score: the evaluation split is empty")
    tp: Counter[str] = Counter()
    n_pred: Counter[str] = Counter()
    n_gold: Counter[str] = Counter()
    wrong = []
    for p, g in zip(preds, golds):
        pe, ge = Counter(parse_entities(p)), Counter(parse_entities(g))
        for (kind, _), n in (pe & ge).items():
            tp[kind] += n
        for (kind, _), n in pe.items():
            n_pred[kind] += n
        for (kind, _), n in ge.items():
            n_gold[kind] += n
        wrong.append(pe != ge)

    def f1(t: int, np_: int, ng: int) -> tuple[float, float, float]:
        precision = t / np_ if np_ else 0.0
        recall = t / ng if ng else 0.0
        return precision, recall, (2 * precision * recall / (precision + recall) if precision + recall else 0.0)

    precision, recall, micro = f1(sum(tp.values()), sum(n_pred.values()), sum(n_gold.values()))
    per_type = {k: dict(zip(("precision", "recall", "f1"), (round(x, 4) for x in f1(tp[k], n_pred[k], n_gold[k]))))
                for k in sorted(set(n_gold) | set(n_pred))}
    return Metrics(name="entity_f1", value=round(micro, 4),
                   others={"precision": round(precision, 4), "recall": round(recall, 4)},
                   per_class=per_type, n=len(preds), failures=failing_examples(inputs, preds, golds, wrong))
