"""Extractive QA: a span head on an encoder; SQuAD F1 / exact match; the sentence that shares
most words with the question as the baseline."""
from __future__ import annotations

import re
from typing import Any, Optional

from p2m.core.schemas import Example, Metrics, TaskSpec
from p2m.tools.families.extractive_qa.model import MAX_LENGTH, split_qa
from p2m.tools.families.base import Family, lazy, register, trainer
from p2m.tools.families.extractive_qa.metric import qa_metrics, normalize_answer


def score(task: TaskSpec, preds: list[str], golds: list[str], inputs: Optional[list[str]] = None,
          gold_lists: Optional[list[Any]] = None) -> Metrics:
    return qa_metrics(preds, gold_lists or golds, inputs)


def fit_baseline(task: TaskSpec, demos: list[Example]) -> dict[str, Any]:
    return {}  # the heuristic has no parameters


def predict_baseline(spec: dict[str, Any], texts: list[str]) -> list[str]:
    return [overlap_span(text) for text in texts]


def overlap_span(text: str) -> str:
    """The context sentence sharing most words with the question, less the question's words."""
    context, question = split_qa(text)
    q_words = set(normalize_answer(question).split())
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", context) if s.strip()] or [context]
    best = max(sentences, key=lambda s: len(q_words & set(normalize_answer(s).split())))
    rest = [w for w in best.split() if normalize_answer(w) not in q_words]
    return " ".join(rest) or best


FAMILY = register(Family(
    name="extractive_qa",
    train=trainer("p2m.tools.families.extractive_qa.model:train_qa"),
    predict=lazy("p2m.tools.families.extractive_qa.model:predict_qa"),
    score=score,
    fit_baseline=fit_baseline,
    predict_baseline=predict_baseline,
    max_length=MAX_LENGTH,
    parse_hint="answer is a span copied from a given passage",
    search_words="extractive question answering",
    hub_tags=("question-answering",),
    pipeline_tag="question-answering",
    export_head="AutoModelForQuestionAnswering",
    export_outputs=("start_logits", "end_logits"),
    default_metric="f1",
    aliases=("question-answering", "qa"),
))
