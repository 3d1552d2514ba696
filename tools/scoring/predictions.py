"""Scoring: the student on a split, the teacher LLM zero-shot on the same split."""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, create_model

from p2m.prompts import render
from p2m.core.schemas import Example, Metrics, TaskSpec
from p2m.tools.families import predict_for, score_for
from p2m.tools.scoring.folds import demo_folds, task_seeing

MAX_DEMO_CHARS = 6000  # demonstrations in the teacher's prompt (llama.cpp reuses the shared prefix)


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


def shown_demonstrations(task: TaskSpec, max_chars: int = MAX_DEMO_CHARS) -> list[Any]:
    """The demonstrations the teacher sees: every one that fits in `max_chars`, for a label set
    dealt round-robin by label (the first of each label, then the second, ...), so a budget cut
    keeps every label and no label sits in one block at the end (demonstrations sorted by label
    showed TREC's teacher two of its six labels when the prompt took the first 8)."""
    demos = list(task.examples)
    if task.label_set:
        by_label: dict[str, list[Any]] = {}
        for demo in demos:
            by_label.setdefault(demo.output, []).append(demo)
        depth = max((len(v) for v in by_label.values()), default=0)
        demos = [group[i] for i in range(depth) for group in by_label.values() if i < len(group)]
    shown, used = [], 0
    for demo in demos:
        size = len(demo.input) + len(demo.output)
        if shown and used + size > max_chars:
            continue  # a long one is left out; shorter ones after it may still fit
        shown.append(demo)
        used += size
    return shown


def teacher_messages(task: TaskSpec, text: str) -> list[dict[str, str]]:
    """Instruction as the system turn, demonstrations as earlier chat turns, then the input
    (why chat turns: docs/backends.md)."""
    key = "label" if task.label_set else "output"
    choices = "one of: " + ", ".join(task.labels or []) if key == "label" else "the expected output text"
    system = render("teacher", instruction=task.instruction, key=key, labels=choices)
    messages = [{"role": "system", "content": system}]
    for demo in shown_demonstrations(task):
        messages += [{"role": "user", "content": demo.input},
                     {"role": "assistant", "content": json.dumps({key: demo.output})}]
    return messages + [{"role": "user", "content": text}]


def label_answers(task: TaskSpec) -> list[str]:
    """The teacher's reply for each label, as its demonstrations show them ('{"label": "x"}')."""
    return [json.dumps({"label": label}) for label in task.labels or []]


def scores_labels(llm: Any, task: TaskSpec) -> bool:
    """Whether the teacher can give a label-set task's distribution by scoring (embedded model)."""
    return bool(task.label_set) and bool(getattr(llm, "scores_labels", False))


def top_label(dist: dict[str, float]) -> str:
    """The most probable label of a distribution ("" for none: the row went unanswered)."""
    return max(dist, key=dist.get) if dist else ""


def teacher_distributions(llm: Any, task: TaskSpec, texts: list[str],
                          purpose: str = "teacher") -> list[dict[str, float]]:
    """The teacher's probability of every label for each text, read off one evaluation of its
    prompt (instruction + demonstrations + input) per text ({} where scoring failed)."""
    answers = label_answers(task)
    out = []
    for text in texts:
        try:
            probs = llm.label_distribution(teacher_messages(task, text), answers, purpose=purpose)
        except Exception:  # an unscorable row counts as unanswered, it does not stop the run
            out.append({})
            continue
        out.append(dict(zip(task.labels or [], probs)))
    return out


def teacher_predict(llm: Any, task: TaskSpec, texts: list[str], score: bool = True) -> tuple[list[str], float]:
    """The LLM's answers (instruction + demonstrations); for a label set, the most probable
    label by scoring every label when the backend can (`score`), else decoded under a schema
    constrained to the labels; free text under a JSON schema for the other families."""
    started = time.perf_counter()
    if score and scores_labels(llm, task):
        dists = teacher_distributions(llm, task, texts)
        preds = [top_label(d) for d in dists]
        return preds, round((time.perf_counter() - started) / max(1, len(texts)), 3)
    labelled = bool(task.label_set)
    answer = _answer_model(task.labels) if labelled else FreeAnswer
    preds = []
    for text in texts:
        try:
            reply = llm.structured(teacher_messages(task, text), answer, purpose="teacher",
                                   max_tokens=32 if labelled else 256)
            preds.append(reply.label if labelled else reply.output.strip())
        except Exception:  # an unusable answer counts as wrong, it does not stop the run
            preds.append("")
    per_item = (time.perf_counter() - started) / max(1, len(texts))
    return preds, round(per_item, 3)


def label_with_teacher(teacher: Any, task: TaskSpec, examples: list[Example], k: int) -> list[Example]:
    """`examples` with the teacher's labels in the task's scheme (their own output, if any, kept
    in the provenance as `original_label`), and its distribution (`teacher_probs`) where it
    scores labels; rows it gives no label are left out. With `k` demonstration folds, the i-th
    row is labelled by a prompt showing fold i % k's demonstrations only (recorded as `fold`),
    so the folds that score the run stay unseen by the labels."""
    folds = demo_folds(task, k)
    out: list[Example] = []
    for fold in range(k) if k else [None]:
        part = examples[fold::k] if k else examples
        seen = task_seeing(task, folds, {fold}) if k else task
        texts = [e.input for e in part]
        if scores_labels(teacher, task):
            dists = teacher_distributions(teacher, seen, texts)
            preds = [top_label(d) for d in dists]
        else:
            preds, dists = teacher_predict(teacher, seen, texts, score=False)[0], [{}] * len(texts)
        extra = {"fold": fold} if k else {}
        out += [e.model_copy(update={"output": p, "source": {
                    **e.source, "original_label": e.output, "relabelled_by": teacher.model, **extra,
                    **({"teacher_probs": d} if d else {})}})
                for e, p, d in zip(part, preds, dists) if p]
    return out


def teacher_score(llm: Any, task: TaskSpec, examples: list[Example]) -> dict[str, Any]:
    """`{"metric": {"name","value"}, "s_per_item", "n"}` for the teacher on `examples`."""
    texts = [e.input for e in examples]
    preds, per_item = teacher_predict(llm, task, texts)
    metrics = score_for(task, preds, [e.output for e in examples], texts,
                        [gold_answers(e) for e in examples])
    return {"metric": {"name": metrics.name, "value": metrics.value}, "s_per_item": per_item,
            "n": len(examples), "others": metrics.others}
