"""Scoring: the student on a split, the teacher LLM zero-shot on the same split."""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, create_model

from ..prompts import render
from ..schemas import Example, Metrics, TaskSpec
from .families import predict_for, score_for


def predict_classifier(model_dir: str | Path, texts: list[str], batch_size: int = 64,
                       max_length: int = 0) -> list[str]:
    """Label names predicted by a saved sequence-classification model (inputs truncated as in
    training unless `max_length` is given)."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    model = AutoModelForSequenceClassification.from_pretrained(str(model_dir)).eval()
    id2label = model.config.id2label
    max_length = max_length or getattr(model.config, "p2m_max_length", 128)
    out: list[str] = []
    with torch.inference_mode():
        for start in range(0, len(texts), batch_size):
            batch = tokenizer(texts[start:start + batch_size], truncation=True, max_length=max_length,
                              padding=True, return_tensors="pt")
            ids = model(**batch).logits.argmax(-1).tolist()
            out.extend(id2label[int(i)] for i in ids)
    return out


def gold_answers(example: Example) -> Any:
    """All accepted outputs of a row (SQuAD keeps several answers in its 'answers' field)."""
    extra = example.source.get("answers")
    return extra if isinstance(extra, list) and extra else example.output


def evaluate_model(model_dir: str | Path, examples: list[Example], task: TaskSpec) -> Metrics:
    """The student's metrics on `examples` (the task family's metric is the headline)."""
    texts = [e.input for e in examples]
    preds = predict_for(task, model_dir, texts)
    return score_for(task, preds, [e.output for e in examples], texts,
                     [gold_answers(e) for e in examples])


def _answer_model(labels: list[str]) -> type[BaseModel]:
    return create_model("Answer", label=(Literal[tuple(labels)], ...))  # type: ignore[valid-type]


class FreeAnswer(BaseModel):
    """The teacher's answer for a family without a label set."""

    output: str = Field(description="the expected output", max_length=1000)


def teacher_messages(task: TaskSpec, text: str) -> list[dict[str, str]]:
    """Instruction as the system turn, demonstrations as earlier chat turns, then the input
    (why chat turns: docs/backends.md)."""
    key = "label" if task.label_set else "output"
    choices = "one of: " + ", ".join(task.labels or []) if key == "label" else "the expected output text"
    system = render("teacher", instruction=task.instruction, key=key, labels=choices)
    messages = [{"role": "system", "content": system}]
    for demo in task.examples[:8]:
        messages += [{"role": "user", "content": demo.input},
                     {"role": "assistant", "content": json.dumps({key: demo.output})}]
    return messages + [{"role": "user", "content": text}]


def teacher_predict(llm: Any, task: TaskSpec, texts: list[str]) -> tuple[list[str], float]:
    """The LLM's zero-shot answers (instruction + demonstrations); constrained to the label set
    for classification, free text under a JSON schema for the other families."""
    labelled = bool(task.label_set)
    answer = _answer_model(task.labels) if labelled else FreeAnswer
    preds = []
    started = time.perf_counter()
    for text in texts:
        try:
            reply = llm.structured(teacher_messages(task, text), answer, purpose="teacher",
                                   max_tokens=32 if labelled else 256)
            preds.append(reply.label if labelled else reply.output.strip())
        except Exception:  # an unusable answer counts as wrong, it does not stop the run
            preds.append("")
    per_item = (time.perf_counter() - started) / max(1, len(texts))
    return preds, round(per_item, 3)


def teacher_score(llm: Any, task: TaskSpec, examples: list[Example]) -> dict[str, Any]:
    """`{"metric": {"name","value"}, "s_per_item", "n"}` for the teacher on `examples`."""
    texts = [e.input for e in examples]
    preds, per_item = teacher_predict(llm, task, texts)
    metrics = score_for(task, preds, [e.output for e in examples], texts,
                        [gold_answers(e) for e in examples])
    return {"metric": {"name": metrics.name, "value": metrics.value}, "s_per_item": per_item,
            "n": len(examples), "others": metrics.others}
