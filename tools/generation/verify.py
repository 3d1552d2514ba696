"""Verification of a generated row by its family, never by exact string match of free text.

Two checks, each the family's own:
- `structural_problem`: what the row must be to be a row of its family at all. An extractive
  QA answer is a span of its context; an NER mention lies in its sentence with a type the task
  knows; code (when every demonstration's output parses as Python) parses.
- `similarity`: how close one of the verifier's sampled answers is to the written output, by the
  family's metric: token F1 (SQuAD) for QA, entity F1 for NER, sentence chrF++ for text2text.
  A row is kept when the mean over the votes reaches `AGREE` (`agreement` in generate.py):
  correct code written another way scores by its characters, not 0.
"""
from __future__ import annotations

import ast
import re
from collections import Counter
from functools import lru_cache
from typing import Optional

from p2m.core.schemas import Example, TaskSpec
from p2m.tools.families.extractive_qa.metric import normalize_answer, squad_f1
from p2m.tools.families.ner.metric import parse_entities
from p2m.tools.families.extractive_qa.model import answer_start, split_qa

AGREE = {"extractive_qa": 0.2, "ner": 0.5, "text2text": 0.3}
"""Mean similarity of the votes at which a row of the family is kept (classification: the
label's share of the votes, above one half). Chosen on train-split rows by a rule written
before (docs/data.md, bench.verify_agreement): the lowest that kept no wrong row of 40. On
WNUT-17 no threshold told right from wrong rows (most rows have no entity), so NER keeps 0.5."""


def structural_problem(task: TaskSpec, example: Example) -> Optional[str]:
    """Why `example` cannot be a row of its task's family (a drop reason), or None."""
    if task.task_type == "extractive_qa":
        context, question = split_qa(example.input)
        if not context or not question:
            return "no_context_or_question"
        if not example.output.strip() or answer_start(context, example.output.strip()) < 0:
            return "answer_not_in_context"
    elif task.task_type == "ner":
        sentence = _squash(example.input).lower()
        types = entity_types(task)
        for kind, mention in parse_entities(example.output):
            if types and kind not in types:
                return "unknown_entity_type"
            if _squash(mention).lower() not in sentence:
                return "span_not_in_sentence"
    elif writes_python(task) and not parses(example.output):
        return "code_does_not_parse"
    return None


def similarity(task: TaskSpec, answer: str, written: str) -> float:
    """How close one verifier answer is to the written output, in [0, 1], by the family's metric."""
    if task.task_type == "extractive_qa":
        return squad_f1(answer, written) if normalize_answer(written) else float(not normalize_answer(answer))
    if task.task_type == "ner":
        return span_overlap(parse_entities(answer), parse_entities(written))
    if answer.strip() == written.strip():
        return 1.0
    return _chrf().sentence_score(answer, [written]).score / 100


def span_overlap(mine: list[tuple[str, str]], theirs: list[tuple[str, str]]) -> float:
    """Entity F1 with partial credit: mentions are paired one to one, best first, each pair
    scoring its words' F1 (case, @ and # ignored), halved when the types differ. Exact (type,
    text) matching scored 0.091 on WNUT-17's first round ("group: group of friends" against
    "group: friends", "product: iPhone" against "product: iPhone; person: Apple")."""
    if not mine or not theirs:
        return float(not mine and not theirs)
    pairs = sorted(((_words_f1(a[1], b[1]) * (1.0 if _kind(a[0]) == _kind(b[0]) else 0.5), i, j)
                    for i, a in enumerate(mine) for j, b in enumerate(theirs)), reverse=True)
    used_a: set[int] = set()
    used_b: set[int] = set()
    total = 0.0
    for score, i, j in pairs:
        if score > 0 and i not in used_a and j not in used_b:
            used_a.add(i)
            used_b.add(j)
            total += score
    return 2 * total / (len(mine) + len(theirs))


def _words_f1(a: str, b: str) -> float:
    wa, wb = re.findall(r"\w+", a.lower()), re.findall(r"\w+", b.lower())
    same = sum((Counter(wa) & Counter(wb)).values())
    return 2 * same / (len(wa) + len(wb)) if same else 0.0


def _kind(kind: str) -> str:
    return re.sub(r"[\s_-]+", "-", kind.strip().lower())


@lru_cache(maxsize=1)
def _chrf():
    from sacrebleu.metrics import CHRF

    return CHRF(word_order=2)


def entity_types(task: TaskSpec) -> set[str]:
    """The entity types the task knows: its labels, else those its demonstrations use."""
    if task.labels:
        return {label.strip().lower() for label in task.labels}
    return demonstrated_entity_types(task)


def demonstrated_entity_types(task: TaskSpec) -> set[str]:
    """The entity types the task's demonstrations name."""
    return {kind for e in task.examples for kind, _ in parse_entities(e.output)}


def writes_python(task: TaskSpec) -> bool:
    """A text-to-text task whose every demonstration's output parses as Python, at least one of
    them more than a name."""
    outputs = [e.output for e in task.examples]
    return task.task_type == "text2text" and bool(outputs) and all(parses(o) for o in outputs) \
        and any(re.search(r"[(\[.=]", o) for o in outputs)


def parses(code: str) -> bool:
    try:
        ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def _squash(text: str) -> str:
    return " ".join(text.split())
