"""Offline metrics for every task family, as their fields compute them.

- classification: accuracy (headline), macro-F1, per-class report and confusion (scikit-learn);
- extractive QA: SQuAD exact match and F1 with the official normalisation (lower case, no
  punctuation, no articles, single spaces), best over all gold answers;
- text2text: chrF++ (sacrebleu, word order 2), ROUGE-L (rouge-score) and exact match;
- NER: entity-level precision/recall/F1 over (type, text) mentions (an entity counts only when
  its type and its whole text are right, as seqeval's strict mode on BIO tags).

Every value is a fraction in [0, 1], as accuracy is, so one target scale fits all families
(chrF++ 0.45 is 45 on sacrebleu's 0-100 scale).
"""
from __future__ import annotations

import re
import string
from collections import Counter
from typing import Optional, Sequence

from p2m.schemas import Metrics

MAX_FAILURES = 50


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


def failing_examples(inputs: Optional[Sequence[str]], preds: Sequence[str], golds: Sequence[str],
                     wrong: Sequence[bool]) -> list[dict[str, str]]:
    """The first MAX_FAILURES wrong rows as {input, expected, predicted} (inputs cut at 2,000 chars)."""
    out = []
    for i, bad in enumerate(wrong):
        if bad and len(out) < MAX_FAILURES:
            out.append({"input": (inputs[i] if inputs else "")[:2000], "expected": golds[i],
                        "predicted": preds[i]})
    return out


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
