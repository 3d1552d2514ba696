"""Text2text's metric: chrF++ (sacrebleu, word order 2; 0.45 is 45 on sacrebleu's 0-100 scale),
ROUGE-L (rouge-score) and exact match, each a fraction in [0, 1]."""
from __future__ import annotations

from typing import Optional, Sequence

from p2m.core.schemas import Metrics
from p2m.tools.families.base import failing_examples


def generation_metrics(preds: Sequence[str], golds: Sequence[str],
                       inputs: Optional[Sequence[str]] = None) -> Metrics:
    """chrF++ (headline), ROUGE-L F and exact match."""
    from rouge_score import rouge_scorer
    from sacrebleu.metrics import CHRF

    if not golds:
        raise ValueError("nothing to score: the evaluation split is empty")
    chrf = CHRF(word_order=2).corpus_score(list(preds), [list(golds)]).score
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
    rouge = [scorer.score(g, p)["rougeL"].fmeasure for p, g in zip(preds, golds)]
    exact = [p.strip() == g.strip() for p, g in zip(preds, golds)]
    return Metrics(name="chrf", value=round(chrf / 100, 4),
                   others={"rougeL": round(sum(rouge) / len(rouge), 4),
                           "exact_match": round(sum(exact) / len(exact), 4)},
                   n=len(preds), failures=failing_examples(inputs, preds, golds, [not e for e in exact]))
